
-- Issue 18, item 5: every gold object visible to every client.  Materialized
-- views are not in information_schema, which dbt, Looker and several drivers
-- read: the marts move to gold_store, and gold shows each as a plain view of
-- the same name, with its columns and comments (sql/install/00_schemas.sql,
-- the parts of the marts, 96_gold_columns.sql).  The stored marts keep their
-- rows, indexes and comments; what read them by name is bound to the new
-- views again, as a fresh install binds it.
CREATE SCHEMA gold_store;
COMMENT ON SCHEMA gold_store IS
	'The stored rows of the gold marts (materialized views refreshed by retail.refresh()); read them through the views of the same names in gold';

ALTER MATERIALIZED VIEW gold.mart_customer_segments SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.segment_month_ends SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.mart_segment_migration SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.mart_cohort_retention SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.mart_countries_abc SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.mart_products_abc SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.audit_order_anomalies SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.clv_model SET SCHEMA gold_store;
ALTER MATERIALIZED VIEW gold.mart_customer_value SET SCHEMA gold_store;

CREATE VIEW gold.mart_customer_segments AS SELECT * FROM gold_store.mart_customer_segments;
CREATE VIEW gold.segment_month_ends AS SELECT * FROM gold_store.segment_month_ends;
CREATE VIEW gold.mart_segment_migration AS SELECT * FROM gold_store.mart_segment_migration;
CREATE VIEW gold.mart_cohort_retention AS SELECT * FROM gold_store.mart_cohort_retention;
CREATE VIEW gold.mart_countries_abc AS SELECT * FROM gold_store.mart_countries_abc;
CREATE VIEW gold.mart_products_abc AS SELECT * FROM gold_store.mart_products_abc;
CREATE VIEW gold.audit_order_anomalies AS SELECT * FROM gold_store.audit_order_anomalies;
CREATE VIEW gold.clv_model AS SELECT * FROM gold_store.clv_model;
CREATE VIEW gold.mart_customer_value AS SELECT * FROM gold_store.mart_customer_value;

-- the same definitions as before, bound to the views (the cohort views are
-- made again with their mart, 94_cohort_cells.sql)
CREATE OR REPLACE VIEW gold.segment_summary AS
SELECT segment, count(*) AS customers,
	   retail.fraction(count(*), sum(count(*)) OVER ()) AS customer_share,
	   sum(monetary)::numeric(38, 6) AS revenue,
	   retail.fraction(sum(monetary), sum(sum(monetary)) OVER ()) AS revenue_share,
	   avg(recency_days)::numeric(12, 1) AS avg_recency_days,
	   avg(frequency)::numeric(12, 2) AS avg_frequency,
	   avg(monetary)::numeric(38, 2) AS avg_monetary
FROM gold.mart_customer_segments
GROUP BY segment
ORDER BY revenue DESC, segment;
CREATE OR REPLACE VIEW gold.segment_history AS
SELECT as_of, customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
FROM gold.mart_customer_segments
UNION ALL
SELECT as_of, customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
FROM gold.segment_month_ends;
CREATE OR REPLACE VIEW gold.segment_migration AS
SELECT from_as_of, to_as_of, from_segment, to_segment, customers, revenue
FROM gold.mart_segment_migration
ORDER BY to_as_of DESC, from_segment NULLS FIRST, to_segment;
CREATE OR REPLACE VIEW gold.dim_customers AS
SELECT s.customer_id, c.first_order_country AS country, s.first_purchase, s.last_purchase, s.frequency AS orders,
	   s.monetary AS revenue, date_trunc('month', s.first_purchase)::date AS cohort_month,
	   s.recency_days, s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment,
	   v.p_alive, v.expected_purchases_90d, v.expected_value, v.clv
FROM gold.mart_customer_segments s
	 LEFT JOIN silver.customer_state c ON c.customer_id = s.customer_id
	 LEFT JOIN gold.mart_customer_value v ON v.customer_id = s.customer_id
ORDER BY s.customer_id;
CREATE OR REPLACE FUNCTION retail.clv_models(OUT bgnbd retail.bgnbd_model, OUT gamma_gamma retail.gamma_gamma_model,
								 OUT mbgnbd retail.mbgnbd_model, OUT paretonbd retail.paretonbd_model)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT CASE WHEN m.r IS NOT NULL AND m.model = 'bgnbd' THEN
				ROW(m.r, m.alpha, m.a, m.b, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.bgnbd_model END,
		   CASE WHEN m.p IS NOT NULL THEN
				ROW(m.p, m.q, m.gamma, m.gamma_gamma_log_likelihood, m.repeat_customers,
					m.gamma_gamma_converged)::retail.gamma_gamma_model END,
		   CASE WHEN m.r IS NOT NULL AND m.model = 'mbgnbd' THEN
				ROW(m.r, m.alpha, m.a, m.b, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.mbgnbd_model END,
		   CASE WHEN m.r IS NOT NULL AND m.model = 'paretonbd' THEN
				ROW(m.r, m.alpha, m.s, m.beta, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.paretonbd_model END
	FROM gold.clv_model m;
END;
CREATE OR REPLACE FUNCTION retail.customer_value_warning() RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT format('%s of %s customers have no prediction (p_alive, expected_purchases_90d, expected_value or clv NULL): the fitted models could not be evaluated for them',
				  n.unpredicted, n.customers)
	FROM (SELECT count(*) AS customers, bool_or(v.frequency > 0) AS fitted,
				 count(*) FILTER (WHERE v.p_alive IS NULL OR v.expected_purchases_90d IS NULL
								  OR v.expected_value IS NULL OR v.clv IS NULL) AS unpredicted
		  FROM gold.mart_customer_value v) n
	WHERE n.fitted AND n.unpredicted > 0;
END;

-- a view says what its stored mart says
DO $$
DECLARE
	described record;
BEGIN
	FOR described IN
		SELECT v.oid::regclass AS relation, a.attname, pg_catalog.col_description(m.oid, a.attnum) AS comment,
			   pg_catalog.obj_description(m.oid, 'pg_class') AS relation_comment
		FROM pg_catalog.pg_class v
			 JOIN pg_catalog.pg_class m ON m.relname = v.relname AND m.relnamespace = 'gold_store'::regnamespace
			 JOIN pg_catalog.pg_attribute a ON a.attrelid = m.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE v.relnamespace = 'gold'::regnamespace AND v.relkind = 'v'
	LOOP
		EXECUTE format('COMMENT ON VIEW %s IS %L', described.relation, described.relation_comment);
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname, described.comment);
	END LOOP;
END
$$;

-- Readers read the views, which run as their owner; gold_store is the
-- refresh's alone.
REVOKE ALL ON SCHEMA gold_store FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA gold_store FROM retail_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA gold TO retail_bi;

UPDATE retail.refresh_steps SET schema_name = 'gold_store' WHERE schema_name = 'gold';


-- Issue 17, "one kind of state": what duplicates a reduction goes (the
-- rest in 89_one_reduction.sql, after the segment marts of 0.2.0).
-- retail.rfm_customers was unused; retail.rfm_customer with GROUP BY gives
-- the same.  Its C symbols stay (the older scripts name them) and raise an
-- error.
DROP AGGREGATE retail.rfm_customers(bigint, text, timestamp, numeric);
DROP FUNCTION retail.rfm_customers_trans(internal, bigint, text, timestamp, numeric);
DROP FUNCTION retail.rfm_customers_combine(internal, internal);
DROP FUNCTION retail.rfm_customers_serial(internal);
DROP FUNCTION retail.rfm_customers_deserial(bytea, internal);
DROP FUNCTION retail.rfm_customers_final(internal);

-- The same reduction of spans of a customer's lines already summed (an
-- invoice, its first and last time, its amount): the silver state of each
-- customer is this over silver.customer_invoice_days.
CREATE FUNCTION retail.rfm_customer_span_trans(internal, text, timestamp, timestamp, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_span_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_span_trans(internal, text, timestamp, timestamp, numeric) IS
	'Transition of retail.rfm_customer(text, timestamp, timestamp, numeric): adds a span of lines of one invoice';
CREATE AGGREGATE retail.rfm_customer(invoice_no text, first_ts timestamp, last_ts timestamp, amount numeric) (
	SFUNC = retail.rfm_customer_span_trans, STYPE = internal, SSPACE = 512,
	FINALFUNC = retail.rfm_customer_final, COMBINEFUNC = retail.rfm_customer_combine,
	SERIALFUNC = retail.rfm_customer_serial, DESERIALFUNC = retail.rfm_customer_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.rfm_customer(text, timestamp, timestamp, numeric) IS
	'retail.rfm_customer of spans of a customer''s lines already summed, one invoice each (first and last time, sum of amounts): what the lines themselves give';

-- Weighted forms of retail.median_mad and retail.most_frequent, the same C
-- (and support functions) as the unweighted ones: the audit's median price
-- (60_xyz_audit.sql) and the products' description no longer repeat them in
-- SQL from the counts of silver.product_prices and
-- silver.product_descriptions.
CREATE FUNCTION retail.median_mad_trans(internal, double precision, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_trans(internal, double precision, bigint) IS
	'Transition function of retail.median_mad(double precision, bigint): collects the values with their weights';
CREATE AGGREGATE retail.median_mad(value double precision, weight bigint) (
	SFUNC = retail.median_mad_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = retail.median_mad_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.median_mad_combine,
	SERIALFUNC = retail.median_mad_serial,
	DESERIALFUNC = retail.median_mad_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.median_mad(double precision, bigint) IS
	'Exact median and median absolute deviation of the non-NULL values, each counted weight times: what retail.median_mad(value) gives on the rows repeated weight times; a weight of 0 adds nothing, a NULL or negative weight of a non-NULL value is an error; NULL when no value has weight';

CREATE FUNCTION retail.most_frequent_trans(internal, text, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_trans(internal, text, bigint) IS
	'Transition function of retail.most_frequent(text, bigint): adds each value''s weight to its count';
CREATE AGGREGATE retail.most_frequent(value text, weight bigint) (
	SFUNC = retail.most_frequent_trans,
	STYPE = internal,
	SSPACE = 256,
	FINALFUNC = retail.most_frequent_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.most_frequent_combine,
	SERIALFUNC = retail.most_frequent_serial,
	DESERIALFUNC = retail.most_frequent_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.most_frequent(text, bigint) IS
	'Non-NULL value with the largest sum of weights, each row counting weight times (what retail.most_frequent(value) gives on the rows repeated weight times); ties as there; a weight of 0 adds nothing, a NULL or negative weight of a non-NULL value is an error; NULL when no value has weight';

REVOKE ALL ON FUNCTION retail.median_mad_trans(internal, double precision, bigint),
	retail.median_mad(double precision, bigint), retail.most_frequent_trans(internal, text, bigint),
	retail.most_frequent(text, bigint),
	retail.rfm_customer_span_trans(internal, text, timestamp, timestamp, numeric),
	retail.rfm_customer(text, timestamp, timestamp, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.median_mad_trans(internal, double precision, bigint),
	retail.median_mad(double precision, bigint), retail.most_frequent_trans(internal, text, bigint),
	retail.most_frequent(text, bigint),
	retail.rfm_customer_span_trans(internal, text, timestamp, timestamp, numeric),
	retail.rfm_customer(text, timestamp, timestamp, numeric) TO retail_bi;

-- The products' description: the most frequent by retail.most_frequent, no
-- longer by DISTINCT ON over the counts (the same pick: ties to the first in
-- collation order).  CREATE OR REPLACE resets what 0.2.0 set with ALTER.
CREATE OR REPLACE FUNCTION retail.products_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95,
											   x numeric DEFAULT 0.5, y numeric DEFAULT 1.0)
RETURNS TABLE (rank bigint, stock_code text, description text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text, cv numeric, xyz_class text, abc_xyz text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH products AS (
		SELECT s.stock_code, sum(s.revenue) AS revenue, retail.xyz_cv(s.month::timestamp, s.units) AS cv
		FROM silver.product_months s
		GROUP BY s.stock_code
	),
	descriptions AS (
		-- the most frequent, ties to the first in collation order
		SELECT d.stock_code, retail.most_frequent(d.description, d.lines) AS description
		FROM silver.product_descriptions d
		GROUP BY d.stock_code
	),
	ranked AS (
		SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
		FROM (SELECT retail.abc_classify(p.stock_code, p.revenue, products_abc.a, products_abc.b) AS items
			  FROM products p) s
			 CROSS JOIN LATERAL unnest(s.items) i
	)
	SELECT r.rank, r.key, d.description, r.value, r.share, r.cum_share_before, r.abc_class,
		   p.cv, k.xyz_class, r.abc_class || k.xyz_class
	FROM ranked r
		 JOIN products p ON p.stock_code = r.key
		 LEFT JOIN descriptions d ON d.stock_code = r.key
		 CROSS JOIN LATERAL (SELECT retail.xyz_class(p.cv, products_abc.x, products_abc.y)) k(xyz_class)
	ORDER BY r.rank;
END;
ALTER FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) SECURITY DEFINER;
ALTER FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) SET search_path = pg_catalog, pg_temp;

-- The CLV models were fitted twice a refresh, by gold.mart_customer_value and
-- again by gold.clv_model on the mart's columns.  gold.clv_model now fits them
-- (step 500) and the mart applies them (step 510).  The old views are
-- renamed, so that gold.dim_customers and retail.customer_value_warning() can
-- be bound to the new mart with their comments and privileges, then dropped.
ALTER MATERIALIZED VIEW gold.mart_customer_value RENAME TO mart_customer_value_0_2_0;
ALTER INDEX gold.mart_customer_value_customer_id_idx RENAME TO mart_customer_value_0_2_0_customer_id_idx;
ALTER MATERIALIZED VIEW gold.clv_model RENAME TO clv_model_0_2_0;
ALTER INDEX gold.clv_model_unit_idx RENAME TO clv_model_0_2_0_unit_idx;

-- The summary per customer that the models are fitted on and applied to,
-- from the per-invoice-day state (a purchase day's value is the sum of its
-- rows), monetary_value rounded to the mart's 6 decimals.
CREATE FUNCTION retail.clv_summary(unit text) RETURNS SETOF retail.btyd_customer
LANGUAGE sql STABLE PARALLEL RESTRICTED
BEGIN ATOMIC
	SELECT s.customer_id, s.frequency, s.recency, s.age,
		   round(s.monetary_value::numeric, 6)::double precision AS monetary_value
	FROM retail.btyd_summary('silver.customer_invoice_days', NULL, unit, 'customer_id', 'first_ts', 'revenue') s;
END;
COMMENT ON FUNCTION retail.clv_summary(text) IS
	'The BTYD summary of silver in a unit (day or week), monetary_value to 6 decimals: what gold.clv_model is fitted on and gold.mart_customer_value applies it to';

-- The models, fitted on the summary with the settings in force; no row
-- without customers.
CREATE MATERIALIZED VIEW gold.clv_model AS
WITH settings AS MATERIALIZED (
	SELECT * FROM retail.clv_settings()
),
summary AS MATERIALIZED (
	SELECT s.* FROM settings x, retail.clv_summary(x.unit) s
),
fitted AS MATERIALIZED (
	SELECT m.* FROM retail.btyd_models((SELECT array_agg(s::retail.btyd_customer) FROM summary s)) m
)
SELECT (SELECT max(c.last_purchase)::date FROM silver.customer_state c) AS calibration_end,
	   x.unit, x.horizon_months, x.discount_rate,
	   (SELECT count(*) FROM summary) AS customers,
	   (SELECT count(*) FROM summary s WHERE s.frequency > 0) AS repeat_customers,
	   (f.bgnbd).r, (f.bgnbd).alpha, (f.bgnbd).a, (f.bgnbd).b,
	   (f.bgnbd).log_likelihood AS bgnbd_log_likelihood, (f.bgnbd).converged AS bgnbd_converged,
	   (f.gamma_gamma).p, (f.gamma_gamma).q, (f.gamma_gamma).gamma,
	   (f.gamma_gamma).log_likelihood AS gamma_gamma_log_likelihood,
	   (f.gamma_gamma).converged AS gamma_gamma_converged,
	   -- in a fixed order: a float sum depends on it
	   (SELECT corr(s.frequency, s.monetary_value ORDER BY s.customer_id) FROM summary s WHERE s.frequency > 0)
		   AS frequency_monetary_correlation
FROM settings x, fitted f
WHERE EXISTS (SELECT FROM summary)
WITH NO DATA;
-- one row; REFRESH ... CONCURRENTLY needs a unique index
CREATE UNIQUE INDEX ON gold.clv_model (unit);
COMMENT ON MATERIALIZED VIEW gold.clv_model IS
	'The BG/NBD and Gamma-Gamma models that gold.mart_customer_value applies (one row, none without customers; parameters NULL while no customer bought twice) and the settings it applies them with; refresh it before the mart';

-- The models as values, for the prediction functions (gold itself keeps to
-- types a BI tool reads); NULL while no customer bought twice.
CREATE OR REPLACE FUNCTION retail.clv_models(OUT bgnbd retail.bgnbd_model, OUT gamma_gamma retail.gamma_gamma_model)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT CASE WHEN m.r IS NOT NULL THEN
				ROW(m.r, m.alpha, m.a, m.b, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.bgnbd_model END,
		   CASE WHEN m.p IS NOT NULL THEN
				ROW(m.p, m.q, m.gamma, m.gamma_gamma_log_likelihood, m.repeat_customers,
					m.gamma_gamma_converged)::retail.gamma_gamma_model END
	FROM gold.clv_model m;
END;
COMMENT ON FUNCTION retail.clv_models() IS
	'The models of gold.clv_model as values (NULL while no customer bought twice), for retail.bgnbd_expected_purchases, retail.bgnbd_p_alive, retail.gamma_gamma_expected_value and retail.clv';

-- Each customer's summary under the models of gold.clv_model, in its unit and
-- with its settings: the fits are not made again.
CREATE MATERIALIZED VIEW gold.mart_customer_value AS
WITH model AS MATERIALIZED (
	SELECT m.unit, m.horizon_months, m.discount_rate, f.bgnbd, f.gamma_gamma
	FROM gold.clv_model m, retail.clv_models() f
),
summary AS MATERIALIZED (
	SELECT s.* FROM model x, retail.clv_summary(x.unit) s
)
SELECT s.customer_id, s.frequency, s.recency, s.age,
	   s.monetary_value::numeric(38, 6) AS monetary_value,
	   retail.bgnbd_p_alive(x.bgnbd, s.frequency, s.recency, s.age) AS p_alive,
	   retail.bgnbd_expected_purchases(x.bgnbd, 90 / retail.btyd_unit_days(x.unit), s.frequency, s.recency,
									   s.age) AS expected_purchases_90d,
	   retail.gamma_gamma_expected_value(x.gamma_gamma, s.frequency, s.monetary_value)::numeric(38, 6)
		   AS expected_value,
	   retail.clv(x.bgnbd, x.gamma_gamma, s.frequency, s.recency, s.age, s.monetary_value, x.horizon_months,
				  x.discount_rate, x.unit)::numeric(38, 6) AS clv
FROM model x, summary s
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_value IS
	'One row per customer of silver: the BTYD summary (to the last date of the lines, in the unit of setting clv_unit) and what the BG/NBD and Gamma-Gamma models of gold.clv_model, fitted on it, predict (NULL while no customer bought twice)';
CREATE UNIQUE INDEX ON gold.mart_customer_value (customer_id);

-- the same definitions as before, bound to the new mart
CREATE OR REPLACE VIEW gold.dim_customers AS
SELECT s.customer_id, c.first_order_country AS country, s.first_purchase, s.last_purchase, s.frequency AS orders,
	   s.monetary AS revenue, date_trunc('month', s.first_purchase)::date AS cohort_month,
	   s.recency_days, s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment,
	   v.p_alive, v.expected_purchases_90d, v.expected_value, v.clv
FROM gold.mart_customer_segments s
	 LEFT JOIN silver.customer_state c ON c.customer_id = s.customer_id
	 LEFT JOIN gold.mart_customer_value v ON v.customer_id = s.customer_id
ORDER BY s.customer_id;
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
-- the columns mean what they meant
DO $$
DECLARE
	described record;
BEGIN
	FOR described IN
		SELECT format('gold.%I', replace(c.relname, '_0_2_0', '')) AS relation, a.attname,
			   pg_catalog.col_description(c.oid, a.attnum) AS comment
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
		WHERE c.oid IN ('gold.mart_customer_value_0_2_0'::regclass, 'gold.clv_model_0_2_0'::regclass)
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname, described.comment);
	END LOOP;
END
$$;
DROP MATERIALIZED VIEW gold.clv_model_0_2_0, gold.mart_customer_value_0_2_0;
GRANT SELECT ON gold.clv_model, gold.mart_customer_value TO retail_bi;
REVOKE EXECUTE ON FUNCTION retail.clv_summary(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.clv_summary(text) TO retail_bi;
UPDATE retail.refresh_steps SET step_order = 505 WHERE schema_name = 'gold' AND view_name = 'mart_customer_value';
UPDATE retail.refresh_steps SET step_order = 500 WHERE schema_name = 'gold' AND view_name = 'clv_model';
UPDATE retail.refresh_steps SET step_order = 510 WHERE schema_name = 'gold' AND view_name = 'mart_customer_value';

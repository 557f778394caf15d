
-- Issue 19 (Citus, stage 3): the cohort mart counts its cells where the
-- customers' months are, and only the cells reach the coordinator
-- (sql/install/50_cohort.sql).  A materialized view's query cannot be
-- replaced: the mart and the views over it are made again as the install
-- makes them, the mart unpopulated, as the other remade marts: the first
-- refresh after the update rebuilds everything (29_cancellations.sql).
CREATE FUNCTION retail.cohort_cells_trans(internal, date, date, bigint, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_cells_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_cells_trans(internal, date, date, bigint, numeric) IS
	'Transition of retail.cohort_matrix_from_cells: adds one counted cell (cohort month, active month, customers, revenue)';
CREATE AGGREGATE retail.cohort_matrix_from_cells(cohort date, month date, customers bigint, revenue numeric) (
	SFUNC = retail.cohort_cells_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix_from_cells(date, date, bigint, numeric) IS
	'Monthly cohort retention matrix (bounded) of counted cells: cohort month, active month, customers of the cohort active in that month and their revenue there, from sets of customers that do not overlap; a cohort''s size is its first month''s count; expand with unnest()';

REVOKE EXECUTE ON FUNCTION retail.cohort_cells_trans(internal, date, date, bigint, numeric),
	retail.cohort_matrix_from_cells(date, date, bigint, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.cohort_cells_trans(internal, date, date, bigint, numeric),
	retail.cohort_matrix_from_cells(date, date, bigint, numeric) TO retail_bi;

DROP VIEW gold.cohort_period_averages, gold.cohort_triangle_display, gold.cohort_triangle,
	gold.mart_cohort_retention;
DROP MATERIALIZED VIEW gold_store.mart_cohort_retention;

CREATE MATERIALIZED VIEW gold_store.mart_cohort_retention AS
SELECT c.cohort AS cohort_month,
	   c.period,
	   c.cohort_size,
	   c.active_customers,
	   retail.fraction(c.active_customers, c.cohort_size) AS retention,
	   c.revenue::numeric(38, 6) AS revenue,
	   (c.cohort + make_interval(months => c.period + 1))::date <= l.last_day + 1 AS complete
FROM (SELECT retail.cohort_matrix_from_cells(n.cohort, n.month, n.customers, n.revenue) AS cells
	  FROM (SELECT a.cohort, a.month, count(*) AS customers, sum(a.revenue) AS revenue
			FROM (SELECT s.month, s.revenue, min(s.month) OVER (PARTITION BY s.customer_id) AS cohort
				  FROM silver.customer_months s) a
			GROUP BY a.cohort, a.month) n) m
	 CROSS JOIN LATERAL pg_catalog.unnest(m.cells) AS c
	 CROSS JOIN (SELECT max(s.last_purchase)::date AS last_day FROM silver.customer_state s) l
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold_store.mart_cohort_retention IS
	'Monthly cohorts of silver customers: for every cohort and period up to the last month of silver, cohort size, active customers, retention, revenue, and whether the period is complete';
CREATE UNIQUE INDEX ON gold_store.mart_cohort_retention (cohort_month, period);
CREATE VIEW gold.mart_cohort_retention AS SELECT * FROM gold_store.mart_cohort_retention;

-- The triangle: one row per cohort, a column per period.
CREATE VIEW gold.cohort_triangle AS
SELECT r.cohort_month,
	   max(r.cohort_size) AS cohort_size,
	   min(r.period) FILTER (WHERE NOT r.complete) AS running_period,
	   max(r.retention) FILTER (WHERE r.period = 0) AS p0,
	   max(r.retention) FILTER (WHERE r.period = 1) AS p1,
	   max(r.retention) FILTER (WHERE r.period = 2) AS p2,
	   max(r.retention) FILTER (WHERE r.period = 3) AS p3,
	   max(r.retention) FILTER (WHERE r.period = 4) AS p4,
	   max(r.retention) FILTER (WHERE r.period = 5) AS p5,
	   max(r.retention) FILTER (WHERE r.period = 6) AS p6,
	   max(r.retention) FILTER (WHERE r.period = 7) AS p7,
	   max(r.retention) FILTER (WHERE r.period = 8) AS p8,
	   max(r.retention) FILTER (WHERE r.period = 9) AS p9,
	   max(r.retention) FILTER (WHERE r.period = 10) AS p10,
	   max(r.retention) FILTER (WHERE r.period = 11) AS p11,
	   max(r.retention) FILTER (WHERE r.period = 12) AS p12
FROM gold.mart_cohort_retention r
GROUP BY r.cohort_month
ORDER BY r.cohort_month;
COMMENT ON VIEW gold.cohort_triangle IS
	'Retention triangle: one row per monthly cohort, retention (fraction) of periods 0 .. 12, NULL where the data ends; running_period is the period not yet complete';

CREATE VIEW gold.cohort_triangle_display AS
SELECT t.cohort_month, t.cohort_size,
	   retail.retention_display(t.p0, t.running_period = 0) AS p0,
	   retail.retention_display(t.p1, t.running_period = 1) AS p1,
	   retail.retention_display(t.p2, t.running_period = 2) AS p2,
	   retail.retention_display(t.p3, t.running_period = 3) AS p3,
	   retail.retention_display(t.p4, t.running_period = 4) AS p4,
	   retail.retention_display(t.p5, t.running_period = 5) AS p5,
	   retail.retention_display(t.p6, t.running_period = 6) AS p6,
	   retail.retention_display(t.p7, t.running_period = 7) AS p7,
	   retail.retention_display(t.p8, t.running_period = 8) AS p8,
	   retail.retention_display(t.p9, t.running_period = 9) AS p9,
	   retail.retention_display(t.p10, t.running_period = 10) AS p10,
	   retail.retention_display(t.p11, t.running_period = 11) AS p11,
	   retail.retention_display(t.p12, t.running_period = 12) AS p12
FROM gold.cohort_triangle t
ORDER BY t.cohort_month;
COMMENT ON VIEW gold.cohort_triangle_display IS
	'gold.cohort_triangle for people: retention in percent with one decimal; * marks a period still running';

CREATE VIEW gold.cohort_period_averages AS
SELECT r.period,
	   count(*) AS cohorts,
	   sum(r.cohort_size)::bigint AS customers,
	   sum(r.active_customers)::bigint AS active_customers,
	   retail.fraction(sum(round(r.active_customers::numeric, 40) / r.cohort_size), count(*)) AS avg_retention,
	   retail.fraction(sum(r.active_customers), sum(r.cohort_size)) AS weighted_retention
FROM gold.mart_cohort_retention r
WHERE r.complete
GROUP BY r.period
ORDER BY r.period;
COMMENT ON VIEW gold.cohort_period_averages IS
	'Per period, over the cohorts whose cell is complete: cohorts, their customers, active customers, mean retention over cohorts and retention weighted by cohort size';

-- (column comments: 96_gold_columns.sql, as for every gold relation)
-- the triangles' period columns
DO $$
DECLARE
	described record;
BEGIN
	FOR described IN
		SELECT c.oid::regclass AS relation, a.attname, 'Retention (fraction in [0, 1]) in period ' || substr(a.attname, 2) AS comment
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		WHERE c.oid IN ('gold.cohort_triangle'::regclass, 'gold.cohort_triangle_display'::regclass)
		  AND a.attname ~ '^p[0-9]+$'
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname,
					   CASE WHEN described.relation = 'gold.cohort_triangle'::regclass THEN described.comment
							ELSE replace(described.comment, 'fraction in [0, 1]', 'percent, * while running') END);
	END LOOP;
END
$$;

REVOKE ALL ON gold_store.mart_cohort_retention FROM retail_bi;
GRANT SELECT ON gold.mart_cohort_retention, gold.cohort_triangle, gold.cohort_triangle_display,
	gold.cohort_period_averages TO retail_bi;

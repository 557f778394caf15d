
-- Cohort retention, one unit: the aggregates (src/cohort.c), the ad-hoc form,
-- the mart (step 200) with its gold views and column comments; its test is
-- test/sql/cohort.sql.  A customer's cohort is the period
-- (month, ISO week or day) of the customer's first line; the matrix is dense:
-- every cohort, every period from 0 to the last period present in the data.
CREATE TYPE retail.cohort_cell AS (
	cohort date,
	period integer,
	cohort_size bigint,
	active_customers bigint,
	retention numeric,
	revenue numeric
);
COMMENT ON TYPE retail.cohort_cell IS
	'One cell of a cohort matrix: cohort start, period number, cohort size, customers active in the period (or later, unbounded), their share, revenue of the period';

-- Support functions of the aggregates.  The state is internal: per customer,
-- the ascending periods with a line and the exact revenue of each.
CREATE FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric) IS
	'Transition of retail.cohort_matrix and retail.cohort_state: adds one order line (month granularity)';
CREATE FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text) IS
	'Transition of retail.cohort_matrix and retail.cohort_state: adds one order line at the given granularity';
CREATE FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text, boolean) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text, boolean) IS
	'Transition of retail.cohort_matrix: adds one order line at the given granularity and retention mode';
CREATE FUNCTION retail.cohort_cells_trans(internal, date, date, bigint, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_cells_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_cells_trans(internal, date, date, bigint, numeric) IS
	'Transition of retail.cohort_matrix_from_cells: adds one counted cell (cohort month, active month, customers, revenue)';
CREATE FUNCTION retail.cohort_merge_trans(internal, bytea) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_merge_trans(internal, bytea) IS
	'Transition of retail.cohort_merge: adds one serialized cohort state';
CREATE FUNCTION retail.cohort_merge_trans(internal, bytea, boolean) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_merge_trans(internal, bytea, boolean) IS
	'Transition of retail.cohort_merge: adds one serialized cohort state, with the retention mode';
CREATE FUNCTION retail.cohort_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_combine(internal, internal) IS
	'Combine function of the cohort aggregates: merges the customers and periods of two partial states exactly';
CREATE FUNCTION retail.cohort_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_cohort_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_serial(internal) IS
	'Serialize a cohort state (versioned binary format); also the final function of retail.cohort_state';
CREATE FUNCTION retail.cohort_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_deserial(bytea, internal) IS
	'Deserialize and validate a cohort state';
CREATE FUNCTION retail.cohort_final(internal) RETURNS retail.cohort_cell[]
	AS 'MODULE_PATHNAME', 'ra_cohort_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_final(internal) IS
	'Final function of the cohort aggregates: the dense matrix, ordered by cohort and period';

CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric) IS
	'Monthly cohort retention matrix (bounded) of order lines: customer, time, amount; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric, granularity text) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text) IS
	'Cohort retention matrix (bounded) at granularity month, week (ISO, from Monday) or day; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric, granularity text,
									  unbounded boolean) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text, boolean) IS
	'Cohort retention matrix; unbounded counts a customer active in period p or later; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';

-- Cells counted elsewhere, e.g. on each shard from its own customers: only
-- the cells travel, and a cell met twice is added up.
CREATE AGGREGATE retail.cohort_matrix_from_cells(cohort date, month date, customers bigint, revenue numeric) (
	SFUNC = retail.cohort_cells_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix_from_cells(date, date, bigint, numeric) IS
	'Monthly cohort retention matrix (bounded) of counted cells: cohort month, active month, customers of the cohort active in that month and their revenue there, from sets of customers that do not overlap; a cohort''s size is its first month''s count; expand with unnest()';

CREATE AGGREGATE retail.cohort_state(customer_id bigint, ts timestamp, amount numeric) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_serial, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_state(bigint, timestamp, numeric) IS
	'Per-customer monthly activity as a portable partial state (bytea), to merge with retail.cohort_merge';
CREATE AGGREGATE retail.cohort_state(customer_id bigint, ts timestamp, amount numeric, granularity text) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_serial, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_state(bigint, timestamp, numeric, text) IS
	'Per-customer activity at a granularity as a portable partial state (bytea), to merge with retail.cohort_merge';

CREATE AGGREGATE retail.cohort_merge(state bytea) (
	SFUNC = retail.cohort_merge_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_merge(bytea) IS
	'Cohort retention matrix (bounded) of partial states from retail.cohort_state, e.g. one per shard; at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
CREATE AGGREGATE retail.cohort_merge(state bytea, unbounded boolean) (
	SFUNC = retail.cohort_merge_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_merge(bytea, boolean) IS
	'Cohort retention matrix of partial states from retail.cohort_state, bounded or unbounded; at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';

CREATE FUNCTION retail.cohort_retention(lines regclass, granularity text DEFAULT 'month',
										unbounded boolean DEFAULT false,
										customer_column name DEFAULT 'customer_id',
										time_column name DEFAULT 'invoice_ts',
										value_column name DEFAULT 'line_total')
	RETURNS SETOF retail.cohort_cell
	AS 'MODULE_PATHNAME', 'ra_cohort_retention' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.cohort_retention(regclass, text, boolean, name, name, name) IS
	'Dense cohort retention matrix of a relation, its columns named by customer_column, time_column and value_column (default customer_id, invoice_ts, line_total; SELECT privilege required); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';

-- The mart: monthly cohorts of silver, bounded retention, from the
-- customers' monthly state (one row per customer and active month: the same
-- matrix as from the lines), counted per cell first: on Citus each shard
-- counts its own customers, and only the cells reach the coordinator.  A
-- cell is complete when its month had ended by the last day with a line.
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

-- For people: percentages, the running period marked.
CREATE FUNCTION retail.retention_display(retention double precision, running boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char((100 * retention)::numeric, 'FM990.0') || ' %' || CASE WHEN running THEN '*' ELSE '' END;
COMMENT ON FUNCTION retail.retention_display(double precision, boolean) IS
	'A retention as shown to people: percent with one decimal, followed by * when its period is still running';

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

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold_store.mart_cohort_retention.retention IS
	'active_customers / cohort_size, a fraction in [0, 1]';
COMMENT ON COLUMN gold_store.mart_cohort_retention.revenue IS
	'Revenue of the cohort''s customers in the period''s month';
COMMENT ON COLUMN gold_store.mart_cohort_retention.complete IS
	'The period''s month had ended by the last day with a line; false for the running month';
COMMENT ON COLUMN gold.cohort_triangle.running_period IS
	'The period of this cohort that is still running (its month not ended), NULL if none';
COMMENT ON COLUMN gold.cohort_triangle_display.cohort_month IS
	'Cohort: calendar month of the customer''s first clean line';
COMMENT ON COLUMN gold.cohort_period_averages.cohorts IS
	'Cohorts with a complete cell at this period';
COMMENT ON COLUMN gold.cohort_period_averages.customers IS
	'Customers of those cohorts';
COMMENT ON COLUMN gold.cohort_period_averages.active_customers IS
	'Customers of those cohorts active in the period';
COMMENT ON COLUMN gold.cohort_period_averages.avg_retention IS
	'Mean retention over those cohorts, a fraction in [0, 1]';
COMMENT ON COLUMN gold.cohort_period_averages.weighted_retention IS
	'active_customers / customers, a fraction in [0, 1]';
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

INSERT INTO retail.refresh_steps VALUES (200, 'gold', 'gold_store', 'mart_cohort_retention');


-- Cohort retention (src/cohort.c).  A customer's cohort is the period
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
	'Monthly cohort retention matrix (bounded) of order lines: customer, time, amount; expand with unnest()';
CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric, granularity text) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text) IS
	'Cohort retention matrix (bounded) at granularity month, week (ISO, from Monday) or day; expand with unnest()';
CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric, granularity text,
									  unbounded boolean) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text, boolean) IS
	'Cohort retention matrix; unbounded counts a customer active in period p or later; expand with unnest()';

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
	'Cohort retention matrix (bounded) of partial states from retail.cohort_state, e.g. one per shard';
CREATE AGGREGATE retail.cohort_merge(state bytea, unbounded boolean) (
	SFUNC = retail.cohort_merge_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_merge(bytea, boolean) IS
	'Cohort retention matrix of partial states from retail.cohort_state, bounded or unbounded';

CREATE FUNCTION retail.cohort_retention(lines regclass, granularity text DEFAULT 'month',
										unbounded boolean DEFAULT false)
	RETURNS SETOF retail.cohort_cell
	AS 'MODULE_PATHNAME', 'ra_cohort_retention' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.cohort_retention(regclass, text, boolean) IS
	'Dense cohort retention matrix of a relation with columns customer_id, invoice_ts, line_total (SELECT privilege required)';

-- The mart: monthly cohorts of silver, bounded retention, from the
-- customers' monthly state (one row per customer and active month: the same
-- matrix as from the lines).
CREATE MATERIALIZED VIEW gold.mart_cohort_retention AS
SELECT c.cohort AS cohort_month,
	   c.period,
	   c.cohort_size,
	   c.active_customers,
	   c.retention,
	   c.revenue
FROM (SELECT retail.cohort_matrix(s.customer_id, s.month::timestamp, s.revenue) AS cells
	  FROM silver.customer_months s) m
	 CROSS JOIN LATERAL pg_catalog.unnest(m.cells) AS c
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_cohort_retention IS
	'Monthly cohorts of silver customers: for every cohort and period up to the last month of silver, cohort size, active customers, retention, revenue';
CREATE UNIQUE INDEX ON gold.mart_cohort_retention (cohort_month, period);
INSERT INTO retail.refresh_steps VALUES (200, 'gold', 'gold', 'mart_cohort_retention');

-- For people: the triangle in percent, and the average per period.
CREATE VIEW gold.cohort_triangle AS
SELECT r.cohort_month,
	   max(r.cohort_size) AS cohort_size,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 0), 1) AS p0,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 1), 1) AS p1,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 2), 1) AS p2,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 3), 1) AS p3,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 4), 1) AS p4,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 5), 1) AS p5,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 6), 1) AS p6,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 7), 1) AS p7,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 8), 1) AS p8,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 9), 1) AS p9,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 10), 1) AS p10,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 11), 1) AS p11,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 12), 1) AS p12
FROM gold.mart_cohort_retention r
GROUP BY r.cohort_month
ORDER BY r.cohort_month;
COMMENT ON VIEW gold.cohort_triangle IS
	'Retention triangle in percent (1 decimal): one row per monthly cohort, columns p0 .. p12; NULL where the data ends';

CREATE VIEW gold.cohort_period_averages AS
SELECT r.period,
	   count(*) AS cohorts,
	   sum(r.cohort_size) AS customers,
	   sum(r.active_customers) AS active_customers,
	   round(100 * avg(r.retention), 1) AS avg_retention_pct,
	   round(100 * sum(r.active_customers) / sum(r.cohort_size), 1) AS weighted_retention_pct
FROM gold.mart_cohort_retention r
GROUP BY r.period
ORDER BY r.period;
COMMENT ON VIEW gold.cohort_period_averages IS
	'Per period: cohorts that reached it, their customers, average retention in percent, plain (mean over cohorts) and weighted by cohort size';

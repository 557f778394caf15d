
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

INSERT INTO retail.refresh_steps VALUES (200, 'gold', 'gold_store', 'mart_cohort_retention');

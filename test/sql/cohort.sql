-- Cohort retention: retail.cohort_matrix / cohort_state / cohort_merge,
-- retail.cohort_retention, gold.mart_cohort_retention and its views.
-- Expected values are worked out by hand (reasoning in the comments) and
-- every matrix is also compared cell by cell with the plain-SQL oracle of
-- test/cohort_oracle.sql (date_trunc, windows, generate_series).
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';
\set ECHO none
\i test/cohort_oracle.sql
\set ECHO all
CREATE SCHEMA cohort_test;
CREATE TABLE cohort_test.hand (customer_id bigint, invoice_ts timestamp, line_total numeric);

-- Months.  Customer 1 is active only in its first month (2021-01); customer
-- 2 only in periods 0 and 3 (January and April 2021); customer 3 crosses the
-- year boundary (2020-12-31 23:59:59 then 2021-01-01 00:00, periods 0 and
-- 1); customer 4 comes on 2020-12-01 00:00 and last on 2021-04-30
-- 23:59:59.999999 (period 4).  The last month in the data is 2021-04, so
-- cohort 2020-12 (customers 3, 4) has periods 0..4 and cohort 2021-01
-- (customers 1, 2) periods 0..3:
--   2020-12 p0: 3 and 4 active, 2/2 = 1, revenue 1.10 + 3 = 4.10
--   2020-12 p1: 3 only, 1/2 = 0.5, revenue 2.20; p2, p3: nobody, 0, 0
--   2020-12 p4: 4 only, 0.5, revenue 4
--   2021-01 p0: 1 and 2, 1, revenue 10.00 + 5.50 + 20.00 = 35.50
--   2021-01 p1, p2: nobody; p3: 2 only, 0.5, revenue 7.25
INSERT INTO cohort_test.hand VALUES
	(1, '2021-01-05 10:00', 10.00), (1, '2021-01-20 11:00', 5.50),
	(2, '2021-01-10 09:00', 20.00), (2, '2021-04-02 12:00', 7.25),
	(3, '2020-12-31 23:59:59', 1.10), (3, '2021-01-01 00:00', 2.20),
	(4, '2020-12-01 00:00', 3), (4, '2021-04-30 23:59:59.999999', 4);
SELECT c.* FROM unnest((SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total)
						FROM cohort_test.hand)) c;
SELECT pg_temp.cohort_mismatches((SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total)
								  FROM cohort_test.hand), 'cohort_test.hand');

-- Unbounded: active in p or later.  Customer 3's last period is 1, 4's is 4
-- (cohort 2020-12); 1's is 0, 2's is 3 (cohort 2021-01).  So 2020-12 counts
-- 2, 2, 1, 1, 1 and 2021-01 counts 2, 1, 1, 1; revenue stays per period.
SELECT * FROM retail.cohort_retention('cohort_test.hand', 'month', true);
SELECT pg_temp.cohort_mismatches(ARRAY(SELECT r FROM retail.cohort_retention('cohort_test.hand', 'month', true) r),
								 'cohort_test.hand', 'month', true);
-- Same as the aggregate form, and case does not matter in the granularity
SELECT (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total, 'MONTH', true) FROM cohort_test.hand)
	 = ARRAY(SELECT r FROM retail.cohort_retention('cohort_test.hand', 'month', true) r) AS same;

-- ISO weeks across a year boundary with a week 53.  2020-12-28 is the Monday
-- of 2020-W53, which runs to Sunday 2021-01-03; 2021-W01 starts on Monday
-- 2021-01-04.  Customer 10: Thursday 2020-12-31 (W53, its cohort), Sunday
-- 2021-01-03 (still W53, period 0), 2021-01-04 (period 1), 2021-01-18
-- (period 3).  Customer 11 starts on Sunday 2021-01-03 23:00, so its cohort
-- is also 2020-W53; 2021-01-10 (Sunday of W01) is its period 1.  Customer 12
-- starts in 2021-W01 and never comes back.  The last week is 2021-W03
-- (Monday 2021-01-18):
--   2020-12-28 (size 2): p0 both, 1; p1 both, 1; p2 nobody; p3 customer 10, 0.5
--   2021-01-04 (size 1): p0 1; p1 0; p2 0
CREATE TABLE cohort_test.weeks (customer_id bigint, invoice_ts timestamp, line_total numeric);
INSERT INTO cohort_test.weeks VALUES
	(10, '2020-12-31 08:00', 1), (10, '2021-01-03 20:00', 2), (10, '2021-01-04 00:00', 4),
	(10, '2021-01-18 09:00', 8),
	(11, '2021-01-03 23:00', 16), (11, '2021-01-10 23:59:59', 32),
	(12, '2021-01-04 12:00', 64);
SELECT to_char(cohort, 'IYYY-"W"IW') AS iso_week, r.*
FROM retail.cohort_retention('cohort_test.weeks', 'week') r;
SELECT pg_temp.cohort_mismatches(ARRAY(SELECT r FROM retail.cohort_retention('cohort_test.weeks', 'week') r),
								 'cohort_test.weeks', 'week');

-- Days.  Customer 20 on 03-01 and 03-03, customer 21 on 03-02 only; the
-- last day is 03-03: cohort 03-01 has p0 1, p1 0, p2 1; cohort 03-02 has p0
-- 1, p1 0.
CREATE TABLE cohort_test.days (customer_id bigint, invoice_ts timestamp, line_total numeric);
INSERT INTO cohort_test.days VALUES
	(20, '2021-03-01 10:00', 1.5), (20, '2021-03-03 23:59', 2.5), (21, '2021-03-02 00:00', 3);
SELECT * FROM retail.cohort_retention('cohort_test.days', 'day');
SELECT pg_temp.cohort_mismatches(ARRAY(SELECT r FROM retail.cohort_retention('cohort_test.days', 'day') r),
								 'cohort_test.days', 'day');

-- A single customer with a single line: one cell, retention 1.
SELECT c.* FROM unnest((SELECT retail.cohort_matrix(7, '2011-05-05 05:05', 12.34))) c;

-- NULLs: a line without customer or time belongs to no cohort; a line with a
-- NULL amount counts as activity and adds nothing.  Customer 30 (2021-02) has
-- one NULL and one 5 in February, a NULL in March: cohort 2021-02 p0 1,
-- revenue 5; p1 1, revenue 0.
CREATE TABLE cohort_test.nulls (customer_id bigint, invoice_ts timestamp, line_total numeric);
INSERT INTO cohort_test.nulls VALUES
	(NULL, '2021-01-01', 100), (31, NULL, 100),
	(30, '2021-02-01', NULL), (30, '2021-02-02', 5), (30, '2021-03-01', NULL);
SELECT * FROM retail.cohort_retention('cohort_test.nulls');
SELECT pg_temp.cohort_mismatches(ARRAY(SELECT r FROM retail.cohort_retention('cohort_test.nulls') r),
								 'cohort_test.nulls');

-- Empty input: an empty matrix, no error, in every form.
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.hand WHERE false;
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.nulls
WHERE customer_id IS NULL OR invoice_ts IS NULL;
SELECT count(*) FROM retail.cohort_retention('cohort_test.hand', 'day') WHERE false;
CREATE TABLE cohort_test.empty (customer_id bigint, invoice_ts timestamp, line_total numeric);
SELECT count(*) FROM retail.cohort_retention('cohort_test.empty', 'week', true);
SELECT retail.cohort_state(customer_id, invoice_ts, line_total) IS NULL AS no_state
FROM cohort_test.empty;
SELECT retail.cohort_merge(s) FROM (VALUES (NULL::bytea)) v(s);

-- Revenue is exact, with the display scale sum() gives: mixed scales,
-- negative amounts, sums past 128 bits (customer 45: 9e37 + 9e37 > 1.7e38;
-- customer 46: 1e37 rescaled to scale 2 is 1e39; customer 47: 9e35 rescaled
-- to scale 2 fits, the sum does not), a scale past 38, NaN and
-- infinities (these sums continue in numeric).  Compared with sum().
CREATE TABLE cohort_test.money (customer_id bigint, invoice_ts timestamp, line_total numeric);
INSERT INTO cohort_test.money VALUES
	(40, '2021-01-01', 0.1), (40, '2021-01-02', 0.2), (40, '2021-01-03', 0.30000),
	(40, '2021-02-01', -12.5), (40, '2021-02-01', 12.5),
	(41, '2021-01-15', 99999999999999999999999999999999.99),
	(41, '2021-01-16', 99999999999999999999999999999999.99),
	(41, '2021-02-15', 0.000000000000000000000000000000000000001),
	(41, '2021-02-16', 1e30),
	(42, '2021-01-20', 'NaN'), (42, '2021-01-21', 1),
	(43, '2021-02-01', 'Infinity'), (43, '2021-02-02', '-Infinity'),
	(44, '2021-02-03', 'Infinity'), (44, '2021-02-04', 2),
	(45, '2021-03-01', 9e37), (45, '2021-03-02', 9e37),
	(46, '2021-03-03', 1e37), (46, '2021-03-04', 0.5), (46, '2021-03-05', 0.05),
	(47, '2021-03-06', 900000000000000000000000000000000000.00), (47, '2021-03-07', 9e35);
SELECT cohort, period, active_customers, revenue
FROM retail.cohort_retention('cohort_test.money');
SELECT pg_temp.cohort_mismatches(ARRAY(SELECT r FROM retail.cohort_retention('cohort_test.money') r),
								 'cohort_test.money');
-- 5000 amounts of every scale from 0 to 44 and magnitudes from 1e-20 to 1e26,
-- positive and negative: each month and each day cell against the oracle.
CREATE TABLE cohort_test.scales AS
SELECT g % 50 AS customer_id,
	   timestamp '2021-01-01' + (g % 97) * interval '1 day' AS invoice_ts,
	   round((((g * 7907) % 2000001) - 1000000) * 10::numeric ^ ((g % 41) - 20), g % 45) AS line_total
FROM generate_series(1, 5000) g;
SELECT pg_temp.cohort_mismatches((SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total)
								  FROM cohort_test.scales), 'cohort_test.scales') AS month_mismatches,
	   pg_temp.cohort_mismatches((SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total, 'day')
								  FROM cohort_test.scales), 'cohort_test.scales', 'day') AS day_mismatches;
-- Per customer and month, against sum() directly (the aggregate in the
-- subquery runs over the lines of each group of the outer query)
SELECT customer_id, date_trunc('month', invoice_ts)::date AS month,
	   sum(line_total) AS by_sum,
	   (SELECT c.revenue FROM unnest(retail.cohort_matrix(customer_id, invoice_ts, line_total)) c
		WHERE c.period = 0) AS by_cohort
FROM cohort_test.money
GROUP BY 1, 2
ORDER BY 1, 2;

-- Shards: partial states of any split merge exactly.  Split the hand lines
-- so that each of customers 1..4 has one of its two lines in each half (the
-- later half of customer 4 holds its period 4 only).
SELECT (SELECT retail.cohort_merge(s)
		FROM (SELECT retail.cohort_state(customer_id, invoice_ts, line_total) AS s
			  FROM (SELECT h.*, row_number() OVER (ORDER BY customer_id, invoice_ts) % 2 AS half
					FROM cohort_test.hand h) x
			  GROUP BY half) parts)
	 = (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.hand)
	AS merged_equals_whole;
SELECT (SELECT retail.cohort_merge(s, true)
		FROM (SELECT retail.cohort_state(customer_id, invoice_ts, line_total, 'week') AS s
			  FROM cohort_test.weeks GROUP BY customer_id % 2, invoice_ts::date) parts)
	 = (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total, 'week', true)
		FROM cohort_test.weeks)
	AS merged_equals_whole;

-- Counted cells (retail.cohort_matrix_from_cells): the cells of a set of
-- customers, counted elsewhere (the mart counts them per shard).  By hand:
-- cohort 2021-01 has 3 customers (revenue 30.00 in January), 1 of them back
-- in March (5); cohort 2021-02 (any day names its month) has 2, both back in
-- March (4.5 and a NULL revenue, which adds nothing), and its February cell
-- comes in two rows (two shards) of 1 customer each, 8 and 0.
--   2021-01 (size 3): p0 3, 1, 30.00; p1 0, 0, 0; p2 1, 0.333.., 5
--   2021-02 (size 2): p0 2, 1, 8; p1 2, 1, 4.5
SELECT c.* FROM unnest((SELECT retail.cohort_matrix_from_cells(cohort, month, customers, revenue)
						FROM (VALUES (date '2021-01-01', date '2021-01-01', 3::bigint, 30.00),
									 ('2021-01-01', '2021-03-01', 1, 5),
									 ('2021-02-15', '2021-03-20', 1, 4.5),
									 ('2021-02-01', '2021-03-01', 1, NULL),
									 ('2021-02-01', '2021-02-01', 1, 8),
									 ('2021-02-28', '2021-02-01', 1, 0)) v(cohort, month, customers, revenue))) c;
-- The cells of any tables counted in plain SQL as the mart counts them (per
-- customer and month, then per cohort and month) give the matrix of the
-- lines, revenue exact; so do cells counted per half of the customers and
-- given in two rows each, as two shards would send them.
CREATE FUNCTION pg_temp.counted_cells(lines regclass, parts integer)
RETURNS TABLE (cohort date, month date, customers bigint, revenue numeric)
LANGUAGE plpgsql AS $fn$
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT a.cohort, a.month, count(*), sum(a.revenue)
		FROM (SELECT m.customer_id, m.month, m.revenue, min(m.month) OVER (PARTITION BY m.customer_id) AS cohort
			  FROM (SELECT customer_id, date_trunc('month', invoice_ts)::date AS month, sum(line_total) AS revenue
					FROM %s WHERE customer_id IS NOT NULL AND invoice_ts IS NOT NULL
					GROUP BY 1, 2) m) a
		GROUP BY a.customer_id %% %s, a.cohort, a.month$q$, lines, parts);
END
$fn$;
SELECT t.name, parts,
	   (SELECT retail.cohort_matrix_from_cells(cohort, month, customers, revenue)
		FROM pg_temp.counted_cells(t.name, parts))
	   = CASE t.name
			 WHEN 'cohort_test.hand'::regclass THEN
				 (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.hand)
			 ELSE (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.money)
		 END AS same_matrix
FROM (VALUES ('cohort_test.hand'::regclass), ('cohort_test.money')) t(name), (VALUES (1), (2)) p(parts)
ORDER BY 1, 2;
-- Cells and customers in one state: cohort_merge of a customer's state
-- (customer 1, cohort 2021-01, active in January only) and a state of
-- counted cells (serialized by hand, format 2: no customers, the cell of
-- cohort 2021-01 = month 24252 in its first month with 2 customers and
-- revenue 7, dscale 0) is one cohort of 3 customers, revenue 10.00 + 5.50 + 7.
SELECT c.* FROM unnest((SELECT retail.cohort_merge(s)
						FROM (SELECT retail.cohort_state(customer_id, invoice_ts, line_total) AS s
							  FROM cohort_test.hand WHERE customer_id = 1
							  UNION ALL
							  SELECT ('\x00000002' || '00000000' || '00' || '0000000000000000'
									  || '0000000000000001' || '00005ebc' || '00005ebc' || '0000000000000002'
									  || '0000' || '0000000000000000' || '0000000000000007')::bytea) x)) c;
-- Refused: a row without a cohort, a month or a count, a negative count, a
-- month before its cohort, an infinite date; a cohort without customers in
-- its first month, or with more customers in a later month than in its first
-- (cells not counted from one set of customers); counts past int64; counted
-- cells merged into unbounded retention, which they cannot give.
SELECT retail.cohort_matrix_from_cells(NULL, '2021-01-01', 1, 1);
SELECT retail.cohort_matrix_from_cells('2021-01-01', NULL, 1, 1);
SELECT retail.cohort_matrix_from_cells('2021-01-01', '2021-01-01', NULL, 1);
SELECT retail.cohort_matrix_from_cells('2021-01-01', '2021-01-01', -1, 1);
SELECT retail.cohort_matrix_from_cells('2021-02-01', '2021-01-31', 1, 1);
SELECT retail.cohort_matrix_from_cells('2021-01-01', 'infinity', 1, 1);
SELECT retail.cohort_matrix_from_cells(cohort, month, customers, 1)
FROM (VALUES (date '2021-01-01', date '2021-02-01', 1::bigint)) v(cohort, month, customers);
SELECT retail.cohort_matrix_from_cells(cohort, month, customers, 1)
FROM (VALUES (date '2021-01-01', date '2021-01-01', 2::bigint), ('2021-01-01', '2021-02-01', 3)) v(cohort, month, customers);
SELECT retail.cohort_matrix_from_cells('2021-01-01', '2021-01-01', 9223372036854775807, 1)
FROM generate_series(1, 2);
SELECT retail.cohort_merge(('\x00000002' || '00000000' || '00' || '0000000000000000' || '0000000000000001'
							|| '00005ebc' || '00005ebc' || '0000000000000002' || '0000' || repeat('0', 32))::bytea, true);
-- Forged counted cells are refused by every reader of a state: a count of
-- none, a cell twice, a negative count, a period before its cohort, cells in
-- an unbounded state.
SELECT retail.cohort_merge(('\x00000002' || '00000000' || '00' || '0000000000000000' || '0000000000000000')::bytea);
SELECT retail.cohort_merge(('\x00000002' || '00000000' || '00' || '0000000000000000' || '0000000000000002'
							|| repeat('00005ebc' || '00005ebc' || '0000000000000002' || '0000' || repeat('0', 32), 2))::bytea);
SELECT retail.cohort_merge(('\x00000002' || '00000000' || '00' || '0000000000000000' || '0000000000000001'
							|| '00005ebc' || '00005ebc' || 'ffffffffffffffff' || '0000' || repeat('0', 32))::bytea);
SELECT retail.cohort_merge(('\x00000002' || '00000000' || '00' || '0000000000000000' || '0000000000000001'
							|| '00005ebc' || '00005ebb' || '0000000000000002' || '0000' || repeat('0', 32))::bytea);
SELECT retail.cohort_merge(('\x00000002' || '00000000' || '01' || '0000000000000000' || '0000000000000001'
							|| '00005ebc' || '00005ebc' || '0000000000000002' || '0000' || repeat('0', 32))::bytea);
-- As a window: January's frame holds cohort 2021-01's first month (1 cell);
-- February's two rows are peers, so both frames hold all three rows:
-- cohort 2021-01 periods 0 and 1, cohort 2021-02 period 0 (3 cells).
SELECT month, cohort, cardinality(retail.cohort_matrix_from_cells(cohort, month, customers, revenue)
								  OVER (ORDER BY month)) AS cells
FROM (VALUES (date '2021-01-01', date '2021-01-01', 2::bigint, 10), ('2021-01-01', '2021-02-01', 1, 5),
			 ('2021-02-01', '2021-02-01', 1, 7)) v(cohort, month, customers, revenue)
ORDER BY month, cohort;
-- No rows: an empty matrix.
SELECT retail.cohort_matrix_from_cells(cohort, month, customers, revenue)
FROM pg_temp.counted_cells('cohort_test.hand', 1) WHERE customers < 0;

-- Errors.
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total, 'fortnight') FROM cohort_test.hand;
SELECT * FROM retail.cohort_retention('cohort_test.hand', 'quarter');
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total, NULL) FROM cohort_test.hand;
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total, 'month', NULL) FROM cohort_test.hand;
SELECT * FROM retail.cohort_retention('cohort_test.hand', NULL);
SELECT * FROM retail.cohort_retention(NULL);
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total,
							CASE WHEN customer_id = 1 THEN 'day' ELSE 'month' END)
FROM cohort_test.hand;
SELECT retail.cohort_matrix(1, 'infinity', 1);
SELECT retail.cohort_matrix(1, '-infinity', 1, 'day');
SELECT * FROM retail.cohort_retention(4294967295::oid::regclass);
-- The earliest timestamp is a valid day cohort, but its month would start
-- before the first valid date; a matrix from 2000 to the last valid
-- timestamp in weeks spans 292276 years * 52.18 = 15.25 million weeks, past
-- the limit.
SELECT c.cohort, c.period FROM unnest((SELECT retail.cohort_matrix(1, '4714-11-24 00:00 BC', 1, 'day'))) c;
SELECT retail.cohort_matrix(1, '4714-11-24 00:00 BC', 1);
SELECT retail.cohort_matrix(c, ts, 1, 'week')
FROM (VALUES (1, timestamp '2000-01-01'), (2, timestamp '294276-12-31 23:59:59')) v(c, ts);
SELECT retail.cohort_merge(s)
FROM (SELECT retail.cohort_state(customer_id, invoice_ts, line_total, g) AS s
	  FROM cohort_test.hand, (VALUES ('month'), ('week')) v(g) GROUP BY g) x;

-- The limit: a matrix spans at most 2400 periods, from its first cohort to
-- its last period (1900-01 .. 2099-12 in months).  At the limit, customer 1
-- in 1900-01 and customer 2 in 2099-12: cohort 1900-01 has periods 0 .. 2399
-- (2400 cells), cohort 2099-12 period 0 only: 2401 cells.
SELECT count(*) AS cells, min(c.cohort) AS first_cohort, max(c.cohort) AS last_cohort,
	   max(c.period) AS last_period, sum(c.active_customers) AS active
FROM unnest((SELECT retail.cohort_matrix(c, ts, 1)
			 FROM (VALUES (1, timestamp '1900-01-01 00:00'), (2, timestamp '2099-12-31 23:59:59')) v(c, ts))) c;
-- In weeks, from the week of Monday 2000-01-03 to the week 2399 * 7 days
-- later; in days, 2000-01-03 and 2399 days later: 2400 periods, 2401 cells
-- each.  One period more is refused in every granularity: 1899-12 in months,
-- Sunday 2000-01-02 (the week before) in weeks, 2400 days later in days.
SELECT g, cardinality(retail.cohort_matrix(c, ts, 1, g)) AS cells
FROM (VALUES ('week', 7), ('day', 1)) s(g, days),
	 LATERAL (VALUES (1, timestamp '2000-01-03'), (2, timestamp '2000-01-03' + 2399 * days * interval '1 day')) v(c, ts)
GROUP BY g ORDER BY g;
SELECT retail.cohort_matrix(c, ts, 1)
FROM (VALUES (1, timestamp '1899-12-31 23:59:59'), (2, timestamp '2099-12-31 23:59:59')) v(c, ts);
SELECT retail.cohort_matrix(c, ts, 1, 'week', true)
FROM (VALUES (1, timestamp '2000-01-02 23:59'), (2, timestamp '2000-01-03' + 2399 * 7 * interval '1 day')) v(c, ts);
SELECT retail.cohort_matrix(c, ts, 1, 'day')
FROM (VALUES (1, timestamp '2000-01-03'), (2, timestamp '2000-01-03' + 2400 * interval '1 day')) v(c, ts);
-- The issue's two rows, 4999990 weeks apart: 4999991 periods, refused at
-- once instead of 5 million cells
SELECT cardinality(retail.cohort_matrix(c, ts, 1, 'week'))
FROM (VALUES (1, timestamp '2000-01-01'), (2, timestamp '2000-01-01' + interval '4999990 weeks')) v(c, ts);
-- One customer over more than the limit is refused while the lines are
-- read: a partial state (no matrix built) cannot hold it either.
SELECT retail.cohort_state(1, ts, 1)
FROM (VALUES (timestamp '1900-01-01'), (timestamp '2050-01-01'), (timestamp '2100-01-01')) v(ts);
-- Nor can merging two states of the same customer, each within the limit
-- (1900-01 and 2100-01), nor of two customers (the matrix is refused)
SELECT retail.cohort_merge(s)
FROM (SELECT retail.cohort_state(1, ts, 1) AS s
	  FROM (VALUES (timestamp '1900-01-01'), (timestamp '2100-01-01')) v(ts) GROUP BY ts) x;
SELECT retail.cohort_merge(s)
FROM (SELECT retail.cohort_state(c, ts, 1) AS s
	  FROM (VALUES (1, timestamp '1900-01-01'), (2, timestamp '2100-01-01')) v(c, ts) GROUP BY c) x;
-- SELECT privilege is checked (the role may use both schemas, not the table)
CREATE ROLE regress_cohort_reader IN ROLE retail_bi;
GRANT USAGE ON SCHEMA cohort_test TO regress_cohort_reader;
SET ROLE regress_cohort_reader;
SELECT * FROM retail.cohort_retention('cohort_test.hand');
RESET ROLE;
GRANT SELECT ON cohort_test.days TO regress_cohort_reader;
SET ROLE regress_cohort_reader;
SELECT count(*) FROM retail.cohort_retention('cohort_test.days');
RESET ROLE;
DROP OWNED BY regress_cohort_reader;
DROP ROLE regress_cohort_reader;

-- Bad serialized states, fed to the deserialization through cohort_merge.
-- A valid state by hand (byte positions as overlay() counts them):
--   1-4 version 1, 5-8 granularity 0 (month), 9 unbounded 0, 10-17 one
--   customer; 18-25 customer id 5, 26-29 one period; 30-33 period 24252 =
--   2021 * 12 + 0 (January 2021), 34-35 scale 2, 36-51 value 1000 as two
--   int64 halves: 10.00.
CREATE TABLE cohort_test.state AS
SELECT ('\x00000001' || '00000000' || '00' || '0000000000000001'
		|| '0000000000000005' || '00000001'
		|| '00005ebc' || '0002' || '0000000000000000' || '00000000000003e8')::bytea AS good;
SELECT c.* FROM unnest((SELECT retail.cohort_merge(good) FROM cohort_test.state)) c;
SELECT retail.cohort_merge('\x'::bytea);
SELECT retail.cohort_merge(overlay(good PLACING '\x00000003' FROM 1)) FROM cohort_test.state;
SELECT retail.cohort_merge(overlay(good PLACING '\x00000009' FROM 5)) FROM cohort_test.state;
SELECT retail.cohort_merge(set_byte(good, 8, 2)) FROM cohort_test.state;
SELECT retail.cohort_merge(overlay(good PLACING '\x7fffffffffffffff' FROM 10)) FROM cohort_test.state;
SELECT retail.cohort_merge(substr(good, 1, 50)) FROM cohort_test.state;
SELECT retail.cohort_merge(good || '\x00'::bytea) FROM cohort_test.state;
-- period count 0; period out of range; display scale 39
SELECT retail.cohort_merge(overlay(good PLACING '\x00000000' FROM 26)) FROM cohort_test.state;
SELECT retail.cohort_merge(overlay(good PLACING '\x7fffffff' FROM 30)) FROM cohort_test.state;
SELECT retail.cohort_merge(overlay(good PLACING '\x0027' FROM 34)) FROM cohort_test.state;
-- the same customer twice (count 2, then the customer block again)
SELECT retail.cohort_merge(overlay(good PLACING '\x0000000000000002' FROM 10) || substr(good, 18))
FROM cohort_test.state;
-- periods not ascending (two periods: January 2021, then December 2020)
SELECT retail.cohort_merge(overlay(good PLACING '\x00000002' FROM 26)
						   || ('\x00005ebb' || '0002' || '0000000000000000' || '00000000000003e8')::bytea)
FROM cohort_test.state;
-- Sums held as numeric (scale -1): int32 length, then the numeric send
-- format (int16 digit count, weight, sign, scale, digits).  The number 7 is
-- 1 digit, weight 0, sign 0, scale 0, digit 7: 10 bytes.  Then a length that
-- does not match the digit count, and a digit out of range.
SELECT c.revenue
FROM unnest((SELECT retail.cohort_merge(substr(good, 1, 33)
										 || ('\xffff' || '0000000a' || '0001000000000000' || '0007')::bytea)
			 FROM cohort_test.state)) c;
SELECT retail.cohort_merge(substr(good, 1, 33)
						   || ('\xffff' || '0000000a' || '0002000000000000' || '0007')::bytea)
FROM cohort_test.state;
SELECT retail.cohort_merge(substr(good, 1, 33)
						   || ('\xffff' || '0000000a' || '0001000000000000' || '2710')::bytea)
FROM cohort_test.state;
-- The two-argument merge reads states the same way: wrong version, truncated,
-- a customer count past the bytes
SELECT retail.cohort_merge(overlay(good PLACING '\x00000003' FROM 1), true) FROM cohort_test.state;
SELECT retail.cohort_merge(substr(good, 1, 40), true) FROM cohort_test.state;
SELECT retail.cohort_merge(overlay(good PLACING '\x0000000000000002' FROM 10), false) FROM cohort_test.state;
-- Declared sizes past the limits are refused before anything is allocated
-- for them: a customer of 2401 periods (the bytes of 2401 periods present);
-- periods 21852 and 24252 (2021-01 less 2400 months), 2401 periods apart;
-- 21853 is at the limit: one customer, one cohort, 2400 cells.
SELECT retail.cohort_merge(substr(good, 1, 25) || '\x00000961'::bytea
						   || decode(repeat('00005ebc' || '0002' || repeat('0', 32), 2401), 'hex'))
FROM cohort_test.state;
SELECT retail.cohort_merge(overlay(overlay(good PLACING '\x00000002' FROM 26) PLACING '\x0000555c' FROM 30)
						   || ('\x00005ebc' || '0002' || '0000000000000000' || '00000000000003e8')::bytea)
FROM cohort_test.state;
SELECT cardinality(retail.cohort_merge(overlay(overlay(good PLACING '\x00000002' FROM 26) PLACING '\x0000555d' FROM 30)
									   || ('\x00005ebc' || '0002' || '0000000000000000' || '00000000000003e8')::bytea))
FROM cohort_test.state;
-- The issue's forged state of 119 bytes: weeks, three customers of one
-- period each, at weeks -350000, 0 and 15000000 (all valid weeks): each
-- customer is within the limit, the matrix would span 15350001 weeks.
SELECT retail.cohort_merge(('\x00000001' || '00000001' || '00' || '0000000000000003'
							|| '0000000000000001' || '00000001' || 'fffaa8d0' || '0000' || repeat('0', 32)
							|| '0000000000000002' || '00000001' || '00000000' || '0000' || repeat('0', 32)
							|| '0000000000000003' || '00000001' || '00e4e1c0' || '0000' || repeat('0', 32))::bytea);
-- A state round-trips: merging the serialized state of a table gives its matrix
SELECT (SELECT retail.cohort_merge(s)
		FROM (SELECT retail.cohort_state(customer_id, invoice_ts, line_total) AS s
			  FROM cohort_test.money) x)
	 = (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.money)
	AS round_trip;

-- A long statement is cancelled: asserted by its SQLSTATE (57014), never by
-- how long it took.  Each evaluation of the subquery builds the largest
-- matrix the limit allows (2400 monthly cohorts of one customer: 2881200
-- cells, seconds of work, most of it in the final function's loops); a
-- million of them could not end before the timeout however fast the
-- machine, and the cancel must stop them.
SET statement_timeout = '100ms';
DO $$
BEGIN
	PERFORM (SELECT cardinality(retail.cohort_matrix(c, timestamp '1900-01-01' + c * interval '1 month', 1))
			 FROM generate_series(0, 2399) c
			 WHERE r > 0)
	FROM generate_series(1, 1000000) r;
	RAISE NOTICE 'not cancelled';
EXCEPTION WHEN query_canceled THEN
	RAISE NOTICE 'cancelled: SQLSTATE %', SQLSTATE;
END
$$;
RESET statement_timeout;

-- Serial = parallel.  A regular table (workers cannot read temp tables) with
-- 20000 lines of 997 customers over two years, in an order unrelated to time.
CREATE TABLE cohort_test.lines AS
SELECT (g * 7919) % 997 AS customer_id,
	   timestamp '2019-11-15' + ((g * 104729) % 730) * interval '1 day' + (g % 86400) * interval '1 second'
		   AS invoice_ts,
	   ((g * 31) % 100000) / 100.0 AS line_total
FROM generate_series(1, 20000) g;
ANALYZE cohort_test.lines;
-- Its cells counted in 7 parts: each cell in up to 7 rows.
CREATE TABLE cohort_test.cells AS SELECT * FROM pg_temp.counted_cells('cohort_test.lines', 7);
ANALYZE cohort_test.cells;
CREATE TABLE cohort_test.serial AS
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) AS m,
	   retail.cohort_matrix(customer_id, invoice_ts, line_total, 'week', true) AS w,
	   (SELECT retail.cohort_matrix_from_cells(cohort, month, customers, revenue) FROM cohort_test.cells) AS c
FROM cohort_test.lines;
SELECT cardinality(m) AS month_cells, cardinality(w) AS week_cells FROM cohort_test.serial;
SELECT pg_temp.cohort_mismatches(m, 'cohort_test.lines') AS month_mismatches,
	   pg_temp.cohort_mismatches(w, 'cohort_test.lines', 'week', true) AS week_mismatches,
	   pg_temp.cohort_mismatches(c, 'cohort_test.lines') AS cells_mismatches
FROM cohort_test.serial;
\i test/force_parallel.sql
EXPLAIN (COSTS OFF)
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) AS m,
	   retail.cohort_matrix(customer_id, invoice_ts, line_total, 'week', true) AS w
FROM cohort_test.lines;
SELECT p.m = s.m AS month_same, p.w = s.w AS week_same
FROM (SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) AS m,
			 retail.cohort_matrix(customer_id, invoice_ts, line_total, 'week', true) AS w
	  FROM cohort_test.lines) p, cohort_test.serial s;
EXPLAIN (COSTS OFF)
SELECT retail.cohort_matrix_from_cells(cohort, month, customers, revenue) FROM cohort_test.cells;
SELECT retail.cohort_matrix_from_cells(cohort, month, customers, revenue) = s.c AS cells_same
FROM cohort_test.cells, cohort_test.serial s
GROUP BY s.c;
-- no rows, in parallel
SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total) FROM cohort_test.lines WHERE line_total < 0;
\i test/reset_parallel.sql

-- The mart and its views, through bronze, silver and retail.refresh(), in a
-- transaction rolled back at the end.  The four customers of the month case
-- plus customer 5 (a second line-only January customer), as raw UCI rows of
-- quantity 1.  Cohort 2020-12 has 2 customers, 2021-01 has 3 (1, 2, 5):
--   triangle 2020-12: 1, 0.5, 0, 0, 0.5;  2021-01: 1, 0, 0, 0.3333333333
--   p0: 2 cohorts, 5 customers, 5 active: 1 / 1
--   p1: 1/2 and 0/3: mean 0.25, weighted 1/5 = 0.2
--   p2: 0 and 0
--   p3: 0/2 and 1/3: mean 0.1666666667, weighted 1/5 = 0.2
--   p4: only 2020-12, 1/2: 0.5 / 0.5
BEGIN;
SET LOCAL client_min_messages = warning;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
VALUES ('500001', '10001', 'A', '1', '2021-01-05 10:00', '10.00', '1', 'UK'),
	   ('500002', '10001', 'A', '1', '2021-01-20 11:00', '5.50', '1', 'UK'),
	   ('500003', '10001', 'A', '1', '2021-01-10 09:00', '20.00', '2', 'UK'),
	   ('500004', '10001', 'A', '1', '2021-04-02 12:00', '7.25', '2', 'UK'),
	   ('500005', '10001', 'A', '1', '2020-12-31 23:59:59', '1.10', '3', 'UK'),
	   ('500006', '10001', 'A', '1', '2021-01-01 00:00', '2.20', '3', 'UK'),
	   ('500007', '10001', 'A', '1', '2020-12-01 00:00', '3', '4', 'UK'),
	   ('500008', '10001', 'A', '1', '2021-04-30 23:59:59', '4', '4', 'UK'),
	   ('500009', '10001', 'A', '1', '2021-01-31 23:00', '1', '5.0', 'UK');
CALL retail.refresh();
SELECT * FROM gold.mart_cohort_retention ORDER BY cohort_month, period;
SELECT * FROM gold.cohort_triangle;
SELECT * FROM gold.cohort_period_averages;
SELECT relation, rows FROM retail.last_refresh WHERE relation LIKE 'gold_store.mart_cohort%';
-- The last line above is on 2021-04-30, the last day of April: every cell is
-- complete.  A line of customer 1 on 2021-05-03 opens May, which has not
-- ended: 2020-12 period 5 (0 of 2) and 2021-01 period 4 (customer 1: 1 of
-- 3) are running; the triangle marks them, the averages leave them out (the
-- same rows as above, no period 5).
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
VALUES ('500010', '10001', 'A', '1', '2021-05-03 10:00', '1', '1', 'UK');
CALL retail.refresh();
SELECT cohort_month, period, active_customers, retention, complete
FROM gold.mart_cohort_retention WHERE period >= 4 ORDER BY cohort_month, period;
SELECT cohort_month, running_period, p4, p5 FROM gold.cohort_triangle;
SELECT * FROM gold.cohort_triangle_display;
SELECT * FROM gold.cohort_period_averages;
ROLLBACK;
SELECT step_order, layer FROM retail.refresh_steps WHERE view_name = 'mart_cohort_retention';
SELECT indexdef FROM pg_indexes WHERE tablename = 'mart_cohort_retention';

DROP SCHEMA cohort_test CASCADE;

-- Order-anomaly audit: retail.median_mad, retail.modified_z and
-- gold.audit_order_anomalies on hand-made silver data.  Expected values are
-- worked out by hand in the comments.
CREATE SCHEMA audit_test;
SET extra_float_digits = 0;

-- median_mad.  1, 2, 3, 4, 100: median 3; deviations 2, 1, 0, 1, 97 ->
-- sorted 0, 1, 1, 2, 97 -> MAD 1.
SELECT (retail.median_mad(x)).* FROM (VALUES (4), (100), (1), (3), (2)) t(x);
-- Even count 1, 2, 3, 4: median (2 + 3) / 2 = 2.5; deviations 1.5, 0.5,
-- 0.5, 1.5 -> MAD (0.5 + 1.5) / 2 = 1.
SELECT (retail.median_mad(x)).* FROM (VALUES (3), (1), (4), (2)) t(x);
-- One value: median 7, MAD 0.  All equal: MAD 0.
SELECT (retail.median_mad(7)).*;
SELECT (retail.median_mad(x)).* FROM (VALUES (5), (5), (5)) t(x);
-- NULLs ignored; none at all -> NULL.
SELECT (retail.median_mad(x)).* FROM (VALUES (NULL), (2), (NULL), (4)) t(x);
SELECT retail.median_mad(x) IS NULL AS is_null FROM (VALUES (NULL::float8)) t(x);
SELECT retail.median_mad(x) IS NULL AS is_null FROM (VALUES (1::float8)) t(x) WHERE false;
-- Non-finite input is an error.
SELECT retail.median_mad(x) FROM (VALUES (1), ('NaN'::float8)) t(x);
SELECT retail.median_mad('-Infinity');

-- Exact: equal to percentile_cont(0.5) (median, then median of the absolute
-- deviations) to the last bit, on shapes that trouble selection algorithms:
-- scrambled, sorted, reversed, constant, three values, organ pipe; odd and
-- even counts.
CREATE TEMP TABLE shapes AS
SELECT s.shape, n.n, g,
	   CASE s.shape
		   WHEN 'scrambled' THEN (g * 7919 % 10007) / 100.0
		   WHEN 'sorted' THEN g / 3.0
		   WHEN 'reversed' THEN -g / 3.0
		   WHEN 'constant' THEN 42
		   WHEN 'three values' THEN g % 3
		   WHEN 'organ pipe' THEN abs(g - n.n / 2)
	   END::float8 AS x
FROM (VALUES ('scrambled'), ('sorted'), ('reversed'), ('constant'), ('three values'), ('organ pipe')) s(shape),
	 (VALUES (10000), (10001)) n(n),
	 generate_series(1, n.n) g;
WITH ours AS (
	SELECT shape, n, (retail.median_mad(x)).* FROM shapes GROUP BY shape, n
), medians AS (
	SELECT shape, n, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS median FROM shapes GROUP BY shape, n
), mads AS (
	SELECT s.shape, s.n, m.median, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(s.x - m.median)) AS mad
	FROM shapes s JOIN medians m USING (shape, n)
	GROUP BY s.shape, s.n, m.median
)
SELECT o.shape, o.n, o.median = m.median AS median_equal, o.mad = m.mad AS mad_equal
FROM ours o JOIN mads m USING (shape, n)
ORDER BY o.shape, o.n;

-- As a running window aggregate (final function on a growing state):
-- {3} -> (3, 0); {3, 1} -> (2, 1); {3, 1, 2} -> (2, 1); {3, 1, 2, 10} ->
-- median 2.5, deviations 0.5, 1.5, 0.5, 7.5 -> MAD 1.
SELECT g, (retail.median_mad(x) OVER (ORDER BY g)).*
FROM (VALUES (1, 3), (2, 1), (3, 2), (4, 10)) t(g, x);

-- The weighted form: each value counts weight times.  1 x2, 3, 10: even
-- count 4, median (1 + 3) / 2 = 2; deviations 1, 1, 1, 8 -> MAD 1.
SELECT (retail.median_mad(x, w)).* FROM (VALUES (1, 2), (3, 1), (10, 1)) t(x, w);
-- Odd count: 1 x2, 3 x2, 10: median 3; deviations 2, 2, 0, 0, 7 -> sorted
-- 0 0 2 2 7 -> MAD 2.
SELECT (retail.median_mad(x, w)).* FROM (VALUES (10, 1), (3, 2), (1, 2)) t(x, w);
-- Heavy weights: 5 x1000000, 100 x999999 (odd, 1999999): rank 999999 is
-- the last 5 -> median 5; deviations 0 x1000000, 95 x999999 -> MAD 0.  With
-- 100 x1000000 (even): ranks 999999 and 1000000 are 5 and 100 -> median
-- 52.5; every deviation 47.5 -> MAD 47.5.
SELECT (retail.median_mad(x, w)).* FROM (VALUES (5, 1000000), (100, 999999)) t(x, w);
SELECT (retail.median_mad(x, w)).* FROM (VALUES (100, 1000000), (5, 1000000)) t(x, w);
-- Weight 0 adds nothing: 1 x0, 7 -> (7, 0); only weights 0 -> NULL.  A NULL
-- value is skipped whatever its weight: 2, 4 x3 -> median (4 + 4) / 2 = 4,
-- deviations 2 0 0 0 -> MAD 0.
SELECT (retail.median_mad(x, w)).* FROM (VALUES (1, 0), (7, 1)) t(x, w);
SELECT retail.median_mad(x, w) IS NULL AS is_null FROM (VALUES (1::float8, 0::bigint)) t(x, w);
SELECT (retail.median_mad(x, w)).* FROM (VALUES (NULL, NULL), (2, 1), (NULL, -1), (4, 3)) t(x, w);
-- The weights may add up to the largest bigint, 2^63 - 1 (odd): rank
-- 2^62 - 1 is a 1 -> median 1, MAD 0; one more is out of range.
SELECT (retail.median_mad(x, w)).* FROM (VALUES (2, 1), (1, 9223372036854775806)) t(x, w);
SELECT retail.median_mad(x, w) FROM (VALUES (2, 2), (1, 9223372036854775806)) t(x, w);
SELECT retail.median_mad(x, w) FROM (VALUES (1, 4611686018427387904), (2, 4611686018427387904)) t(x, w);
-- A NULL or negative weight of a value, a non-finite value: errors.
SELECT retail.median_mad(x, w) FROM (VALUES (1, 1), (2, NULL)) t(x, w);
SELECT retail.median_mad(x, w) FROM (VALUES (1, 1), (2, -3)) t(x, w);
SELECT retail.median_mad(x, w) FROM (VALUES (1, 1), ('Infinity'::float8, 0)) t(x, w);

-- The weighted form against the unweighted one on its rows repeated weight
-- times (generate_series), to the last bit: the shapes above with weights 0
-- to 3, and with every weight 1.
WITH weighted AS (
	SELECT shape, n, g, x, (g * 7 % 4)::bigint AS w FROM shapes
), ours AS (
	SELECT shape, n, (retail.median_mad(x, w)).* FROM weighted GROUP BY shape, n
), expanded AS (
	SELECT shape, n, (retail.median_mad(x)).*
	FROM weighted CROSS JOIN LATERAL generate_series(1, w) r
	GROUP BY shape, n
), ones AS (
	SELECT shape, n, (retail.median_mad(x, 1)).* FROM shapes GROUP BY shape, n
), plain AS (
	SELECT shape, n, (retail.median_mad(x)).* FROM shapes GROUP BY shape, n
)
SELECT o.shape, o.n, o.median = e.median AND o.mad = e.mad AS weighted_equal,
	   a.median = p.median AND a.mad = p.mad AS weight_1_equal
FROM ours o JOIN expanded e USING (shape, n) JOIN ones a USING (shape, n) JOIN plain p USING (shape, n)
ORDER BY o.shape, o.n;

-- Running, weighted: {3 x2} -> (3, 0); + 1 -> {1, 3, 3}: median 3,
-- deviations 2 0 0 -> MAD 0; + 2 x3 -> {1, 2, 2, 2, 3, 3}: ranks 2 and 3
-- are 2 -> median 2, deviations sorted 0 0 0 1 1 1 -> MAD (0 + 1) / 2 =
-- 0.5; + 10 x0 -> unchanged.
SELECT g, (retail.median_mad(x, w) OVER (ORDER BY g)).*
FROM (VALUES (1, 3, 2), (2, 1, 1), (3, 2, 3), (4, 10, 0)) t(g, x, w);

-- modified_z: 0.6745 * (x - median) / MAD, NULL when MAD = 0.
SELECT retail.modified_z(5, ROW(3, 2)::retail.median_mad_result) AS z,
	   retail.modified_z(5, ROW(3, 0)::retail.median_mad_result) AS z_mad_0,
	   retail.modified_z(5, NULL) AS z_no_center;
-- With a floor on the scale: (x - median) / max(MAD / 0.6745, min_scale).
-- MAD 2 and floor 0: 2 / (2 / 0.6745) = 0.6745 as above; MAD 0 and floor 0:
-- no scale, NULL; MAD 0 and the audit's floor ln(1.25) / 3.5 = 0.0637553:
-- a price x1.3 of the median, ln 1.3 / 0.0637553 = 0.2623643 / 0.0637553 =
-- 4.115176.  At exactly x1.25 the float z of ln 3 - ln 2.4 is
-- 3.5000000000000018, above 3.5 by a rounding error (the mart compares
-- prices exactly, below).
SELECT retail.modified_z(5, ROW(3, 2)::retail.median_mad_result, 0) AS z,
	   retail.modified_z(5, ROW(3, 0)::retail.median_mad_result, 0) AS z_no_scale,
	   round(retail.modified_z(ln(13), ROW(ln(10), 0)::retail.median_mad_result, ln(1.25) / 3.5)::numeric, 6)
		   AS z_1_3,
	   retail.modified_z(ln(3::float8), ROW(ln(2.4::float8), 0)::retail.median_mad_result, ln(1.25) / 3.5) > 3.5
		   AS z_1_25_above_3_5;

-- Serial = parallel.
CREATE TABLE audit_test.lines AS
SELECT g % 41 AS k, ln(1 + (g * 7919 % 10007))::float8 AS x
FROM generate_series(1, 30000) g;
ANALYZE audit_test.lines;
CREATE TEMP TABLE serial_all AS SELECT (retail.median_mad(x)).* FROM audit_test.lines;
CREATE TEMP TABLE serial_groups AS SELECT k, (retail.median_mad(x)).* FROM audit_test.lines GROUP BY k;
-- weighted: weights 1 for k < 20 (such a group's state has no weights),
-- else 0 to 3; partial states with and without weights are combined
CREATE TEMP TABLE serial_weighted AS
SELECT (retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END)).* FROM audit_test.lines;
CREATE TEMP TABLE serial_weighted_groups AS
SELECT k, (retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END)).* FROM audit_test.lines GROUP BY k;

\i test/force_parallel.sql
EXPLAIN (COSTS OFF) SELECT retail.median_mad(x) FROM audit_test.lines;
SELECT count(*) AS differences
FROM ((SELECT (retail.median_mad(x)).* FROM audit_test.lines EXCEPT TABLE serial_all)
	  UNION ALL
	  (TABLE serial_all EXCEPT SELECT (retail.median_mad(x)).* FROM audit_test.lines)) d;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT k, retail.median_mad(x) FROM audit_test.lines GROUP BY k;
RESET enable_sort;
SELECT count(*) AS differences
FROM ((SELECT k, (retail.median_mad(x)).* FROM audit_test.lines GROUP BY k EXCEPT TABLE serial_groups)
	  UNION ALL
	  (TABLE serial_groups EXCEPT SELECT k, (retail.median_mad(x)).* FROM audit_test.lines GROUP BY k)) d;
EXPLAIN (COSTS OFF) SELECT retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END) FROM audit_test.lines;
SELECT count(*) AS differences
FROM ((SELECT (retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END)).* FROM audit_test.lines
	   EXCEPT TABLE serial_weighted)
	  UNION ALL
	  (TABLE serial_weighted
	   EXCEPT SELECT (retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END)).* FROM audit_test.lines)) d;
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT k, retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END) FROM audit_test.lines GROUP BY k;
RESET enable_sort;
SELECT count(*) AS differences
FROM ((SELECT k, (retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END)).* FROM audit_test.lines GROUP BY k
	   EXCEPT TABLE serial_weighted_groups)
	  UNION ALL
	  (TABLE serial_weighted_groups
	   EXCEPT SELECT k, (retail.median_mad(x, CASE WHEN k < 20 THEN 1 ELSE k % 4 END)).* FROM audit_test.lines
	   GROUP BY k)) d;
-- the weighted result is the unweighted one on the repeated rows
SELECT count(*) AS differences
FROM (TABLE serial_weighted
	  EXCEPT SELECT (retail.median_mad(x)).*
	  FROM audit_test.lines, generate_series(1, CASE WHEN k < 20 THEN 1 ELSE k % 4 END) r) d;
-- the groups of weight 0 only (k = 20, 24, 28, ...) are NULL
SELECT count(*) FILTER (WHERE median IS NULL) AS null_groups, count(*) AS groups FROM serial_weighted_groups;
-- no rows in parallel
EXPLAIN (COSTS OFF) SELECT retail.median_mad(x) FROM audit_test.lines WHERE k * 2 < 0;
SELECT retail.median_mad(x) IS NULL AS is_null FROM audit_test.lines WHERE k * 2 < 0;
SELECT retail.median_mad(x, 2) IS NULL AS is_null FROM audit_test.lines WHERE k * 2 < 0;
\i test/reset_parallel.sql

-- Malformed serialized states through a test-only alias of the
-- deserialization function (see abc.sql): version 1, int8 count, float8s;
-- version 2 (weighted), int8 count, float8s, then int8 weights.
CREATE FUNCTION audit_test.state_ok(bytea) RETURNS boolean
	AS '$libdir/retail_analytics', 'ra_median_mad_deserial' LANGUAGE C STRICT;
CREATE FUNCTION audit_test.trans(float8) RETURNS boolean
	AS '$libdir/retail_analytics', 'ra_median_mad_trans' LANGUAGE C;
SELECT audit_test.trans(1);
SELECT audit_test.state_ok(int4send(1) || int8send(2) || float8send(1.5) || float8send(2.5)) AS ok;
SELECT audit_test.state_ok(int4send(1) || int8send(0)) AS ok;
SELECT audit_test.state_ok('\x0000');
SELECT audit_test.state_ok(int4send(3) || int8send(0));
SELECT audit_test.state_ok(int4send(1) || int8send(3) || float8send(1.5) || float8send(2.5));
SELECT audit_test.state_ok(int4send(1) || int8send(1) || float8send(1.5) || float8send(2.5));
SELECT audit_test.state_ok(int4send(1) || int8send(-1));
SELECT audit_test.state_ok(int4send(1) || int8send(1) || float8send('NaN'));
SELECT audit_test.state_ok(int4send(1) || int8send(1) || float8send('Infinity'));
SELECT audit_test.state_ok(int4send(1) || int8send(1) || float8send(1) || '\x00'::bytea);
-- weighted: well-formed (1.5 x3, 2.5), empty; a weight 0 or negative, the
-- weights adding up past 2^63 - 1, a weight missing, a non-finite value,
-- trailing bytes
SELECT audit_test.state_ok(int4send(2) || int8send(2) || float8send(1.5) || float8send(2.5)
						   || int8send(3) || int8send(1)) AS ok;
SELECT audit_test.state_ok(int4send(2) || int8send(0)) AS ok;
SELECT audit_test.state_ok(int4send(2) || int8send(1) || float8send(1.5) || int8send(0));
SELECT audit_test.state_ok(int4send(2) || int8send(1) || float8send(1.5) || int8send(-2));
SELECT audit_test.state_ok(int4send(2) || int8send(2) || float8send(1.5) || float8send(2.5)
						   || int8send(9223372036854775807) || int8send(1));
SELECT audit_test.state_ok(int4send(2) || int8send(2) || float8send(1.5) || float8send(2.5) || int8send(1));
SELECT audit_test.state_ok(int4send(2) || int8send(1) || float8send('-Infinity') || int8send(1));
SELECT audit_test.state_ok(int4send(2) || int8send(1) || float8send(1.5) || int8send(1) || '\x00'::bytea);

-- The mart on hand-made orders, one line each (quantity 1, so total =
-- price), in a transaction rolled back at the end.  Prices are powers of two,
-- so ln(total) = k ln 2 and everything scales by ln 2:
--   inv 1-5   product Q at 2^0, 2^1, 2^2, 2^3, 2^16
--   inv 6     product P at 2^4
--   inv 7-11  product R at 2^4, 2^5, 2^5, 2^6, 2^-1
-- Orders, k sorted: -1 0 1 2 3 4 4 5 5 6 16 -> median 4; deviations sorted
-- 0 0 1 1 1 2 2 3 4 5 12 -> MAD 2; inv 5: z = 0.6745 * 12 / 2 = 4.047 >
-- 3.5 -> wholesale_total; inv 11: z = 0.6745 * -5 / 2 = -1.686 (one-sided,
-- low totals are not wholesale).
-- Q: k 0 1 2 3 16 -> median 2, deviations 0 1 1 2 14 -> MAD 1; the 2^16
-- line: z = 0.6745 * 14 = 9.443 -> unit_price_outlier for inv 5.
-- R: k -1 4 5 5 6 -> median 5, deviations 0 0 1 1 6 -> MAD 1; the 2^-1
-- line: z = 0.6745 * -6 = -4.047, |z| > 3.5 -> unit_price_outlier, inv 11.
-- P: one line, MAD 0 -> never flagged.
BEGIN;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
SELECT i::text, p, 'item ' || p, '1', '2011-03-0' || (i % 9 + 1) || ' 12:00', price, (100 + i)::text, 'UK'
FROM (VALUES (1, 'Q', '1'), (2, 'Q', '2'), (3, 'Q', '4'), (4, 'Q', '8'), (5, 'Q', '65536'),
			 (6, 'P', '16'),
			 (7, 'R', '16'), (8, 'R', '32'), (9, 'R', '32'), (10, 'R', '64'), (11, 'R', '0.5')) t(i, p, price);
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
SELECT invoice_no, customer_id, country, invoice_ts, total, round(z::numeric, 6) AS z, reason
FROM gold.audit_order_anomalies ORDER BY invoice_no, reason;
-- a price outlier names its line: inv 5, Q at 65536 against Q's median price
-- 4 (prices 1 2 4 8 65536); inv 11, R at 0.5 against R's median 32 (prices
-- 0.5 16 32 32 64).  Strongest |z| first: 9.443, then the two of |z| 4.047
-- by invoice_no as text ('11' < '5').
SELECT invoice_no, reason, round(z::numeric, 3) AS z, stock_code, unit_price, product_median_price
FROM retail.order_anomalies();
-- the threshold is settable: at 5 only the 9.443 line remains; at 10 nothing
SELECT invoice_no, reason FROM retail.order_anomalies(5);
SELECT count(*) FROM retail.order_anomalies(10);
-- only orders above a total derived from the threshold get a z: a threshold
-- a trillionth below inv 5's own z still flags it, its z itself does not
SELECT (SELECT count(*) FROM retail.order_anomalies(w.z * (1 - 1e-12)) a
		WHERE a.invoice_no = '5' AND a.reason = 'wholesale_total') AS just_below,
	   (SELECT count(*) FROM retail.order_anomalies(w.z) a
		WHERE a.invoice_no = '5' AND a.reason = 'wholesale_total') AS at_its_z
FROM gold.audit_order_anomalies w WHERE w.invoice_no = '5' AND w.reason = 'wholesale_total';
-- the step again on the same silver: every row equals its query's, none is written
SELECT retail.maintain_order_anomalies(0, 0, false) AS written;
SELECT count(*) FROM gold.audit_order_anomalies;
ROLLBACK;

-- MAD = 0: all orders equal (total 10, same product and price), nothing is
-- flagged and nothing divides by zero, even at threshold 0.
BEGIN;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
SELECT i::text, 'S', 'same', '1', '2011-03-01 12:00', '10', '100', 'UK' FROM generate_series(1, 5) i;
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
SELECT count(*) FROM gold.audit_order_anomalies;
SELECT count(*) FROM retail.order_anomalies(0);
ROLLBACK;

-- unit_price_outlier with the scale's floor ln(1.25) / 3.5 = 0.0637553 (a
-- price within a factor 1.25 of its product's median is never flagged), one
-- line per invoice, quantity 1, in three batches.  Batch 1:
--   L  list price 10 (x5), 12.5 (x1.25), 13 (x1.3): median ln 10, MAD 0 (the
--      deviations 0 x5, ln 1.25, ln 1.3).  12.5: z = 3.5, not above; 13: z =
--      ln 1.3 / 0.0637553 = 4.115176 -> flagged (before issue 18 a MAD of 0
--      flagged nothing).
--   K  2.40 (x3), 3.00, 1.92 (x1.25, /1.25): median ln 2.4, MAD 0; the
--      float z of 3.00 is above 3.5, but the price is within the
--      factor: nothing flagged.
--   21523 (the reported case, a MAD just above 0; invoices M1-M8): 7.95
--      (x3), 8.00 (x2), 8.50 (x2), 10.40 (x1.3 of 8): n = 8, median
--      (ln 8 + ln 8) / 2 = ln 8; deviations 0 x2, ln(8 / 7.95) = 0.006270
--      x3, ln(8.5 / 8) = 0.060625 x2, ln 1.3 = 0.262364 -> MAD 0.006270,
--      MAD / 0.6745 = 0.009296 < floor.  8.50: z = 0.060625 / 0.0637553 =
--      0.951, not flagged (without the floor 0.6745 * 0.060625 / 0.006270 =
--      6.52: the reported list-price variant); 10.40: z = 4.115176 -> flagged.
BEGIN;
DELETE FROM bronze.transactions_raw;
CREATE TEMP TABLE price_batch (invoice_no text, stock_code text, unit_price text) ON COMMIT DROP;
INSERT INTO price_batch VALUES
	('L1', 'L', '10'), ('L2', 'L', '10'), ('L3', 'L', '10'), ('L4', 'L', '10'), ('L5', 'L', '10'),
	('L6', 'L', '12.5'), ('L7', 'L', '13'),
	('K1', 'K', '2.40'), ('K2', 'K', '2.40'), ('K3', 'K', '2.40'), ('K4', 'K', '3.00'), ('K5', 'K', '1.92'),
	('M1', '21523', '7.95'), ('M2', '21523', '7.95'), ('M3', '21523', '7.95'),
	('M4', '21523', '8.00'), ('M5', '21523', '8.00'), ('M6', '21523', '8.50'), ('M7', '21523', '8.50'),
	('M8', '21523', '10.40');
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
SELECT invoice_no, stock_code, 'item ' || stock_code, '1', '2011-03-01 12:00', unit_price, '100', 'UK'
FROM price_batch;
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
CREATE TEMP TABLE price_flags ON COMMIT DROP AS
SELECT 1 AS batch, invoice_no, round(z::numeric, 6) AS z, stock_code, unit_price, product_median_price
FROM retail.order_anomalies() WHERE reason = 'unit_price_outlier';
-- Batch 2, L: 10 (x3), 11 -> n = 11, median still ln 10, MAD still 0 (8
-- deviations of 0): L7 flagged with the same z.  21523: 8.50 (x2) -> n = 10,
-- median (ln 8 + ln 8.5) / 2 = ln sqrt(68) = ln 8.246211, moved by
-- ln(8.5 / 8) / 2 = 0.030312, less than the floor; deviations 0.030312 x6,
-- ln(8.246211 / 7.95) = 0.036582 x3, ln(10.4 / 8.246211) = 0.232052 -> MAD
-- 0.030312, / 0.6745 = 0.044941 < floor.  M8: z = 0.232052 / 0.0637553 =
-- 3.639728, still flagged; M6, M7: 0.030312 / 0.0637553 = 0.475, still not.
-- (product_median_price is the mean of the two middle prices, 8.25.)
INSERT INTO price_batch VALUES
	('L8', 'L', '10'), ('L9', 'L', '10'), ('L10', 'L', '10'), ('L11', 'L', '11'),
	('M9', '21523', '8.50'), ('M10', '21523', '8.50');
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
SELECT invoice_no, stock_code, 'item ' || stock_code, '1', '2011-03-02 12:00', unit_price, '100', 'UK'
FROM price_batch WHERE invoice_no IN ('L8', 'L9', 'L10', 'L11', 'M9', 'M10');
CALL retail.refresh();
INSERT INTO price_flags
SELECT 2, invoice_no, round(z::numeric, 6), stock_code, unit_price, product_median_price
FROM retail.order_anomalies() WHERE reason = 'unit_price_outlier';
-- Batch 3, 21523: 10.40 (x10, M11-M20) -> n = 20, the 10th and 11th prices
-- 10.40: median ln 10.4, moved by 0.232052, more than the floor; 11
-- deviations of 0 -> MAD 0.  The earlier flags change: M8 (now the median) is no longer flagged;
-- M4, M5 at 8.00: z = -ln 1.3 / 0.0637553 = -4.115176; M1-M3 at 7.95: z =
-- -ln(10.4 / 7.95) / 0.0637553 = -0.268634 / 0.0637553 = -4.213514; M6, M7,
-- M9, M10 at 8.50: ln(10.4 / 8.5) = 0.201740, z = -3.164280, not flagged.
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
SELECT 'M' || i, '21523', 'item 21523', '1', '2011-03-03 12:00', '10.40', '100', 'UK' FROM generate_series(11, 20) i;
CALL retail.refresh();
INSERT INTO price_flags
SELECT 3, invoice_no, round(z::numeric, 6), stock_code, unit_price, product_median_price
FROM retail.order_anomalies() WHERE reason = 'unit_price_outlier' AND invoice_no !~ '^M(1[1-9]|20)$';
SELECT * FROM price_flags ORDER BY batch, stock_code, invoice_no;
-- the mart after the incremental refreshes equals a full rebuild's
CREATE TEMP TABLE incremental_flags ON COMMIT DROP AS TABLE gold.audit_order_anomalies;
CALL retail.refresh(full => true);
SELECT count(*) AS differences
FROM ((TABLE incremental_flags EXCEPT TABLE gold.audit_order_anomalies)
	  UNION ALL (TABLE gold.audit_order_anomalies EXCEPT TABLE incremental_flags)) d;
RESET client_min_messages;
ROLLBACK;

-- mixed_parties: invoices whose lines carry more than one customer or
-- country, whether the lines come in one batch or two.  Batch 1: M1 (101,
-- UK), M2 (102, UK).  Batch 2: M1 (101, France): M1 now mixes countries;
-- M2 (102, UK) again, another product: still one party; M3 two lines of 103
-- and 104: mixes customers within the batch.
BEGIN;
DELETE FROM bronze.transactions_raw;
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
VALUES ('M1', '10001', 'a', '1', '2011-03-01 12:00', '10', '101', 'UK'),
	   ('M2', '10001', 'a', '1', '2011-03-01 12:00', '10', '102', 'UK');
CALL retail.refresh();
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
VALUES ('M1', '10002', 'b', '1', '2011-03-01 12:00', '10', '101', 'France'),
	   ('M2', '10002', 'b', '1', '2011-03-01 12:00', '10', '102', 'UK'),
	   ('M3', '10001', 'a', '1', '2011-03-02 12:00', '10', '103', 'UK'),
	   ('M3', '10002', 'b', '1', '2011-03-02 12:00', '10', '104', 'UK');
CALL retail.refresh();
SELECT invoice_no, customer_id, country, total, z, reason, stock_code FROM gold.audit_order_anomalies
ORDER BY invoice_no;
-- the same from a full rebuild
CALL retail.refresh(full => true);
SELECT invoice_no, reason FROM gold.audit_order_anomalies ORDER BY invoice_no;
ROLLBACK;

DROP SCHEMA audit_test CASCADE;

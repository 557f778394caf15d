-- Every aggregate as a window function, OVER (ORDER BY o): the final
-- function then runs once per row on one growing state, so it must neither
-- free nor change what the state owns.  Hostile values where the argument
-- type allows them: NaN, infinities, a 40-digit amount, an amount with 40
-- decimals, NULLs.  Each running result is compared, as text (display scale
-- included), with an independent formulation over the prefix o <= this o:
-- plain SQL where it is short, else the same aggregate run once on the
-- prefix (a fresh state, finalized once; the other test files check those
-- against oracles).  Every comparison prints rows and mismatches, and the
-- last running value is shown for the eye.
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';
CREATE SCHEMA window_test;

-- Order lines.  Customer 1: 10.50, a 40-decimal amount, Infinity, then
-- -Infinity (the sum becomes NaN, it was the crash of issue 8); customer 2:
-- a 40-digit amount, its negative, 2.5 (the sum returns to 128 bits); 3: a
-- NULL amount, a line without invoice and time, 0.10; 4: NaN; a line
-- without customer.  Invoice A1 recurs (counted once).
CREATE TABLE window_test.lines (o int PRIMARY KEY, c bigint, inv text, ts timestamp, amt numeric);
INSERT INTO window_test.lines VALUES
	(1, 1, 'A1', '2020-01-05 10:00', 10.50),
	(2, 2, 'B1', '2020-01-07 00:00', 1234567890123456789012345678901234567890),
	(3, 1, 'A1', '2020-01-05 10:00', 0.0000000000000000000000000000000000000001),
	(4, NULL, 'X1', '2020-02-01 00:00', 5),
	(5, 3, 'C1', '2020-02-10 00:00', NULL),
	(6, 2, 'B2', '2020-03-01 00:00', -1234567890123456789012345678901234567890),
	(7, 3, NULL, NULL, 7),
	(8, 1, 'A2', '2020-03-15 00:00', 'Infinity'),
	(9, 2, 'B2', '2020-04-01 00:00', 2.5),
	(10, 4, 'D1', '2020-04-02 00:00', 'NaN'),
	(11, 1, 'A3', '2020-05-01 00:00', '-Infinity'),
	(12, 3, 'C2', '2020-05-20 00:00', 0.10);

-- rfm_customer over all lines as one customer: min, max, distinct invoices, sum
CREATE TABLE window_test.rfm_customer AS
SELECT l.o, retail.rfm_customer(inv, ts, amt) OVER (ORDER BY o) AS got,
	   (SELECT ROW(min(p.ts), max(p.ts), count(DISTINCT p.inv), sum(p.amt))::retail.customer_summary
		FROM window_test.lines p WHERE p.o <= l.o) AS want
FROM window_test.lines l;
SELECT count(*) AS rows, count(*) FILTER (WHERE got::text IS DISTINCT FROM want::text) AS mismatches
FROM window_test.rfm_customer;
SELECT got FROM window_test.rfm_customer WHERE o = 12;

-- its form over spans (invoice, first and last time, amount): the lines' own
-- amounts, a span of each line from its time to a day later, except where
-- a time is swapped (first after last: both still count), infinite, or
-- missing; the times are the least and greatest of both columns
CREATE TABLE window_test.spans AS
SELECT l.o, l.inv, l.amt,
	   CASE l.o WHEN 5 THEN l.ts + interval '1 day' WHEN 7 THEN '-infinity' ELSE l.ts END AS first_ts,
	   CASE l.o WHEN 5 THEN l.ts WHEN 10 THEN 'infinity' WHEN 12 THEN NULL ELSE l.ts + interval '1 day' END AS last_ts
FROM window_test.lines l;
CREATE TABLE window_test.rfm_customer_spans AS
SELECT s.o, retail.rfm_customer(inv, first_ts, last_ts, amt) OVER (ORDER BY o) AS got,
	   (SELECT ROW(least(min(p.first_ts), min(p.last_ts)), greatest(max(p.first_ts), max(p.last_ts)),
				   count(DISTINCT p.inv), sum(p.amt))::retail.customer_summary
		FROM window_test.spans p WHERE p.o <= s.o) AS want
FROM window_test.spans s;
SELECT count(*) AS rows, count(*) FILTER (WHERE got::text IS DISTINCT FROM want::text) AS mismatches
FROM window_test.rfm_customer_spans;
SELECT got FROM window_test.rfm_customer_spans WHERE o = 12;

-- rfm_model at 4 bins (exact fractions 0.25, 0.5, 0.75 for percentile_disc).
-- Monetary holds NaN, both infinities and the 40-digit values; NULL measures
-- are skipped measure by measure but count as customers.
CREATE TABLE window_test.measures (o int PRIMARY KEY, recency int, frequency bigint, monetary numeric);
INSERT INTO window_test.measures VALUES
	(1, 30, 2, 10.50), (2, NULL, 1, 'NaN'), (3, 5, NULL, 1234567890123456789012345678901234567890),
	(4, 400, 7, 0.0000000000000000000000000000000000000001), (5, 0, 1, NULL), (6, 30, 3, 'Infinity'),
	(7, 12, 9223372036854775807, '-Infinity'), (8, 2147483647, 0, -1234567890123456789012345678901234567890),
	(9, 61, 2, 0), (10, 7, 4, 99.99);
CREATE TABLE window_test.rfm_model AS
SELECT m.o, retail.rfm_model(recency, frequency, monetary, 4) OVER (ORDER BY o) AS got,
	   (SELECT ROW(4, count(*),
				   percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY p.recency),
				   percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY p.frequency),
				   percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY p.monetary))::retail.rfm_cutpoints
		FROM window_test.measures p WHERE p.o <= m.o) AS want
FROM window_test.measures m;
SELECT count(*) AS rows, count(*) FILTER (WHERE got::text IS DISTINCT FROM want::text) AS mismatches
FROM window_test.rfm_model;
SELECT (got).* FROM window_test.rfm_model WHERE o = 10;

-- cohort_matrix, each arity, against the same aggregate over the prefix (the
-- lines with a customer and a time; cohort.sql checks it against the oracle)
CREATE TABLE window_test.cohort AS
SELECT l.o,
	   retail.cohort_matrix(c, ts, amt) OVER w AS got3,
	   retail.cohort_matrix(c, ts, amt, 'week') OVER w AS got4,
	   retail.cohort_matrix(c, ts, amt, 'day', true) OVER w AS got5,
	   (SELECT retail.cohort_matrix(p.c, p.ts, p.amt) FROM window_test.lines p WHERE p.o <= l.o) AS want3,
	   (SELECT retail.cohort_matrix(p.c, p.ts, p.amt, 'week') FROM window_test.lines p WHERE p.o <= l.o) AS want4,
	   (SELECT retail.cohort_matrix(p.c, p.ts, p.amt, 'day', true) FROM window_test.lines p WHERE p.o <= l.o)
		   AS want5
FROM window_test.lines l
WINDOW w AS (ORDER BY o);
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE got3::text IS DISTINCT FROM want3::text) AS month_mismatches,
	   count(*) FILTER (WHERE got4::text IS DISTINCT FROM want4::text) AS week_mismatches,
	   count(*) FILTER (WHERE got5::text IS DISTINCT FROM want5::text) AS day_mismatches
FROM window_test.cohort;
-- by hand, month, after all lines: cohort 2020-01 (customers 1, 2; sizes 2)
-- p0 both: 10.50 + 1e-40 + 1234..890 ; p1 nobody; p2 both (1: Infinity, 2:
-- -1234..890): revenue Infinity; p3 customer 2 (2.5), p4 customer 1
-- (-Infinity).  Cohort 2020-02 (customer 3) p0 NULL amount: 0; p3 0.10.
-- Cohort 2020-04 (customer 4) p0 NaN.
SELECT u.* FROM window_test.cohort, unnest(got3) u WHERE o = 12;

-- cohort_state (its final is the serialization): merged, it must give the
-- matrix of the prefix
CREATE TABLE window_test.cohort_state AS
SELECT l.o, retail.cohort_state(c, ts, amt) OVER w AS s3, retail.cohort_state(c, ts, amt, 'week') OVER w AS s4
FROM window_test.lines l
WINDOW w AS (ORDER BY o);
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE m3::text IS DISTINCT FROM want3::text) AS month_mismatches,
	   count(*) FILTER (WHERE m4::text IS DISTINCT FROM want4::text) AS week_mismatches
FROM (SELECT o, (SELECT retail.cohort_merge(x.s) FROM (VALUES (s3)) x(s)) AS m3,
			 (SELECT retail.cohort_merge(x.s) FROM (VALUES (s4)) x(s)) AS m4
	  FROM window_test.cohort_state) merged
	 JOIN window_test.cohort USING (o);

-- cohort_merge, both arities: states of one line each, merged as a window
CREATE TABLE window_test.cohort_merge AS
SELECT s.o, retail.cohort_merge(s.s) OVER w AS got1, retail.cohort_merge(s.s, true) OVER w AS got2,
	   (SELECT retail.cohort_matrix(p.c, p.ts, p.amt) FROM window_test.lines p WHERE p.o <= s.o) AS want1,
	   (SELECT retail.cohort_matrix(p.c, p.ts, p.amt, 'month', true) FROM window_test.lines p
		WHERE p.o <= s.o) AS want2
FROM (SELECT o, (SELECT retail.cohort_state(x.c, x.ts, x.amt) FROM (VALUES (c, ts, amt)) x(c, ts, amt)) AS s
	  FROM window_test.lines) s
WINDOW w AS (ORDER BY o);
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE got1::text IS DISTINCT FROM want1::text) AS bounded_mismatches,
	   count(*) FILTER (WHERE got2::text IS DISTINCT FROM want2::text) AS unbounded_mismatches
FROM window_test.cohort_merge;

-- abc_classify, both arities.  Values may not be NaN, infinite or negative:
-- the 40-digit and 40-decimal values, zero, NULL (ignored), repeated keys,
-- the empty key.
CREATE TABLE window_test.items (o int PRIMARY KEY, k text, v numeric);
INSERT INTO window_test.items VALUES
	(1, 'p', 0.0000000000000000000000000000000000000001), (2, 'q', 5), (3, 'p', NULL),
	(4, '', 1234567890123456789012345678901234567890), (5, 'q', 0), (6, 'q', 2.25),
	(7, 's', 1234567890123456789012345678901234567890), (8, 'p', 3), (9, '', NULL);
CREATE TABLE window_test.abc AS
SELECT i.o, retail.abc_classify(k, v) OVER w AS got2, retail.abc_classify(k, v, 0.5, 0.9) OVER w AS got4,
	   (SELECT retail.abc_classify(p.k, p.v) FROM window_test.items p WHERE p.o <= i.o) AS want2,
	   (SELECT retail.abc_classify(p.k, p.v, 0.5, 0.9) FROM window_test.items p WHERE p.o <= i.o) AS want4
FROM window_test.items i
WINDOW w AS (ORDER BY o);
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE got2::text IS DISTINCT FROM want2::text) AS default_mismatches,
	   count(*) FILTER (WHERE got4::text IS DISTINCT FROM want4::text) AS thresholds_mismatches
FROM window_test.abc;
-- by hand, thresholds 0.5 / 0.9, all rows: '' and s tie at X = 1234..890
-- ('' first by key), then q 7.25, p 3 + 1e-40; total T = 2X + 10.25 + 1e-40.
-- '' cum 0 -> A; s cum X / T, just below 0.5 -> A; q and p cum >= 2X / T,
-- just below 1 -> C.
SELECT u.rank, u.key, u.value, u.abc_class FROM window_test.abc, unnest(got4) u WHERE o = 9;

-- most_frequent against mode() (ties: the first in the sort order).  By
-- hand (rows with a NULL value still count their key; keys p q p '' q q s
-- p ''): o 1 p; 2 p (tie p 1, q 1); 3, 4 p (2); 5 p (tie p 2, q 2); 6, 7 q
-- (3 against 2); 8 p (tie 3, 3); 9 p (p 3, q 3, '' 2).
CREATE TABLE window_test.most_frequent AS
SELECT i.o, retail.most_frequent(k) OVER (ORDER BY o) AS got,
	   (SELECT mode() WITHIN GROUP (ORDER BY p.k) FROM window_test.items p WHERE p.o <= i.o) AS want
FROM window_test.items i;
SELECT count(*) AS rows, count(*) FILTER (WHERE got IS DISTINCT FROM want) AS mismatches
FROM window_test.most_frequent;
SELECT o, got FROM window_test.most_frequent ORDER BY o;

-- xyz_cv: units above 2^31 (the numeric path), zero, NULLs, months with gaps
CREATE TABLE window_test.units (o int PRIMARY KEY, ts timestamp, u bigint);
INSERT INTO window_test.units VALUES
	(1, '2020-03-05', 4), (2, '2020-01-31 23:59:59', NULL), (3, '2020-01-01', 0), (4, NULL, 9),
	(5, '2020-06-30', 4398046511104), (6, '2020-03-20', 2), (7, '1999-12-31', 1), (8, '2020-06-01', 0);
CREATE TABLE window_test.xyz AS
SELECT x.o, retail.xyz_cv(ts, u) OVER (ORDER BY o) AS got,
	   (SELECT retail.xyz_cv(p.ts, p.u) FROM window_test.units p WHERE p.o <= x.o) AS want
FROM window_test.units x;
SELECT count(*) AS rows, count(*) FILTER (WHERE got::text IS DISTINCT FROM want::text) AS mismatches
FROM window_test.xyz;
-- by hand, rows 1 and 2: March alone, a span under 3 months -> NULL; rows
-- 1..3: March 4, January 0 -> span 3 months (0, 0, 4):
-- n = 3, S = 4, Q = 16, sqrt(3 * 16 - 16) / 4 = sqrt(32) / 4 = 1.41421...
SELECT o, round(got, 10) AS cv FROM window_test.xyz ORDER BY o;

-- median_mad against percentile_cont (median, then the median of the
-- absolute deviations); float8 allows no NaN or infinity here (an error),
-- so extreme finite values and NULLs
CREATE TABLE window_test.values (o int PRIMARY KEY, x float8);
INSERT INTO window_test.values VALUES
	(1, 1e300), (2, NULL), (3, -2.5), (4, 0), (5, 1e-300), (6, -1e300), (7, 7), (8, NULL), (9, 7), (10, 3);
CREATE TABLE window_test.median_mad AS
SELECT v.o, retail.median_mad(x) OVER (ORDER BY o) AS got,
	   (SELECT ROW(m.median, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(p.x - m.median)))::retail.median_mad_result
		FROM window_test.values p,
			 (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY q.x) AS median
			  FROM window_test.values q WHERE q.o <= v.o) m
		WHERE p.o <= v.o AND p.x IS NOT NULL
		GROUP BY m.median) AS want
FROM window_test.values v;
SELECT count(*) AS rows, count(*) FILTER (WHERE got::text IS DISTINCT FROM want::text) AS mismatches
FROM window_test.median_mad;
-- by hand, all rows: -1e300, -2.5, 0, 1e-300, 3, 7, 7, 1e300: median (1e-300
-- + 3) / 2 = 1.5; deviations 1e300, 4, 1.5, 1.5, 1.5, 5.5, 5.5, 1e300 ->
-- sorted 1.5, 1.5, 1.5, 4, 5.5, 5.5, 1e300, 1e300 -> MAD (4 + 5.5) / 2 = 4.75
SELECT (got).* FROM window_test.median_mad WHERE o = 10;

DROP SCHEMA window_test CASCADE;

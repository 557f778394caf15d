-- ABC / XYZ classification: retail.abc_classify, retail.most_frequent,
-- retail.xyz_cv, retail.xyz_class, and the marts on hand-made silver data.
-- Every expected value below is worked out by hand in the comment above it.
CREATE SCHEMA abc_test;
SET extra_float_digits = 0;

-- 1. Values 50, 30, 15, 5 (total 100).  a: cum before 0 -> A; b: 0.50 -> A
-- (it crosses 80 % and is still A); c: exactly 0.80, not < 0.80 -> B;
-- d: exactly 0.95, not < 0.95 -> C.
SELECT i.rank, i.key, i.value, round(i.share, 4) AS share, round(i.cum_share_before, 4) AS cum, i.abc_class
FROM (SELECT retail.abc_classify(k, v) AS items
	  FROM (VALUES ('b', 30), ('d', 5), ('a', 50), ('c', 15)) t(k, v)) s,
	 unnest(s.items) i;

-- Exact shares: the share is value / total as numeric division, and the
-- class compares exact sums: 1, 1, 1 (total 3) gives cum before 0, 1/3,
-- 2/3, all < 0.80 -> A, A, A.
SELECT i.key, i.share, i.cum_share_before, i.abc_class
FROM (SELECT retail.abc_classify(k, v) AS items
	  FROM (VALUES ('x', 1), ('y', 1), ('z', 1)) t(k, v)) s,
	 unnest(s.items) i;

-- 2. Ties at the boundary: a = 40, b = 40, c = 20 with thresholds 0.4 and
-- 0.9.  Equal values rank by key: a first (cum 0 -> A), b second (cum
-- exactly 0.40, not < 0.4 -> B), c (cum 0.80 < 0.9 -> B).
SELECT i.rank, i.key, round(i.cum_share_before, 4) AS cum, i.abc_class
FROM (SELECT retail.abc_classify(k, v, 0.4, 0.9) AS items
	  FROM (VALUES ('b', 40), ('c', 20), ('a', 40)) t(k, v)) s,
	 unnest(s.items) i;

-- Keys order in the collation of the key: under "C" 'B' < 'a'.
SELECT i.rank, i.key
FROM (SELECT retail.abc_classify(k COLLATE "C", v) AS items
	  FROM (VALUES ('a', 1), ('B', 1), ('b', 1)) t(k, v)) s,
	 unnest(s.items) i;

-- 3. One item: share 1, cum before 0 -> A.
SELECT i.* FROM (SELECT retail.abc_classify('only', 7.5) AS items) s, unnest(s.items) i;

-- 4. All equal: five items of 1, shares 0.2, cum before 0, 0.2, 0.4, 0.6
-- -> A; the fifth at exactly 0.8 -> B (< 0.95).
SELECT i.rank, i.key, i.share, round(i.cum_share_before, 4) AS cum, i.abc_class
FROM (SELECT retail.abc_classify('k' || g, 1) AS items FROM generate_series(1, 5) g) s,
	 unnest(s.items) i;

-- 5. Zero total: every item C, shares NULL; a zero among positives has
-- share 0 and, everything being before it, cum 1 -> C.
SELECT i.* FROM (SELECT retail.abc_classify(k, v) AS items
				 FROM (VALUES ('p', 0), ('q', 0.00)) t(k, v)) s, unnest(s.items) i;
SELECT i.* FROM (SELECT retail.abc_classify(k, v) AS items
				 FROM (VALUES ('p', 0), ('q', 10)) t(k, v)) s, unnest(s.items) i;

-- Repeated keys are summed: a = 1 + 2 = 3 ranks before b = 2.5; total 5.5,
-- a: share 3/5.5, cum 0 -> A; b: cum 3/5.5 = 0.545 -> A.
SELECT i.rank, i.key, i.value, round(i.share, 6) AS share, i.abc_class
FROM (SELECT retail.abc_classify(k, v) AS items
	  FROM (VALUES ('a', 1), ('b', 2.5), ('a', 2)) t(k, v)) s,
	 unnest(s.items) i;

-- NULL values are ignored (as in sum); no rows or only NULL values.
SELECT i.key, i.value FROM (SELECT retail.abc_classify(k, v) AS items
							FROM (VALUES ('a', 1), ('b', NULL)) t(k, v)) s, unnest(s.items) i;
SELECT retail.abc_classify(k, v) FROM (VALUES ('a', 1)) t(k, v) WHERE false;
SELECT retail.abc_classify('a', NULL);

-- Errors: negative value, NaN, infinity, NULL key, thresholds out of order
-- or out of (0, 1], NULL thresholds, thresholds changing between rows.
SELECT retail.abc_classify(k, v) FROM (VALUES ('ok', 1), ('bad', -0.01)) t(k, v);
SELECT retail.abc_classify('nan', 'NaN');
SELECT retail.abc_classify('inf', 'Infinity');
SELECT retail.abc_classify(NULL, 1);
SELECT retail.abc_classify('a', 1, 0.95, 0.80);
SELECT retail.abc_classify('a', 1, 0.80, 0.80);
SELECT retail.abc_classify('a', 1, 0, 0.5);
SELECT retail.abc_classify('a', 1, 0.5, 1.01);
SELECT retail.abc_classify('a', 1, NULL, 0.95);
SELECT retail.abc_classify(k, v, a, 0.95)
FROM (VALUES ('a', 1, 0.8), ('b', 1, 0.7)) t(k, v, a);
-- b = 1 is allowed: everything is A or B unless nothing is left before it.
SELECT i.key, i.abc_class FROM (SELECT retail.abc_classify(k, v, 0.5, 1) AS items
								FROM (VALUES ('a', 3), ('b', 1), ('c', 0)) t(k, v)) s, unnest(s.items) i;

-- As a running window aggregate the final function runs after each row on a
-- growing state, which it must leave intact.  Prefix a (10): a A.  Prefix
-- a, b (90): b cum 0 -> A, a cum 80/90 -> B.  All (100): b A, a and c tie
-- at 10, a first: cum 0.80 -> B, c cum 0.90 -> B.
SELECT s.k, (SELECT string_agg(i.key || ':' || i.abc_class, ' ' ORDER BY i.rank)
			 FROM unnest(s.items) i) AS prefix_classes
FROM (SELECT k, retail.abc_classify(k, v) OVER (ORDER BY k) AS items
	  FROM (VALUES ('a', 10), ('b', 80), ('c', 10)) t(k, v)) s
ORDER BY s.k;

-- most_frequent: x and y twice each, tie -> x (first in order); NULLs
-- ignored even when most frequent; none -> NULL.
SELECT retail.most_frequent(v) FROM (VALUES ('y'), ('x'), (NULL), ('y'), ('z'), ('x'), (NULL), (NULL)) t(v);
SELECT retail.most_frequent(v COLLATE "C") FROM (VALUES ('b'), ('B')) t(v);
SELECT retail.most_frequent(v) FROM (VALUES (NULL::text)) t(v);
SELECT retail.most_frequent(v) FROM (VALUES ('a')) t(v) WHERE false;
-- Many distinct values (past the linear search): 'v7' 3 times, others once.
SELECT retail.most_frequent(v)
FROM (SELECT 'v' || g FROM generate_series(1, 100) g UNION ALL VALUES ('v7'), ('v7')) t(v);

-- The weighted form: each value counts weight times.  y 2, x 1 + 1, z 1:
-- x and y tie at 2 -> x (first in order); y 3, x 2 -> y.
SELECT retail.most_frequent(v, w) FROM (VALUES ('y', 2), ('x', 1), ('z', 1), ('x', 1)) t(v, w);
SELECT retail.most_frequent(v, w) FROM (VALUES ('x', 2), ('y', 3)) t(v, w);
-- Weight 0 adds nothing: a 0, b 1 -> b; only weights 0 -> NULL.  A NULL
-- value is skipped whatever its weight (q 1 against NULL x5 -> q).
SELECT retail.most_frequent(v, w) FROM (VALUES ('a', 0), ('b', 1)) t(v, w);
SELECT retail.most_frequent(v, w) FROM (VALUES ('a', 0)) t(v, w);
SELECT retail.most_frequent(v, w) FROM (VALUES (NULL, 5), (NULL, NULL), (NULL, -1), ('q', 1)) t(v, w);
-- A value's counts may add up to the largest bigint (a and b tie at 2^63 -
-- 1 -> a); one more is out of range.  A NULL or negative weight of a
-- value: errors.
SELECT retail.most_frequent(v, w)
FROM (VALUES ('b', 9223372036854775807), ('a', 9223372036854775806), ('a', 1)) t(v, w);
SELECT retail.most_frequent(v, w) FROM (VALUES ('a', 9223372036854775807), ('a', 1)) t(v, w);
SELECT retail.most_frequent(v, w) FROM (VALUES ('a', 1), ('b', NULL)) t(v, w);
SELECT retail.most_frequent(v, w) FROM (VALUES ('a', 1), ('b', -2)) t(v, w);
-- Ties in the order of the argument's collation: a 1 and B 1 -> B under
-- "C" (0x42 before 0x61); a under an ICU collation (a before B).
SELECT retail.most_frequent(v COLLATE "C", w) AS c, retail.most_frequent(v COLLATE "und-x-icu", w) AS icu
FROM (VALUES ('a', 1), ('B', 1)) t(v, w);
-- Running (the final function on a growing state): b 2 -> b; + a 1 -> b;
-- + a 1 -> a and b tie at 2 -> a; + c 0 -> a.
SELECT g, retail.most_frequent(v, w) OVER (ORDER BY g)
FROM (VALUES (1, 'b', 2), (2, 'a', 1), (3, 'a', 1), (4, 'c', 0)) t(g, v, w);
-- Against what products_abc picked before it used most_frequent (DISTINCT
-- ON ... ORDER BY lines DESC, description) on a table of counts with many
-- ties, under the default collation, "C" and ICU; and against the
-- unweighted form on the rows repeated weight times.
CREATE TEMP TABLE counts AS
SELECT 'p' || (g % 50) AS p, d, (g * 7 % 3)::bigint AS lines
FROM generate_series(1, 2000) g,
	 LATERAL (VALUES ((ARRAY['Cup', 'cup', 'CUP', 'mug', 'Mug', 'a mug', 'b', 'B'])[g % 8 + 1] || (g % 3))) v(d)
WHERE g % 11 <> 0;
WITH pairs AS (SELECT p, d, sum(lines)::bigint AS lines FROM counts GROUP BY p, d)
SELECT count(*) AS products,
	   count(*) FILTER (WHERE w.d IS NOT DISTINCT FROM o.d) AS default_same,
	   count(*) FILTER (WHERE w.c IS NOT DISTINCT FROM o.c) AS c_same,
	   count(*) FILTER (WHERE w.icu IS NOT DISTINCT FROM o.icu) AS icu_same,
	   count(*) FILTER (WHERE w.d IS NOT DISTINCT FROM e.d) AS expanded_same,
	   count(*) FILTER (WHERE w.c IS DISTINCT FROM w.icu COLLATE "C") > 0 AS some_ties_differ_by_collation
FROM (SELECT p, retail.most_frequent(d, lines) AS d, retail.most_frequent(d COLLATE "C", lines) AS c,
			 retail.most_frequent(d COLLATE "und-x-icu", lines) AS icu
	  FROM pairs GROUP BY p) w
	 FULL JOIN (SELECT x.p, x.d, y.c, z.icu
				FROM (SELECT DISTINCT ON (p) p, d FROM pairs WHERE lines > 0 ORDER BY p, lines DESC, d) x
					 JOIN (SELECT DISTINCT ON (p) p, d AS c FROM pairs WHERE lines > 0
						   ORDER BY p, lines DESC, d COLLATE "C") y USING (p)
					 JOIN (SELECT DISTINCT ON (p) p, d AS icu FROM pairs WHERE lines > 0
						   ORDER BY p, lines DESC, d COLLATE "und-x-icu") z USING (p)) o USING (p)
	 FULL JOIN (SELECT p, retail.most_frequent(d) AS d
				FROM counts, generate_series(1, lines) r GROUP BY p) e USING (p);

-- A nondeterministic collation (case-insensitive ICU): keys are told apart
-- byte by byte, as documented, so 'a' and 'A' are two items; the collation
-- only orders equal values, and keys it finds equal go by their bytes ('A'
-- 0x41 before 'a' 0x61).  abc: b 3 (rank 1), then A 1 and a 1.  most_frequent
-- counts a 1, A 1, b 2 -> b (honouring the collation would tie a/A 2 with b 2).
CREATE COLLATION abc_test.regress_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SELECT i.rank, i.key, i.value
FROM (SELECT retail.abc_classify(k COLLATE abc_test.regress_ci, v) AS items
	  FROM (VALUES ('a', 1), ('b', 3), ('A', 1)) t(k, v)) s,
	 unnest(s.items) i;
SELECT retail.most_frequent(v COLLATE abc_test.regress_ci) AS most_frequent,
	   count(DISTINCT v COLLATE abc_test.regress_ci) AS distinct_under_collation
FROM (VALUES ('a'), ('b'), ('A'), ('b')) t(v);

-- xyz_cv.  A span under 3 months has no demand pattern yet: cv NULL, class N.
-- One month (two rows in January, cv 0 by construction before issue 18):
SELECT retail.xyz_cv(m, u) AS cv, retail.xyz_class(retail.xyz_cv(m, u)) AS xyz
FROM (VALUES ('2011-01-05'::timestamp, 10), ('2011-01-20', 5)) t(m, u);
-- Two months, Jan 31 23:59 and Feb 1 (a month boundary, not 3 months):
SELECT retail.xyz_cv(m, u) AS cv, retail.xyz_class(retail.xyz_cv(m, u)) AS xyz
FROM (VALUES ('2011-01-31 23:59'::timestamp, 1), ('2011-02-01', 3)) t(m, u);
-- Jan 3, Feb 1, Mar 3, Apr 1: mean 2, population sd 1 -> cv exactly 0.5 -> Y
-- (not < 0.5).
SELECT retail.xyz_cv(m, u) AS cv, retail.xyz_class(retail.xyz_cv(m, u)) AS xyz
FROM (VALUES ('2011-01-31 23:59'::timestamp, 3), ('2011-02-01', 1), ('2011-03-15', 3), ('2011-04-30', 1)) t(m, u);
-- Jan 4, (Feb 0), Mar 4: exactly 3 months, mean 8/3, variance 32/9,
-- cv = sqrt(32)/8 = 0.7071 -> Y.
SELECT round(retail.xyz_cv(m, u), 10) AS cv, retail.xyz_class(retail.xyz_cv(m, u)) AS xyz
FROM (VALUES ('2011-03-01'::timestamp, 4), ('2011-01-01', 4)) t(m, u);
-- Jan 2, (Feb 0, Mar 0), Apr 0 (a row with 0 units still makes the month
-- active): S = 2, Q = 4, n = 4: sqrt(4 * 4 - 4) / 2 = sqrt(12) / 2 = 1.7321;
-- Jan 2, Apr 2: S = 4, Q = 8, sqrt(32 - 16) / 4 = exactly 1 -> Z (not < 1.0).
SELECT round(retail.xyz_cv(m, u), 10) AS cv, retail.xyz_class(retail.xyz_cv(m, u)) AS xyz
FROM (VALUES ('2011-01-15'::timestamp, 2), ('2011-04-15', 0)) t(m, u);
SELECT retail.xyz_cv(m, u) AS cv, retail.xyz_class(retail.xyz_cv(m, u)) AS xyz
FROM (VALUES ('2011-01-15'::timestamp, 2), ('2011-04-15', 2)) t(m, u);
-- Across a year end, Dec 3, (Jan 0), Feb 3: same shape as Jan 4, Mar 4 -> 0.7071.
SELECT round(retail.xyz_cv(m, u), 10) AS cv
FROM (VALUES ('2010-12-31 23:00'::timestamp, 3), ('2011-02-01', 3)) t(m, u);
-- Before 2000 (negative timestamps): Nov 3, 23:59 on 31 Dec 1999 -> Dec 1,
-- Jan 3, Feb 1: mean 2, sd 1 -> 0.5; without February two months -> NULL.
SELECT retail.xyz_cv(m, u) AS cv
FROM (VALUES ('1999-11-30'::timestamp, 3), ('1999-12-31 23:59:59', 1), ('2000-01-01', 3), ('2000-02-29', 1)) t(m, u);
SELECT retail.xyz_cv(m, u) AS cv
FROM (VALUES ('1999-11-30'::timestamp, 3), ('1999-12-31 23:59:59', 1)) t(m, u);
-- Units past 2^31 take the all-numeric path: Jan 3e9, Feb 1e9, Mar 3e9,
-- Apr 1e9 -> mean 2e9, sd 1e9 -> cv 0.5; a month's units beyond the 64-bit
-- range are an error.
SELECT retail.xyz_cv(m, u) AS cv
FROM (VALUES ('2011-01-01'::timestamp, 3000000000), ('2011-02-01', 1000000000),
			 ('2011-03-01', 3000000000), ('2011-04-01', 1000000000)) t(m, u);
SELECT retail.xyz_cv(m, u)
FROM (VALUES ('2011-01-01'::timestamp, 4611686018427387904), ('2011-01-02', 4611686018427387904)) t(m, u);
-- NULLs ignored; no demand at all -> NULL; no rows -> NULL.
SELECT retail.xyz_cv(m, u) FROM (VALUES ('2011-01-01'::timestamp, NULL::int), (NULL, 4)) t(m, u);
SELECT retail.xyz_cv(m, u) FROM (VALUES ('2011-01-01'::timestamp, 0), ('2011-05-01', 0)) t(m, u);
SELECT retail.xyz_cv(now()::timestamp, 1) WHERE false;
-- Errors: negative units, infinite month.
SELECT retail.xyz_cv(m, u) FROM (VALUES ('2011-01-01'::timestamp, -1)) t(m, u);
SELECT retail.xyz_cv('infinity'::timestamp, 1);

-- xyz_class thresholds: settable, checked.
SELECT retail.xyz_class(0.3, 0.25, 0.5), retail.xyz_class(0.3, 0.5, 0.75), retail.xyz_class(NULL);
SELECT retail.xyz_class(0.3, 0.5, 0.5);
SELECT retail.xyz_class(0.3, 0, 0.5);
SELECT retail.xyz_class(0.3, NULL, 0.5);
SELECT retail.xyz_class(-0.1);

-- Serial = parallel.  A regular table (workers cannot read temp tables).
CREATE TABLE abc_test.lines AS
SELECT 'k' || (g % 37) AS k,
	   (g % 101)::numeric / 4 AS v,
	   CASE WHEN g % 5 = 0 THEN NULL ELSE 'd' || (g % 7) END AS d,
	   '2010-01-01'::timestamp + (g * 7 % 700) * interval '1 day' AS m,
	   g % 13 AS u
FROM generate_series(1, 30000) g;
ANALYZE abc_test.lines;

CREATE TEMP TABLE serial_abc AS
SELECT i.* FROM (SELECT retail.abc_classify(k, v) AS items FROM abc_test.lines) s, unnest(s.items) i;
CREATE TEMP TABLE serial_groups AS
SELECT k, retail.most_frequent(d) AS d, retail.xyz_cv(m, u) AS cv
FROM abc_test.lines GROUP BY k;
-- weighted by u (0 to 12); d NULL on a fifth of the rows
CREATE TEMP TABLE serial_weighted AS
SELECT k, retail.most_frequent(d, u) AS d FROM abc_test.lines GROUP BY k;

\i test/force_parallel.sql

EXPLAIN (COSTS OFF)
SELECT retail.abc_classify(k, v) FROM abc_test.lines;
CREATE TEMP TABLE parallel_abc AS
SELECT i.* FROM (SELECT retail.abc_classify(k, v) AS items FROM abc_test.lines) s, unnest(s.items) i;
SELECT count(*) AS rows, (SELECT count(*) FROM ((TABLE serial_abc EXCEPT TABLE parallel_abc)
				 UNION ALL (TABLE parallel_abc EXCEPT TABLE serial_abc)) d) AS differences
FROM parallel_abc;
-- the whole input (30000 rows) is in it: 37 keys, classes of each
SELECT abc_class, count(*), round(sum(value), 2) AS value FROM parallel_abc GROUP BY abc_class ORDER BY abc_class;
SELECT round(sum(v), 2) AS total FROM abc_test.lines;

-- Grouped: hash or sorted partial aggregation per key.
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT k, retail.most_frequent(d), retail.xyz_cv(m, u) FROM abc_test.lines GROUP BY k;
RESET enable_sort;
SELECT count(*) AS differences
FROM ((SELECT k, retail.most_frequent(d), retail.xyz_cv(m, u) FROM abc_test.lines GROUP BY k
	   EXCEPT TABLE serial_groups)
	  UNION ALL
	  (TABLE serial_groups
	   EXCEPT SELECT k, retail.most_frequent(d), retail.xyz_cv(m, u) FROM abc_test.lines GROUP BY k)) d;

SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT k, retail.most_frequent(d, u) FROM abc_test.lines GROUP BY k;
RESET enable_sort;
SELECT count(*) AS differences
FROM ((SELECT k, retail.most_frequent(d, u) FROM abc_test.lines GROUP BY k EXCEPT TABLE serial_weighted)
	  UNION ALL
	  (TABLE serial_weighted EXCEPT SELECT k, retail.most_frequent(d, u) FROM abc_test.lines GROUP BY k)) d;
-- and the unweighted form on the repeated rows
SELECT count(*) AS differences
FROM (TABLE serial_weighted
	  EXCEPT SELECT k, retail.most_frequent(d) FROM abc_test.lines, generate_series(1, u) r GROUP BY k) d;

-- No rows in parallel: NULL results, no error.
EXPLAIN (COSTS OFF)
SELECT retail.abc_classify(k, v), retail.most_frequent(d), retail.xyz_cv(m, u) FROM abc_test.lines WHERE length(k) < 0;
SELECT retail.abc_classify(k, v), retail.most_frequent(d), retail.xyz_cv(m, u) FROM abc_test.lines WHERE length(k) < 0;

\i test/reset_parallel.sql

-- Malformed serialized states, fed to the deserialization functions through
-- test-only aliases: the real ones take an internal argument that SQL cannot
-- supply.  Declared to return boolean, an alias yields true (a non-NULL
-- pointer) for a state that deserializes.  The same trick reaches a
-- transition function outside an aggregate.
CREATE FUNCTION abc_test.abc_state_ok(bytea) RETURNS boolean
	AS '$libdir/retail_analytics', 'ra_abc_deserial' LANGUAGE C STRICT;
CREATE FUNCTION abc_test.mf_state_ok(bytea) RETURNS boolean
	AS '$libdir/retail_analytics', 'ra_most_frequent_deserial' LANGUAGE C STRICT;
CREATE FUNCTION abc_test.xyz_state_ok(bytea) RETURNS boolean
	AS '$libdir/retail_analytics', 'ra_xyz_deserial' LANGUAGE C STRICT;
CREATE FUNCTION abc_test.abc_trans(text, numeric) RETURNS boolean
	AS '$libdir/retail_analytics', 'ra_abc_trans' LANGUAGE C;
SELECT abc_test.abc_trans('a', 1);
-- pieces: a numeric as length + send form; a key as length + bytes
CREATE FUNCTION abc_test.num(numeric) RETURNS bytea LANGUAGE sql
	RETURN int4send(length(numeric_send($1))) || numeric_send($1);
CREATE FUNCTION abc_test.key(bytea) RETURNS bytea LANGUAGE sql
	RETURN int4send(length($1)) || $1;
-- header of an abc state: version 1, collation "C" (950), a = 0.8, b = 0.95
CREATE FUNCTION abc_test.head() RETURNS bytea LANGUAGE sql
	RETURN int4send(1) || int4send(950) || abc_test.num(0.8) || abc_test.num(0.95);

-- well-formed: two keys
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(2)
							 || abc_test.key('a') || abc_test.num(1)
							 || abc_test.key('b') || abc_test.num(2)) AS ok;
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(0)) AS ok;
-- empty, truncated, bad version, unknown collation
SELECT abc_test.abc_state_ok('');
SELECT abc_test.abc_state_ok(abc_test.head());
SELECT abc_test.abc_state_ok(int4send(2) || int4send(950) || abc_test.num(0.8) || abc_test.num(0.95) || int4send(0));
SELECT abc_test.abc_state_ok(int4send(1) || int4send(-1) || abc_test.num(0.8) || abc_test.num(0.95) || int4send(0));
-- thresholds out of order, a NaN threshold, a numeric of the wrong length
SELECT abc_test.abc_state_ok(int4send(1) || int4send(950) || abc_test.num(0.95) || abc_test.num(0.8) || int4send(0));
SELECT abc_test.abc_state_ok(int4send(1) || int4send(950) || abc_test.num('NaN') || abc_test.num(0.95) || int4send(0));
SELECT abc_test.abc_state_ok(int4send(1) || int4send(950) || int4send(12) || numeric_send(0.8) || '\x0000'::bytea || abc_test.num(0.95) || int4send(0));
-- a numeric with a digit out of range (10000 in base 10000)
SELECT abc_test.abc_state_ok(int4send(1) || int4send(950) || int4send(10)
							 || '\x00010000000000002710'::bytea || abc_test.num(0.95) || int4send(0));
-- entry count larger than the data, negative count
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(3) || abc_test.key('a') || abc_test.num(1));
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(-1));
-- negative value, key length past the end, key with a NUL byte, duplicate key
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(1) || abc_test.key('a') || abc_test.num(-1));
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(1) || int4send(1000) || '\x61'::bytea || abc_test.num(1));
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(1) || abc_test.key('\x6100'::bytea) || abc_test.num(1));
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(2) || abc_test.key('a') || abc_test.num(1)
							 || abc_test.key('a') || abc_test.num(1));
-- trailing bytes
SELECT abc_test.abc_state_ok(abc_test.head() || int4send(0) || '\x00'::bytea);

-- most_frequent: version 1, collation, count, (key, int8 count)...
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(1) || abc_test.key('a') || int8send(2)) AS ok;
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(1) || abc_test.key('a')
							|| int8send(9223372036854775807)) AS ok;
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(1) || abc_test.key('a') || int8send(0));
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(1) || abc_test.key('a') || int8send(-5));
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(1) || abc_test.key('a') || int4send(2));
SELECT abc_test.mf_state_ok(int4send(7) || int4send(950) || int4send(0));
-- truncated (two entries announced, one there), a count past any state,
-- an unknown collation, a duplicate key, trailing bytes
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(2) || abc_test.key('a') || int8send(2));
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(2147483647) || abc_test.key('a') || int8send(2));
SELECT abc_test.mf_state_ok(int4send(1) || int4send(0) || int4send(0));
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(2) || abc_test.key('a') || int8send(2)
							|| abc_test.key('a') || int8send(1));
SELECT abc_test.mf_state_ok(int4send(1) || int4send(950) || int4send(0) || '\x00'::bytea);

-- xyz_cv: version 1, count, (int4 month, int8 units)... months ascending
SELECT abc_test.xyz_state_ok(int4send(1) || int4send(2) || int4send(24132) || int8send(1)
							 || int4send(24133) || int8send(3)) AS ok;
SELECT abc_test.xyz_state_ok(int4send(1) || int4send(2) || int4send(24133) || int8send(1)
							 || int4send(24132) || int8send(3));
SELECT abc_test.xyz_state_ok(int4send(1) || int4send(1) || int4send(24132) || int8send(-1));
SELECT abc_test.xyz_state_ok(int4send(1) || int4send(2) || int4send(24132) || int8send(1));
SELECT abc_test.xyz_state_ok(int4send(1));
-- wrong version, a count past the bytes, a month beyond the timestamp range
SELECT abc_test.xyz_state_ok(int4send(2) || int4send(0));
SELECT abc_test.xyz_state_ok(int4send(1) || int4send(2147483647) || int4send(24132) || int8send(1));
SELECT abc_test.xyz_state_ok(int4send(1) || int4send(1) || int4send(2147483647) || int8send(1));

-- The marts on hand-made bronze rows, inside a transaction rolled back at
-- the end.  Lines (quantity x price):
--   inv 1  P1 'Cup'   1 x 10    2011-01-10  UK  -> 10
--   inv 2  P1 'Bowl'  3 x 10    2011-02-10  UK  -> 30
--   inv 3  P2 (none)  4 x 10    2011-01-15  UK  -> 40
--   inv 4  P3 'Vase'  4 x 1.25  2011-01-20  FR  ->  5
--   inv 5  P3 'Vase'  4 x 2.50  2011-03-20  FR  -> 10
--   inv 6  P4 'Lamp'  1 x 5     2011-02-01  DE  ->  5
-- Countries (total 100): UK 80 (cum 0, A), FR 15 (cum exactly 0.80, B),
-- DE 5 (cum exactly 0.95, C).
-- Products (total 100): P1 40 and P2 40 tie, P1 first by key (cum 0, A),
-- P2 (cum 0.40, A), P3 15 (cum 0.80, B), P4 5 (cum 0.95, C).
-- Descriptions: P1 'Cup' and 'Bowl' once each -> 'Bowl'; P2 none -> NULL.
-- XYZ: P1 Jan 1, Feb 3: two months -> N; P2 one month -> N; P3 Jan 4,
-- Feb 0, Mar 4 -> sqrt(32)/8 = 0.7071 (Y); P4 one month -> N.
BEGIN;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
VALUES ('1', 'P1', 'Cup', '1', '2011-01-10 10:00', '10', '100', 'UK'),
	   ('2', 'P1', 'Bowl', '3', '2011-02-10 10:00', '10', '100', 'UK'),
	   ('3', 'P2', '', '4', '2011-01-15 10:00', '10', '100', 'UK'),
	   ('4', 'P3', 'Vase', '4', '2011-01-20 10:00', '1.25', '200', 'FR'),
	   ('5', 'P3', 'Vase', '4', '2011-03-20 10:00', '2.50', '200', 'FR'),
	   ('6', 'P4', 'Lamp', '1', '2011-02-01 10:00', '5', '300', 'DE');
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
SELECT rank, country, revenue, share, cum_share_before, abc_class
FROM gold.mart_countries_abc ORDER BY rank;
SELECT rank, stock_code, description, revenue, share, round(cum_share_before::numeric, 4) AS cum,
	   abc_class, round(cv::numeric, 10) AS cv, xyz_class, abc_xyz
FROM gold.mart_products_abc ORDER BY rank;
-- the steps again on the same silver: every row equals its query's, none is written
SELECT retail.maintain_countries_abc(0, 0, false) AS countries_written,
	   retail.maintain_products_abc(0, 0, false) AS products_written;
SELECT count(*) FROM gold.mart_products_abc;
-- other thresholds through the functions behind the marts: a = 0.3 makes P2
-- (cum 0.40) B; x = 0.75 makes P3 (cv 0.7071) X; the new products stay N
SELECT stock_code, abc_class, xyz_class FROM retail.products_abc(0.3, 0.95, 0.75, 1.0) ORDER BY rank;
SELECT country, abc_class FROM retail.countries_abc(0.85, 0.99) ORDER BY rank;
-- at the marts' thresholds the function shows the mart, value for value
SELECT rank, country, revenue, share, cum_share_before, abc_class FROM retail.countries_abc() ORDER BY rank;
SELECT count(*) AS function_mart_mismatches
FROM retail.countries_abc() f FULL JOIN gold.mart_countries_abc m ON m.country = f.country
WHERE f.country IS NULL OR m.country IS NULL OR f.rank <> m.rank OR f.revenue <> m.revenue
   OR f.share <> m.share OR f.cum_share_before <> m.cum_share_before OR f.abc_class <> m.abc_class;
ROLLBACK;

DROP SCHEMA abc_test CASCADE;

-- retail.generate_transactions: a deterministic stream of bronze-shaped rows.

-- Row counts are exact whatever the size; zero lines give no rows.
SELECT n, (SELECT count(*) FROM retail.generate_transactions(n)) AS rows
FROM unnest(ARRAY[0, 1, 2, 7, 1000, 12345]::bigint[]) AS n;

-- A whole tiny stream.  Checked by hand: 12 lines in 4 invoices numbered from
-- 536365 up with gaps, one a cancellation ('C', negative quantity); all text
-- in the UCI forms (ISO minutes, plain decimals, integer customer ids), codes
-- of 5 digits with an optional letter; with one customer for 12 lines
-- (lines/125 rounds to 0, at least 1) every invoice has customer 12346.
-- An invoice starting after k lines sits where k/12 of the real file's lines
-- (by month: Dec 42481, Jan 35147, Feb 27707, Mar 36748, ..., Oct 60742,
-- Nov 84711 of 541909) are reached: k = 0 on 2010-12-01; k = 3 at 135477,
-- 82 % into March (the 27th); k = 10 at 451591, 24 % into November (the 8th);
-- k = 11 at 496750, 77 % into November (the 23rd).
SELECT * FROM retail.generate_transactions(12);

-- The planner knows the row count (support function).  The SQL function is
-- inlined: the C generator runs in the select list of a subquery (ProjectSet).
-- The plan's nodes and row estimates, without the costs (which differ between
-- PostgreSQL majors).
CREATE FUNCTION pg_temp.plan_rows(query text) RETURNS TABLE (node text, plan_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
	RETURN QUERY
	WITH RECURSIVE nodes(depth, p) AS (
		SELECT 0, plan->0->'Plan'
		UNION ALL
		SELECT nodes.depth + 1, c FROM nodes, json_array_elements(nodes.p->'Plans') c
	)
	SELECT repeat('  ', depth) || (p->>'Node Type'), (p->>'Plan Rows')::bigint FROM nodes ORDER BY depth;
END
$$;
SELECT * FROM pg_temp.plan_rows('SELECT * FROM retail.generate_transactions(54321)');

-- It streams (issue 8): a call of 2^40 lines stops where LIMIT says, in FROM,
-- in a select list and LATERAL.  Proved without a clock: with 64 kB of
-- work_mem and no temporary file allowed, materializing the rows would fail
-- at its first spill, as the WITH ORDINALITY form shows.
SET work_mem = '64kB';
SET temp_file_limit = 0;
SELECT count(*) AS from_limit
FROM (SELECT * FROM retail.generate_transactions(1099511627776) LIMIT 1000) s;
SELECT count(*) AS select_list_limit
FROM (SELECT retail.generate_transactions(1099511627776) LIMIT 1000) s;
SELECT v.n, count(*) AS lateral_limit
FROM (VALUES (1099511627776), (1099511627777)) AS v(n),
	 LATERAL (SELECT * FROM retail.generate_transactions(v.n) LIMIT 3) g
GROUP BY v.n ORDER BY v.n;
-- WITH ORDINALITY (and ROWS FROM) keep PostgreSQL from inlining: a Function
-- Scan, which materializes every row first (the README says so).
EXPLAIN (COSTS OFF) SELECT * FROM retail.generate_transactions(10) WITH ORDINALITY;
-- 53400: "temporary file size exceeds temp_file_limit" (PostgreSQL 17 quotes
-- the setting's name).
\set VERBOSITY sqlstate
SELECT count(*) FROM (SELECT * FROM retail.generate_transactions(1099511627776) WITH ORDINALITY LIMIT 1000) s;
\set VERBOSITY default
RESET temp_file_limit;
RESET work_mem;
-- A long call is cancelled: the generator checks for interrupts between
-- rows.  Asserted by the SQLSTATE (57014), not by a duration: 2^40 rows
-- cannot be counted before any timeout.
SET statement_timeout = '100ms';
DO $$
BEGIN
	PERFORM count(*) FROM retail.generate_transactions(1099511627776);
	RAISE NOTICE 'not cancelled';
EXCEPTION WHEN query_canceled THEN
	RAISE NOTICE 'cancelled: SQLSTATE %', SQLSTATE;
END
$$;
RESET statement_timeout;

-- Determinism: the same arguments give the same rows, other arguments others.
CREATE FUNCTION pg_temp.digest(lines bigint, seed int DEFAULT 42, customers bigint DEFAULT NULL,
							   products int DEFAULT 4000)
RETURNS text LANGUAGE sql AS $$
	SELECT md5(string_agg(g::text, E'\n' ORDER BY g.n))
	FROM retail.generate_transactions(lines, seed, customers, products)
		 WITH ORDINALITY AS g(invoice_no, stock_code, description, quantity, invoice_date,
							  unit_price, customer_id, country, n)
$$;
SELECT pg_temp.digest(50000) = pg_temp.digest(50000) AS same_seed_same_rows,
	   pg_temp.digest(50000, 42) = pg_temp.digest(50000) AS default_seed_is_42,
	   pg_temp.digest(50000, 43) <> pg_temp.digest(50000) AS other_seed_other_rows,
	   pg_temp.digest(50000, -42) <> pg_temp.digest(50000) AS negative_seed_other_rows,
	   pg_temp.digest(50000, 42, 1000) <> pg_temp.digest(50000) AS other_customers_other_rows,
	   pg_temp.digest(50000, 42, NULL, 500) <> pg_temp.digest(50000) AS other_catalog_other_rows;

-- Value-per-call in the select list (ProjectSet, no tuplestore) streams the
-- same rows as the function scan.
SELECT (SELECT md5(string_agg(g::text, E'\n')) FROM (SELECT retail.generate_transactions(5000) AS g) s) =
	   (SELECT md5(string_agg(g::text, E'\n')) FROM retail.generate_transactions(5000) g)
	   AS select_list_same_rows;

-- The same rows in a parallel worker (the function is PARALLEL SAFE).
CREATE TEMP TABLE serial_digest AS SELECT pg_temp.digest(5000) AS digest;
\i test/force_parallel.sql
SELECT md5(string_agg(g::text, E'\n' ORDER BY g.n)) = (SELECT digest FROM serial_digest) AS parallel_same_rows
FROM retail.generate_transactions(5000) WITH ORDINALITY AS g(a, b, c, d, e, f, h, i, n);
\i test/reset_parallel.sql

-- Bad arguments: an error naming the value, with its SQLSTATE.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT q AS call, pg_temp.error_of('SELECT count(*) FROM ' || q) AS result
FROM unnest(ARRAY[
	'retail.generate_transactions(-1)',
	'retail.generate_transactions(-9223372036854775808)',
	'retail.generate_transactions(NULL)',
	'retail.generate_transactions(10, NULL)',
	'retail.generate_transactions(10, customers => 0)',
	'retail.generate_transactions(10, customers => -5)',
	'retail.generate_transactions(10, customers => 1000000001)',
	'retail.generate_transactions(10, products => 0)',
	'retail.generate_transactions(10, products => 90001)',
	'retail.generate_transactions(10, products => NULL)',
	'retail.generate_transactions(10, dirty => NULL)',
	'retail.generate_transactions(0, customers => 0)',
	'retail.generate_transactions(10, customers => NULL)',
	'retail.generate_transactions(10, customers => 1000000000, products => 90000)',
	'retail.generate_transactions(10, -2147483648, 1, 1, false)'
]) AS q;

-- Loaded into bronze and refreshed.  Inside a transaction that is rolled
-- back, so that bronze and silver are left as other tests expect them.
BEGIN;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT * FROM retail.generate_transactions(50000);
SET LOCAL client_min_messages = warning;
CALL retail.refresh();

-- Every rejection reason of the spec occurs.
SELECT r AS reason, count(t.load_ordinal) > 0 AS occurs
FROM unnest(ARRAY['malformed', 'missing_customer', 'cancellation', 'non_positive_quantity',
				  'non_positive_price', 'non_product', 'duplicate']) AS r
	 LEFT JOIN silver.rejected_transactions t ON t.reason = r
GROUP BY r
ORDER BY min(array_position(ARRAY['malformed', 'missing_customer', 'cancellation',
								  'non_positive_quantity', 'non_positive_price', 'non_product',
								  'duplicate'], r));

-- Reconciliation: every bronze row once in cleaned or rejected.
SELECT (SELECT count(*) FROM bronze.transactions_raw) AS bronze,
	   (SELECT count(*) FROM silver.cleaned_transactions) + (SELECT count(*) FROM silver.rejected_transactions)
	   AS cleaned_plus_rejected,
	   (SELECT count(*) FROM (SELECT load_ordinal
							  FROM (SELECT load_ordinal FROM silver.cleaned_transactions
									UNION ALL SELECT load_ordinal FROM silver.rejected_transactions) u
							  GROUP BY load_ordinal HAVING count(*) > 1) twice) AS ordinals_twice,
	   (SELECT count(*) FROM bronze.transactions_raw b
		WHERE NOT EXISTS (SELECT FROM silver.transactions s WHERE s.load_ordinal = b.load_ordinal))
	   AS ordinals_lost;

-- Proportions of raw lines within the bounds the model promises
-- (doc/generate.md; the real file's value in the comment).
SELECT count(*) FILTER (WHERE customer_id IS NULL)::numeric / count(*) BETWEEN 0.20 AND 0.30
	   AS missing_customer_20_30,				-- real 24.9 %
	   count(*) FILTER (WHERE invoice_no LIKE 'C%')::numeric / count(*) BETWEEN 0.01 AND 0.03
	   AS cancellations_1_3,					-- real 1.7 %
	   count(*) FILTER (WHERE unit_price = '0')::numeric / count(*) BETWEEN 0.002 AND 0.01
	   AS zero_prices_02_1,						-- real 0.46 %
	   count(*)::numeric / count(DISTINCT invoice_no) BETWEEN 15 AND 30
	   AS lines_per_invoice_15_30,				-- real 20.9
	   count(DISTINCT customer_id) FILTER (WHERE retail.try_customer_id(customer_id) IS NOT NULL)
		   BETWEEN 50000 / 125 * 0.8 AND 50000 / 125 * 1.2
	   AS customers_near_lines_over_125,		-- real 4372 for 541909 lines
	   count(DISTINCT stock_code) BETWEEN 2000 AND 4100 AS stock_codes_2000_4100,
	   count(*) FILTER (WHERE invoice_date LIKE '%/%') > 0 AS some_uci_dates,
	   count(*) FILTER (WHERE customer_id LIKE '%.0') > 0 AS some_spreadsheet_ids
FROM bronze.transactions_raw;

SELECT count(*) FILTER (WHERE reason = 'duplicate')::numeric / count(*) BETWEEN 0.005 AND 0.015
	   AS duplicates_05_15,						-- real 0.96 %
	   count(*) FILTER (WHERE reason = 'malformed')::numeric / count(*) BETWEEN 0.0002 AND 0.002
	   AS malformed_002_02,
	   count(*) FILTER (WHERE reason = 'non_product')::numeric / count(*) BETWEEN 0.002 AND 0.01
	   AS non_product_02_1,
	   count(*) FILTER (WHERE reason IS NULL)::numeric / count(*) BETWEEN 0.65 AND 0.80
	   AS clean_65_80							-- real 73 %
FROM silver.transactions;

-- Clean lines: the home country's revenue share, the long tail of countries,
-- the real time span with an autumn peak, shop hours and no Saturdays.
SELECT sum(line_total) FILTER (WHERE country = 'United Kingdom') / sum(line_total) BETWEEN 0.75 AND 0.90
	   AS uk_revenue_75_90,						-- real 82 %
	   count(DISTINCT country) BETWEEN 15 AND 38 AS countries_15_38,
	   min(invoice_ts)::date = '2010-12-01' AND max(invoice_ts)::date = '2011-12-09' AS real_span,
	   count(*) FILTER (WHERE invoice_ts >= '2011-09-01' AND invoice_ts < '2011-12-01')::numeric / count(*)
		   BETWEEN 0.30 AND 0.42 AS autumn_30_42,	-- real 36 %
	   count(*) FILTER (WHERE extract(hour FROM invoice_ts) BETWEEN 6 AND 20) = count(*) AS shop_hours,
	   count(*) FILTER (WHERE extract(isodow FROM invoice_ts) = 6) = 0 AS no_saturdays
FROM silver.cleaned_transactions;

-- November is the busiest month, February the quietest full month (as in
-- the real file).
WITH months AS (
	SELECT to_char(invoice_ts, 'YYYY-MM') AS month, count(*) AS lines
	FROM silver.cleaned_transactions GROUP BY 1
)
SELECT (SELECT month FROM months ORDER BY lines DESC LIMIT 1) AS busiest,
	   (SELECT month FROM months WHERE month < '2011-12' ORDER BY lines LIMIT 1) AS quietest;

-- Customers: repeat buyers, and value concentrated on a few (Pareto).
WITH c AS (
	SELECT customer_id, count(DISTINCT invoice_no) AS invoices, sum(line_total) AS value
	FROM silver.cleaned_transactions GROUP BY customer_id
), ranked AS (
	SELECT value, invoices, row_number() OVER (ORDER BY value DESC) AS rank, count(*) OVER () AS n
	FROM c
)
SELECT count(*) FILTER (WHERE invoices > 1)::numeric / count(*) BETWEEN 0.4 AND 0.85
	   AS repeat_buyers_40_85,					-- real 65 %
	   sum(value) FILTER (WHERE rank <= n / 5) / sum(value) BETWEEN 0.55 AND 0.85
	   AS top_fifth_value_55_85					-- real 75 %
FROM ranked;

-- Without dirt every line is clean.
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT * FROM retail.generate_transactions(5000, dirty => false);
CALL retail.refresh();
SELECT count(*) AS lines, count(*) FILTER (WHERE reason IS NULL) AS clean FROM silver.transactions;
-- also with a catalog smaller than the baskets
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT * FROM retail.generate_transactions(5000, 7, 3, 2, false);
CALL retail.refresh();
SELECT count(*) AS lines, count(*) FILTER (WHERE reason IS NULL) AS clean,
	   count(DISTINCT customer_id) AS customers, count(DISTINCT stock_code) AS products
FROM silver.transactions;
ROLLBACK;

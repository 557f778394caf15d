-- Generator throughput: lines per second for 2M lines, next to plain SQL that
-- writes rows of the same shape (no realism) and to the floor of a function
-- scan of 2M integers.  Run from the repository root: psql -X -f bench/generate.sql
-- A function scan stores its rows in a tuplestore (spilling past work_mem);
-- the select-list form streams value per call without one.  The function
-- itself is one stream; two workers run two streams (two seeds) side by side
-- under a Parallel Append.
\set lines 2000000
\i bench/lib.sql
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE bench_bronze (invoice_no text, stock_code text, description text, quantity text,
								invoice_date text, unit_price text, customer_id text, country text);
CREATE TEMP TABLE results AS
SELECT 1 AS ord, * FROM pg_temp.bench('generate_transactions, function scan',
	'SELECT count(*) FROM retail.generate_transactions(' || :lines || ')')
UNION ALL
SELECT 2, * FROM pg_temp.bench('generate_transactions, select list (no tuplestore)',
	'SELECT count(*) FROM (SELECT retail.generate_transactions(' || :lines || ')) s')
UNION ALL
SELECT 3, * FROM pg_temp.bench('generate_transactions into a temp table',
	'TRUNCATE bench_bronze; INSERT INTO bench_bronze SELECT * FROM retail.generate_transactions(' || :lines || ')')
UNION ALL
SELECT 4, * FROM pg_temp.bench('plain SQL rows of the same shape (materialized)',
	$q$WITH g AS MATERIALIZED (
		SELECT (536365 + i / 21)::text, (10000 + i::bigint * 7919 % 90000)::text, 'PRODUCT ' || i % 4000,
			   (1 + i % 12)::text, to_char(timestamp '2010-12-01' + i * interval '10 seconds', 'YYYY-MM-DD HH24:MI'),
			   (i % 500 / 100.0)::text, (12346 + i % 4335)::text, 'United Kingdom'
		FROM generate_series(1, $q$ || :lines || $q$) i)
	SELECT count(*) FROM g$q$)
UNION ALL
SELECT 5, * FROM pg_temp.bench('floor: function scan of integers',
	'SELECT count(*) FROM generate_series(1, ' || :lines || ')');

SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
INSERT INTO results
SELECT 6, * FROM pg_temp.bench('2 workers: two streams of half the lines',
	'SELECT count(*) FROM (SELECT 1 FROM retail.generate_transactions(' || :lines / 2 || ', 1)
						   UNION ALL SELECT 1 FROM retail.generate_transactions(' || :lines / 2 || ', 2)) s');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;

SELECT label, :lines AS lines, seconds,
	   round(:lines / nullif(seconds, 0)) AS lines_per_second
FROM results ORDER BY ord;

-- Cohort retention timings, run from the repository root against a database
-- where silver is loaded (retail.refresh() done):
--   psql -X -f bench/cohort.sql
-- ours:    REFRESH of gold.mart_cohort_retention (the C aggregate), and the
--          aggregate query alone (without the refresh's table swap and index)
-- plain:   the same matrix in plain SQL (test/cohort_oracle.sql: date_trunc,
--          windows, generate_series, count(DISTINCT))
-- floor:   a bare scan of silver reading the three columns the matrix needs
-- each serial and with 2 parallel workers; median of 3 runs.
-- Targets: ours at least 3x faster than plain, at most 2x the floor.
-- Since the incremental refresh (issue 9) the marts read the silver states,
-- not the lines: their cost of reading the lines is in step 20 of the
-- refresh (bench/refresh.sql, bench/silver.sql), so here ours is the mart
-- alone and plain SQL and the floor still read the lines.
\set QUIET on
\i bench/lib.sql
\i test/cohort_oracle.sql
CREATE TEMP TABLE cohort_bench (ord int, variant text, workers int, seconds numeric);

DO $bench$
DECLARE
	workers int;
	v record;
BEGIN
	FOREACH workers IN ARRAY ARRAY[0, 2] LOOP
		PERFORM set_config('max_parallel_workers_per_gather', workers::text, false);
		FOR v IN
			SELECT * FROM (VALUES
				(1, 'ours: mart refresh', 'REFRESH MATERIALIZED VIEW gold_store.mart_cohort_retention'),
				(2, 'ours: matrix query',
				 'SELECT count(*) FROM pg_catalog.unnest((SELECT retail.cohort_matrix(customer_id, invoice_ts, line_total)
				  FROM silver.cleaned_transactions))'),
				(3, 'plain SQL', 'SELECT count(*) FROM pg_temp.cohort_oracle(''silver.cleaned_transactions'')'),
				(4, 'floor: bare scan',
				 'SELECT count(*) FROM silver.cleaned_transactions
				  WHERE customer_id IS NOT NULL AND invoice_ts IS NOT NULL AND line_total IS NOT NULL')
			) AS q(ord, variant, query)
		LOOP
			INSERT INTO cohort_bench
			SELECT v.ord, v.variant, workers, b.seconds FROM pg_temp.bench(v.variant, v.query) b;
		END LOOP;
	END LOOP;
END
$bench$;
RESET max_parallel_workers_per_gather;
\set QUIET off

SELECT format('cohort retention, %s silver lines', (SELECT count(*) FROM silver.cleaned_transactions)) AS bench,
	   b.variant,
	   s.seconds AS serial_s,
	   p.seconds AS workers2_s,
	   round(s.seconds / nullif(fs.seconds, 0), 2) AS serial_x_floor,
	   round(p.seconds / nullif(fp.seconds, 0), 2) AS workers2_x_floor,
	   round(s.seconds / nullif(os.seconds, 0), 2) AS serial_x_ours,
	   round(p.seconds / nullif(op.seconds, 0), 2) AS workers2_x_ours
FROM (SELECT DISTINCT ord, variant FROM cohort_bench) b
JOIN cohort_bench s ON s.ord = b.ord AND s.workers = 0
JOIN cohort_bench p ON p.ord = b.ord AND p.workers = 2
JOIN cohort_bench fs ON fs.ord = 4 AND fs.workers = 0
JOIN cohort_bench fp ON fp.ord = 4 AND fp.workers = 2
JOIN cohort_bench os ON os.ord = 1 AND os.workers = 0
JOIN cohort_bench op ON op.ord = 1 AND op.workers = 2
ORDER BY b.ord;

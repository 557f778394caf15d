-- RFM: ours against the plain-SQL formulation of the spec
-- (test/realdata/oracle/rfm_segments.sql) and against the floor, a bare sum
-- over the same silver lines; serial and with 2 workers.  Ours twice: the
-- ad-hoc function on the same lines (what plain SQL does), and step 100 of
-- the refresh scoring every snapshot anew from the silver states (the
-- current one and the month ends, setting segment_snapshots), as a rebuild
-- does; an appended day rescores only what it touches (bench/refresh.sql).
\i bench/lib.sql
\set rfm_oracle `cat test/realdata/oracle/rfm_segments.sql`
CREATE TEMP TABLE rfm_bench (workers int, variant text, seconds numeric);
CREATE TEMP TABLE rfm_variants (ord int, variant text, query text);
INSERT INTO rfm_variants VALUES
(0, 'ours: retail.rfm_segments(silver.net_transactions)',
 'SELECT count(*) FROM retail.rfm_segments(''silver.net_transactions'')'),
(1, 'ours: step 100, every snapshot scored anew',
 'DELETE FROM gold_store.customer_snapshot_models; SELECT retail.maintain_customer_snapshots(0, 0, true)'),
(2, 'plain SQL: the same table', 'CREATE TEMP TABLE rfm_plain AS ' || :'rfm_oracle' || '; DROP TABLE rfm_plain'),
(3, 'floor: SELECT sum(line_total) FROM silver.cleaned_transactions',
 'SELECT sum(line_total) FROM silver.cleaned_transactions');

SET max_parallel_workers_per_gather = 0;
INSERT INTO rfm_bench SELECT 0, v.variant, b.seconds FROM rfm_variants v, pg_temp.bench(v.variant, v.query) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO rfm_bench SELECT 2, v.variant, b.seconds FROM rfm_variants v, pg_temp.bench(v.variant, v.query) b;
RESET max_parallel_workers_per_gather;

\echo '== gold.mart_customer_segments: ours vs plain SQL vs floor (median seconds)'
SELECT b.workers, b.variant, b.seconds,
	   round(b.seconds / nullif(f.seconds, 0), 2) AS x_floor,
	   round(p.seconds / nullif(b.seconds, 0), 2) AS plain_sql_x_slower
FROM rfm_bench b
JOIN rfm_variants v ON v.variant = b.variant
JOIN rfm_bench f ON f.workers = b.workers AND f.variant LIKE 'floor%'
JOIN rfm_bench p ON p.workers = b.workers AND p.variant LIKE 'plain%'
ORDER BY b.workers, v.ord;

-- Peak memory: how much the resident size of a fresh backend grows at most
-- while step 100 scores every snapshot anew (serially), after a scan of
-- silver has already mapped the shared buffers it reads.
\c
SET max_parallel_workers_per_gather = 0;
SELECT sum(line_total) IS NOT NULL AS warmed FROM silver.cleaned_transactions \gset
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS before_kb \gset
DELETE FROM gold_store.customer_snapshot_models;
SELECT retail.maintain_customer_snapshots(0, 0, true) \gset
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS after_kb \gset
\echo '== gold.mart_customer_segments: peak memory of step 100 scoring every snapshot anew (serial)'
SELECT count(*) AS customers,
	   (SELECT count(*) FROM silver.cleaned_transactions) AS lines,
	   round((:after_kb - :before_kb) / 1024.0, 1) AS peak_growth_mb,
	   round((:after_kb - :before_kb) * 1024.0 / count(*)) AS bytes_per_customer
FROM gold.mart_customer_segments;

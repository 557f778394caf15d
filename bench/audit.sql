-- Order-anomaly audit: refresh of gold.audit_order_anomalies against its
-- plain-SQL formulation (the real-data suite's oracle: percentile_cont for
-- each median, a second sort for each MAD, row_number for the strongest price
-- outlier) and against the floor, one pass over each input computing the
-- same logarithms (their average per product and over the orders instead of
-- median and MAD).  Each computes and writes every row: ours is the mart's
-- step on its emptied table, plain SQL and the floor are materialized views
-- refreshed; serial and with 2 parallel workers.  Needs silver refreshed;
-- run from the repository root (bench/run does).
-- Since the incremental refresh (issue 9) the marts read the silver states,
-- not the lines: their cost of reading the lines is in step 20 of the
-- refresh (bench/refresh.sql, bench/silver.sql), so here ours is the mart
-- alone and plain SQL and the floor still read the lines.
\i bench/lib.sql
SET client_min_messages = warning;
\set audit_plain `cat test/realdata/oracle/order_anomalies.sql`

CREATE MATERIALIZED VIEW public.bench_audit_plain AS :audit_plain WITH NO DATA;
CREATE MATERIALIZED VIEW public.bench_audit_floor AS
SELECT stock_code, avg(ln(unit_price::float8)) AS center
FROM silver.cleaned_transactions GROUP BY stock_code
UNION ALL
SELECT NULL, avg(ln(total::float8)) FROM silver.orders
WITH NO DATA;

CREATE TEMP TABLE audit_bench (workers int, kind text, seconds numeric);
CREATE TEMP TABLE audit_views (kind text, statement text);
INSERT INTO audit_views VALUES
	('ours', 'TRUNCATE gold_store.audit_order_anomalies; SELECT retail.maintain_order_anomalies(0, 0, true)'),
	('plain', 'REFRESH MATERIALIZED VIEW public.bench_audit_plain'),
	('floor', 'REFRESH MATERIALIZED VIEW public.bench_audit_floor');

SET max_parallel_workers_per_gather = 0;
INSERT INTO audit_bench
SELECT 0, v.kind, b.seconds FROM audit_views v, pg_temp.bench(v.kind, v.statement) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO audit_bench
SELECT 2, v.kind, b.seconds FROM audit_views v, pg_temp.bench(v.kind, v.statement) b;
RESET max_parallel_workers_per_gather;
DROP MATERIALIZED VIEW public.bench_audit_plain, public.bench_audit_floor;

\echo '== gold.audit_order_anomalies: refresh vs plain SQL vs floor (median seconds)'
SELECT workers,
	   max(seconds) FILTER (WHERE kind = 'ours') AS ours,
	   max(seconds) FILTER (WHERE kind = 'plain') AS plain_sql,
	   max(seconds) FILTER (WHERE kind = 'floor') AS floor,
	   round(max(seconds) FILTER (WHERE kind = 'plain')
			 / NULLIF(max(seconds) FILTER (WHERE kind = 'ours'), 0), 2) AS x_faster_than_plain,
	   round(max(seconds) FILTER (WHERE kind = 'ours')
			 / NULLIF(max(seconds) FILTER (WHERE kind = 'floor'), 0), 2) AS x_floor
FROM audit_bench
GROUP BY workers
ORDER BY workers;

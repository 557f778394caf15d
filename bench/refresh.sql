-- The refresh, side by side: a full rebuild (plain, which TRUNCATEs and
-- builds the lookup indexes after the rows, and concurrent, which DELETEs so
-- that readers are not blocked) against appending the last day of the data
-- as a new batch and refreshing, and against a refresh with nothing new.
-- Each timed CALL runs in a fresh backend, its own transaction, committed;
-- the peak resident memory of that backend (VmHWM, shared buffers it touched
-- included) is read around it.  The nothing-new refresh is timed twice: in
-- that fresh backend (a scheduler's new connection) and again warm.
-- Needs bronze loaded and refreshed; run from the repository root (bench/run
-- does).  Rounds: the setting bench.repeats (bench/run --repeats R), else 3;
-- the table gives the median of each.
\set QUIET on
SET client_min_messages = warning;
SELECT coalesce(nullif(current_setting('bench.repeats', true), '')::int, 3) AS repeats \gset
CREATE TABLE public.bench_timed (kind text, round int, seconds numeric, silver_seconds numeric,
								   lines bigint, hwm_before_kb bigint, hwm_after_kb bigint);
CREATE TABLE public.bench_timed_steps (kind text, round int, step_order int, relation text, seconds numeric);

-- The last day: every bronze line dated on the last date of silver, kept
-- aside in load order.
CREATE TABLE public.bench_last_day AS
SELECT b.*
FROM bronze.transactions_raw b
	 JOIN silver.transactions s USING (load_ordinal)
WHERE s.invoice_ts >= (SELECT date_trunc('day', max(invoice_ts)) FROM silver.transactions)
ORDER BY b.load_ordinal;
SELECT count(*) AS last_day_lines, min(invoice_ts)::date AS last_day
FROM public.bench_last_day d JOIN silver.transactions s USING (load_ordinal) \gset

\set round 1
\ir refresh_round.sql

\c
\set QUIET off
\echo '== refresh: full rebuild vs the last day appended vs nothing new (median of' :repeats 'rounds)'
SELECT b.kind,
	   (SELECT count(*) FROM bronze.transactions_raw) AS bronze_lines,
	   max(b.lines) AS batch_lines,
	   percentile_disc(0.5) WITHIN GROUP (ORDER BY b.seconds) AS seconds,
	   percentile_disc(0.5) WITHIN GROUP (ORDER BY b.silver_seconds) AS silver_seconds,
	   round(100 * percentile_disc(0.5) WITHIN GROUP (ORDER BY b.seconds) / f.seconds, 2) AS pct_of_full,
	   round(f.seconds / nullif(percentile_disc(0.5) WITHIN GROUP (ORDER BY b.seconds), 0), 1) AS x_cheaper,
	   round(max(b.hwm_after_kb) / 1024.0, 1) AS peak_rss_mb,
	   round(max(b.hwm_after_kb - b.hwm_before_kb) / 1024.0, 1) AS peak_growth_mb
FROM public.bench_timed b,
	 (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) AS seconds
	  FROM public.bench_timed WHERE kind = '1 full rebuild, concurrently => false') f
GROUP BY b.kind, f.seconds
ORDER BY b.kind;
\echo '== targets: last day <= 10 % of the plain full rebuild; nothing new < 1 %; peak RSS < 256 MB'
\echo '== refresh: median seconds of each step'
SELECT step_order, relation,
	   percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind LIKE '1 %') AS full_plain,
	   percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind LIKE '2 %') AS full_concurrent,
	   percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind LIKE '3 %') AS last_day
FROM public.bench_timed_steps
GROUP BY step_order, relation
ORDER BY step_order;
DROP TABLE public.bench_timed, public.bench_timed_steps, public.bench_last_day;

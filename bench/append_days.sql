-- The daily refresh, day after day: the last days of the data (setting
-- bench.days, else 30) taken out and rebuilt without, then appended one day
-- at a time as a scheduler would, each refresh timed in a fresh backend,
-- committed, with its peak resident memory (VmHWM, shared buffers it
-- touched included).  Issue 17's bar: each day within 2x of the first, so
-- that the cost follows the day's lines, not the history before it.  Needs
-- bronze loaded and refreshed; run from the repository root (bench/run
-- does).  Leaves bronze and silver as it found them.
\set QUIET on
SET client_min_messages = warning;
SELECT coalesce(nullif(current_setting('bench.days', true), '')::int, 30) AS days \gset
CREATE TABLE public.bench_timed (kind text, round int, seconds numeric, silver_seconds numeric,
								   lines bigint, hwm_before_kb bigint, hwm_after_kb bigint);
CREATE TABLE public.bench_timed_steps (kind text, round int, step_order int, relation text, seconds numeric);
-- the lines of the last :days days with lines, by day, in load order
CREATE TABLE public.bench_days AS
SELECT dense_rank() OVER (ORDER BY s.invoice_ts::date) AS day_number, s.invoice_ts::date AS day, b.*
FROM bronze.transactions_raw b
	 JOIN silver.transactions s USING (load_ordinal)
WHERE s.invoice_ts::date >= (SELECT min(d.day)
							 FROM (SELECT DISTINCT t.invoice_ts::date AS day FROM silver.transactions t
								   WHERE t.invoice_ts IS NOT NULL
								   ORDER BY 1 DESC LIMIT :days) d);
DELETE FROM bronze.transactions_raw b USING public.bench_days d WHERE d.load_ordinal = b.load_ordinal;
CALL retail.refresh(full => true, concurrently => false);
VACUUM ANALYZE bronze.transactions_raw;
SELECT max(day_number) AS days FROM public.bench_days \gset

\set round 1
\ir append_days_round.sql

\set QUIET off
\echo '== append_days: the last' :days 'days appended one at a time, a refresh after each'
SELECT t.round AS day_number, d.day, t.lines, t.seconds, t.silver_seconds,
	   round(t.seconds / f.seconds, 2) AS x_first_day,
	   round(t.hwm_after_kb / 1024.0, 1) AS peak_rss_mb
FROM public.bench_timed t
	 JOIN (SELECT DISTINCT day_number, day FROM public.bench_days) d ON d.day_number = t.round
	 CROSS JOIN (SELECT seconds FROM public.bench_timed WHERE round = 1) f
ORDER BY t.round;
\echo '== append_days: target each day within 2x of the first'
SELECT count(*) AS days, min(t.seconds) AS fastest, max(t.seconds) AS slowest,
	   round(max(t.seconds) / f.seconds, 2) AS worst_x_first_day,
	   round(max(t.hwm_after_kb) / 1024.0, 1) AS worst_peak_rss_mb
FROM public.bench_timed t CROSS JOIN (SELECT seconds FROM public.bench_timed WHERE round = 1) f
GROUP BY f.seconds;
\echo '== append_days: median seconds of each step over the days'
SELECT step_order, relation, percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds,
	   max(seconds) AS max_seconds
FROM public.bench_timed_steps GROUP BY step_order, relation ORDER BY step_order;
DROP TABLE public.bench_timed, public.bench_timed_steps, public.bench_days;

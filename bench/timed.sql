-- Included by bench/refresh.sql and bench/silver.sql: run :stmt (one or more
-- statements) in this backend, each in its own transaction, and record under
-- :kind its wall-clock seconds, the seconds of the silver steps and the steps
-- of the refreshes it ran (refresh log), and the backend's peak resident
-- memory (VmHWM) before and after.
SET client_min_messages = warning;
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS hwm_before,
	   clock_timestamp() AS t0 \gset
:stmt;
INSERT INTO public.bench_timed
SELECT :'kind', :round, round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 3),
	   (SELECT sum(seconds) FROM retail.last_refresh
		WHERE step_order IN (10, 20) AND finished_at >= :'t0'::timestamptz),
	   :lines, :hwm_before, substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint;
INSERT INTO public.bench_timed_steps
SELECT :'kind', :round, step_order, relation, seconds FROM retail.last_refresh
WHERE finished_at >= :'t0'::timestamptz;

-- Included by bench/refresh.sql: run the statement :stmt in this backend,
-- in its own transaction, and record under :kind its wall-clock seconds,
-- the silver steps' seconds of the refresh log, the backend's peak resident
-- memory (VmHWM) before and after, and its steps.
SET client_min_messages = warning;
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS hwm_before,
	   clock_timestamp() AS t0 \gset
:stmt;
INSERT INTO public.bench_refresh
SELECT :'kind', :round, round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 3),
	   (SELECT sum(seconds) FROM retail.last_refresh WHERE step_order IN (10, 20)),
	   :lines, :hwm_before, substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint;
INSERT INTO public.bench_refresh_steps
SELECT :'kind', :round, step_order, relation, seconds FROM retail.last_refresh;

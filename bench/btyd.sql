-- BTYD (issue 11; 3. since 0.3.0).  1. The CLV models on the loaded data against the whole
-- refresh: the summary, the two fits, step 500 (the customers' purchase
-- days and the fits, gold_store.clv_customers and gold.clv_model) over
-- every customer, a read of gold.mart_customer_value (which applies the
-- models when read), and step 500 in a full refresh.
-- 2. The BG/NBD fit on 1M customers simulated with known parameters (whole
-- days over a year, as the summary gives them), ours serial and with 2
-- workers, against scipy.optimize on the same likelihood in numpy
-- (bench/btyd_scipy.py, the way lifetimes fits: on every row, and on the
-- distinct rows with weights), side by side with the parameters each finds.
-- Needs python3-numpy and python3-scipy ($PYTHON, else /usr/bin/python3);
-- run from the repository root (bench/run does).
\i bench/lib.sql
SET client_min_messages = warning;
CREATE TEMP TABLE btyd_bench (ord int, what text, seconds numeric);
CREATE TEMP TABLE btyd_summary AS SELECT * FROM retail.btyd_summary('silver.cleaned_transactions');
INSERT INTO btyd_bench SELECT 1, b.* FROM pg_temp.bench('retail.btyd_summary(silver.cleaned_transactions)',
	'SELECT count(*) FROM retail.btyd_summary(''silver.cleaned_transactions'')') b;
INSERT INTO btyd_bench SELECT 2, b.* FROM pg_temp.bench('bgnbd_fit on the summary',
	'SELECT retail.bgnbd_fit(frequency, recency, age) FROM btyd_summary') b;
INSERT INTO btyd_bench SELECT 3, b.* FROM pg_temp.bench('gamma_gamma_fit on the summary',
	'SELECT retail.gamma_gamma_fit(frequency, monetary_value) FROM btyd_summary') b;
INSERT INTO btyd_bench SELECT 4, b.* FROM pg_temp.bench('step 500 over every customer',
	'DELETE FROM gold_store.clv_customers; SELECT retail.maintain_customer_value(0, 0, true)') b;
INSERT INTO btyd_bench SELECT 5, b.* FROM pg_temp.bench('SELECT of every row of gold.mart_customer_value',
	'SELECT count(clv) FROM gold.mart_customer_value') b;
-- one full refresh, committed, with its log
SELECT clock_timestamp() AS t0 \gset
CALL retail.refresh(full => true, concurrently => false);
INSERT INTO btyd_bench
SELECT 6, 'whole CALL retail.refresh(full => true, concurrently => false)',
	   round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 3)
UNION ALL
SELECT 7, '  of which step 500 (gold_store.clv_customers, gold.clv_model)', sum(seconds)
FROM retail.last_refresh WHERE step_order = 500;

\echo '== BTYD on the loaded data: the CLV models against the whole refresh (median seconds)'
SELECT b.what, b.seconds,
	   round(b.seconds / (SELECT seconds FROM btyd_bench WHERE ord = 6), 3) AS share_of_refresh
FROM btyd_bench b ORDER BY b.ord;
SELECT customers, repeat_customers, round(r::numeric, 4) AS r, round(alpha::numeric, 3) AS alpha,
	   round(a::numeric, 6) AS a, round(b::numeric, 4) AS b, bgnbd_converged, round(p::numeric, 4) AS p,
	   round(q::numeric, 4) AS q, round(gamma::numeric, 3) AS gamma, gamma_gamma_converged
FROM gold.clv_model;

-- 2. 1M simulated customers: r = 0.5, alpha = 30 days, a = 0.8, b = 4
CREATE TABLE public.btyd_bench_customers AS
SELECT * FROM retail.simulate_bgnbd_customers(1000000, 0.5, 30, 0.8, 4, 365, 42, true);
VACUUM ANALYZE public.btyd_bench_customers;
SELECT count(*) AS customers,
	   (SELECT count(*) FROM (SELECT DISTINCT frequency, recency, age FROM public.btyd_bench_customers) d)
		   AS distinct_points
FROM public.btyd_bench_customers \gset
-- peak memory of the fit: how much a fresh backend's resident size grows
\c
SET max_parallel_workers_per_gather = 0;
SELECT count(*) IS NOT NULL AS warmed FROM public.btyd_bench_customers \gset
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS before_kb \gset
SELECT (retail.bgnbd_fit(frequency, recency, age)).converged FROM public.btyd_bench_customers \gset
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS after_kb \gset

\i bench/lib.sql
SET client_min_messages = warning;
CREATE TEMP TABLE btyd_fit (ord int, what text, seconds numeric, r float8, alpha float8, a float8, b float8,
							log_likelihood float8);
SET max_parallel_workers_per_gather = 0;
INSERT INTO btyd_fit (ord, what, seconds) SELECT 1, b.* FROM pg_temp.bench('ours: retail.bgnbd_fit, serial',
	'SELECT retail.bgnbd_fit(frequency, recency, age) FROM public.btyd_bench_customers') b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO btyd_fit (ord, what, seconds) SELECT 2, b.* FROM pg_temp.bench('ours: retail.bgnbd_fit, 2 workers',
	'SELECT retail.bgnbd_fit(frequency, recency, age) FROM public.btyd_bench_customers') b;
RESET max_parallel_workers_per_gather;
UPDATE btyd_fit SET r = (m).r, alpha = (m).alpha, a = (m).a, b = (m).b, log_likelihood = (m).log_likelihood
FROM (SELECT retail.bgnbd_fit(frequency, recency, age) AS m FROM public.btyd_bench_customers) f;

-- scipy, once each (they take long), on the same rows
\copy (SELECT frequency, recency, age FROM public.btyd_bench_customers) TO '/tmp/retail_btyd_bench.csv' CSV
\set scipy_rows `${PYTHON:-/usr/bin/python3} bench/btyd_scipy.py bgnbd < /tmp/retail_btyd_bench.csv`
\set scipy_weighted `${PYTHON:-/usr/bin/python3} bench/btyd_scipy.py bgnbd --compress < /tmp/retail_btyd_bench.csv`
\! rm -f /tmp/retail_btyd_bench.csv
INSERT INTO btyd_fit
SELECT ord, what, substring(line FROM 'seconds=([0-9.]+)')::numeric,
	   substring(line FROM ' r=([0-9.e+-]+)')::float8, substring(line FROM 'alpha=([0-9.e+-]+)')::float8,
	   substring(line FROM ' a=([0-9.e+-]+)')::float8, substring(line FROM ' b=([0-9.e+-]+)')::float8,
	   substring(line FROM 'log_likelihood=([0-9.e+-]+)')::float8
FROM (VALUES (3, 'scipy Nelder-Mead, numpy likelihood, every row (lifetimes'' default)', :'scipy_rows'),
			 (4, 'scipy Nelder-Mead, numpy likelihood, distinct rows weighted', :'scipy_weighted')) s(ord, what, line);

\echo '== BG/NBD fit,' :customers 'simulated customers (' :distinct_points 'distinct points; true r = 0.5, alpha = 30, a = 0.8, b = 4): ours vs scipy'
SELECT f.what, f.seconds, round(f.seconds / (SELECT min(seconds) FROM btyd_fit WHERE ord <= 2), 1) AS x_ours,
	   round(f.r::numeric, 5) AS r, round(f.alpha::numeric, 4) AS alpha, round(f.a::numeric, 5) AS a,
	   round(f.b::numeric, 4) AS b, round(f.log_likelihood::numeric, 4) AS log_likelihood
FROM btyd_fit f ORDER BY f.ord;
SELECT :after_kb - :before_kb AS fit_peak_memory_growth_kb, :distinct_points AS distinct_points,
	   round((:after_kb - :before_kb) * 1024.0 / :distinct_points) AS bytes_per_point;

-- 3. The other purchase models (0.3.0) on the same customers: the modified
-- BG/NBD, and the Pareto/NBD (2F1 and its derivatives per distinct point),
-- serial and with 2 workers
CREATE TEMP TABLE btyd_models_bench (ord int, what text, seconds numeric);
SET max_parallel_workers_per_gather = 0;
INSERT INTO btyd_models_bench SELECT 1, b.* FROM pg_temp.bench('retail.mbgnbd_fit, serial',
	'SELECT retail.mbgnbd_fit(frequency, recency, age) FROM public.btyd_bench_customers') b;
INSERT INTO btyd_models_bench SELECT 3, b.* FROM pg_temp.bench('retail.paretonbd_fit, serial',
	'SELECT retail.paretonbd_fit(frequency, recency, age) FROM public.btyd_bench_customers', 1) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO btyd_models_bench SELECT 2, b.* FROM pg_temp.bench('retail.mbgnbd_fit, 2 workers',
	'SELECT retail.mbgnbd_fit(frequency, recency, age) FROM public.btyd_bench_customers') b;
INSERT INTO btyd_models_bench SELECT 4, b.* FROM pg_temp.bench('retail.paretonbd_fit, 2 workers',
	'SELECT retail.paretonbd_fit(frequency, recency, age) FROM public.btyd_bench_customers', 1) b;
RESET max_parallel_workers_per_gather;
\echo '== The modified BG/NBD and Pareto/NBD fits on the same customers'
SELECT what, seconds FROM btyd_models_bench ORDER BY ord;
DROP TABLE public.btyd_bench_customers;

-- Silver refresh against its floor: a plain CREATE TABLE AS of the same rows
-- with PostgreSQL's own casts, serial and with 2 parallel workers.  The casts
-- would fail on a malformed value, so the floor reads a copy of bronze
-- without the malformed lines (all lines of the real file are well formed).
\i bench/lib.sql
CREATE TEMP TABLE silver_bench (workers int, label text, seconds numeric);
CREATE TABLE public.bench_bronze AS
SELECT b.*
FROM bronze.transactions_raw b JOIN silver.transactions s USING (load_ordinal)
WHERE s.reason IS DISTINCT FROM 'malformed';
VACUUM ANALYZE public.bench_bronze;

CREATE FUNCTION pg_temp.silver_floor() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DROP TABLE IF EXISTS public.bench_floor;
	CREATE TABLE public.bench_floor AS
	SELECT upper(btrim(invoice_no)) AS invoice_no, upper(btrim(stock_code)) AS stock_code,
		   nullif(btrim(description), '') AS description, quantity::int AS quantity,
		   invoice_date::timestamp AS invoice_ts, unit_price::numeric AS unit_price,
		   quantity::int * unit_price::numeric AS line_total,
		   customer_id::numeric::bigint AS customer_id, btrim(country) AS country, load_ordinal
	FROM public.bench_bronze;
END
$$;

SET max_parallel_workers_per_gather = 0;
INSERT INTO silver_bench SELECT 0, * FROM pg_temp.bench('floor: CREATE TABLE AS with casts', 'SELECT pg_temp.silver_floor()');
INSERT INTO silver_bench SELECT 0, * FROM pg_temp.bench('silver.transactions', 'REFRESH MATERIALIZED VIEW silver.transactions');
INSERT INTO silver_bench SELECT 0, * FROM pg_temp.bench('silver.orders', 'REFRESH MATERIALIZED VIEW silver.orders');
SET max_parallel_workers_per_gather = 2;
INSERT INTO silver_bench SELECT 2, * FROM pg_temp.bench('floor: CREATE TABLE AS with casts', 'SELECT pg_temp.silver_floor()');
INSERT INTO silver_bench SELECT 2, * FROM pg_temp.bench('silver.transactions', 'REFRESH MATERIALIZED VIEW silver.transactions');
INSERT INTO silver_bench SELECT 2, * FROM pg_temp.bench('silver.orders', 'REFRESH MATERIALIZED VIEW silver.orders');
RESET max_parallel_workers_per_gather;
DROP TABLE public.bench_floor, public.bench_bronze;

\echo '== silver refresh vs the floor (median seconds)'
SELECT b.workers, b.label, b.seconds,
	   round(b.seconds / f.seconds, 2) AS x_floor
FROM silver_bench b
JOIN silver_bench f ON f.workers = b.workers AND f.label LIKE 'floor%'
UNION ALL
SELECT b.workers, 'silver layer (both views)', sum(b.seconds),
	   round(sum(b.seconds) / min(f.seconds), 2)
FROM silver_bench b
JOIN silver_bench f ON f.workers = b.workers AND f.label LIKE 'floor%'
WHERE b.label LIKE 'silver.%'
GROUP BY b.workers
ORDER BY 1, 2;

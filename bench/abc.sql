-- ABC/XYZ marts: refresh of each mart against its plain-SQL formulation (the
-- real-data suite's oracle: window functions; generate_series over each
-- product's months with stddev_pop / avg; GROUP BY + DISTINCT ON for the
-- description) and against the floor, one GROUP BY of revenue per key (the
-- least any version must do).  Each computes and writes every row: ours is
-- the mart's step on its emptied table, plain SQL and the floor are
-- materialized views refreshed; serial and with 2 parallel workers.  Needs
-- silver refreshed; run from the repository root (bench/run does).
-- Since the incremental refresh (issue 9) the marts read the silver states,
-- not the lines: their cost of reading the lines is in step 20 of the
-- refresh (bench/refresh.sql, bench/silver.sql), so here ours is the mart
-- alone and plain SQL and the floor still read the lines.
\i bench/lib.sql
SET client_min_messages = warning;
\set countries_plain `cat test/realdata/oracle/countries_abc.sql`
\set products_plain `cat test/realdata/oracle/products_abc.sql`

CREATE MATERIALIZED VIEW public.bench_countries_plain AS :countries_plain WITH NO DATA;
CREATE MATERIALIZED VIEW public.bench_countries_floor AS
SELECT country, sum(line_total) AS revenue FROM silver.cleaned_transactions GROUP BY country
WITH NO DATA;
CREATE MATERIALIZED VIEW public.bench_products_plain AS :products_plain WITH NO DATA;
CREATE MATERIALIZED VIEW public.bench_products_floor AS
SELECT stock_code, sum(line_total) AS revenue FROM silver.cleaned_transactions GROUP BY stock_code
WITH NO DATA;

CREATE TEMP TABLE abc_bench (mart text, workers int, kind text, seconds numeric);
CREATE TEMP TABLE abc_views (mart text, kind text, statement text);
INSERT INTO abc_views VALUES
	('gold.mart_countries_abc', 'ours',
	 'TRUNCATE gold_store.mart_countries_abc; SELECT retail.maintain_countries_abc(0, 0, true)'),
	('gold.mart_countries_abc', 'plain', 'REFRESH MATERIALIZED VIEW public.bench_countries_plain'),
	('gold.mart_countries_abc', 'floor', 'REFRESH MATERIALIZED VIEW public.bench_countries_floor'),
	('gold.mart_products_abc', 'ours',
	 'TRUNCATE gold_store.mart_products_abc; SELECT retail.maintain_products_abc(0, 0, true)'),
	('gold.mart_products_abc', 'plain', 'REFRESH MATERIALIZED VIEW public.bench_products_plain'),
	('gold.mart_products_abc', 'floor', 'REFRESH MATERIALIZED VIEW public.bench_products_floor');

SET max_parallel_workers_per_gather = 0;
INSERT INTO abc_bench
SELECT v.mart, 0, v.kind, b.seconds
FROM abc_views v, pg_temp.bench(v.kind, v.statement) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO abc_bench
SELECT v.mart, 2, v.kind, b.seconds
FROM abc_views v, pg_temp.bench(v.kind, v.statement) b;
RESET max_parallel_workers_per_gather;
DROP MATERIALIZED VIEW public.bench_countries_plain, public.bench_countries_floor,
	public.bench_products_plain, public.bench_products_floor;

\echo '== ABC marts: refresh vs plain SQL vs floor (median seconds)'
SELECT mart, workers,
	   max(seconds) FILTER (WHERE kind = 'ours') AS ours,
	   max(seconds) FILTER (WHERE kind = 'plain') AS plain_sql,
	   max(seconds) FILTER (WHERE kind = 'floor') AS floor,
	   round(max(seconds) FILTER (WHERE kind = 'plain')
			 / NULLIF(max(seconds) FILTER (WHERE kind = 'ours'), 0), 2) AS x_faster_than_plain,
	   round(max(seconds) FILTER (WHERE kind = 'ours')
			 / NULLIF(max(seconds) FILTER (WHERE kind = 'floor'), 0), 2) AS x_floor
FROM abc_bench
GROUP BY mart, workers
ORDER BY mart, workers;

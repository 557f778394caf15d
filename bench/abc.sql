-- ABC/XYZ marts: refresh of each mart against its plain-SQL formulation
-- (window functions; generate_series over each product's months with
-- stddev_pop / avg; GROUP BY + DISTINCT ON for the description) and against
-- the floor, one GROUP BY of revenue per key (the least any version must do).
-- All three write their rows; serial and with 2 parallel workers.
-- Needs silver loaded and refreshed.
\i bench/lib.sql
SET client_min_messages = warning;
CREATE TEMP TABLE abc_bench (mart text, workers int, kind text, seconds numeric);

-- Write a query's rows to a scratch table, as a refresh writes the mart's.
CREATE FUNCTION pg_temp.ctas(query text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DROP TABLE IF EXISTS public.abc_bench_scratch;
	EXECUTE 'CREATE TABLE public.abc_bench_scratch AS ' || query;
END
$$;

CREATE TEMP TABLE abc_queries (mart text, kind text, query text);
INSERT INTO abc_queries VALUES
('gold.mart_countries_abc', 'ours', 'REFRESH MATERIALIZED VIEW gold.mart_countries_abc'),
('gold.mart_countries_abc', 'floor', $q$SELECT pg_temp.ctas('
	SELECT country, sum(line_total) AS revenue FROM silver.cleaned_transactions GROUP BY country')$q$),
('gold.mart_countries_abc', 'plain', $q$SELECT pg_temp.ctas('
	WITH v AS (
		SELECT country, sum(line_total) AS revenue FROM silver.cleaned_transactions GROUP BY country
	), r AS (
		SELECT country, revenue, row_number() OVER w AS rank, sum(revenue) OVER () AS total,
			   coalesce(sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum_before
		FROM v WINDOW w AS (ORDER BY revenue DESC, country)
	)
	SELECT rank, country, revenue, revenue / NULLIF(total, 0) AS share,
		   cum_before / NULLIF(total, 0) AS cum_share_before,
		   CASE WHEN total = 0 THEN ''C'' WHEN cum_before < 0.80 * total THEN ''A''
				WHEN cum_before < 0.95 * total THEN ''B'' ELSE ''C'' END AS abc_class
	FROM r')$q$),
('gold.mart_products_abc', 'ours', 'REFRESH MATERIALIZED VIEW gold.mart_products_abc'),
('gold.mart_products_abc', 'floor', $q$SELECT pg_temp.ctas('
	SELECT stock_code, sum(line_total) AS revenue FROM silver.cleaned_transactions GROUP BY stock_code')$q$),
('gold.mart_products_abc', 'plain', $q$SELECT pg_temp.ctas('
	WITH lines AS (
		SELECT stock_code, description, date_trunc(''month'', invoice_ts) AS month, quantity, line_total
		FROM silver.cleaned_transactions
	), v AS (
		SELECT stock_code, sum(line_total) AS revenue FROM lines GROUP BY stock_code
	), r AS (
		SELECT stock_code, revenue, row_number() OVER w AS rank, sum(revenue) OVER () AS total,
			   coalesce(sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum_before
		FROM v WINDOW w AS (ORDER BY revenue DESC, stock_code)
	), descriptions AS (
		SELECT DISTINCT ON (stock_code) stock_code, description
		FROM lines WHERE description IS NOT NULL
		GROUP BY stock_code, description
		ORDER BY stock_code, count(*) DESC, description
	), monthly AS (
		SELECT stock_code, month, sum(quantity) AS units FROM lines GROUP BY stock_code, month
	), dense AS (
		SELECT s.stock_code, coalesce(m.units, 0) AS units
		FROM (SELECT stock_code, min(month) AS first, max(month) AS last FROM monthly GROUP BY stock_code) s
			 CROSS JOIN LATERAL generate_series(s.first, s.last, interval ''1 month'') g(month)
			 LEFT JOIN monthly m ON m.stock_code = s.stock_code AND m.month = g.month
	), cv AS (
		SELECT stock_code, stddev_pop(units) / avg(units) AS cv FROM dense GROUP BY stock_code
	)
	SELECT r.rank, r.stock_code, d.description, r.revenue, r.revenue / NULLIF(r.total, 0) AS share,
		   r.cum_before / NULLIF(r.total, 0) AS cum_share_before,
		   CASE WHEN r.total = 0 THEN ''C'' WHEN r.cum_before < 0.80 * r.total THEN ''A''
				WHEN r.cum_before < 0.95 * r.total THEN ''B'' ELSE ''C'' END AS abc_class,
		   cv.cv, CASE WHEN cv.cv < 0.5 THEN ''X'' WHEN cv.cv < 1.0 THEN ''Y'' ELSE ''Z'' END AS xyz_class
	FROM r JOIN cv ON cv.stock_code = r.stock_code LEFT JOIN descriptions d ON d.stock_code = r.stock_code')$q$);

SET max_parallel_workers_per_gather = 0;
INSERT INTO abc_bench SELECT q.mart, 0, q.kind, b.seconds FROM abc_queries q, pg_temp.bench(q.kind, q.query) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO abc_bench SELECT q.mart, 2, q.kind, b.seconds FROM abc_queries q, pg_temp.bench(q.kind, q.query) b;
RESET max_parallel_workers_per_gather;
DROP TABLE public.abc_bench_scratch;

\echo '== ABC marts: refresh vs plain SQL vs floor (median of 3 runs, seconds)'
SELECT mart, workers,
	   max(seconds) FILTER (WHERE kind = 'ours') AS ours,
	   max(seconds) FILTER (WHERE kind = 'plain') AS plain_sql,
	   max(seconds) FILTER (WHERE kind = 'floor') AS floor,
	   round(max(seconds) FILTER (WHERE kind = 'plain') / NULLIF(max(seconds) FILTER (WHERE kind = 'ours'), 0), 2) AS x_faster_than_plain,
	   round(max(seconds) FILTER (WHERE kind = 'ours') / NULLIF(max(seconds) FILTER (WHERE kind = 'floor'), 0), 2) AS x_floor
FROM abc_bench
GROUP BY mart, workers
ORDER BY mart, workers;

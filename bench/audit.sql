-- Order-anomaly audit: refresh of gold.audit_order_anomalies against its
-- plain-SQL formulation (percentile_cont for each median, a second sort for
-- each MAD, row_number for the strongest price outlier) and against the
-- floor, one pass over each input computing the same ln() values (the
-- average per product and over the orders instead of median and MAD).
-- All three write their rows; serial and with 2 parallel workers.
-- Needs silver loaded and refreshed.
\i bench/lib.sql
SET client_min_messages = warning;
CREATE TEMP TABLE audit_bench (workers int, kind text, seconds numeric);

-- Write a query's rows to a scratch table, as a refresh writes the mart's.
CREATE FUNCTION pg_temp.ctas(query text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DROP TABLE IF EXISTS public.audit_bench_scratch;
	EXECUTE 'CREATE TABLE public.audit_bench_scratch AS ' || query;
END
$$;

CREATE TEMP TABLE audit_queries (kind text, query text);
INSERT INTO audit_queries VALUES
('ours', 'REFRESH MATERIALIZED VIEW gold.audit_order_anomalies'),
('floor', $q$SELECT pg_temp.ctas('
	SELECT stock_code, avg(ln(unit_price::float8)) AS center
	FROM silver.cleaned_transactions GROUP BY stock_code
	UNION ALL
	SELECT NULL, avg(ln(total::float8)) FROM silver.orders')$q$),
('plain', $q$SELECT pg_temp.ctas('
	WITH o AS (
		SELECT invoice_no, ln(total::float8) AS x FROM silver.orders
	), m AS (
		SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med FROM o
	), d AS (
		SELECT m.med, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(o.x - m.med)) AS mad
		FROM o CROSS JOIN m GROUP BY m.med
	), wz AS (
		SELECT o.invoice_no, CASE WHEN d.mad > 0 THEN 0.6745 * (o.x - d.med) / d.mad END AS z
		FROM o CROSS JOIN d
	), l AS (
		SELECT invoice_no, stock_code, ln(unit_price::float8) AS x FROM silver.cleaned_transactions
	), pm AS (
		SELECT stock_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med FROM l GROUP BY stock_code
	), pd AS (
		SELECT l.stock_code, pm.med, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(l.x - pm.med)) AS mad
		FROM l JOIN pm ON pm.stock_code = l.stock_code
		GROUP BY l.stock_code, pm.med
	), lz AS (
		SELECT l.invoice_no, 0.6745 * (l.x - pd.med) / pd.mad AS z
		FROM l JOIN pd ON pd.stock_code = l.stock_code
		WHERE pd.mad > 0
	), flags AS (
		SELECT invoice_no, z, ''wholesale_total'' AS reason FROM wz WHERE z > 3.5
		UNION ALL
		SELECT invoice_no, z, ''unit_price_outlier''
		FROM (SELECT invoice_no, z,
					 row_number() OVER (PARTITION BY invoice_no ORDER BY abs(z) DESC, z DESC) AS rn
			  FROM lz WHERE abs(z) > 3.5) s
		WHERE rn = 1
	)
	SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, f.z, f.reason
	FROM flags f JOIN silver.orders o ON o.invoice_no = f.invoice_no')$q$);

SET max_parallel_workers_per_gather = 0;
INSERT INTO audit_bench SELECT 0, q.kind, b.seconds FROM audit_queries q, pg_temp.bench(q.kind, q.query) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO audit_bench SELECT 2, q.kind, b.seconds FROM audit_queries q, pg_temp.bench(q.kind, q.query) b;
RESET max_parallel_workers_per_gather;
DROP TABLE public.audit_bench_scratch;

\echo '== gold.audit_order_anomalies: refresh vs plain SQL vs floor (median of 3 runs, seconds)'
SELECT workers,
	   max(seconds) FILTER (WHERE kind = 'ours') AS ours,
	   max(seconds) FILTER (WHERE kind = 'plain') AS plain_sql,
	   max(seconds) FILTER (WHERE kind = 'floor') AS floor,
	   round(max(seconds) FILTER (WHERE kind = 'plain') / NULLIF(max(seconds) FILTER (WHERE kind = 'ours'), 0), 2) AS x_faster_than_plain,
	   round(max(seconds) FILTER (WHERE kind = 'ours') / NULLIF(max(seconds) FILTER (WHERE kind = 'floor'), 0), 2) AS x_floor
FROM audit_bench
GROUP BY workers
ORDER BY workers;

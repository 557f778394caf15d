-- RFM: the mart refresh against the plain-SQL formulation of the spec
-- (count(DISTINCT), percentile_disc, CASE segments) and against the floor,
-- a bare sum over the same silver lines; serial and with 2 workers.
\i bench/lib.sql
CREATE TEMP TABLE rfm_bench (workers int, variant text, seconds numeric);
CREATE TEMP TABLE rfm_variants (ord int, variant text, query text);
INSERT INTO rfm_variants VALUES
(1, 'ours: REFRESH gold.mart_customer_segments', 'REFRESH MATERIALIZED VIEW gold.mart_customer_segments'),
(2, 'plain SQL: the same table', $q$
CREATE TEMP TABLE rfm_plain AS
WITH customers AS (
	SELECT customer_id, min(invoice_ts) AS first_purchase, max(invoice_ts) AS last_purchase,
		   count(DISTINCT invoice_no) AS frequency, sum(line_total) AS monetary
	FROM silver.cleaned_transactions GROUP BY customer_id
), measured AS (
	SELECT c.*, a.as_of - c.last_purchase::date AS recency_days, a.as_of
	FROM customers c, (SELECT max(last_purchase)::date + 1 AS as_of FROM customers) a
), cuts AS (
	SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY recency_days) AS rc,
		   percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY frequency) AS fc,
		   percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY monetary) AS mc
	FROM measured
), scored AS (
	SELECT m.*,
		   1 + (SELECT count(*) FROM unnest(cuts.rc) x WHERE m.recency_days < x)::int AS r,
		   1 + (SELECT count(*) FROM unnest(cuts.fc) x WHERE m.frequency > x)::int AS f,
		   1 + (SELECT count(*) FROM unnest(cuts.mc) x WHERE m.monetary > x)::int AS m
	FROM measured m, cuts
)
SELECT customer_id, recency_days, frequency, monetary, r, f, m, r::text || f || m AS rfm_cell,
	   CASE WHEN r <= 2 AND f <= 2 THEN 'Hibernating' WHEN r <= 2 AND f <= 4 THEN 'At Risk'
			WHEN r <= 2 THEN 'Can''t Lose Them' WHEN r = 3 AND f <= 2 THEN 'About to Sleep'
			WHEN r = 3 AND f = 3 THEN 'Need Attention' WHEN r IN (3, 4) AND f >= 4 THEN 'Loyal Customers'
			WHEN r = 4 AND f = 1 THEN 'Promising' WHEN r = 5 AND f = 1 THEN 'New Customers'
			WHEN f IN (2, 3) THEN 'Potential Loyalists' ELSE 'Champions' END AS segment,
	   CASE WHEN recency_days > 90 THEN 'At Risk' WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'Champions'
			WHEN m <= 2 THEN 'Lowspender' ELSE 'Regular' END AS seed_segment,
	   first_purchase, last_purchase, as_of
FROM scored;
DROP TABLE rfm_plain;
$q$),
(3, 'floor: SELECT sum(line_total) FROM silver.cleaned_transactions',
 'SELECT sum(line_total) FROM silver.cleaned_transactions');

SET max_parallel_workers_per_gather = 0;
INSERT INTO rfm_bench SELECT 0, v.variant, b.seconds FROM rfm_variants v, pg_temp.bench(v.variant, v.query) b;
SET max_parallel_workers_per_gather = 2;
INSERT INTO rfm_bench SELECT 2, v.variant, b.seconds FROM rfm_variants v, pg_temp.bench(v.variant, v.query) b;
RESET max_parallel_workers_per_gather;

\echo '== gold.mart_customer_segments: refresh vs plain SQL vs floor (median seconds)'
SELECT b.workers, b.variant, b.seconds,
	   round(b.seconds / nullif(f.seconds, 0), 2) AS x_floor,
	   round(p.seconds / nullif(b.seconds, 0), 2) AS plain_sql_x_slower
FROM rfm_bench b
JOIN rfm_variants v ON v.variant = b.variant
JOIN rfm_bench f ON f.workers = b.workers AND f.variant LIKE 'floor%'
JOIN rfm_bench p ON p.workers = b.workers AND p.variant LIKE 'plain%'
ORDER BY b.workers, v.ord;

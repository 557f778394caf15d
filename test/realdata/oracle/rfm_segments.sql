-- gold.mart_customer_segments in plain SQL, independent of the C aggregates:
-- GROUP BY with count(DISTINCT), percentile_disc cutpoints, the segment maps
-- of the spec written out as CASE.  Used by test/realdata/sql/rfm.sql as the
-- oracle and by bench/rfm.sql as the plain-SQL contender.
WITH customers AS (
	SELECT customer_id, min(invoice_ts) AS first_purchase, max(invoice_ts) AS last_purchase,
		   count(DISTINCT invoice_no) AS frequency, sum(line_total) AS monetary
	FROM silver.net_transactions
	GROUP BY customer_id
),
as_of AS (SELECT max(invoice_ts)::date + 1 AS as_of FROM silver.net_transactions),
measured AS (
	SELECT c.*, a.as_of - c.last_purchase::date AS recency_days, a.as_of
	FROM customers c, as_of a
),
cuts AS (
	SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY recency_days) AS rc,
		   percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY frequency) AS fc,
		   percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY monetary) AS mc
	FROM measured
),
scored AS (
	SELECT m.*,
		   1 + (SELECT count(*) FROM unnest(cuts.rc) x WHERE m.recency_days < x)::int AS r,
		   1 + (SELECT count(*) FROM unnest(cuts.fc) x WHERE m.frequency > x)::int AS f,
		   1 + (SELECT count(*) FROM unnest(cuts.mc) x WHERE m.monetary > x)::int AS m
	FROM measured m, cuts
)
SELECT customer_id, recency_days, frequency, monetary, r, f, m, r::text || f || m AS rfm_cell,
	   CASE
		   WHEN r <= 2 AND f <= 2 THEN 'Hibernating'
		   WHEN r <= 2 AND f <= 4 THEN 'At Risk'
		   WHEN r <= 2 THEN 'Can''t Lose Them'
		   WHEN r = 3 AND f <= 2 THEN 'About to Sleep'
		   WHEN r = 3 AND f = 3 THEN 'Need Attention'
		   WHEN r IN (3, 4) AND f >= 4 THEN 'Loyal Customers'
		   WHEN r = 4 AND f = 1 THEN 'Promising'
		   WHEN r = 5 AND f = 1 THEN 'New Customers'
		   WHEN f IN (2, 3) THEN 'Potential Loyalists'
		   ELSE 'Champions'
	   END AS segment,
	   CASE
		   WHEN recency_days > 90 THEN 'At Risk'
		   WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'Champions'
		   WHEN m <= 2 THEN 'Lowspender'
		   ELSE 'Regular'
	   END AS seed_segment,
	   first_purchase, last_purchase, as_of
FROM scored

-- gold.mart_customer_segments on the real file against an independent
-- plain-SQL formulation of the spec: GROUP BY with count(DISTINCT),
-- percentile_disc cutpoints, the segment maps written out as CASE.
CREATE TEMP TABLE rfm_oracle AS
WITH customers AS (
	SELECT customer_id, min(invoice_ts) AS first_purchase, max(invoice_ts) AS last_purchase,
		   count(DISTINCT invoice_no) AS frequency, sum(line_total) AS monetary
	FROM silver.cleaned_transactions
	GROUP BY customer_id
),
as_of AS (SELECT max(invoice_ts)::date + 1 AS as_of FROM silver.cleaned_transactions),
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
FROM scored;

SELECT (SELECT count(*) FROM rfm_oracle) AS oracle_customers,
	   (SELECT count(*) FROM gold.mart_customer_segments) AS mart_customers,
	   (SELECT count(DISTINCT customer_id) FROM silver.cleaned_transactions) AS silver_customers;

-- customer by customer, every column
SELECT count(*) AS mismatches
FROM rfm_oracle o
FULL JOIN gold.mart_customer_segments g USING (customer_id)
WHERE (o.recency_days, o.frequency, o.monetary, o.r, o.f, o.m, o.rfm_cell, o.segment, o.seed_segment,
	   o.first_purchase, o.last_purchase, o.as_of)
	  IS DISTINCT FROM
	  (g.recency_days, g.frequency, g.monetary, g.r, g.f, g.m, g.rfm_cell, g.segment, g.seed_segment,
	   g.first_purchase, g.last_purchase, g.as_of);

-- equal inputs always get equal scores
SELECT count(*) AS inconsistent_scores
FROM (SELECT recency_days, frequency, monetary FROM gold.mart_customer_segments
	  GROUP BY 1, 2, 3 HAVING count(DISTINCT rfm_cell) > 1) t;

-- headline figures
SELECT DISTINCT as_of FROM gold.mart_customer_segments;
SELECT segment, count(*) AS customers, sum(monetary) AS revenue
FROM rfm_oracle GROUP BY segment ORDER BY segment;
SELECT seed_segment, count(*) AS customers FROM rfm_oracle GROUP BY seed_segment ORDER BY seed_segment;
SELECT segment, customers, pct_customers, revenue, pct_revenue FROM gold.segment_summary ORDER BY segment;

-- the one-call form on silver gives the mart; serial and parallel agree
CREATE TEMP TABLE rfm_serial AS
SELECT * FROM retail.rfm_segments('silver.cleaned_transactions');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT count(*) AS parallel_vs_serial_mismatches
FROM (SELECT * FROM retail.rfm_segments('silver.cleaned_transactions')
	  EXCEPT ALL SELECT * FROM rfm_serial) d;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT count(*) AS mart_vs_function_mismatches
FROM (SELECT * FROM rfm_serial EXCEPT ALL SELECT * FROM gold.mart_customer_segments) d;

-- gold.mart_customer_segments on the real file against an independent
-- plain-SQL formulation of the spec.
-- The oracle lives in test/realdata/oracle/ (bench/rfm.sql races it).
\set rfm_oracle `cat test/realdata/oracle/rfm_segments.sql`
CREATE TEMP TABLE rfm_oracle AS :rfm_oracle;

SELECT (SELECT count(*) FROM rfm_oracle) AS oracle_customers,
	   (SELECT count(*) FROM gold.mart_customer_segments) AS mart_customers,
	   (SELECT count(DISTINCT customer_id) FROM silver.net_transactions) AS silver_customers;

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
SELECT segment, customers, round(customer_share::numeric, 4) AS customer_share, revenue,
	   round(revenue_share::numeric, 4) AS revenue_share
FROM gold.segment_summary;

-- the one-call form on silver gives the mart; serial and parallel agree
CREATE TEMP TABLE rfm_serial AS
SELECT * FROM retail.rfm_segments('silver.net_transactions');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT count(*) AS parallel_vs_serial_mismatches
FROM (SELECT * FROM retail.rfm_segments('silver.net_transactions')
	  EXCEPT ALL SELECT * FROM rfm_serial) d;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT count(*) AS mart_vs_function_mismatches
FROM (SELECT * FROM rfm_serial EXCEPT ALL SELECT * FROM gold.mart_customer_segments) d;

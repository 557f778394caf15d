
-- gold.dim_customers: one row per customer, what BI tools join and slice by:
-- the country of the first order, purchases, cohort, RFM (80_gold.sql) and
-- customer value (82_customer_value.sql).  This part is also run by the
-- upgrade scripts.
CREATE MATERIALIZED VIEW gold.dim_customers AS
SELECT s.customer_id, o.country, s.first_purchase, s.last_purchase, s.frequency AS orders,
	   s.monetary AS revenue, date_trunc('month', s.first_purchase)::date AS cohort_month,
	   s.recency_days, s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment,
	   v.p_alive, v.expected_purchases_90d, v.expected_value, v.clv
FROM gold.mart_customer_segments s
	 LEFT JOIN (SELECT DISTINCT ON (o.customer_id) o.customer_id, o.country
				FROM silver.orders o
				ORDER BY o.customer_id, o.invoice_ts, o.invoice_no) o ON o.customer_id = s.customer_id
	 LEFT JOIN gold.mart_customer_value v ON v.customer_id = s.customer_id
ORDER BY s.customer_id
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.dim_customers IS
	'One row per customer: country of the first order, purchases, cohort, RFM scores and segments, predicted value';
CREATE UNIQUE INDEX ON gold.dim_customers (customer_id);
CREATE INDEX ON gold.dim_customers (country);
CREATE INDEX ON gold.dim_customers (segment);

INSERT INTO retail.refresh_steps VALUES (600, 'gold', 'gold', 'dim_customers', NULL);

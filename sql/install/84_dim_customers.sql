
-- gold.dim_customers: one row per customer, what BI tools join and slice by:
-- the country of the first order (silver.customer_state), purchases, cohort,
-- RFM (45_rfm_segments.sql) and customer value (82_customer_value.sql).  A
-- view over the marts and the state: the refresh has nothing more to do.  This part is
-- also run by the upgrade scripts.
CREATE VIEW gold.dim_customers AS
SELECT s.customer_id, c.first_order_country AS country, s.first_purchase, s.last_purchase, s.frequency AS orders,
	   s.monetary AS revenue, date_trunc('month', s.first_purchase)::date AS cohort_month,
	   s.recency_days, s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment,
	   v.p_alive, v.expected_purchases_90d, v.expected_value, v.clv
FROM gold.mart_customer_segments s
	 LEFT JOIN silver.customer_state c ON c.customer_id = s.customer_id
	 LEFT JOIN gold.mart_customer_value v ON v.customer_id = s.customer_id
ORDER BY s.customer_id;
COMMENT ON VIEW gold.dim_customers IS
	'One row per customer: country of the first order, purchases, cohort, RFM scores and segments, predicted value';

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold.dim_customers.country IS
	'Country of the customer''s first order';
COMMENT ON COLUMN gold.dim_customers.orders IS
	'Distinct invoices of the customer (RFM frequency)';
COMMENT ON COLUMN gold.dim_customers.revenue IS
	'Revenue of the customer: sum of line_total (RFM monetary)';
COMMENT ON COLUMN gold.dim_customers.cohort_month IS
	'Cohort: calendar month of the customer''s first purchase';

-- Gold for BI on the UCI file: the segment snapshots against the line-level
-- path, the migration matrix reconciled with the snapshots, the customer
-- dimension and the audit's named lines against plain SQL, then the
-- questions of the README's walk-through.
SET datestyle = 'ISO, YMD';

-- Snapshots: 2011-12-10 (the day after the last line) and the first day of
-- each month from 2011-01 to 2011-12: 13, the default of segment_snapshots.
SELECT as_of, count(*) AS customers FROM gold.segment_history GROUP BY as_of ORDER BY as_of;

-- The current snapshot is the mart; an earlier one is retail.rfm_segments
-- of the lines before its date (rows compared as text, both ways).
SELECT count(*) AS current_vs_mart
FROM ((SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM gold.segment_history WHERE as_of = '2011-12-10'
	   EXCEPT
	   SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM gold.mart_customer_segments)
	  UNION ALL
	  (SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM gold.mart_customer_segments
	   EXCEPT
	   SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM gold.segment_history WHERE as_of = '2011-12-10')) d;
SELECT count(*) AS june_vs_lines
FROM ((SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM gold.segment_history WHERE as_of = '2011-06-01'
	   EXCEPT
	   SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM retail.rfm_segments('silver.net_transactions', '2011-06-01'))
	  UNION ALL
	  (SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM retail.rfm_segments('silver.net_transactions', '2011-06-01')
	   EXCEPT
	   SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
	   FROM gold.segment_history WHERE as_of = '2011-06-01')) d;

-- Every pair of consecutive snapshots: the matrix holds every customer of
-- the later one, and its revenue; the customers from segment NULL are those
-- whose first line falls between the two dates.
SELECT count(*) AS pairs,
	   count(*) FILTER (WHERE m.customers <> h.customers OR m.revenue <> h.revenue) AS unreconciled,
	   count(*) FILTER (WHERE m.new_customers <> n.first_between) AS new_mismatches
FROM (SELECT from_as_of, to_as_of, sum(customers) AS customers, sum(revenue) AS revenue,
			 coalesce(sum(customers) FILTER (WHERE from_segment IS NULL), 0) AS new_customers
	  FROM gold.segment_migration GROUP BY from_as_of, to_as_of) m
	 JOIN (SELECT as_of, count(*) AS customers, sum(monetary) AS revenue
		   FROM gold.segment_history GROUP BY as_of) h ON h.as_of = m.to_as_of
	 CROSS JOIN LATERAL (SELECT count(*) AS first_between FROM silver.customer_state c
						 WHERE c.first_purchase >= m.from_as_of AND c.first_purchase < m.to_as_of) n;

-- The dimension: the country of each customer's first order (earliest
-- invoice_ts, then invoice_no), from the lines.
SELECT count(*) AS dim_rows, count(*) FILTER (WHERE d.country IS DISTINCT FROM o.country) AS country_mismatches,
	   count(*) FILTER (WHERE d.revenue <> s.monetary OR d.orders <> s.frequency
						OR d.segment <> s.segment) AS mart_mismatches
FROM gold.dim_customers d
	 JOIN gold.mart_customer_segments s USING (customer_id)
	 LEFT JOIN (SELECT DISTINCT ON (t.customer_id) t.customer_id, t.country
				FROM silver.net_transactions t
				JOIN (SELECT invoice_no, min(invoice_ts) AS ts FROM silver.net_transactions GROUP BY 1) i
					 USING (invoice_no)
				ORDER BY t.customer_id, i.ts, t.invoice_no, t.load_ordinal) o USING (customer_id);

-- The audit names the line of a price outlier: its price is the product's
-- farthest from the median, the median is percentile_cont(0.5) of the
-- product's clean lines (rounded to the mart's 6 decimals).
SELECT count(*) AS price_outliers,
	   count(*) FILTER (WHERE a.product_median_price <> round(p.median::numeric, 6)) AS median_mismatches,
	   count(*) FILTER (WHERE NOT EXISTS (SELECT FROM silver.net_transactions t
										 WHERE t.invoice_no = a.invoice_no AND t.stock_code = a.stock_code
										   AND t.unit_price = a.unit_price)) AS line_not_in_order
FROM gold.audit_order_anomalies a
	 JOIN (SELECT stock_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY unit_price::numeric) AS median
		   FROM silver.net_transactions GROUP BY stock_code) p USING (stock_code)
WHERE a.reason = 'unit_price_outlier';
SELECT reason, count(*) FROM gold.audit_order_anomalies GROUP BY reason ORDER BY reason;

-- The walk-through.  Which countries hold our Champions?
SELECT country, count(*) AS champions, sum(revenue) AS revenue
FROM gold.dim_customers WHERE segment = 'Champions'
GROUP BY country ORDER BY champions DESC, country LIMIT 5;
-- Who moved from Champions to At Risk since last month, and what revenue do
-- they represent?  None in the 40 days to 2011-12-10 (At Risk needs r <= 2,
-- over 100 days without a purchase here); since June, some.  Where did last
-- month's Champions go?
SELECT from_as_of, to_as_of, customers, revenue
FROM retail.segment_migration('2011-11-01', '2011-12-10')
WHERE from_segment = 'Champions' AND to_segment = 'At Risk';
SELECT from_as_of, to_as_of, customers, revenue
FROM retail.segment_migration('2011-06-01', '2011-12-10')
WHERE from_segment = 'Champions' AND to_segment = 'At Risk';
SELECT to_segment, customers, revenue
FROM retail.segment_migration('2011-11-01', '2011-12-10')
WHERE from_segment = 'Champions' ORDER BY customers DESC;
-- Month-1 retention without the running month.
SELECT cohorts, customers, active_customers, round(weighted_retention::numeric, 4) AS month1_retention
FROM gold.cohort_period_averages WHERE period = 1;

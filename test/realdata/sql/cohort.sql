-- Cohort retention on the UCI file, after retail.refresh(): the mart and the
-- function against the plain-SQL oracle of test/cohort_oracle.sql, cell by
-- cell, then the shape of the matrix and headline figures each computed a
-- second way straight from silver.
SET datestyle = 'ISO, YMD';
\set ECHO none
\i test/cohort_oracle.sql
\set ECHO all

-- Mismatching cells (all 0): the mart (months, bounded), ISO weeks, and
-- unbounded months through retail.cohort_retention.
-- The mart's retention is a double precision (checked against the exact
-- ratio just after), the oracle's a numeric: the mart's cells carry the
-- exact ratio.
SELECT pg_temp.cohort_mismatches(
		   ARRAY(SELECT ROW(cohort_month, period, cohort_size, active_customers,
							active_customers::numeric / cohort_size, revenue)::retail.cohort_cell
				 FROM gold.mart_cohort_retention),
		   'silver.net_transactions') AS mart_month,
	   pg_temp.cohort_mismatches(
		   ARRAY(SELECT r FROM retail.cohort_retention('silver.net_transactions', 'week') r),
		   'silver.net_transactions', 'week') AS week,
	   pg_temp.cohort_mismatches(
		   ARRAY(SELECT r FROM retail.cohort_retention('silver.net_transactions', 'month', true) r),
		   'silver.net_transactions', 'month', true) AS month_unbounded;

SELECT count(*) AS retention_not_the_ratio FROM gold.mart_cohort_retention
WHERE retention <> (active_customers::numeric(60, 40) / cohort_size)::double precision;

-- Four shards, lines dealt round-robin in load order (4260 of the 4334
-- customers span several): merging their partial states gives the mart.
SELECT (SELECT retail.cohort_merge(s)
		FROM (SELECT retail.cohort_state(customer_id, invoice_ts, line_total) AS s
			  FROM silver.net_transactions GROUP BY load_ordinal % 4) shards)
	 = ARRAY(SELECT ROW(cohort_month, period, cohort_size, active_customers, active_customers::numeric / cohort_size,
						revenue)::retail.cohort_cell
			 FROM gold.mart_cohort_retention ORDER BY cohort_month, period) AS shards_equal_mart;

-- Shape: the data runs from 2010-12-01 to 2011-12-09, so 13 monthly cohorts
-- and a dense triangle of 13 + 12 + ... + 1 = 91 cells; every cohort has
-- periods 0 .. its distance to December 2011; period 0 retention is exactly 1.
SELECT count(DISTINCT cohort_month) AS cohorts, count(*) AS cells,
	   min(cohort_month) AS first_cohort, max(cohort_month) AS last_cohort,
	   count(*) FILTER (WHERE period = 0) AS period0_cells,
	   count(*) FILTER (WHERE period = 0 AND retention <> 1) AS period0_not_1
FROM gold.mart_cohort_retention;
SELECT count(*) AS cohorts_not_dense
FROM (SELECT cohort_month, count(*) AS periods, min(period) AS first, max(period) AS last
	  FROM gold.mart_cohort_retention GROUP BY cohort_month) c
WHERE first <> 0 OR periods <> last + 1
   OR last <> (2011 - extract(year FROM cohort_month)) * 12 + 12 - extract(month FROM cohort_month);
-- Zero cells: every monthly cohort has returning customers in every month,
-- but weekly cohorts have empty weeks, and they are present.
SELECT (SELECT count(*) FROM gold.mart_cohort_retention WHERE active_customers = 0) AS month_zero_cells,
	   count(*) FILTER (WHERE active_customers = 0) AS week_zero_cells,
	   count(*) FILTER (WHERE active_customers = 0 AND revenue = 0 AND retention = 0) AS week_zero_cells_all_zero,
	   count(*) AS week_cells
FROM retail.cohort_retention('silver.net_transactions', 'week');

-- Headline figures, mart against silver directly.
-- December 2010 cohort: silver starts on 2010-12-01, so its customers are
-- those with a line before 2011; month-1 retention: those of them with a
-- line in January 2011.
SELECT m.cohort_size, s.customers, m.cohort_size = s.customers AS same_size,
	   m1.active_customers, s.back_in_january, m1.active_customers = s.back_in_january AS same_month1
FROM gold.mart_cohort_retention m
JOIN gold.mart_cohort_retention m1 ON m1.cohort_month = m.cohort_month AND m1.period = 1,
	 (SELECT count(*) AS customers, count(*) FILTER (WHERE in_january) AS back_in_january
	  FROM (SELECT customer_id, min(invoice_ts) AS first_line,
				   bool_or(invoice_ts >= '2011-01-01' AND invoice_ts < '2011-02-01') AS in_january
			FROM silver.net_transactions GROUP BY customer_id) c
	  WHERE first_line < '2011-01-01') s
WHERE m.cohort_month = '2010-12-01' AND m.period = 0;
-- Every customer in exactly one cohort; all revenue in some cell; one active
-- count per customer and month with a line.
SELECT m.customers, s.customers AS silver_customers,
	   m.revenue, s.revenue AS silver_revenue,
	   m.active, s.customer_months AS silver_customer_months
FROM (SELECT sum(cohort_size) FILTER (WHERE period = 0) AS customers, sum(revenue) AS revenue,
			 sum(active_customers) AS active
	  FROM gold.mart_cohort_retention) m,
	 (SELECT count(DISTINCT customer_id) AS customers, sum(line_total) AS revenue,
			 count(DISTINCT (customer_id, date_trunc('month', invoice_ts))) AS customer_months
	  FROM silver.net_transactions) s;
-- The month-1 figure analysts quote, weighted by cohort size: customers with
-- a line in the month after their first month, over all customers whose
-- first month is before November 2011 (December 2011, month 1 of the
-- November cohort, had not ended by the last day of the data, 2011-12-09).
WITH months AS (
	SELECT DISTINCT customer_id, date_trunc('month', invoice_ts) AS month
	FROM silver.net_transactions
),
firsts AS (
	SELECT customer_id, min(month) AS first_month FROM months GROUP BY customer_id
)
SELECT (SELECT weighted_retention FROM gold.cohort_period_averages WHERE period = 1),
	   (count(m.customer_id)::numeric / count(*))::double precision AS from_silver
FROM firsts f
LEFT JOIN months m ON m.customer_id = f.customer_id AND m.month = f.first_month + interval '1 month'
WHERE f.first_month < '2011-11-01';
-- which cells are running: the December 2011 one of each cohort
SELECT count(*) AS cells, count(*) FILTER (WHERE NOT complete) AS running,
	   count(*) FILTER (WHERE NOT complete AND cohort_month + make_interval(months => period) <> '2011-12-01')
	   AS running_not_december
FROM gold.mart_cohort_retention;

-- For people.
SELECT * FROM gold.cohort_triangle_display;
SELECT period, cohorts, customers, active_customers, round(avg_retention::numeric, 4) AS avg_retention,
	   round(weighted_retention::numeric, 4) AS weighted_retention
FROM gold.cohort_period_averages;

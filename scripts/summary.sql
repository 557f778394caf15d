-- Printed at the end of scripts/demo: what each layer holds.
\pset footer off
\echo '== What the refresh did'
SELECT layer, relation, rows, seconds FROM retail.last_refresh;
\echo '== Bronze to silver: where every raw line went'
SELECT coalesce(reason, '(clean)') AS landed_as, count(*) AS lines,
	   round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct
FROM silver.transactions
GROUP BY reason
ORDER BY count(*) DESC;
\echo '== Customer segments (RFM, preset standard)'
SELECT segment, customers, round(100 * customer_share::numeric, 2) AS pct_customers, round(revenue, 2) AS revenue,
	   round(100 * revenue_share::numeric, 2) AS pct_revenue
FROM gold.segment_summary;
\echo '== Countries by revenue (ABC): the first ten'
SELECT rank, country, round(revenue, 2) AS revenue, round(100 * share::numeric, 2) AS pct, abc_class
FROM gold.mart_countries_abc ORDER BY rank LIMIT 10;
\echo '== Products: the ABC-XYZ matrix'
SELECT abc_class, count(*) FILTER (WHERE xyz_class = 'X') AS x, count(*) FILTER (WHERE xyz_class = 'Y') AS y,
	   count(*) FILTER (WHERE xyz_class = 'Z') AS z, round(sum(revenue), 2) AS revenue
FROM gold.mart_products_abc GROUP BY abc_class ORDER BY abc_class;
\echo '== Orders flagged by the audit'
SELECT reason, count(*) AS orders, round(min(abs(z))::numeric, 2) AS min_abs_z FROM gold.audit_order_anomalies GROUP BY reason ORDER BY reason;
\echo '== Cohort retention: the first cohorts, periods 0 to 6 (* the period is still running)'
SELECT cohort_month, cohort_size, p0, p1, p2, p3, p4, p5, p6 FROM gold.cohort_triangle_display LIMIT 6;
\echo '== Month-1 retention over the complete cells'
SELECT cohorts, customers, round(100 * weighted_retention::numeric, 1) AS pct FROM gold.cohort_period_averages
WHERE period = 1;

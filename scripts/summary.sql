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
SELECT segment, customers, pct_customers, revenue, pct_revenue FROM gold.segment_summary ORDER BY revenue DESC;
\echo '== Countries by revenue (ABC): the first ten'
SELECT rank, country, revenue, round(share * 100, 2) AS pct, abc_class
FROM gold.mart_countries_abc ORDER BY rank LIMIT 10;
\echo '== Products: the ABC-XYZ matrix'
SELECT abc_class, count(*) FILTER (WHERE xyz_class = 'X') AS x, count(*) FILTER (WHERE xyz_class = 'Y') AS y,
	   count(*) FILTER (WHERE xyz_class = 'Z') AS z, sum(revenue) AS revenue
FROM gold.mart_products_abc GROUP BY abc_class ORDER BY abc_class;
\echo '== Orders flagged by the audit'
SELECT reason, count(*) AS orders, round(min(abs(z))::numeric, 2) AS min_abs_z FROM gold.audit_order_anomalies GROUP BY reason ORDER BY reason;
\echo '== Cohort retention (%): the first cohorts, periods 0 to 6'
SELECT cohort_month, cohort_size, p0, p1, p2, p3, p4, p5, p6 FROM gold.cohort_triangle ORDER BY cohort_month LIMIT 6;

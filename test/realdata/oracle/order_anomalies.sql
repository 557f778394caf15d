-- gold.audit_order_anomalies in plain SQL, independent of the C aggregate:
-- percentile_cont(0.5) for each median, a second percentile_cont over the
-- absolute deviations for each MAD, percentile_disc for a product's two
-- middle prices (exp(median)^2 is their product, so that "within a factor
-- 1.25 of the median price" is decided exactly), row_number for the strongest
-- price outlier of an order.  Used by test/realdata/sql/audit.sql as the oracle and
-- by bench/audit.sql as the plain-SQL contender.  It reads the net lines
-- (silver.net_transactions) and makes their orders as the contract says:
-- customer and country of the first line by load order, earliest time.
WITH orders AS (
	SELECT invoice_no,
		   (array_agg(customer_id ORDER BY load_ordinal))[1] AS customer_id,
		   (array_agg(country ORDER BY load_ordinal))[1] AS country,
		   min(invoice_ts) AS invoice_ts, sum(line_total) AS total
	FROM silver.net_transactions
	GROUP BY invoice_no
), o AS (
	SELECT invoice_no, ln(total::float8) AS x FROM orders
), m AS (
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med FROM o
), d AS (
	SELECT m.med, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(o.x - m.med)) AS mad
	FROM o CROSS JOIN m GROUP BY m.med
), wz AS (
	SELECT o.invoice_no, CASE WHEN d.mad > 0 THEN 0.6745 * (o.x - d.med) / d.mad END AS z
	FROM o CROSS JOIN d
), l AS (
	SELECT invoice_no, stock_code, unit_price, ln(unit_price::float8) AS x FROM silver.net_transactions
), middle AS (
	SELECT stock_code, percentile_disc(0.5) WITHIN GROUP (ORDER BY unit_price) AS lo,
		   percentile_disc(0.5) WITHIN GROUP (ORDER BY unit_price DESC) AS hi
	FROM l GROUP BY stock_code
), pm AS (
	SELECT stock_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med FROM l GROUP BY stock_code
), pd AS (
	SELECT l.stock_code, pm.med, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(l.x - pm.med)) AS mad
	FROM l JOIN pm ON pm.stock_code = l.stock_code
	GROUP BY l.stock_code, pm.med
), lz AS (
	-- the scale max(MAD / 0.6745, ln(1.25) / 3.5); within a factor 1.25 of
	-- the median price never an outlier
	SELECT l.invoice_no, (l.x - pd.med) / greatest(pd.mad / 0.6745, ln(1.25::float8) / 3.5) AS z
	FROM l JOIN pd ON pd.stock_code = l.stock_code
		 JOIN middle m ON m.stock_code = l.stock_code
	WHERE l.unit_price ^ 2 > 1.5625 * m.lo * m.hi OR 1.5625 * l.unit_price ^ 2 < m.lo * m.hi
), flags AS (
	SELECT invoice_no, z, 'wholesale_total' AS reason FROM wz WHERE z > 3.5
	UNION ALL
	SELECT invoice_no, z, 'unit_price_outlier'
	FROM (SELECT invoice_no, z,
				 row_number() OVER (PARTITION BY invoice_no ORDER BY abs(z) DESC, z DESC) AS rn
		  FROM lz WHERE abs(z) > 3.5) s
	WHERE rn = 1
)
SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, f.z, f.reason
FROM flags f JOIN orders o ON o.invoice_no = f.invoice_no

-- gold.audit_order_anomalies on the real UCI data against an independent
-- plain-SQL formulation: percentile_cont(0.5) for the medians, a second
-- percentile_cont over the absolute deviations for the MADs, row_number for
-- the strongest price outlier of an order.  Set and z must agree (z to 1e-9).

-- The oracle lives in test/realdata/oracle/ (bench/audit.sql races it).
\set anomalies_oracle `cat test/realdata/oracle/order_anomalies.sql`
CREATE TEMP TABLE oracle_anomalies AS :anomalies_oracle;

SELECT count(*) AS anomaly_mismatches
FROM gold.audit_order_anomalies a
	 FULL JOIN oracle_anomalies o ON o.invoice_no = a.invoice_no AND o.reason = a.reason
WHERE a.invoice_no IS NULL OR o.invoice_no IS NULL
   OR abs(a.z - o.z) > 1e-9
   OR a.customer_id IS DISTINCT FROM o.customer_id OR a.country <> o.country
   OR a.invoice_ts <> o.invoice_ts OR a.total <> o.total;

-- The robust centre of ln(order total), C aggregate against percentile_cont.
SELECT count(*) AS center_mismatches
FROM (SELECT (retail.median_mad(ln(total::float8))).* FROM silver.orders) c,
	 (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ln(total::float8)) AS median FROM silver.orders) m,
	 LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(ln(total::float8) - m.median)) AS mad
			  FROM silver.orders) d
WHERE c.median <> m.median OR c.mad <> d.mad;

-- Per product, the same comparison over ln(unit_price).
SELECT count(*) AS product_center_mismatches
FROM (SELECT stock_code, (retail.median_mad(ln(unit_price::float8))).*
	  FROM silver.net_transactions GROUP BY stock_code) c
	 FULL JOIN (SELECT l.stock_code, pm.med,
					   percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(ln(l.unit_price::float8) - pm.med)) AS mad
				FROM silver.net_transactions l
					 JOIN (SELECT stock_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY ln(unit_price::float8)) AS med
						   FROM silver.net_transactions GROUP BY stock_code) pm
					 ON pm.stock_code = l.stock_code
				GROUP BY l.stock_code, pm.med) p
	 ON p.stock_code = c.stock_code
WHERE c.stock_code IS NULL OR p.stock_code IS NULL OR c.median <> p.med OR c.mad <> p.mad;

-- The mart's centres come from the counts of silver.product_prices through
-- the weighted form: the same, to the last bit, as the unweighted form over
-- the counted lines.
SELECT count(*) AS weighted_center_mismatches
FROM (SELECT stock_code, (retail.median_mad(ln(unit_price::float8), lines)).*
	  FROM silver.product_prices GROUP BY stock_code) w
	 FULL JOIN (SELECT stock_code, (retail.median_mad(ln(unit_price::float8))).*
				FROM silver.net_transactions GROUP BY stock_code) c
	 ON c.stock_code = w.stock_code
WHERE c.stock_code IS NULL OR w.stock_code IS NULL OR c.median <> w.median OR c.mad <> w.mad;

-- Most products sell at one price on over half their lines (MAD 0); with
-- the scale's floor ln(1.25) / 3.5 they are scored too (before 0.3.0 only
-- those with a spread were).  Orders flagged for unit_price_outlier by the
-- MAD of the named product.
SELECT count(*) FILTER (WHERE mad > 0) AS products_with_price_spread, count(*) AS products
FROM (SELECT stock_code, (retail.median_mad(ln(unit_price::float8))).*
	  FROM silver.net_transactions GROUP BY stock_code) c;
SELECT c.mad > 0 AS product_with_price_spread, count(*) AS orders
FROM gold.audit_order_anomalies a
	 JOIN (SELECT stock_code, (retail.median_mad(ln(unit_price::float8))).*
		   FROM silver.net_transactions GROUP BY stock_code) c ON c.stock_code = a.stock_code
WHERE a.reason = 'unit_price_outlier'
GROUP BY 1 ORDER BY 1;

-- Headline figures: median and MAD of ln(total) (total ~ 301.8, MAD factor
-- ~ e^0.54), flagged orders per reason, orders carrying both reasons.
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ln(total::float8))::numeric, 9) AS median_ln_total,
	   count(*) AS orders
FROM silver.orders;
SELECT reason, count(*) AS orders, round(min(z)::numeric, 6) AS min_z, round(max(z)::numeric, 6) AS max_z
FROM oracle_anomalies GROUP BY reason ORDER BY reason;
SELECT count(*) AS orders_with_both_reasons
FROM (SELECT invoice_no FROM oracle_anomalies GROUP BY invoice_no HAVING count(*) = 2) s;
SELECT invoice_no, customer_id, country, total, round(z::numeric, 6) AS z, reason
FROM oracle_anomalies WHERE reason = 'wholesale_total' ORDER BY z DESC LIMIT 3;

-- The threshold is an argument of the function behind the mart.
SELECT reason, count(*) AS orders
FROM retail.order_anomalies(5) GROUP BY reason ORDER BY reason;
SELECT count(*) AS threshold_mismatches
FROM retail.order_anomalies(5) f
	 FULL JOIN (SELECT * FROM gold.audit_order_anomalies
				WHERE CASE reason WHEN 'wholesale_total' THEN z > 5 ELSE abs(z) > 5 END) a
	 ON a.invoice_no = f.invoice_no AND a.reason = f.reason
WHERE a.invoice_no IS NULL OR f.invoice_no IS NULL OR a.z <> f.z;

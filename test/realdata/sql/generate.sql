-- The generator at the size of the real file, side by side with the real file
-- (loaded in bronze by the suite).  Same definitions for both, over raw text:
--   customers: distinct parsable customer ids ('17850.0' = '17850');
--   missing, cancellations, zero prices: shares of lines (%);
--   sales: lines with a parsable customer, no 'C', quantity > 0, price > 0
--          and a stock code starting with a digit (silver's clean lines
--          before the duplicate rule); uk_revenue: the UK's share of their
--          quantity x price (%);
--   autumn: share of lines dated September to November 2011 (%).
-- The real figures were checked with an independent Python script over the
-- CSV (541909 lines, 25900 invoices, 4372 customers, 4070 codes, 38
-- countries, 135080 missing, 9288 cancellations, 2515 zero prices); the
-- generated ones likewise over a CSV dump of the generator's output
-- (25670 invoices, 4335 customers, 4011 non-empty codes, 33 countries).
CREATE TEMP TABLE generated AS SELECT * FROM retail.generate_transactions(541909);

WITH raw AS (
	SELECT 'real' AS source, invoice_no, stock_code, quantity, invoice_date, unit_price, customer_id, country
	FROM bronze.transactions_raw
	UNION ALL
	SELECT 'generated', invoice_no, stock_code, quantity, invoice_date, unit_price, customer_id, country
	FROM generated
), typed AS (
	SELECT source, invoice_no, stock_code, country, customer_id,
		   retail.try_int4(quantity) AS q, retail.try_numeric(unit_price) AS p,
		   retail.try_timestamp(invoice_date) AS ts, retail.try_customer_id(customer_id) AS c
	FROM raw
), sales AS (
	SELECT *, CASE WHEN c IS NOT NULL AND invoice_no NOT LIKE 'C%' AND q > 0 AND p > 0
					AND stock_code ~ '^[0-9]' THEN q * p END AS sale
	FROM typed
)
SELECT source, count(*) AS lines, count(DISTINCT invoice_no) AS invoices,
	   round(count(*)::numeric / count(DISTINCT invoice_no), 1) AS lines_per_invoice,
	   count(DISTINCT c) AS customers, count(DISTINCT stock_code) AS codes,
	   count(DISTINCT country) AS countries,
	   round(100.0 * count(*) FILTER (WHERE coalesce(customer_id, '') = '') / count(*), 1) AS missing,
	   round(100.0 * count(*) FILTER (WHERE invoice_no LIKE 'C%') / count(*), 1) AS cancellations,
	   round(100.0 * count(*) FILTER (WHERE p = 0) / count(*), 2) AS zero_prices,
	   round(100 * sum(sale) FILTER (WHERE country = 'United Kingdom') / sum(sale)) AS uk_revenue,
	   round(100.0 * count(*) FILTER (WHERE ts >= '2011-09-01' AND ts < '2011-12-01') / count(*)) AS autumn,
	   to_char(min(ts), 'YYYY-MM-DD') AS first_day, to_char(max(ts), 'YYYY-MM-DD') AS last_day
FROM sales
GROUP BY source
ORDER BY source DESC;

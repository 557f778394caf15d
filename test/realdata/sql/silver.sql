-- Silver on the real UCI file, against figures from shared/data/README.md
-- and an independent plain-SQL formulation of the cleaning rules (regular
-- expressions and PostgreSQL's own casts instead of the C parsers).

-- the README's verified figures
SELECT count(*) AS raw_rows,
	   count(*) FILTER (WHERE coalesce(customer_id, '') = '') AS empty_customer,
	   count(*) FILTER (WHERE invoice_no LIKE 'C%') AS cancellation_rows,
	   count(DISTINCT invoice_no) AS invoices,
	   sum(quantity::numeric * unit_price::numeric) AS quantity_x_price
FROM bronze.transactions_raw;

-- reconciliation: every bronze row in exactly one of cleaned and rejected
SELECT (SELECT count(*) FROM bronze.transactions_raw)
		   = (SELECT count(*) FROM silver.cleaned_transactions)
			 + (SELECT count(*) FROM silver.rejected_transactions) AS reconciles,
	   (SELECT count(*) FROM (SELECT load_ordinal FROM silver.cleaned_transactions
							  UNION ALL
							  SELECT load_ordinal FROM silver.rejected_transactions) u
		FULL JOIN bronze.transactions_raw b USING (load_ordinal)
		WHERE b.load_ordinal IS NULL OR u.load_ordinal IS NULL) AS unmatched_ordinals,
	   (SELECT count(*) - count(DISTINCT load_ordinal)
		FROM (SELECT load_ordinal FROM silver.cleaned_transactions
			  UNION ALL
			  SELECT load_ordinal FROM silver.rejected_transactions) u) AS repeated_ordinals;

-- the oracle
CREATE TEMP TABLE oracle AS
WITH t AS (
	SELECT load_ordinal,
		   coalesce(btrim(invoice_no), '') AS inv, coalesce(btrim(stock_code), '') AS sc,
		   coalesce(btrim(description), '') AS ds, coalesce(btrim(quantity), '') AS q,
		   coalesce(btrim(invoice_date), '') AS d, coalesce(btrim(unit_price), '') AS p,
		   coalesce(btrim(customer_id), '') AS cu, coalesce(btrim(country), '') AS co
	FROM bronze.transactions_raw
),
checked AS (
	SELECT t.*,
		   inv <> '' AND sc <> '' AND co <> ''
		   AND q ~ '^[+-]?[0-9]+$' AND q::numeric BETWEEN -2147483648 AND 2147483647
		   -- a plain decimal below 10^15 in steps of 0.000001: after leading
		   -- zeros at most 15 integer digits, after the point at most 6
		   -- decimals then only zeros, and a digit somewhere
		   AND p ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$'
		   AND p ~ '^[+-]?0*[0-9]{0,15}(\.[0-9]{0,6}0*)?$'
		   AND (d ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$'
				OR d ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}$')
		   -- the year (the only run of four digits) within 1900 .. 2099
		   AND (regexp_match(d, '[0-9]{4}'))[1]::int BETWEEN 1900 AND 2099
		   -- digits, optionally a point and one or more zeros
		   AND (cu = '' OR (cu ~ '^[0-9]+(\.0+)?$'
							AND regexp_replace(cu, '\.0+$', '')::numeric <= 9223372036854775807)) AS well_formed
	FROM t
),
ruled AS (
	SELECT c.*,
		   CASE
			   WHEN NOT well_formed THEN 'malformed'
			   WHEN cu = '' THEN 'missing_customer'
			   WHEN upper(inv) LIKE 'C%' THEN 'cancellation'
			   WHEN q::int <= 0 THEN 'non_positive_quantity'
			   WHEN p::numeric <= 0 THEN 'non_positive_price'
			   WHEN upper(sc) IN ('POST', 'DOT', 'M', 'D', 'C2', 'CRUK', 'PADS', 'B', 'S', 'AMAZONFEE', 'BANK CHARGES')
				   OR upper(sc) LIKE 'GIFT\_%' THEN 'non_product'
		   END AS rule_reason
	FROM checked c
)
SELECT load_ordinal,
	   CASE
		   WHEN rule_reason IS NOT NULL THEN rule_reason
		   WHEN row_number() OVER (PARTITION BY rule_reason IS NULL, inv, sc, ds, q, d, p, cu, co
								   ORDER BY load_ordinal) > 1 THEN 'duplicate'
	   END AS reason,
	   CASE WHEN well_formed THEN upper(inv) END AS invoice_no,
	   CASE WHEN well_formed THEN upper(sc) END AS stock_code,
	   nullif(ds, '') AS description,
	   CASE WHEN well_formed THEN q::int END AS quantity,
	   CASE WHEN well_formed THEN replace(d, 'T', ' ')::timestamp END AS invoice_ts,
	   CASE WHEN well_formed THEN p::numeric END AS unit_price,
	   CASE WHEN well_formed THEN q::int * p::numeric END AS line_total,
	   CASE WHEN well_formed AND cu <> '' THEN regexp_replace(cu, '\.0+$', '')::bigint END AS customer_id,
	   co AS country
FROM ruled;

-- reasons as the oracle counts them
SELECT reason, count(*) FROM oracle GROUP BY reason ORDER BY count(*) DESC;

-- silver and the oracle disagree on no row: reason and every typed value
SELECT count(*) AS reason_mismatches
FROM oracle o JOIN silver.transactions s USING (load_ordinal)
WHERE o.reason IS DISTINCT FROM s.reason;

SELECT count(*) AS value_mismatches
FROM oracle o JOIN silver.cleaned_transactions s USING (load_ordinal)
WHERE (o.invoice_no, o.stock_code, o.description, o.quantity, o.invoice_ts, o.unit_price,
	   o.line_total, o.customer_id, o.country)
	  IS DISTINCT FROM
	  (s.invoice_no, s.stock_code, s.description, s.quantity, s.invoice_ts, s.unit_price,
	   s.line_total, s.customer_id, s.country);

-- the quarantine keeps the raw text as loaded
SELECT count(*) AS raw_text_mismatches
FROM silver.rejected_transactions r JOIN bronze.transactions_raw b USING (load_ordinal)
WHERE (r.invoice_no, r.stock_code, r.description, r.quantity, r.invoice_date, r.unit_price,
	   r.customer_id, r.country)
	  IS DISTINCT FROM
	  (b.invoice_no, b.stock_code, b.description, b.quantity, b.invoice_date, b.unit_price,
	   b.customer_id, b.country);

-- orders against a plain GROUP BY formulation
SELECT count(*) AS order_mismatches
FROM (
	SELECT invoice_no,
		   (array_agg(customer_id ORDER BY load_ordinal))[1] AS customer_id,
		   (array_agg(country ORDER BY load_ordinal))[1] AS country,
		   min(invoice_ts) AS invoice_ts, count(*) AS lines, sum(quantity) AS units,
		   sum(line_total) AS total
	FROM oracle
	WHERE reason IS NULL
	GROUP BY invoice_no
) o
FULL JOIN silver.orders s USING (invoice_no)
WHERE (o.customer_id, o.country, o.invoice_ts, o.lines, o.units, o.total)
	  IS DISTINCT FROM (s.customer_id, s.country, s.invoice_ts, s.lines, s.units, s.total);

SELECT count(*) AS orders, sum(lines) AS lines, sum(total) AS revenue FROM silver.orders;

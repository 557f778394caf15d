-- silver.transactions in plain SQL, independent of the C parsers: regular
-- expressions and PostgreSQL's own casts for rules 1-6, row_number over the
-- trimmed fields for rule 7.  Used by test/realdata/sql/silver.sql and
-- bench/silver.sql (the plain-SQL pipeline).
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
		   char_length(inv) BETWEEN 1 AND 100 AND char_length(sc) BETWEEN 1 AND 100
		   AND char_length(co) BETWEEN 1 AND 100
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
FROM ruled

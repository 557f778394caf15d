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

-- the oracle (test/realdata/oracle/silver.sql, which bench/silver.sql races)
\set silver_oracle `cat test/realdata/oracle/silver.sql`
CREATE TEMP TABLE oracle AS :silver_oracle;

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

-- orders against a plain GROUP BY formulation of the oracle's lines
\set orders_oracle `cat test/realdata/oracle/orders.sql`
SELECT count(*) AS order_mismatches
FROM (:orders_oracle) o
FULL JOIN silver.orders s USING (invoice_no)
WHERE (o.customer_id, o.country, o.invoice_ts, o.lines, o.units, o.total)
	  IS DISTINCT FROM (s.customer_id, s.country, s.invoice_ts, s.lines, s.units, s.total);

SELECT count(*) AS orders, sum(lines) AS lines, sum(total) AS revenue FROM silver.orders;

-- silver.orders in plain SQL: a GROUP BY of the clean lines of the silver
-- oracle (test/realdata/oracle/silver.sql, as the table oracle).  Used by
-- test/realdata/sql/silver.sql and bench/silver.sql.
SELECT invoice_no,
	   (array_agg(customer_id ORDER BY load_ordinal))[1] AS customer_id,
	   (array_agg(country ORDER BY load_ordinal))[1] AS country,
	   min(invoice_ts) AS invoice_ts, count(*) AS lines, sum(quantity) AS units,
	   sum(line_total) AS total
FROM oracle
WHERE reason IS NULL
GROUP BY invoice_no

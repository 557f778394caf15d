-- Loading into bronze: text exactly as in the file, file order kept, a bad
-- file refused whole by COPY itself.
TRUNCATE bronze.transactions_raw RESTART IDENTITY;

-- quoted commas and quotes, an empty unquoted field (NULL) and a quoted one ('')
COPY bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) FROM STDIN CSV HEADER;
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A, WHITE HANGING HEART T-LIGHT HOLDER ,6,2010-12-01 08:26,2.55,17850,United Kingdom
536366,22633,"HAND WARMER, UNION JACK",6,2010-12-01 08:28,1.85,,United Kingdom
536367,84879,"ASSORTED ""BIRD"" ORNAMENT",32,2010-12-01 08:34,1.69,"",United Kingdom
536368,21777,,-1,12/1/2010 8:34,0,13047.0,France
\.
SELECT load_ordinal, invoice_no, description, quantity, invoice_date, customer_id,
	   customer_id IS NULL AS customer_null
FROM bronze.transactions_raw ORDER BY load_ordinal;

-- a row with a column missing: COPY fails with its own error and loads nothing
COPY bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) FROM STDIN CSV;
536369,22960,JAM MAKING SET,6,2010-12-01 08:34,4.25,13047,United Kingdom
536370,22961,JAM MAKING SET,6,2010-12-01 08:34,4.25,13047
\.
-- a row with a column too many: likewise
COPY bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) FROM STDIN CSV;
536371,22962,JAR,6,2010-12-01 08:34,4.25,13047,United Kingdom,extra
\.
SELECT count(*) AS rows_after_bad_files FROM bronze.transactions_raw;

-- a second batch continues the ordinals (the failed COPY used up one:
-- ordinals are unique and ordered, not gapless) and gets its own batch id
COPY bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) FROM STDIN CSV;
536372,22963,JAR,6,2010-12-01 08:34,4.25,13047,United Kingdom
\.
SELECT load_ordinal, count(*) OVER (PARTITION BY batch_id) AS lines_in_batch
FROM bronze.transactions_raw ORDER BY load_ordinal;
TRUNCATE bronze.transactions_raw RESTART IDENTITY;

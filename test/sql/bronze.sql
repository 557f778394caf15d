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

-- load_ordinal is the refresh's watermark: a line below it would never reach
-- silver.  A loader cannot write it (only the data columns, batch_id and
-- loaded_at); ordinals are above 0, where the watermark starts.
CREATE ROLE regress_bronze_loader IN ROLE retail_loader;
SET ROLE regress_bronze_loader;
\set VERBOSITY terse
INSERT INTO bronze.transactions_raw (invoice_no, load_ordinal) VALUES ('1', 9223372036854775807);
INSERT INTO bronze.transactions_raw (invoice_no, batch_id) VALUES ('536373', 42);
RESET ROLE;
INSERT INTO bronze.transactions_raw (invoice_no, load_ordinal) VALUES ('1', 0);
\set VERBOSITY default
DROP ROLE regress_bronze_loader;
-- The owner may write an ordinal ahead of the sequence (1000): the refresh
-- moves the sequence past the highest ordinal it reads, so the next load
-- gets 1001, above the watermark, and reaches silver.  Bronze holds 8 lines:
-- ordinals 1..4, 7 (the second batch), 8 (the loader's), 1000 and 1001.
INSERT INTO bronze.transactions_raw (invoice_no, load_ordinal) VALUES ('536374', 1000);
SET client_min_messages = warning;
CALL retail.refresh();
INSERT INTO bronze.transactions_raw (invoice_no) VALUES ('536375');
CALL retail.refresh();
RESET client_min_messages;
SELECT load_ordinal, invoice_no FROM bronze.transactions_raw WHERE load_ordinal >= 1000 ORDER BY 1;
SELECT (SELECT count(*) FROM bronze.transactions_raw) AS raw, (SELECT count(*) FROM silver.transactions) AS silver,
	   (SELECT bronze_through FROM retail.refresh_progress) AS watermark;
-- At the largest ordinal the sequence is used up: the next load fails,
-- loudly, instead of landing below the watermark.
INSERT INTO bronze.transactions_raw (invoice_no, load_ordinal) VALUES ('536376', 9223372036854775807);
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
\set VERBOSITY terse
INSERT INTO bronze.transactions_raw (invoice_no) VALUES ('536377');
\set VERBOSITY default
TRUNCATE bronze.transactions_raw RESTART IDENTITY;
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;

-- Every schema of the extension says what it holds (psql's \dn+, BI tools).
SELECT n.nspname, obj_description(n.oid, 'pg_namespace') AS comment
FROM pg_namespace n WHERE n.nspname IN ('bronze', 'silver', 'gold', 'gold_store', 'retail') ORDER BY n.nspname;

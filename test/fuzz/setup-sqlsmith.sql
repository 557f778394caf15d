-- The database test/fuzz/run-sqlsmith fuzzes: generated lines loaded and
-- refreshed, plain tables of typed lines with hostile values added (sqlsmith
-- sees tables and views, not materialized views), and a catalog filter.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION retail_analytics;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT * FROM retail.generate_transactions(:lines, :seed);
CALL retail.refresh();

CREATE SCHEMA fuzz;
CREATE TABLE fuzz.lines AS SELECT * FROM silver.cleaned_transactions;
INSERT INTO fuzz.lines (invoice_no, stock_code, description, quantity, invoice_ts, unit_price,
						line_total, customer_id, country)
VALUES ('536365', '85123A', 'nan', 1, '2011-01-01', 'NaN', 'NaN', 12345, 'France'),
	   ('536366', '85123A', 'inf', 2, '2011-01-02', 'Infinity', 'Infinity', 12345, 'France'),
	   ('536367', '85123A', '-inf', 3, '2011-01-03', '-Infinity', '-Infinity', 12346, 'France'),
	   ('536368', '71053', '39 digits', 1, '2011-02-01', 1e38, 1e38, 12347, 'Spain'),
	   ('536369', '71053', '40 decimals', 1, '2011-02-02', 1e-40, 1e-40, 12347, 'Spain'),
	   ('536370', '71053', 'huge', 1, '2011-02-03', 9e999, 9e999, 12348, 'Spain'),
	   ('C536371', '22633', 'negative', -2147483648, '2011-03-01', -1e20, -1e20, 0, ''),
	   ('536372', '22633', 'far future', 2147483647, 'infinity', 0, 0, 9223372036854775807, 'EIRE'),
	   ('536373', '22633', 'far past', 1, '-infinity', 1, 1, -9223372036854775808, 'EIRE'),
	   ('536374', '22633', 'limits', 1, '294276-12-31 23:59:59', 1, 1, -1, NULL),
	   ('536375', '22633', 'BC', 1, '4713-01-01 00:00:00 BC', 1, 1, NULL, 'United Kingdom'),
	   ('', '', '', 0, NULL, NULL, NULL, NULL, NULL),
	   (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE fuzz.orders AS SELECT * FROM silver.orders;
CREATE TABLE fuzz.customer_segments AS SELECT * FROM gold.mart_customer_segments;
CREATE TABLE fuzz.products_abc AS SELECT * FROM gold.mart_products_abc;
CREATE TABLE fuzz.cohort_retention AS SELECT * FROM gold.mart_cohort_retention;
ANALYZE;

-- sqlsmith calls no set-returning function: these count the rows of each
-- of the extension's, on fuzz.lines where they read a table (the generator
-- capped, as it cannot be cancelled yet).
CREATE FUNCTION fuzz.rfm_segments(date, integer, text, text) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.rfm_segments('fuzz.lines', $1, $2, $3, $4));
CREATE FUNCTION fuzz.cohort_retention(text, boolean) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.cohort_retention('fuzz.lines', $1, $2));
CREATE FUNCTION fuzz.countries_abc(numeric, numeric) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.countries_abc($1, $2));
CREATE FUNCTION fuzz.products_abc(numeric, numeric, numeric, numeric) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.products_abc($1, $2, $3, $4));
CREATE FUNCTION fuzz.order_anomalies(double precision) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.order_anomalies($1));
CREATE FUNCTION fuzz.check_segment_preset(text, integer) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.check_segment_preset($1, $2));
CREATE FUNCTION fuzz.generate_transactions(bigint, integer, bigint, integer, boolean) RETURNS bigint LANGUAGE sql
	RETURN (SELECT count(*) FROM retail.generate_transactions(least($1, 2000), $2, $3, $4, $5));

-- sqlsmith reads pg_proc unqualified, so with search_path
-- sqlsmith_catalog, pg_catalog it calls only the functions and aggregates
-- of the extension and the wrappers above (operators and types stay the
-- built-in ones).
CREATE SCHEMA sqlsmith_catalog;
CREATE VIEW sqlsmith_catalog.pg_proc AS
SELECT * FROM pg_catalog.pg_proc WHERE pronamespace IN ('retail'::regnamespace, 'fuzz'::regnamespace);

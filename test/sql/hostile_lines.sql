-- No line can stop a refresh (issue 8, contract rule 1).  Every hostile line
-- the issue names, and lines beyond each bound of rule 1, go into bronze
-- with normal lines; the refresh succeeds, the hostile lines are quarantined
-- as malformed, and lines exactly at the bounds are clean and flow through
-- every gold mart.  Expected values are worked out by hand in the comments.
TRUNCATE bronze.transactions_raw RESTART IDENTITY;
CREATE TEMP TABLE lines (load_ordinal bigint, invoice_no text, stock_code text, quantity text,
						 invoice_date text, unit_price text, customer_id text, country text,
						 expect text);
INSERT INTO lines VALUES
 -- normal lines: customer 17850 (cohort 2010-12), 13047 (cohort 2011-01)
 (1, '536365', '85123A', '6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom', NULL),
 (2, '536366', '22633', '6', '2010-12-01 08:28', '1.85', '17850', 'United Kingdom', NULL),
 (3, '536367', '84879', '32', '2011-01-10 08:34', '1.69', '13047', 'France', NULL),
 -- customer 14528 written with a point and zeros (cohort 2011-01)
 (4, '600004', '22139', '2', '2011-01-15 10:00', '3.00', '14528.00', 'United Kingdom', NULL),
 -- at the bounds, clean: the largest quantity at the largest price, on the
 -- first minute of 1900, by the largest customer number
 (5, '600001', '22140', '2147483647', '1900-01-01 00:00', '999999999999999.999999',
  '9223372036854775807', 'Xland', NULL),
 -- the smallest positive price on the last second of 2099, customer 0
 (6, '600003', '22141', '1', '2099-12-31 23:59:59', '0.000001', '0', 'Yland', NULL),
 -- the issue's hostile lines: a 310-digit price, 0. + 400 zeros + 1
 (7, '700001', '22142', '1', '2011-01-10 10:00', repeat('9', 310), '13047', 'France', 'malformed'),
 (8, '700002', '22142', '1', '2011-01-10 10:00', '0.' || repeat('0', 400) || '1', '13047', 'France', 'malformed'),
 -- just past each bound
 (9, '700003', '22142', '1', '2011-01-10 10:00', '1000000000000000', '13047', 'France', 'malformed'),
 (10, '700004', '22142', '1', '2011-01-10 10:00', '999999999999999.9999991', '13047', 'France', 'malformed'),
 (11, '700005', '22142', '1', '2011-01-10 10:00', '0.0000001', '13047', 'France', 'malformed'),
 (12, '700006', '22142', '1', '1899-12-31 23:59:59', '1', '13047', 'France', 'malformed'),
 (13, '700007', '22142', '1', '2100-01-01 00:00', '1', '13047', 'France', 'malformed'),
 (14, '700008', '22142', '2147483648', '2011-01-10 10:00', '1', '13047', 'France', 'malformed'),
 (15, '700009', '22142', '1', '2011-01-10 10:00', '1', '9223372036854775808', 'France', 'malformed'),
 (16, '700010', '22142', '1', '2011-01-10 10:00', '1', '14528.', 'France', 'malformed');
-- 46 lines dated in the years 1 to 45 and 9999, each its own customer (46
-- cohorts over 10,000 years would be a matrix of far more than 5,000,000
-- cells): ordinals 17..62
INSERT INTO lines
SELECT 16 + n, '8' || lpad(y::text, 5, '0'), '22143', '1',
	   lpad(y::text, 4, '0') || '-06-15 10:00', '1', (20000 + y)::text, 'France', 'malformed'
FROM unnest(array_append(ARRAY(SELECT generate_series(1, 45)), 9999)) WITH ORDINALITY AS u(y, n);
-- many lines at the bounds in one invoice: 200 lines of 2147483647 units at
-- 999999999999999.999999, customer 9223372036854775807: ordinals 63..262
INSERT INTO lines
SELECT 62 + i, '600002', 'X' || lpad(i::text, 4, '0'), '2147483647', '1900-01-01 00:00',
	   '999999999999999.999999', '9223372036854775807', 'Xland', NULL
FROM generate_series(1, 200) AS i;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity,
									 invoice_date, unit_price, customer_id, country)
SELECT invoice_no, stock_code, 'item', quantity, invoice_date, unit_price, customer_id, country
FROM lines
ORDER BY load_ordinal;

-- The refresh succeeds (no error here).
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;

-- Every line lands as worked out (no output = all agree): 10 + 46 = 56
-- malformed, 206 clean.
SELECT l.load_ordinal, l.expect, s.reason
FROM lines l JOIN silver.transactions s USING (load_ordinal)
WHERE l.expect IS DISTINCT FROM s.reason;
SELECT coalesce(reason, 'clean') AS landed_as, count(*) FROM silver.transactions GROUP BY 1 ORDER BY 1;

-- The typed columns of silver, rejected lines included, hold nothing beyond
-- the bounds: prices below 10^15, times within 1900 .. 2099.
SELECT max(abs(unit_price)) < 1e15 AS prices_bounded,
	   min(invoice_ts) >= '1900-01-01' AND max(invoice_ts) < '2100-01-01' AS times_bounded
FROM silver.transactions;

-- Line totals: 2147483647 x 999999999999999.999999
--   = 2147483647 x 10^15 - 2147483647 x 10^-6
--   = 2147483647000000000000000 - 2147.483647 = 2147483646999999999997852.516353;
-- 1 x 0.000001 = 0.000001; customer 14528.00 is 14528: 2 x 3.00 = 6.00.
SELECT load_ordinal, customer_id, unit_price, line_total
FROM silver.cleaned_transactions WHERE load_ordinal IN (4, 5, 6, 63) ORDER BY 1;
-- Orders: 600002 has 200 such lines, 200 x 2147483647 = 429496729400 units,
-- total 429496729400 x 10^15 - 429496.7294 = 429496729399999999999570503.2706.
SELECT invoice_no, lines, units, total FROM silver.orders
WHERE invoice_no IN ('600001', '600002', '600003') ORDER BY 1;

-- RFM.  as_of = the day after the last line (2099-12-31) = 2100-01-01.
-- Customer 9223372036854775807 bought on 1900-01-01 only: recency
-- 2100-01-01 - 1900-01-01 = 200 x 365 + 49 leap days (1904 .. 2096, 2000
-- included, 1900 not) = 73049 days; 2 invoices; monetary 201 lines x
-- 2147483646999999999997852.516353 = 431644213047 x 10^15 - 431644.213047
-- = 431644213046999999999568355.786953.  Customer 0: recency 1, monetary
-- 0.000001.  Customer 14528 (2011-01-15): 2100-01-01 - 2011-01-01 = 89 x 365
-- + 22 leap days (2012 .. 2096) = 32507, minus 14 = 32493 days.  Five
-- customers in all (17850, 13047 too).
SELECT customer_id, recency_days, frequency, monetary
FROM gold.mart_customer_segments
WHERE customer_id IN (0, 14528, 9223372036854775807) ORDER BY customer_id;
SELECT count(*) AS customers FROM gold.mart_customer_segments;

-- Cohorts, dense up to the last month 2099-12: cohorts 1900-01 (2400
-- periods: 200 years x 12), 2010-12 (month 1331 of the 2400 counted from
-- 1900-01 at 0: 2400 - 1331 = 1069 periods), 2011-01 (1068) and 2099-12 (1):
-- 2400 + 1069 + 1068 + 1 = 4538 rows.  The largest matrix the bounds allow,
-- a cohort in every month of 1900 .. 2099, has 2400 x 2401 / 2 = 2,881,200
-- cells: below the 5,000,000-cell limit.
SELECT count(*) AS cells, count(DISTINCT cohort_month) AS cohorts, max(period) AS last_period
FROM gold.mart_cohort_retention;
-- cohort 1900-01: one customer, active in period 0 only, revenue = its monetary
SELECT cohort_month, period, cohort_size, active_customers, retention, revenue
FROM gold.mart_cohort_retention
WHERE cohort_month = '1900-01-01' AND period IN (0, 1, 2399)
ORDER BY period;
-- cohort 2011-01: customers 13047 and 14528
SELECT cohort_month, period, cohort_size, active_customers, revenue
FROM gold.mart_cohort_retention
WHERE cohort_month = '2011-01-01' AND period = 0;

-- Countries ABC: Xland holds all the revenue but 86.480001 (share 1 - 2e-25):
-- rank 1, class A; the others start above 80 %: class C.  France 54.08,
-- United Kingdom 15.30 + 11.10 + 6.00 = 32.40, Yland 0.000001.
SELECT rank, country, revenue, abc_class FROM gold.mart_countries_abc ORDER BY rank;
-- Products ABC/XYZ: one line (one month) each for the extreme products: a
-- span under 3 months, cv NULL, N.
SELECT stock_code, revenue, abc_class, cv, xyz_class
FROM gold.mart_products_abc WHERE stock_code IN ('22140', '22141', 'X0001') ORDER BY stock_code;

-- Audit: ln(total) of the seven orders, sorted: 600003 ln(0.000001) = -13.816,
-- 600004 ln 6 = 1.792, 536366 ln 11.10 = 2.407, 536365 ln 15.30 = 2.728,
-- 536367 ln 54.08 = 3.991, 600001 ln(2.147483647e24) = ln 2.147483647 + 24
-- ln 10 = 0.764 + 55.262 = 56.026, 600002 ln(4.294967294e26) = 1.457 +
-- 59.867 = 61.325.  Median 2.728; absolute deviations sorted 0, 0.321, 0.936,
-- 1.263, 16.543, 53.298, 58.597: MAD = ln(54.08 / 15.30) = 1.263.  z of
-- 600001 = 0.6745 x 53.298 / 1.263 = 28.5, of 600002 = 0.6745 x 58.597 /
-- 1.263 = 31.3; 600003 is far below (z -8.8), not above.
SELECT invoice_no, customer_id, round(z::numeric, 1) AS z, reason
FROM gold.audit_order_anomalies WHERE reason = 'wholesale_total' ORDER BY invoice_no;

TRUNCATE bronze.transactions_raw;
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;

-- Long texts (issue 16).  Invoice numbers, stock codes and countries of 100
-- characters (not bytes) once trimmed are clean, of 101 malformed;
-- descriptions of any length are clean.  Texts made of md5 chains hardly
-- compress: 3,000 characters are more than a btree index row may hold.
CREATE TEMP TABLE texts AS
SELECT repeat('1234567890', 10) AS invoice_100, repeat('é', 100) AS code_100, repeat('ab', 50) AS country_100,
	   (SELECT left(string_agg(md5(i::text), '' ORDER BY i), 3000) FROM generate_series(1, 94) i) AS desc_3k,
	   (SELECT string_agg(md5(i::text), '' ORDER BY i) FROM generate_series(1, 31250) i) AS desc_1m;
SELECT char_length(invoice_100) AS invoice, char_length(code_100) AS code, octet_length(code_100) AS code_bytes,
	   char_length(country_100) AS country, char_length(desc_3k) AS desc_3k, char_length(desc_1m) AS desc_1m
FROM texts;
CREATE TEMP TABLE too_long (description text PRIMARY KEY);
\set VERBOSITY terse
INSERT INTO too_long SELECT desc_3k FROM texts;
\set VERBOSITY default
-- Two batches: the second counts a description the first brought (8 and 9),
-- repeats a line of the first (10 = 8: rule 7 compares the whole text) and
-- brings a description that differs from it in its last character only (11).
CREATE TEMP TABLE long_lines (load_ordinal bigint, invoice_no text, stock_code text, description text,
							  country text, expect text);
INSERT INTO long_lines
SELECT o, i, s, d, c, e
FROM texts,
	 LATERAL (VALUES
		(1, invoice_100, '22001', 'A', 'United Kingdom', NULL),
		(2, invoice_100 || '1', '22001', 'A', 'United Kingdom', 'malformed'),
		(3, '800003', code_100, 'A', 'United Kingdom', NULL),
		(4, '800004', code_100 || 'é', 'A', 'United Kingdom', 'malformed'),
		(5, '800005', '22001', 'A', '  ' || country_100 || '  ', NULL),
		(6, '800006', '22001', 'A', country_100 || 'a', 'malformed'),
		(7, '800007', '22002', desc_3k, 'United Kingdom', NULL),
		(8, '800008', '22003', desc_1m, 'United Kingdom', NULL),
		(9, '800009', '22003', desc_1m, 'United Kingdom', NULL),
		(10, '800008', '22003', desc_1m, 'United Kingdom', 'duplicate'),
		(11, '800011', '22003', desc_1m || 'x', 'United Kingdom', NULL)) v(o, i, s, d, c, e);
TRUNCATE bronze.transactions_raw RESTART IDENTITY;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
SELECT invoice_no, stock_code, description, '1', '2011-01-10 10:00', '1', '17850', country
FROM long_lines WHERE load_ordinal <= 8 ORDER BY load_ordinal;
SET client_min_messages = warning;
CALL retail.refresh();
SELECT count(*) AS steps_not_ok FROM retail.last_refresh WHERE status NOT IN ('ok', 'unchanged');
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
SELECT invoice_no, stock_code, description, '1', '2011-01-10 10:00', '1', '17850', country
FROM long_lines WHERE load_ordinal > 8 ORDER BY load_ordinal;
CALL retail.refresh();
RESET client_min_messages;
SELECT count(*) AS steps_not_ok FROM retail.last_refresh WHERE status NOT IN ('ok', 'unchanged');

-- Every line lands as expected (no rows), and raw = clean + rejected:
-- 11 = 7 + 4 (3 malformed, 1 duplicate).
SELECT l.load_ordinal, l.expect, s.reason
FROM long_lines l JOIN silver.transactions s USING (load_ordinal)
WHERE l.expect IS DISTINCT FROM s.reason;
SELECT (SELECT count(*) FROM bronze.transactions_raw) AS raw,
	   (SELECT count(*) FROM silver.cleaned_transactions) AS clean,
	   (SELECT count(*) FROM silver.rejected_transactions) AS rejected;
-- the 100-character values as silver keeps them: line 1's invoice, line 3's
-- stock code upper-cased (200 bytes), line 5's country trimmed
SELECT (SELECT char_length(t.invoice_no) FROM silver.cleaned_transactions t WHERE t.load_ordinal = 1) AS invoice_1,
	   (SELECT t.stock_code = upper(x.code_100) AND octet_length(t.stock_code) = 200
		FROM silver.cleaned_transactions t WHERE t.load_ordinal = 3) AS code_3,
	   (SELECT t.country = x.country_100 FROM silver.cleaned_transactions t WHERE t.load_ordinal = 5) AS country_5
FROM texts x;
-- Descriptions per product: 22002 the 3,000 characters once; 22003 the
-- 1,000,000 characters on lines 8 and 9, the 1,000,001 on line 11.  The
-- most frequent names the product.
SELECT stock_code, char_length(description) AS description_length, lines
FROM silver.product_descriptions WHERE stock_code IN ('22002', '22003') ORDER BY 1, 2;
SELECT p.stock_code, p.description = x.desc_1m AS named_by_the_million
FROM gold.mart_products_abc p, texts x WHERE p.stock_code = '22003';
-- a rebuild from all of bronze gives the same counts
CREATE TEMP TABLE appended AS SELECT stock_code, md5(description) AS description, lines FROM silver.product_descriptions;
SET client_min_messages = warning;
CALL retail.refresh(full => true);
RESET client_min_messages;
SELECT count(*) AS differences
FROM ((TABLE appended EXCEPT SELECT stock_code, md5(description), lines FROM silver.product_descriptions)
	  UNION ALL
	  (SELECT stock_code, md5(description), lines FROM silver.product_descriptions EXCEPT TABLE appended)) d;

-- Every index over bronze, silver and gold, and the text each key holds:
-- invoice_no, stock_code and country are bounded by rule 1; reason and unit
-- take a few fixed values; segment, from_segment and to_segment are names
-- from retail.segment_rules, set by the owner, not by a line; descriptions
-- are held as hashes.
SELECT i.indrelid::regclass AS relation, i.indexrelid::regclass AS index,
	   pg_get_indexdef(i.indexrelid, a.attnum, true) AS text_key
FROM pg_index i
	 JOIN pg_class c ON c.oid = i.indrelid
	 JOIN pg_attribute a ON a.attrelid = i.indexrelid
WHERE c.relnamespace IN ('bronze'::regnamespace, 'silver'::regnamespace, 'gold'::regnamespace, 'gold_store'::regnamespace)
  AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'bytea'::regtype)
ORDER BY 1, 2, a.attnum;

TRUNCATE bronze.transactions_raw;
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;

-- Silver cleaning on hand-made rows: one or more per rejection reason and per
-- boundary of spec/metrics.md.  "expect" is the reason worked out by hand
-- (first rule broken, in the spec's order), NULL for a clean row.
TRUNCATE bronze.transactions_raw RESTART IDENTITY;
-- a rebuild of nothing: the lines below are the first load of an empty silver
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
CREATE TEMP TABLE hand (load_ordinal bigint, invoice_no text, stock_code text, description text,
						quantity text, invoice_date text, unit_price text, customer_id text,
						country text, expect text);
INSERT INTO hand VALUES
 (1, '536365', '85123A', 'WHITE HANGING HEART', ' 6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom', NULL),
 -- same eight fields as row 1: the later copy is the duplicate
 (2, '536365', '85123A', 'WHITE HANGING HEART', ' 6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom', 'duplicate'),
 -- customer written 17850.00 (a point and zeros: customer 17850): the raw
 -- text differs, so not a duplicate
 (3, '536365 ', '85123A', 'WHITE HANGING HEART', '6', '2010-12-01 08:26', '2.55', '17850.00', 'United Kingdom', NULL),
 -- equal to row 1 once every field is trimmed
 (4, ' 536365', '85123A', ' WHITE HANGING HEART ', '6 ', '2010-12-01 08:26 ', '2.55', '17850', 'United Kingdom', 'duplicate'),
 (5, 'c536379', 'D', 'Discount', '-1', '12/1/2010 9:41', '27.50', '14527', 'United Kingdom', 'cancellation'),
 (6, '536380', '22961', 'JAM MAKING SET', '24', '2010-12-01 09:41', '0.85', '', 'United Kingdom', 'missing_customer'),
 (7, '536380', '22961', 'JAM MAKING SET', '24', '2010-12-01 09:41', '0.85', NULL, 'United Kingdom', 'missing_customer'),
 (8, '536381', '22139', 'RETROSPOT TEA SET', '+5', '2010-12-01T09:41:30', '4.95', '15311', ' France ', NULL),
 (9, '536382', '22139', 'X', '1e3', '2010-12-01 09:41', '4.95', '15311', 'France', 'malformed'),
 (10, '536383', '22139', 'X', '2', '2011-02-31 10:00', '4.95', '15311', 'France', 'malformed'),
 (11, '536384', '22139', 'X', '2', '2011-02-28 10:00', '4,95', '15311', 'France', 'malformed'),
 (12, '536385', '22139', 'X', '2', '2011-02-28 10:00', '1e2', '15311', 'France', 'malformed'),
 (13, '536386', '22139', 'X', '2', '2011-02-28 10:00', '4.95', 'X123', 'France', 'malformed'),
 (14, '', '22139', 'X', '2', '2011-02-28 10:00', '4.95', '15311', 'France', 'malformed'),
 (15, '536387', '   ', 'X', '2', '2011-02-28 10:00', '4.95', '15311', 'France', 'malformed'),
 (16, '536388', '22139', 'X', '2', '2011-02-28 10:00', '4.95', '15311', NULL, 'malformed'),
 (17, '536389', '22139', 'X', '0', '2011-02-28 10:00', '4.95', '15311', 'France', 'non_positive_quantity'),
 (18, '536390', '22139', 'X', '-3', '2011-02-28 10:00', '4.95', '15311', 'France', 'non_positive_quantity'),
 (19, '536391', '22139', 'X', '3', '2011-02-28 10:00', '0.00', '15311', 'France', 'non_positive_price'),
 -- a bad-debt adjustment without customer: rule 2 comes before rule 5
 (20, 'A563185', 'B', 'Adjust bad debt', '1', '2011-08-12 14:50', '-11062.06', '', 'United Kingdom', 'missing_customer'),
 (21, '536392', 'post', 'POSTAGE', '1', '2011-02-28 10:00', '18.00', '12583', 'France', 'non_product'),
 (22, '536393', 'gift_0001_20', 'GIFT', '1', '2011-02-28 10:00', '16.67', '12583', 'France', 'non_product'),
 (23, '536394', 'GIFTX', 'x', '1', '2011-02-28 10:00', '1', '12583', 'France', NULL),
 (24, '536395', '22139', 'X', '2147483648', '2011-02-28 10:00', '4.95', '12583', 'France', 'malformed'),
 (25, '536396', '22139', '', '2', '2011-02-28 10:00', '0.001', '12583', 'France', NULL),
 -- NULL and '' are the same empty description: a duplicate of row 25
 (26, '536396', '22139', NULL, '2', '2011-02-28 10:00', '0.001', '12583', 'France', 'duplicate'),
 -- the largest clean price (rule 1: below 10^15, steps of 0.000001); line
 -- total 3 x 999999999999999.999999 = 2999999999999999.999997
 (27, '536397', '22139', 'X', '3', '2011-02-28 10:00', '999999999999999.999999', '12583', 'France', NULL),
 -- malformed comes first even for a cancellation without customer
 (28, 'C536398', '22139', 'X', '-2', 'bad date', '1', '', 'UK', 'malformed'),
 (29, '536399', '22139', 'X', '2', '2011-12-09 12:50', '2.10', '-5', 'France', 'malformed'),
 (30, 'C536400', '22139', 'X', '-2', '2011-12-09 12:50', '2.10', '', 'France', 'missing_customer'),
 (31, '536401', 'M', 'Manual', '-1', '2011-12-09 12:50', '2.10', '12583', 'France', 'non_positive_quantity'),
 -- a copy of a rejected row keeps that row's reason: duplicates are only sought among passing rows
 (32, '536389', '22139', 'X', '0', '2011-02-28 10:00', '4.95', '15311', 'France', 'non_positive_quantity'),
 (33, '536365', '85123A', 'WHITE HANGING HEART', '6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom', 'duplicate'),
 (34, '536402', '22139', 'X', '1', '2011-12-09 12:50', '2.10', '12583', '', 'malformed'),
 (35, '536403', '22139', 'X', '1', '2011-12-09 12:50', '-0.01', '12583', 'France', 'non_positive_price'),
 (36, '536404', 'BANK CHARGES', 'Bank Charges', '1', '2011-12-09 12:50', '15', '12583', 'France', 'non_product'),
 (37, '536405', 'pads', 'PADS', '1', '2011-12-09 12:50', '0.001', '12583', 'France', 'non_product');
-- loaded in order, so the ordinals given by bronze are 1, 2, 3, ...
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity,
									 invoice_date, unit_price, customer_id, country)
SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price,
	   customer_id, country
FROM hand
ORDER BY load_ordinal;
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
-- silver was empty: step 10 kept readers out until the commit (and built the
-- lookup indexes after the rows); step 20 did not
SELECT step_order, run_kind, concurrent FROM retail.last_refresh WHERE layer = 'silver' ORDER BY step_order;

-- every row lands where worked out by hand (no output = all agree)
SELECT h.load_ordinal, h.expect, s.reason
FROM hand h JOIN silver.transactions s USING (load_ordinal)
WHERE h.expect IS DISTINCT FROM s.reason;

-- reconciliation: bronze = cleaned + rejected, no ordinal twice, none lost
SELECT (SELECT count(*) FROM bronze.transactions_raw) AS bronze,
	   (SELECT count(*) FROM silver.cleaned_transactions) AS cleaned,
	   (SELECT count(*) FROM silver.rejected_transactions) AS rejected,
	   (SELECT count(*) FROM (SELECT load_ordinal FROM silver.cleaned_transactions
							  UNION ALL
							  SELECT load_ordinal FROM silver.rejected_transactions) u) AS both_views,
	   (SELECT count(DISTINCT load_ordinal) FROM (SELECT load_ordinal FROM silver.cleaned_transactions
												  UNION ALL
												  SELECT load_ordinal FROM silver.rejected_transactions) u) AS distinct_ordinals;

-- the typed clean rows: trimmed, upper-cased codes, exact line totals
SELECT * FROM silver.cleaned_transactions ORDER BY load_ordinal;

-- the quarantine keeps the raw text as loaded
SELECT load_ordinal, reason, invoice_no, stock_code, quantity, invoice_date, unit_price, customer_id, country
FROM silver.rejected_transactions
WHERE load_ordinal IN (4, 9, 13, 20, 26)
ORDER BY load_ordinal;

-- orders: invoice 536365 has lines 1 and 3 (6 units at 2.55 each): 2 lines, 12 units, 30.60
SELECT * FROM silver.orders ORDER BY invoice_no;

-- a second refresh (concurrent this time) after another batch classifies that
-- batch alone and finds its line a duplicate of a line of the first batch
-- (found by its invoice, whose padding the comparison trims)
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
VALUES (' 536365  ', '85123A', 'WHITE HANGING HEART', '6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom');
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT reason, count(*) FROM silver.transactions GROUP BY reason ORDER BY reason;
SELECT load_ordinal, reason FROM silver.transactions WHERE load_ordinal IN (1, 38) ORDER BY 1;
SELECT relation, rows, concurrent FROM retail.last_refresh WHERE layer = 'silver' ORDER BY step_order;

-- anything at all in a bronze column is accepted and classified, never an error
TRUNCATE bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT chr(1 + i % 250) || repeat('é', i % 7), E'\t', NULL, repeat('9', i), E'2011-01-01\n10:00',
	   repeat('.', i % 3), '0.0.0', chr(65 + i % 26)
FROM generate_series(1, 50) i;
CREATE TEMP TABLE lookup_indexes AS
SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'silver' AND tablename = 'transactions';
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
SELECT reason, count(*) FROM silver.transactions GROUP BY reason;
-- that rebuild from emptied tables built the indexes after the rows: all are
-- back as they were
SELECT count(*) AS indexes,
	   count(*) = (SELECT count(*) FROM pg_indexes i
				   WHERE i.schemaname = 'silver' AND i.tablename = 'transactions'
					 AND (i.indexname, i.indexdef) IN (SELECT * FROM lookup_indexes)) AS same_after_rebuild
FROM lookup_indexes;
SELECT run_kind, concurrent FROM retail.last_refresh WHERE step_order = 10;
TRUNCATE bronze.transactions_raw;

-- Relation-taking functions for readers (issue 18): retail.rfm_segments and
-- retail.cohort_retention take the names of their columns, so a member of
-- retail_bi runs them on gold.orders, which it may read.  Hand-made lines,
-- every order at one time of day (an order's time is its lines' time):
--   customer 1: O1 2011-01-10 (2 x 5 + 10 = 20), O2 2011-02-15 (30)
--   customer 2: O3 2011-01-20 (15), O4 2011-03-05 (10 + 2.5 = 12.5)
--   customer 3: O5 2011-02-25 (40)
-- The last line is on 2011-03-05: as_of 2011-03-06, so
--   customer 1: recency 19 days (from 2011-02-15), frequency 2, monetary 50
--   customer 2: recency  1 day  (from 2011-03-05), frequency 2, monetary 27.5
--   customer 3: recency  9 days (from 2011-02-25), frequency 1, monetary 40
-- Monthly cohorts: 2011-01 (customers 1, 2), 2011-02 (customer 3), periods
-- up to March:
--   2011-01: period 0: 2 active, 35; period 1: customer 1, 30; period 2:
--            customer 2, 12.5
--   2011-02: period 0: 1 active, 40; period 1: nobody
-- Unbounded, customer 1 is not active in period 2 of 2011-01 but customer 2
-- is in period 1 (active later): 2011-01 period 1 has 2 customers.
CREATE ROLE regress_relcol_reader LOGIN IN ROLE retail_bi;
SET client_min_messages = warning;
BEGIN;
DELETE FROM bronze.transactions_raw;
CALL retail.refresh(concurrently => false);
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('O1', '10001', 'a', '2', '2011-01-10 10:00', '5', '1', 'UK'),
	   ('O1', '10002', 'b', '1', '2011-01-10 10:00', '10', '1', 'UK'),
	   ('O2', '10001', 'a', '1', '2011-02-15 10:00', '30', '1', 'UK'),
	   ('O3', '10001', 'a', '1', '2011-01-20 10:00', '15', '2', 'France'),
	   ('O4', '10001', 'a', '1', '2011-03-05 10:00', '10', '2', 'France'),
	   ('O4', '10002', 'b', '1', '2011-03-05 10:00', '2.5', '2', 'France'),
	   ('O5', '10001', 'a', '1', '2011-02-25 10:00', '40', '3', 'UK');
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
SELECT invoice_no, customer_id, invoice_ts, total FROM gold.orders ORDER BY invoice_no;

-- the reader: on gold.orders, with the column of amounts named
SET ROLE regress_relcol_reader;
CREATE TEMP TABLE reader_rfm AS
SELECT * FROM retail.rfm_segments('gold.orders', value_column => 'total');
CREATE TEMP TABLE reader_cohort AS
SELECT * FROM retail.cohort_retention('gold.orders', value_column => 'total');
CREATE TEMP TABLE reader_cohort_unbounded AS
SELECT * FROM retail.cohort_retention('gold.orders', 'month', true, value_column => 'total');
SELECT customer_id, recency_days, frequency, monetary, first_purchase, last_purchase, as_of
FROM reader_rfm ORDER BY customer_id;
SELECT * FROM reader_cohort ORDER BY cohort, period;
SELECT cohort, period, active_customers FROM reader_cohort_unbounded ORDER BY cohort, period;
RESET ROLE;

-- the owner on the lines, by default and with the columns named: the same
-- rows, scores and segments included
SELECT ARRAY(SELECT r FROM reader_rfm r ORDER BY customer_id)
	   = ARRAY(SELECT r FROM retail.rfm_segments('silver.cleaned_transactions') r ORDER BY customer_id) AS same_rfm,
	   ARRAY(SELECT r FROM reader_rfm r ORDER BY customer_id)
	   = ARRAY(SELECT r FROM retail.rfm_segments('silver.cleaned_transactions', NULL, 5, 'standard', 'seed',
												 'customer_id', 'invoice_ts', 'line_total', 'invoice_no') r
			   ORDER BY customer_id) AS same_rfm_named;
SELECT ARRAY(SELECT ROW(r.*)::retail.cohort_cell FROM reader_cohort r ORDER BY cohort, period)
	   = ARRAY(SELECT r FROM retail.cohort_retention('silver.cleaned_transactions') r ORDER BY cohort, period)
		 AS same_cohort,
	   ARRAY(SELECT ROW(r.*)::retail.cohort_cell FROM reader_cohort_unbounded r ORDER BY cohort, period)
	   = ARRAY(SELECT r FROM retail.cohort_retention('silver.cleaned_transactions', 'month', true, 'customer_id',
													 'invoice_ts', 'line_total') r ORDER BY cohort, period)
		 AS same_cohort_unbounded;
-- and 0.2.0's positional calls are unchanged: at an as-of date (lines
-- before 2011-03-01: customer 2 has one order), by week
SELECT customer_id, recency_days, frequency, monetary, as_of
FROM retail.rfm_segments('silver.cleaned_transactions', '2011-03-01', 3, 'standard', 'seed')
ORDER BY customer_id;
SELECT count(*) AS weekly_cells, sum(revenue) AS revenue
FROM retail.cohort_retention('silver.cleaned_transactions', 'week', false);
ROLLBACK;

-- A missing column is named with its parameter, before any query runs: the
-- default value_column on gold.orders, a misnamed customer_column
CREATE TEMP TABLE relcol_lines (customer_id bigint, invoice_no text, invoice_ts timestamp, line_total numeric);
SET ROLE regress_relcol_reader;
SELECT * FROM retail.rfm_segments('gold.orders');
SELECT * FROM retail.cohort_retention('gold.orders');
SELECT * FROM retail.rfm_segments('gold.orders', value_column => 'total', customer_column => 'customer');
SELECT * FROM retail.cohort_retention('gold.orders', value_column => 'total', time_column => 'invoice_date');
SELECT * FROM retail.rfm_segments('gold.orders', value_column => 'total', invoice_column => 'invoice');
SELECT * FROM retail.rfm_segments('gold.orders', value_column => NULL);
SELECT * FROM retail.cohort_retention('gold.orders', value_column => NULL);
-- and what it may not read stays closed: the SELECT privilege is checked
-- before the columns
SELECT count(*) FROM retail.rfm_segments('relcol_lines', value_column => 'nope');
SELECT count(*) FROM retail.cohort_retention('relcol_lines', value_column => 'nope');
RESET ROLE;
-- system columns and dropped columns are not columns of the data
SELECT * FROM retail.cohort_retention('relcol_lines', customer_column => 'ctid');
SELECT * FROM retail.rfm_segments('relcol_lines', invoice_column => 'xmin');
ALTER TABLE relcol_lines DROP COLUMN line_total;
SELECT * FROM retail.cohort_retention('relcol_lines');
SELECT * FROM retail.rfm_segments('relcol_lines');
DROP ROLE regress_relcol_reader;

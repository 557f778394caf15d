-- Settings of the marts: defaults, overrides read at the next refresh.
SELECT name, value, overridden FROM retail.current_settings ORDER BY name;
SELECT retail.setting('abc_a') AS abc_a;
SELECT retail.setting('no_such_setting');
INSERT INTO retail.settings VALUES ('no_such_setting', '1');

-- Two countries: United Kingdom 3 x 10.00 = 30.00, France 10.00; total 40.
-- Defaults (0.80, 0.95): UK has 0 before it -> A; France has 30/40 = 0.75
-- before it, < 0.80 -> A.  With abc_a 0.5 and abc_b 0.7: France's 0.75 is
-- not below 0.7 -> C.
BEGIN;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('1001', '85123A', 'HEART', '3', '2011-12-01 10:00', '10.00', '10', 'United Kingdom'),
	('1002', '85123A', 'HEART', '1', '2011-12-02 10:00', '10.00', '20', 'France');
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
SELECT rank, country, revenue, share, cum_share_before, abc_class FROM gold.mart_countries_abc ORDER BY rank;
INSERT INTO retail.settings VALUES ('abc_a', '0.5'), ('abc_b', '0.7');
SELECT name, value, overridden FROM retail.current_settings WHERE name LIKE 'abc%' ORDER BY name;
CALL retail.refresh();
SELECT rank, country, abc_class FROM gold.mart_countries_abc ORDER BY rank;
ROLLBACK;

-- Every setting is checked when written: the error names the setting and
-- what it allows, and nothing is stored.
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT name, allowed FROM retail.current_settings ORDER BY name;
INSERT INTO retail.settings VALUES ('rfm_bins', 'abc');
INSERT INTO retail.settings VALUES ('rfm_bins', '1');
INSERT INTO retail.settings VALUES ('rfm_bins', '11');
INSERT INTO retail.settings VALUES ('rfm_bins', '4.0');
INSERT INTO retail.settings VALUES ('audit_threshold', '-1');
INSERT INTO retail.settings VALUES ('audit_threshold', '0');
INSERT INTO retail.settings VALUES ('abc_a', '0');
INSERT INTO retail.settings VALUES ('abc_b', '1.01');
INSERT INTO retail.settings VALUES ('abc_b', '1e-1');
INSERT INTO retail.settings VALUES ('xyz_x', 'NaN');
INSERT INTO retail.settings VALUES ('rfm_as_of', '2011-02-29');
INSERT INTO retail.settings VALUES ('rfm_as_of', '12/31/2011');
INSERT INTO retail.settings VALUES ('rfm_preset', 'no such preset');
-- the CLV sums one term per month of the horizon: at most ten years
INSERT INTO retail.settings VALUES ('clv_horizon_months', '121');
-- each alone is fine, but abc_a must stay below abc_b, xyz_x below xyz_y
INSERT INTO retail.settings VALUES ('abc_a', '0.96');
INSERT INTO retail.settings VALUES ('xyz_y', '0.5');
-- a preset must give every cell a segment at the bins in force: this one
-- has a rule for r = 5 only, so cells with r < 5 have none
INSERT INTO retail.segment_rules (preset, priority, segment, r_min) VALUES ('regress_top', 1, 'Top', 5);
INSERT INTO retail.settings VALUES ('rfm_preset', 'regress_top');
SELECT count(*) AS stored FROM retail.settings;
-- values the rules allow are stored as written and read trimmed; NULL
-- stands for the default
INSERT INTO retail.settings VALUES ('audit_threshold', ' 5 '), ('rfm_as_of', '2011-12-31'), ('abc_b', '1'),
	('clv_horizon_months', '120');
SELECT retail.setting('audit_threshold') AS audit_threshold, retail.setting('rfm_as_of') AS rfm_as_of,
	   retail.setting('abc_b') AS abc_b;
UPDATE retail.settings SET value = NULL WHERE name = 'rfm_as_of';
SELECT retail.setting('rfm_as_of') IS NULL AS as_of_is_default;
DELETE FROM retail.settings;
DELETE FROM retail.segment_rules WHERE preset = 'regress_top';

-- A refresh that fails changes nothing: the marts of the last successful
-- refresh stay readable, the failure is logged with its step (and the
-- setting at fault), and the next refresh after the cause is gone succeeds.
TRUNCATE bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('1001', '85123A', 'HEART', '3', '2011-12-01 10:00', '10.00', '10', 'United Kingdom');
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT max(run_id) AS good_run FROM retail.refresh_log \gset
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('1002', '85123A', 'HEART', '1', '2011-12-02 10:00', '10.00', '20', 'France');

-- (1) a bad value that bypassed the check (a restore with triggers off)
ALTER TABLE retail.settings DISABLE TRIGGER check_settings;
INSERT INTO retail.settings VALUES ('rfm_bins', 'abc');
ALTER TABLE retail.settings ENABLE TRIGGER check_settings;
\set VERBOSITY terse
CALL retail.refresh();
\set VERBOSITY default
SELECT step_order, layer, relation, rows, status, error, sqlstate, setting
FROM retail.refresh_log WHERE run_id > :good_run ORDER BY run_id, step_order;
SELECT count(*) AS silver_lines, (SELECT count(*) FROM gold.mart_customer_segments) AS customers
FROM silver.cleaned_transactions;
-- the row was logged in a transaction of its own, after the run was rolled
-- back: what the run remembered is used up, and logging again adds nothing
SELECT count(*) AS log_rows FROM retail.refresh_log \gset
SELECT retail.log_failed_run();
SELECT retail.take_failed_run() IS NULL AS nothing_remembered,
	   (SELECT count(*) FROM retail.refresh_log) = :log_rows AS nothing_logged_again;
-- what a run remembers is given back once, as it was, and NULL forgets it
SELECT retail.remember_failed_run('a run''s rows');
SELECT retail.take_failed_run() AS taken;
SELECT retail.take_failed_run() IS NULL AS taken_once;
SELECT retail.remember_failed_run('kept');
SELECT retail.remember_failed_run(NULL);
SELECT retail.take_failed_run() IS NULL AS forgotten;
-- text that is not log rows: a clear error, nothing logged, and it is not
-- tried again
SELECT retail.remember_failed_run('not rows');
SELECT retail.log_failed_run();
SELECT retail.take_failed_run() IS NULL AS not_kept,
	   (SELECT count(*) FROM retail.refresh_log) = :log_rows AS nothing_logged;
-- in a caller's transaction block the failed run's log row is the block's:
-- rolled back with it, and nothing remembered for retail.log_failed_run()
BEGIN;
\set VERBOSITY terse
CALL retail.refresh();
\set VERBOSITY default
ROLLBACK;
SELECT retail.take_failed_run() IS NULL AS nothing_remembered_in_a_block,
	   (SELECT count(*) FROM retail.refresh_log) = :log_rows AS block_rolled_back;
DELETE FROM retail.settings;

-- (2) a gold view that fails keeps its contents, the other views are
-- refreshed, and the run ends with a WARNING that names it; gold stays
-- stale, so every later refresh tries it again until it succeeds.  The test
-- view counts the clean lines, divides by zero while regress_fault says so,
-- and its warning check warns of more than one line.
CREATE TABLE public.regress_fault (fail boolean);
INSERT INTO public.regress_fault VALUES (false);
CREATE MATERIALIZED VIEW public.regress_view AS
SELECT count(*) / (SELECT CASE WHEN f.fail THEN 0 ELSE 1 END FROM public.regress_fault f) AS lines
FROM silver.cleaned_transactions
WITH NO DATA;
CREATE UNIQUE INDEX ON public.regress_view (lines);
CREATE FUNCTION public.regress_view_warning() RETURNS text LANGUAGE sql
RETURN (SELECT format('%s lines', v.lines) FROM public.regress_view v WHERE v.lines > 1);
INSERT INTO retail.refresh_steps VALUES (900, 'gold', 'public', 'regress_view', NULL, 'public.regress_view_warning()');
-- (a) the second line comes in: every view ok, the test view with its warning
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT max(run_id) AS good_run FROM retail.refresh_log \gset
SELECT step_order, relation, rows, status, error FROM retail.last_refresh WHERE status <> 'ok' OR step_order = 900;
-- (b) a third line, and the test view fails: it keeps its 2 lines, silver
-- and the other marts have the third line (UK 30.00 + 20.00, France 10.00;
-- on the day of the first, so that no customer bought on two days and the
-- CLV models are not fitted)
UPDATE public.regress_fault SET fail = true;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('1003', '85123A', 'HEART', '2', '2011-12-01 11:00', '10.00', '10', 'United Kingdom');
SET client_min_messages = warning;
\set VERBOSITY terse
CALL retail.refresh();
\set VERBOSITY default
RESET client_min_messages;
SELECT step_order, relation, rows, status, error, sqlstate, setting
FROM retail.refresh_log WHERE run_id > :good_run AND status NOT IN ('ok', 'unchanged') ORDER BY run_id, step_order;
SELECT status, count(*) AS gold_views FROM retail.last_refresh WHERE layer = 'gold' GROUP BY status ORDER BY 1;
SELECT (SELECT count(*) FROM silver.cleaned_transactions) AS silver_lines,
	   (SELECT lines FROM public.regress_view) AS test_view_lines;
SELECT country, revenue FROM gold.mart_countries_abc ORDER BY rank;
SELECT gold_stale FROM retail.refresh_progress;
-- (c) nothing new in bronze, but gold is stale: the refresh tries again
SET client_min_messages = warning;
\set VERBOSITY terse
CALL retail.refresh();
\set VERBOSITY default
RESET client_min_messages;
SELECT step_order, relation, status FROM retail.last_refresh WHERE status <> 'ok';
-- (d) the cause gone, the next refresh brings the test view up to date and
-- gold is no longer stale
UPDATE public.regress_fault SET fail = false;
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT step_order, relation, rows, status, error FROM retail.last_refresh WHERE status <> 'ok';
SELECT (SELECT lines FROM public.regress_view) AS test_view_lines, gold_stale FROM retail.refresh_progress;
DELETE FROM retail.refresh_steps WHERE step_order = 900;
DROP FUNCTION public.regress_view_warning();
DROP MATERIALIZED VIEW public.regress_view;
DROP TABLE public.regress_fault;

-- (3) rfm_as_of: when written it must be after the last purchase of silver
-- (2011-12-02); lines that pass it later move the marts' as-of date to the
-- day after the last purchase, with a NOTICE, never an error.
INSERT INTO retail.settings VALUES ('rfm_as_of', '2011-12-02');
INSERT INTO retail.settings VALUES ('rfm_as_of', '2011-12-31');
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
-- as_of 2011-12-31: customer 10 last bought on 2011-12-01 (30 days), 20 on
-- 2011-12-02 (29 days)
SELECT customer_id, recency_days, as_of FROM gold.mart_customer_segments ORDER BY customer_id;
-- a line of 2012-01-05 (customer 30): as_of becomes 2012-01-06, recencies
-- 36 (2011-12-01), 35 (2011-12-02) and 1; the month-end snapshot of
-- 2012-01-01 holds customers 10 and 20; no step fails
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('1004', '85123A', 'HEART', '1', '2012-01-05 10:00', '10.00', '30', 'France');
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT step_order, relation, status, setting FROM retail.last_refresh WHERE status NOT IN ('ok', 'unchanged');
SELECT customer_id, recency_days, as_of FROM gold.mart_customer_segments ORDER BY customer_id;
SELECT as_of, count(*) AS customers FROM gold.segment_month_ends GROUP BY as_of;
SELECT retail.rfm_as_of();
DELETE FROM retail.settings;
TRUNCATE bronze.transactions_raw;

-- Least privilege: PUBLIC gets nothing; retail_bi reads gold and runs the
-- functions that compute on what it may read; retail_loader appends to
-- bronze, reads bronze and silver, refreshes and generates.
CREATE ROLE regress_reader LOGIN IN ROLE retail_bi;
CREATE ROLE regress_loader LOGIN IN ROLE retail_loader;
CREATE ROLE regress_nobody LOGIN;
\set VERBOSITY terse
TRUNCATE bronze.transactions_raw;

-- the loader loads, generates and refreshes without owning anything
SET ROLE regress_loader;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('536365', '85123A', 'HEART', '6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom'),
	('536366', '22633', 'HAND WARMER', '6', '2010-12-01 08:28', '1.85', '17850', 'France'),
	('536367', '22633', 'HAND WARMER', '-6', '2010-12-01 08:28', '1.85', '17851', 'France');
SELECT count(*) AS generated FROM retail.generate_transactions(10);
SELECT count(*) AS simulated FROM retail.simulate_bgnbd_customers(10, 1, 1, 1, 1, 10);
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
SELECT count(*) AS bronze FROM bronze.transactions_raw;
SELECT reason, count(*) FROM silver.rejected_transactions GROUP BY reason;
SELECT country, revenue FROM gold.mart_countries_abc ORDER BY rank;
SELECT status FROM retail.last_refresh WHERE step_order = 400;
-- but cannot change what it loaded or the extension's objects
UPDATE bronze.transactions_raw SET quantity = '7';
TRUNCATE silver.transactions;
INSERT INTO retail.settings VALUES ('rfm_bins', '3');
RESET ROLE;

-- the reader sees gold and runs the ad-hoc marts and aggregates
SET ROLE regress_reader;
SELECT country, revenue FROM gold.mart_countries_abc ORDER BY rank;
SELECT country, abc_class FROM retail.countries_abc(0.5, 0.9) ORDER BY rank;
SELECT count(*) AS anomalies FROM retail.order_anomalies(1);
SELECT (retail.rfm_customer(i, t, a)).frequency
FROM (VALUES ('1', '2011-01-01'::timestamp, 1.0), ('2', '2011-01-02', 2.0)) v(i, t, a);
SELECT name, value FROM retail.current_settings WHERE name = 'rfm_bins';
SELECT status FROM retail.last_refresh WHERE step_order = 400;
SELECT count(*) AS valued_customers FROM gold.mart_customer_value;
-- and the counts of the refresh's warning check of that mart
SELECT customers, unpredicted FROM retail.customer_value_counts();
SELECT customers, unit FROM gold.clv_model;
-- through the views of gold over the stored marts, functions that read them too
SELECT bgnbd IS NULL AS unfitted_while_no_repeat_customer FROM retail.clv_models();
-- and writes the report, every section of it, from gold alone
SELECT retail.report_html()
	   ~ 'id="headline".*id="cohorts".*id="segments".*id="countries".*id="products".*id="anomalies"' AS report;
-- and nothing else: not bronze or silver, not through a function either
SELECT count(*) FROM bronze.transactions_raw;
SELECT count(*) FROM silver.cleaned_transactions;
SELECT count(*) FROM silver.orders;
-- nor the stored marts behind gold's views
SELECT count(*) FROM gold_store.mart_countries_abc;
SELECT count(*) FROM retail.cohort_retention('silver.cleaned_transactions');
SELECT count(*) FROM retail.rfm_segments('silver.cleaned_transactions');
SELECT count(*) FROM retail.generate_transactions(10);
SELECT count(*) FROM retail.btyd_summary('silver.cleaned_transactions');
SELECT count(*) FROM retail.simulate_bgnbd_customers(10, 1, 1, 1, 1, 10);
CALL retail.refresh();
INSERT INTO bronze.transactions_raw (invoice_no) VALUES ('1');
INSERT INTO retail.settings VALUES ('rfm_bins', '3');
-- nor mark gold stale (every refresh would recompute it) through the
-- extension's trigger function on a table of its own
CREATE TEMP TABLE regress_mine (x integer);
CREATE TRIGGER regress_stale AFTER INSERT ON regress_mine
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();
SELECT gold_stale FROM retail.refresh_progress;
RESET ROLE;
DROP TABLE regress_mine;

-- a login outside the extension's roles can do nothing
SET ROLE regress_nobody;
SELECT count(*) FROM retail.generate_transactions(10);
SELECT retail.try_int4('1');
CALL retail.refresh();
SELECT count(*) FROM gold.mart_countries_abc;
SELECT count(*) FROM bronze.transactions_raw;
SELECT retail.report_html();
RESET ROLE;

-- the grants as a whole: every relation of the layers by role ...
SELECT n.nspname, c.relname,
	   has_table_privilege('retail_bi', c.oid, 'SELECT') AS bi_reads,
	   has_table_privilege('retail_loader', c.oid, 'SELECT') AS loader_reads,
	   has_any_column_privilege('retail_loader', c.oid, 'INSERT') AS loader_inserts,
	   has_table_privilege('regress_nobody', c.oid, 'SELECT') AS nobody_reads
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('bronze', 'silver', 'gold', 'gold_store') AND c.relkind IN ('r', 'v', 'm')
ORDER BY 1, 2;
-- ... bronze's columns the loader may write: not load_ordinal (test/sql/bronze.sql) ...
SELECT a.attname, has_column_privilege('retail_loader', a.attrelid, a.attnum, 'INSERT') AS loader_inserts
FROM pg_attribute a
WHERE a.attrelid = 'bronze.transactions_raw'::regclass AND a.attnum > 0
ORDER BY a.attnum;
-- ... PUBLIC executes nothing of the extension, and these are what
-- retail_bi may not run (a new function lands in this list or is granted)
SELECT count(*) AS public_executes
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'retail' AND has_function_privilege('regress_nobody', p.oid, 'EXECUTE');
SELECT p.oid::regprocedure AS bi_may_not_run,
	   has_function_privilege('retail_loader', p.oid, 'EXECUTE') AS loader_may_run
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'retail' AND NOT has_function_privilege('retail_bi', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text;
-- functions that run as their owner
SELECT p.oid::regprocedure AS security_definer, p.proconfig
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'retail' AND p.prosecdef
ORDER BY p.oid::regprocedure::text;

-- Objects on the search path cannot hijack a refresh that a superuser runs:
-- a public btrim(text) and a public = (text, text) that would record their
-- calls, a public schema before pg_catalog, and tables named like ours.
CREATE TABLE public.regress_hijacked (what text);
CREATE FUNCTION public.btrim(text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO public.regress_hijacked VALUES ('btrim') RETURNING 'HIJACKED' $$;
CREATE FUNCTION public.regress_text_eq(text, text) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO public.regress_hijacked VALUES ('=') RETURNING true $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.regress_text_eq);
CREATE FUNCTION public.regress_text_ne(text, text) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO public.regress_hijacked VALUES ('<>') RETURNING true $$;
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.regress_text_ne);
CREATE TABLE public.refresh_steps (step_order int, layer text, schema_name name, view_name name);
INSERT INTO public.refresh_steps VALUES (1, 'silver', 'pg_catalog', 'pg_class');
CREATE TABLE public.refresh_log (LIKE retail.refresh_log);
SET search_path = public, pg_catalog;
SET client_min_messages = warning;
-- at REPEATABLE READ, so that retail.refresh() takes its way to READ COMMITTED
SET default_transaction_isolation = 'repeatable read';
CALL retail.refresh();
RESET default_transaction_isolation;
-- a failing refresh takes the other path of retail.refresh()
ALTER TABLE retail.settings DISABLE TRIGGER check_settings;
INSERT INTO retail.settings VALUES ('rfm_bins', 'abc');
CALL retail.refresh();
DELETE FROM retail.settings;
ALTER TABLE retail.settings ENABLE TRIGGER check_settings;
RESET client_min_messages;
RESET search_path;
SELECT count(*) AS hijacked_calls FROM public.regress_hijacked;
SELECT count(*) AS rows_in_public_log FROM public.refresh_log;
SELECT DISTINCT description FROM silver.cleaned_transactions ORDER BY 1;
DROP TABLE public.regress_hijacked, public.refresh_steps, public.refresh_log;
DROP OPERATOR public.= (text, text);
DROP OPERATOR public.<> (text, text);
DROP FUNCTION public.btrim(text), public.regress_text_eq(text, text), public.regress_text_ne(text, text);

-- the extension's own triggers still fire retail.note_change(): gold, up to
-- date after a refresh, is stale after a change of the presets
TRUNCATE bronze.transactions_raw;
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT gold_stale FROM retail.refresh_progress;
UPDATE retail.segment_rules SET segment = segment WHERE false;
SELECT gold_stale FROM retail.refresh_progress;
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
DROP ROLE regress_reader, regress_loader, regress_nobody;

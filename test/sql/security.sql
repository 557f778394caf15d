-- The BI role reads gold only; layer objects are owned by the extension.
CREATE ROLE retail_test_analyst LOGIN;
GRANT retail_bi TO retail_test_analyst;
SET ROLE retail_test_analyst;
SELECT count(*) FROM bronze.transactions_raw;
SELECT count(*) FROM silver.cleaned_transactions;
SELECT count(*) FROM silver.orders;
RESET ROLE;

-- every gold relation is readable by retail_bi, and nothing outside gold is
SELECT n.nspname, c.relname, has_table_privilege('retail_bi', c.oid, 'SELECT') AS bi_can_read
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('bronze', 'silver', 'gold', 'retail') AND c.relkind IN ('r', 'v', 'm')
  AND has_table_privilege('retail_bi', c.oid, 'SELECT') <> (n.nspname = 'gold')
ORDER BY 1, 2;
SELECT has_schema_privilege('retail_bi', 'gold', 'USAGE') AS gold,
	   has_schema_privilege('retail_bi', 'silver', 'USAGE') AS silver,
	   has_schema_privilege('retail_bi', 'bronze', 'USAGE') AS bronze;
DROP ROLE retail_test_analyst;

-- objects on the search path cannot hijack the refresh: it names its own
-- tables with their schema
CREATE SCHEMA evil;
CREATE TABLE evil.refresh_steps (step_order int, layer text, schema_name name, view_name name);
INSERT INTO evil.refresh_steps VALUES (1, 'silver', 'pg_catalog', 'pg_class');
CREATE TABLE evil.refresh_log (LIKE retail.refresh_log);
SET search_path = evil, public;
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);
RESET client_min_messages;
RESET search_path;
SELECT relation FROM retail.last_refresh WHERE layer = 'silver' OR relation LIKE 'pg_catalog%' ORDER BY step_order;
SELECT count(*) AS rows_in_evil_log FROM evil.refresh_log;
DROP SCHEMA evil CASCADE;

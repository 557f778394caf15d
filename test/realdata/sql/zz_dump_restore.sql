-- pg_dump keeps bronze (a configuration table of the extension) and its load
-- ordinals; the views come back empty and one refresh rebuilds them.
\! pg_dump -Fc -d retail_realdata -f retail_realdata.dump
\! dropdb --if-exists retail_restored 2>/dev/null; createdb retail_restored && pg_restore -d retail_restored retail_realdata.dump
\c retail_restored
SELECT count(*) AS bronze_rows, max(load_ordinal) AS last_ordinal FROM bronze.transactions_raw;
SELECT count(*) > 0 AS has_views, bool_and(NOT ispopulated) AS all_empty FROM pg_matviews WHERE schemaname IN ('silver', 'gold', 'gold_store');
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT reason, count(*) FROM silver.transactions GROUP BY reason ORDER BY count(*) DESC;
SELECT bool_and(ispopulated) AS all_populated FROM pg_matviews WHERE schemaname IN ('silver', 'gold', 'gold_store');
-- the ordinal sequence was restored too: a new line comes after the old ones
INSERT INTO bronze.transactions_raw (invoice_no) VALUES ('X') RETURNING load_ordinal;
\c retail_realdata
\! dropdb retail_restored && rm -f retail_realdata.dump

-- One round of bench/refresh.sql, which includes it; it includes itself
-- again until :round reaches :repeats.
SELECT count(*) AS lines FROM bronze.transactions_raw \gset
\c
\set kind '1 full rebuild, concurrently => false'
\set stmt 'CALL retail.refresh(full => true, concurrently => false)'
\ir timed.sql
\c
\set kind '2 full rebuild, concurrent'
\set stmt 'CALL retail.refresh(full => true)'
\ir timed.sql

-- take the last day out, rebuild without it, load it again as a new batch
SET client_min_messages = warning;
DELETE FROM bronze.transactions_raw b USING silver.transactions s
WHERE s.load_ordinal = b.load_ordinal AND s.invoice_ts >= :'last_day';
CALL retail.refresh(full => true, concurrently => false);
VACUUM ANALYZE bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
FROM public.bench_last_day ORDER BY load_ordinal;

\c
\set lines :last_day_lines
\set kind '3 last day appended as a new batch: CALL retail.refresh()'
\set stmt 'CALL retail.refresh()'
\ir timed.sql
\c
\set lines 0
\set kind '4 nothing new: CALL retail.refresh(), new backend'
\ir timed.sql
\set kind '5 nothing new: CALL retail.refresh(), warm backend'
\ir timed.sql

SELECT :round + 1 AS round, :round < :repeats AS again \gset
\if :again
\ir refresh_round.sql
\endif

-- One day of bench/append_days.sql, which includes it; it includes itself
-- again until :round reaches :days.
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
FROM public.bench_days WHERE day_number = :round ORDER BY load_ordinal;
SELECT count(*) AS lines FROM public.bench_days WHERE day_number = :round \gset
\c
\set kind 'day'
\set stmt 'CALL retail.refresh()'
\ir timed.sql
SELECT :round + 1 AS round, :round < :days AS again \gset
\if :again
\ir append_days_round.sql
\endif

-- One round of bench/silver.sql, which includes it; it includes itself again
-- until :round reaches :repeats.
\c
\set kind '1 ours: CALL retail.refresh(full => true, concurrently => false)'
\set stmt 'CALL retail.refresh(full => true, concurrently => false)'
\ir timed.sql

\c
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.oracle, public.oracle_orders, public.plain_rfm, public.plain_cohort,
	public.plain_countries, public.plain_products, public.plain_audit CASCADE;
\i test/cohort_oracle.sql
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE public.oracle AS :silver_plain;
CREATE VIEW public.oracle_clean AS SELECT * FROM public.oracle WHERE reason IS NULL;
SELECT clock_timestamp() AS t1 \gset
CREATE TABLE public.oracle_orders AS :orders_plain;
SELECT clock_timestamp() AS t2 \gset
CREATE TABLE public.plain_rfm AS :rfm_plain;
SELECT clock_timestamp() AS t3 \gset
CREATE TABLE public.plain_cohort AS SELECT * FROM pg_temp.cohort_oracle('public.oracle_clean');
SELECT clock_timestamp() AS t4 \gset
CREATE TABLE public.plain_countries AS :countries_plain;
SELECT clock_timestamp() AS t5 \gset
CREATE TABLE public.plain_products AS :products_plain;
SELECT clock_timestamp() AS t6 \gset
CREATE TABLE public.plain_audit AS :audit_plain;
SELECT clock_timestamp() AS t7 \gset
INSERT INTO public.bench_timed (kind, round, seconds, silver_seconds, lines)
VALUES ('2 plain SQL: the oracles as tables', :round,
		round(extract(epoch FROM :'t7'::timestamptz - :'t0'), 3),
		round(extract(epoch FROM :'t2'::timestamptz - :'t0'), 3), :lines);
INSERT INTO public.bench_timed_steps
SELECT '2 plain SQL: the oracles as tables', :round, s.n, s.statement,
	   round(extract(epoch FROM s.finished - s.started), 3)
FROM (VALUES (1, 'silver (oracle/silver.sql)', :'t0'::timestamptz, :'t1'::timestamptz),
			 (2, 'orders (oracle/orders.sql)', :'t1', :'t2'),
			 (3, 'RFM (oracle/rfm_segments.sql)', :'t2', :'t3'),
			 (4, 'cohorts (test/cohort_oracle.sql)', :'t3', :'t4'),
			 (5, 'countries ABC (oracle/countries_abc.sql)', :'t4', :'t5'),
			 (6, 'products ABC/XYZ (oracle/products_abc.sql)', :'t5', :'t6'),
			 (7, 'audit (oracle/order_anomalies.sql)', :'t6', :'t7')) s(n, statement, started, finished);
DROP TABLE public.oracle, public.oracle_orders, public.plain_rfm, public.plain_cohort,
	public.plain_countries, public.plain_products, public.plain_audit CASCADE;

\set kind '3 floor: CREATE TABLE AS SELECT * FROM bronze.transactions_raw'
\set stmt 'CREATE TABLE public.bench_floor AS SELECT * FROM bronze.transactions_raw'
\ir timed.sql
DROP TABLE public.bench_floor;
\set kind '4 floor: CREATE TABLE AS with casts to the silver columns'
\set stmt 'SELECT public.bench_cast_floor()'
\o /dev/null
\ir timed.sql
\o
DROP TABLE public.bench_floor_cast;

SELECT :round + 1 AS round, :round < :repeats AS again \gset
\if :again
\ir silver_round.sql
\endif

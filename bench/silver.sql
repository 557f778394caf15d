-- The full rebuild against the plain-SQL formulation of the same rules, and
-- the silver layer against its floors, side by side:
--   ours:  CALL retail.refresh(full => true, concurrently => false) in a
--          fresh backend; its silver layer is steps 10 and 20 of the log
--          (silver.transactions, then silver.orders and the states)
--   plain: the real-data suite's oracles as tables: silver
--          (test/realdata/oracle/silver.sql: regular expressions, casts,
--          row_number for rule 7), orders (oracle/orders.sql), then the marts
--          (oracle/rfm_segments.sql, test/cohort_oracle.sql,
--          oracle/countries_abc.sql, oracle/products_abc.sql,
--          oracle/order_anomalies.sql) read from those tables
--   floor: CREATE TABLE AS SELECT * FROM bronze.transactions_raw, the cost of
--          writing the rows at all; and the same with PostgreSQL's own casts
--          to silver's columns (over a copy of bronze without the malformed
--          lines, which the casts would fail on)
-- Targets: ours at least 3x faster than plain; the silver layer within 2x of
-- the CREATE TABLE AS floor.  Needs bronze loaded and refreshed; run from the
-- repository root (bench/run does).  Rounds: bench.repeats, else 3; medians.
\set QUIET on
SET client_min_messages = warning;
SELECT coalesce(nullif(current_setting('bench.repeats', true), '')::int, 3) AS repeats,
	   (SELECT count(*) FROM bronze.transactions_raw) AS lines \gset
CREATE TABLE public.bench_timed (kind text, round int, seconds numeric, silver_seconds numeric,
								 lines bigint, hwm_before_kb bigint, hwm_after_kb bigint);
CREATE TABLE public.bench_timed_steps (kind text, round int, step_order int, relation text, seconds numeric);
CREATE TABLE public.bench_bronze AS
SELECT b.*
FROM bronze.transactions_raw b JOIN silver.transactions s USING (load_ordinal)
WHERE s.reason IS DISTINCT FROM 'malformed';
VACUUM ANALYZE public.bench_bronze;
CREATE FUNCTION public.bench_cast_floor() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	CREATE TABLE public.bench_floor_cast AS
	SELECT upper(btrim(invoice_no)) AS invoice_no, upper(btrim(stock_code)) AS stock_code,
		   nullif(btrim(description), '') AS description, quantity::int AS quantity,
		   invoice_date::timestamp AS invoice_ts, unit_price::numeric AS unit_price,
		   quantity::int * unit_price::numeric AS line_total,
		   customer_id::numeric::bigint AS customer_id, btrim(country) AS country, load_ordinal
	FROM public.bench_bronze;
END
$$;

-- the plain pipeline's statements: its marts read its own silver
\set silver_plain `cat test/realdata/oracle/silver.sql`
\set orders_plain `cat test/realdata/oracle/orders.sql`
\set rfm_plain `sed 's/silver\.cleaned_transactions/public.oracle_clean/g' test/realdata/oracle/rfm_segments.sql`
\set countries_plain `sed 's/silver\.cleaned_transactions/public.oracle_clean/g' test/realdata/oracle/countries_abc.sql`
\set products_plain `sed 's/silver\.cleaned_transactions/public.oracle_clean/g' test/realdata/oracle/products_abc.sql`
\set audit_plain `sed 's/silver\.cleaned_transactions/public.oracle_clean/g; s/silver\.orders/public.oracle_orders/g' test/realdata/oracle/order_anomalies.sql`

\set round 1
\ir silver_round.sql

\set QUIET off
\echo '== full rebuild vs plain SQL, silver layer vs floors (median of' :repeats 'rounds,' :lines 'bronze lines)'
WITH m AS (
	SELECT kind, percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) AS seconds,
		   percentile_disc(0.5) WITHIN GROUP (ORDER BY silver_seconds) AS silver_seconds
	FROM public.bench_timed GROUP BY kind
)
SELECT m.kind, m.seconds, m.silver_seconds,
	   round(p.seconds / m.seconds, 2) AS plain_x_slower,
	   round(coalesce(m.silver_seconds, m.seconds) / f.seconds, 2) AS x_floor
FROM m, m p, m f
WHERE p.kind LIKE '% plain SQL%' AND f.kind LIKE '% floor: CREATE TABLE AS SELECT *%'
ORDER BY m.kind;
\echo '== targets: ours >= 3x faster than plain SQL; silver layer (steps 10 + 20) <= 2x the CREATE TABLE AS floor'
\echo '== plain SQL pipeline, median seconds of each statement'
SELECT relation AS statement, percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) AS seconds
FROM public.bench_timed_steps WHERE kind LIKE '% plain SQL%'
GROUP BY step_order, relation ORDER BY step_order;
\set QUIET on
DROP TABLE public.bench_timed, public.bench_timed_steps, public.bench_bronze;
DROP FUNCTION public.bench_cast_floor();

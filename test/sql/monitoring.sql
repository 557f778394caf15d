-- Monitoring (issue 17): what kind of run each refresh was and why, and
-- retail.last_refresh under a frequent schedule: the latest run that did
-- something, with the time of the latest check.  On generated lines, in a
-- transaction rolled back at the end.  Expected values, by hand: the runs
-- below are, in order,
--   1 full => true                     rebuild  full_requested
--   2 3000 new lines                   append   (no reason)
--   3 nothing new                      nothing_new
--   4 a setting changed, no new line   append   settings_changed
--   5 a DELETE of bronze               rebuild  bronze_changed
--   6 full => true                     rebuild  full_requested
--   7 one new line, a gold view fails  append   (no reason)
--   8 nothing new, gold stale          append   gold_retry (fails again)
--   9 nothing new, gold stale          append   gold_retry (succeeds)
--  10 nothing new                      nothing_new
SET client_min_messages = warning;
-- a schedule is checked before anything of pg_cron's is
SELECT retail.schedule_refresh(NULL);
BEGIN;
-- runs are numbered from here (runs rolled back by earlier tests used numbers)
SELECT nextval('retail.refresh_run_seq') AS before \gset
DELETE FROM bronze.transactions_raw;
CALL retail.refresh(full => true, concurrently => false);
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
SELECT * FROM retail.generate_transactions(3000, 17, 60, 40, false);
CALL retail.refresh();
CALL retail.refresh();
-- the last check found nothing new: last_refresh shows run 2, and checked_at
-- is when run 3 ended
SELECT DISTINCT run_id - :before AS shown_run, run_kind, reason,
	   checked_at = (SELECT max(finished_at) FROM retail.refresh_log WHERE run_id = :before + 3) AS checked_at_of_run_3,
	   checked_at > finished_at AS checked_after
FROM retail.last_refresh;

-- gold.segment_migration, kept by the refresh since 0.3.0, equals the
-- read-time computation of 0.2.0, row for row and in order
SELECT count(*) AS migration_rows,
	   array_agg(m::text) = (SELECT array_agg(o::text ORDER BY o.to_as_of DESC, o.from_segment NULLS FIRST,
											  o.to_segment)
							 FROM (SELECT m.from_as_of, m.to_as_of, m.from_segment, m.to_segment, m.customers,
										  m.revenue::numeric(38, 6) AS revenue
								   FROM (SELECT h.as_of, lag(h.as_of) OVER (ORDER BY h.as_of) AS previous
										 FROM (SELECT DISTINCT as_of FROM gold.segment_history) h) s
										CROSS JOIN LATERAL retail.segment_migration(s.previous, s.as_of) m
								   WHERE s.previous IS NOT NULL) o) AS equals_read_time
FROM gold.segment_migration m;

INSERT INTO retail.settings VALUES ('abc_a', '0.5');
CALL retail.refresh();
-- run 5 classifies 3000 lines less those deleted
WITH deleted AS (
	DELETE FROM bronze.transactions_raw WHERE invoice_no = (SELECT min(invoice_no) FROM bronze.transactions_raw)
	RETURNING 1
)
SELECT count(*) AS deleted_lines FROM deleted;
CALL retail.refresh();
CALL retail.refresh(full => true);

-- A gold view that fails while regress.divisor is 0: every later run
-- recomputes gold to try it again, until it succeeds.
SET regress.divisor = 0;
CREATE MATERIALIZED VIEW public.regress_view AS SELECT 1 / current_setting('regress.divisor')::integer AS one
WITH NO DATA;
INSERT INTO retail.refresh_steps VALUES (900, 'gold', 'public', 'regress_view');
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('M1', '10001', 'a', '1', '2011-12-09 10:00', '10', '1', 'UK');
SET client_min_messages = error;
CALL retail.refresh();
CALL retail.refresh();
SET regress.divisor = 1;
CALL retail.refresh();
CALL retail.refresh();
SET client_min_messages = warning;

-- Every run: one kind and reason on all its rows (a run with two would show
-- twice), what its statuses were, and the lines its silver classified.
SELECT run_id - :before AS run, run_kind, reason, count(*) AS logged_steps,
	   string_agg(DISTINCT status, ', ') AS statuses,
	   max(rows) FILTER (WHERE step_order = 10) AS lines_classified
FROM retail.refresh_log
WHERE run_id > :before
GROUP BY run_id, run_kind, reason
ORDER BY run_id;
-- last_refresh: run 9, checked at the end of run 10
SELECT DISTINCT run_id - :before AS shown_run, run_kind, reason,
	   checked_at = (SELECT max(finished_at) FROM retail.refresh_log WHERE run_id = :before + 10) AS checked_at_of_run_10
FROM retail.last_refresh;
-- and a run that failed is shown as it is
SET regress.divisor = 0;
INSERT INTO retail.settings VALUES ('abc_b', '0.9');
SET client_min_messages = error;
CALL retail.refresh();
SET client_min_messages = warning;
SELECT run_id - :before AS shown_run, run_kind, reason, relation, status
FROM retail.last_refresh WHERE status <> 'ok';

-- A silver step is all or nothing: one that fails stops the run, and
-- nothing of it stays (the new line is not in silver, the watermark and gold
-- are where they were); only the failure is logged.
DELETE FROM retail.refresh_steps WHERE step_order = 900;
DELETE FROM retail.settings WHERE name = 'abc_b';
CALL retail.refresh();
CREATE TABLE public.regress_silver ();
CREATE FUNCTION public.regress_failing_step(bigint, bigint, boolean) RETURNS bigint
LANGUAGE sql AS $$ SELECT 1 / current_setting('regress.divisor')::bigint $$;
INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain)
VALUES (30, 'silver', 'public', 'regress_silver', 'public.regress_failing_step(bigint, bigint, boolean)');
SET regress.divisor = 0;
SELECT bronze_through AS through_before FROM retail.refresh_progress \gset
SELECT count(*) AS customers_before FROM gold.mart_customer_segments \gset
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('M2', '10001', 'a', '1', '2011-12-09 11:00', '10', '424242', 'UK');
SELECT failed_sqlstate, failed_message,
	   failed_detail LIKE '%stopped at public.regress_silver (step 30) and changed nothing%' AS detail_names_step
FROM retail.refresh_run(true, false);
SELECT (SELECT bronze_through FROM retail.refresh_progress) = :through_before AS watermark_kept,
	   NOT EXISTS (SELECT FROM silver.transactions WHERE load_ordinal > :through_before) AS line_not_in_silver,
	   (SELECT count(*) FROM gold.mart_customer_segments) = :customers_before AS gold_kept;
SELECT step_order, relation, status, sqlstate FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log) ORDER BY step_order;
ROLLBACK;

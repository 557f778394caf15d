
-- Least privilege.  PUBLIC gets nothing; two roles (cluster-wide, so they
-- outlive DROP EXTENSION) carry what the extension's users need:
--   retail_bi      reads gold and runs the functions that compute on what
--                  its members may read;
--   retail_loader  appends to bronze, reads bronze and silver, refreshes,
--                  generates data; a member of retail_bi.
-- This part is also run by the upgrade scripts: every statement is
-- idempotent.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'retail_bi') THEN
		CREATE ROLE retail_bi NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'retail_loader') THEN
		CREATE ROLE retail_loader NOLOGIN;
	END IF;
END
$$;
GRANT retail_bi TO retail_loader;

REVOKE ALL ON SCHEMA retail, bronze, silver, gold, gold_store FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA retail FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA retail FROM PUBLIC;

-- The ad-hoc marts over silver run as the extension's owner: they return
-- what the gold marts show, with other thresholds.
ALTER FUNCTION retail.countries_abc(numeric, numeric) SECURITY DEFINER;
ALTER FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) SECURITY DEFINER;
ALTER FUNCTION retail.order_anomalies(double precision) SECURITY DEFINER;
ALTER FUNCTION retail.countries_abc(numeric, numeric) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION retail.order_anomalies(double precision) SET search_path = pg_catalog, pg_temp;

GRANT USAGE ON SCHEMA retail, gold TO retail_bi;
-- The views of gold over the stored marts run as their owner: readers need
-- nothing in gold_store, which only the refresh (as the owner) touches.  The
-- REVOKE writes the marts' privileges out as an update from 0.2.0 leaves
-- them, having revoked what retail_bi had on them in gold.
GRANT SELECT ON ALL TABLES IN SCHEMA gold TO retail_bi;
REVOKE ALL ON ALL TABLES IN SCHEMA gold_store FROM retail_bi;
GRANT SELECT ON retail.setting_defaults, retail.settings, retail.current_settings, retail.segment_rules,
	retail.refresh_steps, retail.refresh_log, retail.last_refresh, retail.refresh_progress TO retail_bi;
-- Every function computes on its arguments or checks the caller's right to
-- read the relation it is given, but for these: they make data or act.
-- retail_bi runs retail.report_html() too: it reads gold and retail.refresh_log
-- only, as its caller (test/sql/security.sql).
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA retail TO retail_bi;
REVOKE EXECUTE ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean),
	retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean),
	retail.simulate_bgnbd_customers(bigint, double precision, double precision, double precision,
									double precision, double precision, integer, boolean),
	retail.simulate_btyd_customers(bigint, double precision, double precision, double precision,
								   double precision, double precision, integer, boolean, text),
	retail.refresh_run(boolean, boolean), retail.maintain_customer_snapshots(bigint, bigint, boolean),
	retail.migrate_touched(date, date),
	retail.maintain_customer_value(bigint, bigint, boolean), retail.maintain_silver_lines(bigint, bigint, boolean),
	retail.maintain_silver_states(bigint, bigint, boolean), retail.maintain_countries_abc(bigint, bigint, boolean),
	retail.maintain_products_abc(bigint, bigint, boolean), retail.maintain_order_anomalies(bigint, bigint, boolean),
	retail.sync_table(regclass, text), retail.schedule_refresh(text), retail.unschedule_refresh(),
	retail.refresh_job(), retail.lock_distributed_tables(), retail.distribute(integer),
	retail.remember_failed_run(text), retail.take_failed_run(), retail.log_failed_run() FROM retail_bi;
-- Trigger functions that mark gold stale: on a trigger of a reader's own
-- table they would make every refresh recompute gold.  The extension's
-- triggers fire them whatever the privileges.
REVOKE EXECUTE ON FUNCTION retail.note_change(), retail.note_setting_change() FROM retail_bi;

GRANT USAGE ON SCHEMA bronze, silver TO retail_loader;
-- Loaders write lines, not their place in load order: an ordinal of their
-- own could fall at or below what the refresh has read, and the line would
-- never reach silver.  (REVOKE first: a table-wide INSERT, as builds before
-- 0.2.0 was released granted it, would cover load_ordinal too.)
REVOKE INSERT ON bronze.transactions_raw FROM retail_loader;
GRANT SELECT ON bronze.transactions_raw TO retail_loader;
GRANT INSERT (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
			  batch_id, loaded_at) ON bronze.transactions_raw TO retail_loader;
GRANT USAGE ON SEQUENCE bronze.transactions_raw_load_ordinal_seq TO retail_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA silver TO retail_loader;
GRANT EXECUTE ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean),
	retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean),
	retail.simulate_bgnbd_customers(bigint, double precision, double precision, double precision,
									double precision, double precision, integer, boolean),
	retail.simulate_btyd_customers(bigint, double precision, double precision, double precision,
								   double precision, double precision, integer, boolean, text),
	retail.refresh_run(boolean, boolean), retail.log_failed_run(), retail.schedule_refresh(text),
	retail.unschedule_refresh(), retail.refresh_job() TO retail_loader;
GRANT EXECUTE ON PROCEDURE retail.refresh(boolean, boolean) TO retail_loader;


-- A failed refresh is logged; retail.refresh() runs its work through
-- retail.refresh_run() so that retail_loader can refresh.
ALTER TABLE retail.refresh_log
	ALTER COLUMN rows DROP NOT NULL,
	ADD COLUMN status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'failed')),
	ADD COLUMN error text,
	ADD COLUMN sqlstate text,
	ADD COLUMN setting text;
COMMENT ON TABLE retail.refresh_log IS
	'One row per object refreshed by retail.refresh() (rows, seconds), or one row for a refresh that failed: the step, the error, the setting at fault';
COMMENT ON COLUMN retail.refresh_log.step_order IS 'Step of retail.refresh_steps; 0 is the check of the settings';
COMMENT ON COLUMN retail.refresh_log.status IS 'ok, or failed: the whole run was rolled back and the marts are those of the last run that succeeded';
COMMENT ON COLUMN retail.refresh_log.setting IS 'For a failed run caused by a setting, its name';

CREATE FUNCTION retail.in_transaction_block() RETURNS boolean
	AS 'MODULE_PATHNAME', 'ra_in_transaction_block' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.in_transaction_block() IS
	'Whether the current statement runs inside a transaction block (BEGIN ... COMMIT), where a procedure cannot commit';

-- No SET clause and no SECURITY DEFINER here: either would forbid the COMMIT
-- that keeps the failure's log row.  So it runs on the caller's search_path:
-- it names nothing unqualified and uses no operator.
CREATE OR REPLACE PROCEDURE retail.refresh(concurrently boolean DEFAULT true)
LANGUAGE plpgsql
AS $$
DECLARE
	failure record;
BEGIN
	failure := retail.refresh_run(refresh.concurrently);
	IF failure.failed_sqlstate IS NOT NULL THEN
		-- Keep the log row, unless the caller's transaction block owns it.
		IF NOT retail.in_transaction_block() THEN
			COMMIT;
		END IF;
		IF failure.failed_hint IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = failure.failed_sqlstate, MESSAGE = failure.failed_message,
								  DETAIL = failure.failed_detail, HINT = failure.failed_hint;
		END IF;
		RAISE EXCEPTION USING ERRCODE = failure.failed_sqlstate, MESSAGE = failure.failed_message,
							  DETAIL = failure.failed_detail;
	END IF;
END
$$;
COMMENT ON PROCEDURE retail.refresh(boolean) IS
	'Refresh silver then gold in dependency order, in one transaction; CONCURRENTLY (readers not blocked) once a view is populated; a failure changes nothing, is logged in retail.refresh_log and raised';

CREATE OR REPLACE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at, status, error, setting
FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log)
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS
	'Rows and seconds of each object in the latest retail.refresh(), or the step where it failed and why';


-- Refresh: silver from the bronze lines loaded since the last refresh, then
-- every registered gold view, in one transaction.

-- How far silver has got, and what makes the next refresh do more than
-- append: a change to bronze other than an INSERT (rebuild from bronze), a
-- changed setting or preset (recompute gold).
CREATE TABLE retail.refresh_progress (
	bronze_through bigint NOT NULL,
	rebuild_needed boolean NOT NULL,
	gold_stale boolean NOT NULL
);
COMMENT ON TABLE retail.refresh_progress IS
	'One row: the highest load_ordinal silver holds, whether bronze changed otherwise than by INSERT (the next refresh rebuilds), whether a setting or preset changed (the next refresh recomputes gold)';
COMMENT ON COLUMN retail.refresh_progress.bronze_through IS
	'Every bronze line with a load_ordinal up to this is in silver';
INSERT INTO retail.refresh_progress VALUES (0, false, false);

CREATE FUNCTION retail.note_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_TABLE_SCHEMA = 'bronze' THEN
		UPDATE retail.refresh_progress SET rebuild_needed = true;
	ELSE
		UPDATE retail.refresh_progress SET gold_stale = true;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION retail.note_change() IS
	'Trigger: a change to bronze other than INSERT makes the next refresh rebuild; a change of settings or presets makes it recompute gold';
CREATE TRIGGER note_change AFTER UPDATE OR DELETE ON bronze.transactions_raw
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();
CREATE TRIGGER note_truncate AFTER TRUNCATE ON bronze.transactions_raw
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();
CREATE TRIGGER note_change AFTER INSERT OR UPDATE OR DELETE ON retail.settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();
CREATE TRIGGER note_change AFTER INSERT OR UPDATE OR DELETE ON retail.segment_rules
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();

CREATE SEQUENCE retail.refresh_run_seq;
CREATE TABLE retail.refresh_log (
	run_id bigint NOT NULL,
	step_order integer NOT NULL,
	layer text NOT NULL,
	relation text NOT NULL,
	rows bigint,
	seconds numeric NOT NULL,
	concurrent boolean NOT NULL,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'failed', 'nothing_new')),
	error text,
	sqlstate text,
	setting text,
	PRIMARY KEY (run_id, step_order)
);
COMMENT ON TABLE retail.refresh_log IS
	'One row per object refreshed by retail.refresh() (rows, seconds), or one row for a refresh that failed: the step, the error, the setting at fault';
COMMENT ON COLUMN retail.refresh_log.step_order IS 'Step of retail.refresh_steps; 0 is the check of the settings';
COMMENT ON COLUMN retail.refresh_log.status IS
	'ok; nothing_new (no new bronze line, no changed setting: nothing was done); or failed: the whole run was rolled back and the marts are those of the last run that succeeded';
COMMENT ON COLUMN retail.refresh_log.setting IS 'For a failed run caused by a setting, its name';

CREATE FUNCTION retail.in_transaction_block() RETURNS boolean
	AS 'MODULE_PATHNAME', 'ra_in_transaction_block' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.in_transaction_block() IS
	'Whether the current statement runs inside a transaction block (BEGIN ... COMMIT), where a procedure cannot commit';

-- No SET clause and no SECURITY DEFINER here: either would forbid the COMMIT
-- that keeps the failure's log row.  So it runs on the caller's search_path:
-- it names nothing unqualified and uses no operator.
CREATE PROCEDURE retail.refresh(concurrently boolean DEFAULT true, full boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	failure record;
BEGIN
	failure := retail.refresh_run(refresh.concurrently, refresh.full);
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
COMMENT ON PROCEDURE retail.refresh(boolean, boolean) IS
	'Bring silver and gold up to bronze in one transaction: classify the lines loaded since the last refresh (all of bronze when full, or when bronze changed otherwise), merge them into the states, recompute gold (CONCURRENTLY: readers not blocked); nothing new, nothing done; a failure changes nothing, is logged in retail.refresh_log and raised';

CREATE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at, status, error, setting
FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log)
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS
	'Rows and seconds of each object in the latest retail.refresh(), or the step where it failed and why';


-- retail.refresh() itself.  This part is also run by the upgrade scripts.
CREATE FUNCTION retail.in_transaction_block() RETURNS boolean
	AS 'MODULE_PATHNAME', 'ra_in_transaction_block' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.in_transaction_block() IS
	'Whether the current statement runs inside a transaction block (BEGIN ... COMMIT), where a procedure cannot commit';

-- The log rows of the failed run that retail.refresh_run remembered in this
-- backend, logged by retail.refresh() after it rolled the run back.  Only
-- what a run remembered can be logged; nothing if none.
CREATE FUNCTION retail.log_failed_run() RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO retail.refresh_log
	SELECT * FROM unnest(retail.take_failed_run()::retail.refresh_log[]);
END;
COMMENT ON FUNCTION retail.log_failed_run() IS
	'Log the rows of the failed run that retail.refresh_run remembered in this backend (see retail.remember_failed_run), once retail.refresh() has rolled the run back; nothing if none';

-- No SET clause and no SECURITY DEFINER here: either would forbid the COMMIT
-- that starts the work at READ COMMITTED, and the ROLLBACK and COMMIT that
-- keep the failure's log row.  So it runs on the caller's search_path: it
-- names nothing unqualified and qualifies its one operator.
CREATE PROCEDURE retail.refresh(concurrently boolean DEFAULT true, full boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	failure record;
BEGIN
	-- retail.refresh_run needs a snapshot per statement (see there); inside a
	-- transaction block it refuses any other isolation level.
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed'
		AND NOT retail.in_transaction_block() THEN
		COMMIT;
		SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	END IF;
	failure := retail.refresh_run(refresh.concurrently, refresh.full);
	IF failure.failed_sqlstate IS NOT NULL THEN
		-- Roll the run back and keep its log row in a transaction of its
		-- own, unless the caller's transaction block owns them: on Citus, a
		-- run that lost a worker it wrote to cannot commit, log row and all.
		IF NOT retail.in_transaction_block() THEN
			ROLLBACK;
			PERFORM retail.log_failed_run();
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
	'Bring silver and gold up to bronze in one transaction at READ COMMITTED: classify the lines loaded since the last refresh (all of bronze when full, or when bronze changed otherwise), merge them into the states, recompute gold (CONCURRENTLY: readers not blocked); nothing new, nothing done; a failure in silver changes nothing, is logged in retail.refresh_log and raised; a gold view that fails keeps its contents, is logged and named in a WARNING';

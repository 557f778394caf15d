
-- On a Citus node whose metadata lists workers, every active worker must have
-- this extension at this version: the steps run its functions on the shards,
-- and a worker that lacks them, or has other ones, would fail mid-refresh or
-- compute something else.  Citus propagates CREATE and ALTER EXTENSION to the
-- workers it knows, so a mismatch is a worker added or changed by hand.  An
-- unreachable worker fails here too, before any work.  Citus's functions are
-- called through EXECUTE: they exist only where Citus is installed.
CREATE FUNCTION retail.check_workers() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'retail_analytics');
	worker record;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
		RETURN;
	END IF;
	FOR worker IN EXECUTE $query$
		SELECT w.nodename, w.nodeport, w.success, w.result
		FROM pg_catalog.run_command_on_workers(
			$command$SELECT coalesce((SELECT e.extversion FROM pg_catalog.pg_extension e
									  WHERE e.extname = 'retail_analytics'), 'none')$command$) w
		ORDER BY w.nodename, w.nodeport
	$query$
	LOOP
		IF NOT worker.success THEN
			RAISE EXCEPTION 'Citus worker %:% cannot be reached', worker.nodename, worker.nodeport
				USING ERRCODE = 'connection_failure', DETAIL = worker.result,
					  HINT = 'Start the worker, or remove it with citus_remove_node() once its shards are moved.';
		END IF;
		IF worker.result = 'none' THEN
			RAISE EXCEPTION 'Citus worker %:% does not have the extension retail_analytics', worker.nodename,
				worker.nodeport
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = format('Install version %s there, as on this node.', version);
		END IF;
		IF worker.result <> version THEN
			RAISE EXCEPTION 'Citus worker %:% has retail_analytics %, this node %', worker.nodename, worker.nodeport,
				worker.result, version
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'ALTER EXTENSION retail_analytics UPDATE on the coordinator updates every worker.';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION retail.check_workers() IS
	'On a Citus node with workers: an error naming the first worker that cannot be reached, lacks retail_analytics, or has another version of it; nothing elsewhere';
REVOKE EXECUTE ON FUNCTION retail.check_workers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.check_workers() TO retail_bi;

-- On Citus, the extension's distributed tables, in one order, before the
-- refresh writes any.  A shard move locks its co-located tables first
-- (RowExclusiveLock) and more as it goes; a move and a refresh that had
-- each got part way deadlocked (on ShareUpdateExclusiveLock of two of the
-- tables, test/citus/run).  Now the later of the two waits for the other to
-- commit.  SHARE mode lets readers be and blocks only other writers, and the
-- refresh, one at a time, is the only one.
CREATE FUNCTION retail.lock_distributed_tables() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tables text;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN;
	END IF;
	EXECUTE $query$
		SELECT string_agg(p.logicalrelid::regclass::text, ', ' ORDER BY p.logicalrelid)
		FROM pg_catalog.pg_dist_partition p
			 JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
		WHERE c.relnamespace IN ('bronze'::regnamespace, 'silver'::regnamespace, 'gold_store'::regnamespace)
	$query$ INTO tables;
	IF tables IS NOT NULL THEN
		EXECUTE 'LOCK TABLE ' || tables || ' IN SHARE MODE';
	END IF;
END
$$;
COMMENT ON FUNCTION retail.lock_distributed_tables() IS
	'On Citus: lock the distributed tables of bronze, silver and gold_store in SHARE mode, in the order of their oids, so that a shard move and a refresh wait for each other instead of deadlocking; nothing elsewhere';
REVOKE EXECUTE ON FUNCTION retail.lock_distributed_tables() FROM PUBLIC;

-- The log rows of a failed run, kept in the backend across the rollback of
-- its transaction (src/refresh.c): retail.refresh() rolls a failed run back
-- and logs them again (retail.log_failed_run).
CREATE FUNCTION retail.remember_failed_run(rows text) RETURNS void
	AS 'MODULE_PATHNAME', 'ra_remember_failed_run' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION retail.remember_failed_run(text) IS
	'Keep the log rows of a failed run (retail.refresh_log[] as text) in this backend, outside any transaction; NULL forgets them';
CREATE FUNCTION retail.take_failed_run() RETURNS text
	AS 'MODULE_PATHNAME', 'ra_take_failed_run' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION retail.take_failed_run() IS
	'The log rows that retail.remember_failed_run kept in this backend, forgotten as they are returned; NULL if none';

-- retail.refresh_run as in sql/install/91_refresh_run.sql: the kind of run and
-- its reason in retail.refresh_log; a concurrent rebuild reclassifies
-- silver.transactions in place of deleting it; the workers checked on Citus;
-- a failed run's log rows remembered for retail.refresh().
CREATE OR REPLACE FUNCTION retail.refresh_run(concurrently boolean, full boolean,
								   OUT failed_sqlstate text, OUT failed_message text,
								   OUT failed_detail text, OUT failed_hint text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- room for the fingerprints of a whole bronze when rebuilding
SET work_mem = '256MB'
-- compiling its statements cost more than running them: about a second a
-- refresh on 10M lines
SET jit = off
AS $$
DECLARE
	step record;
	run bigint := nextval('retail.refresh_run_seq');
	progress retail.refresh_progress;
	through bigint;
	after bigint;
	rebuild boolean;
	kind text;
	why text;
	current_step integer := 0;
	current_layer text := 'settings';
	current_relation text := 'retail.settings';
	use_concurrently boolean := false;
	started timestamptz := clock_timestamp();
	row_count bigint;
	failed_table text;
	failed_column text;
	unchanged boolean;
	warning text;
	failed_views text[] := '{}';
	step_sqlstate text;
	step_message text;
	step_detail text;
	next_ordinal bigint;
	table_name regclass;
BEGIN
	-- Under REPEATABLE READ or SERIALIZABLE the snapshot is older than the
	-- lock below: the lines of the loads it waits for would stay invisible,
	-- and the watermark would pass them for good.
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'retail.refresh() cannot run at isolation level %',
			upper(current_setting('transaction_isolation'))
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Its snapshot would be older than the loads it waits for, and their lines would never reach silver.',
				  HINT = 'Run it at READ COMMITTED, or outside a transaction block, where CALL retail.refresh() switches to READ COMMITTED itself.';
	END IF;
	PERFORM retail.remember_failed_run(NULL);
	-- One refresh at a time; a second caller waits for the first.
	PERFORM pg_advisory_xact_lock('retail.refresh_steps'::regclass::oid::bigint);
	BEGIN
		-- Loads in flight finish first and loads starting now wait for the
		-- commit, so no line can later appear below the ordinals read here.
		-- Readers of bronze are not blocked.
		LOCK TABLE bronze.transactions_raw IN SHARE MODE;
		SELECT * INTO progress FROM retail.refresh_progress;
		through := coalesce((SELECT max(b.load_ordinal) FROM bronze.transactions_raw b), 0);
		-- An ordinal written by hand may be ahead of the sequence: move the
		-- sequence past it, so that later loads land above the watermark.
		SELECT q.last_value + CASE WHEN q.is_called THEN 1 ELSE 0 END INTO next_ordinal
		FROM bronze.transactions_raw_load_ordinal_seq q;
		IF through >= next_ordinal THEN
			PERFORM setval('bronze.transactions_raw_load_ordinal_seq', through);
		END IF;
		rebuild := refresh_run.full OR progress.rebuild_needed OR progress.silver_settings_changed
			OR through < progress.bronze_through;
		-- what retail.refresh_log says of the run (see its comments)
		kind := CASE WHEN rebuild THEN 'rebuild' ELSE 'append' END;
		why := CASE WHEN refresh_run.full THEN 'full_requested'
					WHEN progress.rebuild_needed OR through < progress.bronze_through THEN 'bronze_changed'
					WHEN rebuild THEN 'settings_changed'
					WHEN NOT progress.gold_stale THEN NULL
					WHEN (SELECT bool_or(l.status = 'failed') FROM retail.refresh_log l
						  WHERE l.run_id = (SELECT max(g.run_id) FROM retail.refresh_log g
											WHERE g.layer = 'gold')) THEN 'gold_retry'
					ELSE 'settings_changed' END;
		IF NOT rebuild AND through = progress.bronze_through AND NOT progress.gold_stale
			AND NOT EXISTS (SELECT FROM retail.refresh_steps s
								JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
							WHERE NOT m.ispopulated) THEN
			INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent, status,
											run_kind)
			VALUES (run, 0, 'bronze', 'bronze.transactions_raw', 0,
					round(extract(epoch FROM clock_timestamp() - started), 3), false, 'nothing_new', 'nothing_new');
			RAISE NOTICE 'nothing new in bronze.transactions_raw since the last refresh';
			RETURN;
		END IF;
		current_layer := 'cluster';
		current_relation := 'pg_catalog.pg_dist_node';
		PERFORM retail.check_workers();
		PERFORM retail.lock_distributed_tables();
		current_layer := 'settings';
		current_relation := 'retail.settings';
		PERFORM retail.check_settings();

		after := progress.bronze_through;
		-- a rebuild starts silver over: readers keep the old rows until the
		-- commit, or with concurrently => false wait for it
		IF rebuild THEN
			after := 0;
			IF refresh_run.concurrently THEN
				-- silver.transactions is reclassified in place (step 10)
				FOREACH table_name IN ARRAY array_remove(retail.silver_tables(), 'silver.transactions'::regclass) LOOP
					EXECUTE format('DELETE FROM %s', table_name);
				END LOOP;
			ELSE
				EXECUTE 'TRUNCATE ' || array_to_string(retail.silver_tables(), ', ');
			END IF;
		END IF;

		FOR step IN
			SELECT s.step_order, s.layer, s.schema_name, s.view_name, s.unchanged_check, s.warning_check,
				   s.maintain, coalesce(m.ispopulated, true) AS ispopulated
			FROM retail.refresh_steps s
			LEFT JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
			ORDER BY s.step_order
		LOOP
			current_step := step.step_order;
			current_layer := step.layer;
			current_relation := format('%I.%I', step.schema_name, step.view_name);
			-- CONCURRENTLY keeps readers unblocked but needs a populated view.
			use_concurrently := refresh_run.concurrently AND step.ispopulated;
			started := clock_timestamp();
			BEGIN
				IF step.unchanged_check IS NOT NULL AND step.ispopulated AND NOT rebuild
					AND NOT progress.gold_stale THEN
					EXECUTE format('SELECT %s($1, $2)', step.unchanged_check::oid::regproc) INTO unchanged
						USING after, through;
					IF unchanged THEN
						INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds,
														concurrent, status)
						VALUES (run, step.step_order, step.layer, current_relation, NULL,
								round(extract(epoch FROM clock_timestamp() - started), 3), false, 'unchanged');
						CONTINUE;
					END IF;
				END IF;
				IF step.maintain IS NOT NULL THEN
					-- a table its function keeps: readers see the rows it
					-- changes at the commit, as with CONCURRENTLY, unless the
					-- TRUNCATE of a rebuild or the function (filling an empty
					-- silver) locked them out
					use_concurrently := refresh_run.concurrently OR NOT rebuild OR step.layer <> 'silver';
					EXECUTE format('SELECT %s($1, $2, $3)', step.maintain::oid::regproc) INTO row_count
						USING after, through,
							  rebuild OR (progress.gold_stale AND step.layer = 'gold');
					use_concurrently := use_concurrently
						AND NOT EXISTS (SELECT FROM pg_locks l
										WHERE l.locktype = 'relation' AND l.relation = current_relation::regclass
										  AND l.pid = pg_backend_pid() AND l.mode = 'AccessExclusiveLock');
				ELSE
					EXECUTE format('REFRESH MATERIALIZED VIEW %s %s',
								   CASE WHEN use_concurrently THEN 'CONCURRENTLY' ELSE '' END, current_relation);
					EXECUTE format('SELECT count(*) FROM %s', current_relation) INTO row_count;
					-- statistics within a tenth of the rows serve the planner as
					-- well, and autovacuum analyzes materialized views too: an
					-- appended day does not pay for ANALYZE (about 30 ms of one on the
					-- real file)
					IF NOT EXISTS (SELECT FROM pg_class c
								   WHERE c.oid = current_relation::regclass AND c.reltuples >= 0
									 AND abs(row_count - c.reltuples) <= 0.1 * c.reltuples) THEN
						EXECUTE format('ANALYZE %s', current_relation);
					END IF;
				END IF;
				warning := NULL;
				IF step.warning_check IS NOT NULL THEN
					EXECUTE format('SELECT %s()', step.warning_check::oid::regproc) INTO warning;
				END IF;
				INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent,
												status, error)
				VALUES (run, step.step_order, step.layer, current_relation, row_count,
						round(extract(epoch FROM clock_timestamp() - started), 3), use_concurrently,
						CASE WHEN warning IS NULL THEN 'ok' ELSE 'warning' END, warning);
				RAISE NOTICE '% %: % rows in % s%', step.layer, current_relation, row_count,
					round(extract(epoch FROM clock_timestamp() - started), 3), coalesce(': ' || warning, '');
			EXCEPTION WHEN OTHERS THEN
				IF step.layer = 'silver' THEN
					-- silver is all or nothing: the run stops (below)
					RAISE;
				END IF;
				GET STACKED DIAGNOSTICS step_sqlstate = RETURNED_SQLSTATE, step_message = MESSAGE_TEXT,
										step_detail = PG_EXCEPTION_DETAIL, failed_table = TABLE_NAME,
										failed_column = COLUMN_NAME;
				PERFORM retail.log_failed_step(run, current_step, current_layer, current_relation, started,
											   use_concurrently, step_sqlstate, step_message, step_detail,
											   failed_table, failed_column);
				failed_views := failed_views || current_relation;
			END;
		END LOOP;
		UPDATE retail.refresh_progress
		SET bronze_through = through, rebuild_needed = false, gold_stale = cardinality(failed_views) > 0,
			silver_settings_changed = false;
		IF cardinality(failed_views) > 0 THEN
			RAISE WARNING 'retail.refresh() could not refresh %', array_to_string(failed_views, ', ')
				USING DETAIL = format('Their contents stay those of the last refresh that built them; the errors are logged in retail.refresh_log (run %s), and the next refresh tries again.',
									  run);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS failed_sqlstate = RETURNED_SQLSTATE, failed_message = MESSAGE_TEXT,
								failed_detail = PG_EXCEPTION_DETAIL, failed_hint = PG_EXCEPTION_HINT,
								failed_table = TABLE_NAME, failed_column = COLUMN_NAME;
		PERFORM retail.log_failed_step(run, current_step, current_layer, current_relation, started,
									   use_concurrently, failed_sqlstate, failed_message, failed_detail,
									   failed_table, failed_column);
		failed_hint := nullif(failed_hint, '');
		failed_detail := concat_ws(E'\n', nullif(failed_detail, ''),
								   format('retail.refresh() stopped at %s (step %s) and changed nothing; the failure is logged in retail.refresh_log (run %s).',
										  current_relation, current_step, run));
	END;
	-- every row of the run, a failed one included, says what kind it was
	UPDATE retail.refresh_log l SET run_kind = kind, reason = why WHERE l.run_id = run;
	-- in a caller's transaction block the rows are the block's: retail.refresh()
	-- rolls nothing back there, and nothing is left for it to log again
	IF failed_sqlstate IS NOT NULL AND NOT retail.in_transaction_block() THEN
		PERFORM retail.remember_failed_run((SELECT array_agg(l ORDER BY l.step_order)::text
											FROM retail.refresh_log l WHERE l.run_id = run));
	END IF;
END
$$;
COMMENT ON FUNCTION retail.refresh_run(boolean, boolean) IS
	'The work of retail.refresh(), at READ COMMITTED only: silver from the new bronze lines (or all of them), then gold, logged; a failure in the settings or silver rolls the run back, is logged and its error returned; a gold view that fails keeps its contents, is logged, and leaves gold stale for the next refresh';

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

-- retail.refresh() as in sql/install/92_refresh_call.sql: a failed run is
-- rolled back and its log row kept in a transaction of its own.
-- No SET clause and no SECURITY DEFINER here: either would forbid the COMMIT
-- that starts the work at READ COMMITTED, and the ROLLBACK and COMMIT that
-- keep the failure's log row.  So it runs on the caller's search_path: it
-- names nothing unqualified and qualifies its one operator.
CREATE OR REPLACE PROCEDURE retail.refresh(concurrently boolean DEFAULT true, full boolean DEFAULT false)
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
REVOKE EXECUTE ON FUNCTION retail.remember_failed_run(text), retail.take_failed_run(), retail.log_failed_run()
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.log_failed_run() TO retail_loader;


-- The work of retail.refresh(), as the extension's owner so that a role
-- without ownership (retail_loader) can refresh.  A failure is caught: the
-- run's changes are rolled back, the failure is logged, and its error is
-- returned for retail.refresh() to raise after committing the log row.  This
-- part is also run by the upgrade scripts.
CREATE FUNCTION retail.refresh_run(concurrently boolean,
								   OUT failed_sqlstate text, OUT failed_message text,
								   OUT failed_detail text, OUT failed_hint text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	step record;
	run bigint := nextval('retail.refresh_run_seq');
	current_step integer := 0;
	current_layer text := 'settings';
	current_relation text := 'retail.settings';
	use_concurrently boolean := false;
	started timestamptz := clock_timestamp();
	seconds numeric;
	row_count bigint;
	failed_table text;
	failed_column text;
BEGIN
	-- One refresh at a time; a second caller waits for the first.
	PERFORM pg_advisory_xact_lock('retail.refresh_steps'::regclass::oid::bigint);
	BEGIN
		PERFORM retail.check_settings();
		FOR step IN
			SELECT s.step_order, s.layer, s.schema_name, s.view_name, m.ispopulated
			FROM retail.refresh_steps s
			JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
			ORDER BY s.step_order
		LOOP
			current_step := step.step_order;
			current_layer := step.layer;
			current_relation := format('%I.%I', step.schema_name, step.view_name);
			-- CONCURRENTLY keeps readers unblocked but needs a populated view.
			use_concurrently := refresh_run.concurrently AND step.ispopulated;
			started := clock_timestamp();
			EXECUTE format('REFRESH MATERIALIZED VIEW %s %s',
						   CASE WHEN use_concurrently THEN 'CONCURRENTLY' ELSE '' END, current_relation);
			seconds := round(extract(epoch FROM clock_timestamp() - started), 3);
			EXECUTE format('ANALYZE %s', current_relation);
			EXECUTE format('SELECT count(*) FROM %s', current_relation) INTO row_count;
			INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent)
			VALUES (run, step.step_order, step.layer, current_relation, row_count, seconds, use_concurrently);
			RAISE NOTICE '% %: % rows in % s', step.layer, current_relation, row_count, seconds;
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS failed_sqlstate = RETURNED_SQLSTATE, failed_message = MESSAGE_TEXT,
								failed_detail = PG_EXCEPTION_DETAIL, failed_hint = PG_EXCEPTION_HINT,
								failed_table = TABLE_NAME, failed_column = COLUMN_NAME;
		INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent,
										status, error, sqlstate, setting)
		VALUES (run, current_step, current_layer, current_relation, NULL,
				round(extract(epoch FROM clock_timestamp() - started), 3), use_concurrently,
				'failed', concat_ws(E'\n', failed_message, nullif(failed_detail, '')), failed_sqlstate,
				CASE WHEN failed_table = 'settings' THEN nullif(failed_column, '') END);
		failed_hint := nullif(failed_hint, '');
		failed_detail := concat_ws(E'\n', nullif(failed_detail, ''),
								   format('retail.refresh() stopped at %s (step %s) and changed nothing; the failure is logged in retail.refresh_log (run %s).',
										  current_relation, current_step, run));
	END;
END
$$;
COMMENT ON FUNCTION retail.refresh_run(boolean) IS
	'The work of retail.refresh(): refreshes every step, logs it; on failure rolls the run back, logs the failure and returns its error';

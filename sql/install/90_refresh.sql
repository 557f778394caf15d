
-- Refresh: every registered layer object, in step order, in one transaction.
CREATE SEQUENCE retail.refresh_run_seq;
CREATE TABLE retail.refresh_log (
	run_id bigint NOT NULL,
	step_order integer NOT NULL,
	layer text NOT NULL,
	relation text NOT NULL,
	rows bigint NOT NULL,
	seconds numeric NOT NULL,
	concurrent boolean NOT NULL,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (run_id, step_order)
);
COMMENT ON TABLE retail.refresh_log IS 'One row per object refreshed by retail.refresh(): rows and seconds';

CREATE PROCEDURE retail.refresh(concurrently boolean DEFAULT true)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	step record;
	run bigint := nextval('retail.refresh_run_seq');
	relation text;
	use_concurrently boolean;
	started timestamptz;
	seconds numeric;
	row_count bigint;
BEGIN
	-- One refresh at a time; a second caller waits for the first.
	PERFORM pg_advisory_xact_lock('retail.refresh_steps'::regclass::oid::bigint);

	FOR step IN
		SELECT s.step_order, s.layer, s.schema_name, s.view_name, m.ispopulated
		FROM retail.refresh_steps s
		JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
		ORDER BY s.step_order
	LOOP
		relation := format('%I.%I', step.schema_name, step.view_name);
		-- CONCURRENTLY keeps readers unblocked but needs a populated view.
		use_concurrently := refresh.concurrently AND step.ispopulated;
		started := clock_timestamp();
		EXECUTE format('REFRESH MATERIALIZED VIEW %s %s',
					   CASE WHEN use_concurrently THEN 'CONCURRENTLY' ELSE '' END, relation);
		seconds := round(extract(epoch FROM clock_timestamp() - started), 3);
		EXECUTE format('ANALYZE %s', relation);
		EXECUTE format('SELECT count(*) FROM %s', relation) INTO row_count;
		INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent)
		VALUES (run, step.step_order, step.layer, relation, row_count, seconds, use_concurrently);
		RAISE NOTICE '% %: % rows in % s', step.layer, relation, row_count, seconds;
	END LOOP;
END
$$;
COMMENT ON PROCEDURE retail.refresh(boolean) IS
	'Refresh silver then gold in dependency order; CONCURRENTLY (readers not blocked) once a view is populated';

CREATE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at
FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log)
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS 'Rows and seconds of each object in the latest retail.refresh()';


-- What retail.refresh_log says, and its latest run.  This part is also run
-- by the upgrade scripts, after they change the log's columns.
COMMENT ON TABLE retail.refresh_log IS
	'One row per object refreshed by retail.refresh() (rows, seconds, status), and for a step that failed: the error and the setting at fault';
COMMENT ON COLUMN retail.refresh_log.step_order IS
	'The step of retail.refresh_steps, or 0: the settings checked and, on a Citus node, its workers (layer cluster) (or, status nothing_new, no new bronze line); step 10 classifies the silver lines (silver.transactions), step 20 merges them into silver.orders and the states, the later steps keep gold';
COMMENT ON COLUMN retail.refresh_log.rows IS
	'Silver: the lines of the batch; a materialized view: its rows after the refresh; a maintained table (retail.refresh_steps.maintain): the rows the step wrote';
COMMENT ON COLUMN retail.refresh_log.concurrent IS
	'Readers of the relation were not blocked by the step; false for silver in a rebuild with concurrently => false, and for a materialized view refreshed with concurrently => false or populated for the first time';
COMMENT ON COLUMN retail.refresh_log.status IS
	'ok; warning (refreshed, but its warning_check found something: see error); nothing_new (no new bronze line, no changed setting: nothing was done); unchanged (the new lines cannot change this view: it was not refreshed); or failed: at step 0, 10 or 20 the whole run was rolled back and the marts are those of the last run that succeeded; at a gold view, that view keeps its contents, the others were refreshed, and the next refresh tries it again';
COMMENT ON COLUMN retail.refresh_log.error IS 'The error of a failed step, or the warning of a step with status warning';
COMMENT ON COLUMN retail.refresh_log.setting IS 'For a failed step caused by a setting, its name';
COMMENT ON COLUMN retail.refresh_log.run_kind IS
	'On every row of a run, what its silver did: append (the new bronze lines only), rebuild (all of bronze again, and gold recomputed) or nothing_new (no new line, no changed setting: nothing done); NULL for a run that failed before it could tell';
COMMENT ON COLUMN retail.refresh_log.reason IS
	'On every row of a run, why it did more than append the new lines and refresh the gold views they can change (NULL: it did not): full_requested (retail.refresh(full => true): rebuild), bronze_changed (an UPDATE, DELETE or TRUNCATE of bronze, or lines gone from its end: rebuild), settings_changed (a setting or segment rule changed: gold recomputed, silver appended; the setting cancellations: rebuild), gold_retry (a gold view failed in the last run that refreshed gold, and every gold view is recomputed; a setting may have changed too)';

-- Under a frequent schedule most runs find nothing new: show the latest run
-- that did something (or failed), and when the latest check was.
CREATE OR REPLACE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at, status, error, setting,
	   run_kind, reason, run_id,
	   (SELECT max(c.finished_at) FROM retail.refresh_log c
		WHERE c.run_id = (SELECT max(l.run_id) FROM retail.refresh_log l)) AS checked_at
FROM retail.refresh_log
WHERE run_id = coalesce((SELECT max(l.run_id) FROM retail.refresh_log l WHERE l.status <> 'nothing_new'),
						(SELECT max(l.run_id) FROM retail.refresh_log l))
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS
	'Rows and seconds of each object in the latest retail.refresh() that did something or failed (one that found nothing new only when no other is logged), or the step where it failed and why; checked_at: when the latest run of any kind ended';

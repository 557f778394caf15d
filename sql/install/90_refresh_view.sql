
-- What retail.refresh_log says, and its latest run.  This part is also run
-- by the upgrade scripts, after they change the log's columns.
COMMENT ON TABLE retail.refresh_log IS
	'One row per object refreshed by retail.refresh() (rows, seconds, status), and for a step that failed: the error and the setting at fault';
COMMENT ON COLUMN retail.refresh_log.step_order IS
	'0: the settings checked (or, status nothing_new, no new bronze line); 10: silver lines classified; 20: silver.orders and states merged; then the gold views of retail.refresh_steps';
COMMENT ON COLUMN retail.refresh_log.status IS
	'ok; warning (refreshed, but its warning_check found something: see error); nothing_new (no new bronze line, no changed setting: nothing was done); unchanged (the new lines cannot change this view: it was not refreshed); or failed: at step 0, 10 or 20 the whole run was rolled back and the marts are those of the last run that succeeded; at a gold view, that view keeps its contents, the others were refreshed, and the next refresh tries it again';
COMMENT ON COLUMN retail.refresh_log.error IS 'The error of a failed step, or the warning of a step with status warning';
COMMENT ON COLUMN retail.refresh_log.setting IS 'For a failed step caused by a setting, its name';

CREATE OR REPLACE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at, status, error, setting
FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log)
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS
	'Rows and seconds of each object in the latest retail.refresh(), or the step where it failed and why';

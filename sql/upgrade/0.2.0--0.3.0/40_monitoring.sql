
-- Monitoring (issue 17): what kind of run each refresh was and why; the
-- latest run that did something, with the time of the latest check.
ALTER TABLE retail.refresh_log
	ADD COLUMN run_kind text CHECK (run_kind IN ('append', 'rebuild', 'nothing_new')),
	ADD COLUMN reason text CHECK (reason IN ('full_requested', 'bronze_changed', 'settings_changed', 'gold_retry'));
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


-- Refresh: silver from the bronze lines loaded since the last refresh, then
-- every registered gold view, in one transaction.

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
	status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'warning', 'failed', 'nothing_new', 'unchanged')),
	error text,
	sqlstate text,
	setting text,
	run_kind text CHECK (run_kind IN ('append', 'rebuild', 'nothing_new')),
	reason text CHECK (reason IN ('full_requested', 'bronze_changed', 'settings_changed', 'gold_retry')),
	PRIMARY KEY (run_id, step_order)
);

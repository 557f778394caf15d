
-- A failed refresh is logged; retail.refresh() runs its work through
-- retail.refresh_run() so that retail_loader can refresh.
ALTER TABLE retail.refresh_log
	ALTER COLUMN rows DROP NOT NULL,
	ADD COLUMN status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'warning', 'failed', 'nothing_new', 'unchanged')),
	ADD COLUMN error text,
	ADD COLUMN sqlstate text,
	ADD COLUMN setting text;

-- a new argument, full (92_refresh_call.sql creates it again)
DROP PROCEDURE retail.refresh(boolean);

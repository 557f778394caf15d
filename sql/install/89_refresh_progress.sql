
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

-- Changing settings: retail.set_setting and retail.reset_setting, the error
-- for an unknown name, and gold marked stale only by a statement that
-- changes a value in force (a row's value, else the default).
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
CREATE FUNCTION pg_temp.stale() RETURNS boolean LANGUAGE sql
	RETURN (SELECT gold_stale FROM retail.refresh_progress);
-- each case starts from gold not stale
CREATE PROCEDURE pg_temp.settle() LANGUAGE sql
	BEGIN ATOMIC UPDATE retail.refresh_progress SET gold_stale = false; END;

SELECT pg_temp.stale() AS stale_after_refresh;

-- set: no row yet; the default of audit_threshold is 3.5
SELECT retail.set_setting('audit_threshold', '4') AS in_force, pg_temp.stale() AS stale;
CALL pg_temp.settle();
-- set again to the value in force: nothing changes
SELECT retail.set_setting('audit_threshold', '4') AS in_force, pg_temp.stale() AS stale;
-- an UPDATE that matches no row, and one that writes the same value
UPDATE retail.settings SET value = '9' WHERE name = 'rfm_bins';
SELECT pg_temp.stale() AS stale_after_update_of_nothing;
UPDATE retail.settings SET value = '4' WHERE name = 'audit_threshold';
SELECT pg_temp.stale() AS stale_after_same_value;
-- the same value with spaces is the same value (settings are trimmed)
UPDATE retail.settings SET value = ' 4 ' WHERE name = 'audit_threshold';
SELECT pg_temp.stale() AS stale_after_same_value_padded;
-- a new value
SELECT retail.set_setting('audit_threshold', '5') AS in_force, pg_temp.stale() AS stale;
CALL pg_temp.settle();
-- reset: back to the default 3.5
SELECT retail.reset_setting('audit_threshold') AS in_force, pg_temp.stale() AS stale;
CALL pg_temp.settle();
-- reset of a setting that has no row: nothing changes
SELECT retail.reset_setting('audit_threshold') AS in_force, pg_temp.stale() AS stale;
-- a row that states the default, and a NULL row (which means the default)
INSERT INTO retail.settings VALUES ('abc_a', '0.80');
SELECT pg_temp.stale() AS stale_after_default_written;
SELECT retail.set_setting('abc_b', NULL) AS in_force, pg_temp.stale() AS stale;
DELETE FROM retail.settings;
SELECT pg_temp.stale() AS stale_after_deleting_defaults;
-- a DELETE of a value that was in force
SELECT retail.set_setting('segment_snapshots', '6') AS in_force;
CALL pg_temp.settle();
DELETE FROM retail.settings WHERE name = 'segment_snapshots';
SELECT pg_temp.stale() AS stale_after_delete;
CALL pg_temp.settle();

-- unknown names, whichever way they are written; bad values
\set SHOW_CONTEXT never
SELECT retail.set_setting('rfm_bin', '4');
SELECT retail.reset_setting('rfm_bin');
INSERT INTO retail.settings VALUES ('rfm_bin', '4');
SELECT retail.set_setting('rfm_bins', '11');
SELECT pg_temp.stale() AS stale_after_errors, count(*) AS rows FROM retail.settings;

-- a reader may read settings but not change them
CREATE ROLE regress_settings_reader IN ROLE retail_bi;
SET ROLE regress_settings_reader;
SELECT retail.set_setting('segment_snapshots', '6');
RESET ROLE;
DROP ROLE regress_settings_reader;

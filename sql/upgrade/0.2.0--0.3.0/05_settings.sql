
-- Settings people can change: retail.set_setting and retail.reset_setting,
-- the list of settings in the error for an unknown name, and gold marked
-- stale only by a statement that changes a value in force.
CREATE OR REPLACE FUNCTION retail.checked_setting(setting_name text, value text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rule retail.setting_defaults;
	trimmed text := btrim(value);
	number numeric;
	valid boolean;
BEGIN
	SELECT * INTO rule FROM retail.setting_defaults d WHERE d.name = setting_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown setting "%"', setting_name
			USING ERRCODE = 'undefined_object', HINT = format('The settings are %s (retail.current_settings lists them with their values).', (SELECT string_agg(d.name, ', ' ORDER BY d.name) FROM retail.setting_defaults d));
	END IF;
	IF trimmed IS NULL OR trimmed = '' THEN
		valid := rule.nullable;
		trimmed := NULL;
	ELSIF rule.value_type = 'preset' THEN
		valid := EXISTS (SELECT FROM retail.segment_rules r WHERE r.preset = trimmed);
	ELSIF rule.value_type = 'unit' THEN
		valid := trimmed IN ('day', 'week');
	ELSIF rule.value_type = 'cancellations' THEN
		valid := trimmed IN ('net', 'ignore');
	ELSIF rule.value_type = 'model' THEN
		valid := trimmed IN ('bgnbd', 'mbgnbd', 'paretonbd');
	ELSIF rule.value_type = 'text' THEN
		valid := length(trimmed) <= rule.upper_bound AND trimmed !~ '[[:cntrl:]]';
	ELSIF rule.value_type = 'date' THEN
		valid := trimmed ~ '^\d{4}-\d{2}-\d{2}$'
			AND retail.try_timestamp(trimmed || ' 00:00') IS NOT NULL;
	ELSE
		valid := trimmed ~ CASE rule.value_type WHEN 'integer' THEN '^[+-]?\d{1,9}$'
							   ELSE '^[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})$' END;
		IF valid THEN
			number := trimmed::numeric;
			valid := (rule.lower_bound IS NULL OR number > rule.lower_bound
					  OR (number = rule.lower_bound AND NOT rule.lower_exclusive))
				AND (rule.upper_bound IS NULL OR number <= rule.upper_bound);
		END IF;
	END IF;
	IF NOT valid THEN
		RAISE EXCEPTION 'invalid value for setting "%": %', setting_name,
			coalesce('"' || value || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Setting "%s" allows %s.', setting_name, retail.setting_allowed(rule)),
				  SCHEMA = 'retail', TABLE = 'settings', COLUMN = setting_name;
	END IF;
	RETURN trimmed;
END
$$;

-- Before the foreign key, an unknown name gets retail.checked_setting's
-- error, which lists the settings.
CREATE FUNCTION retail.setting_name_check_trigger() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM retail.setting_defaults d WHERE d.name = NEW.name) THEN
		PERFORM retail.checked_setting(NEW.name, NEW.value);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION retail.setting_name_check_trigger() IS
	'Trigger of retail.settings: a row whose name is not a setting is refused with the list of settings';
CREATE TRIGGER check_setting_name BEFORE INSERT OR UPDATE OF name ON retail.settings
	FOR EACH ROW EXECUTE FUNCTION retail.setting_name_check_trigger();

-- Changing a setting without knowing whether a row is there already.  Run
-- with the caller's rights: writing retail.settings stays with its owner and
-- whom the owner grants it to.
CREATE FUNCTION retail.set_setting(setting_name text, value text) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO retail.settings AS s (name, value)
	VALUES (setting_name, set_setting.value)
	ON CONFLICT (name) DO UPDATE SET value = excluded.value
		WHERE s.value IS DISTINCT FROM excluded.value;
	RETURN retail.setting(setting_name);
END
$$;
COMMENT ON FUNCTION retail.set_setting(text, text) IS
	'Set a setting (checked against its rule, like a write to retail.settings) and return the value in force; the next refresh recomputes gold only if that value changed';

CREATE FUNCTION retail.reset_setting(setting_name text) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM retail.settings s WHERE s.name = setting_name;
	RETURN retail.setting(setting_name);
END
$$;
COMMENT ON FUNCTION retail.reset_setting(text) IS
	'Put a setting back to its default and return the value in force; the next refresh recomputes gold only if that value changed';

DROP TRIGGER note_change ON retail.settings;
COMMENT ON FUNCTION retail.note_change() IS
	'Trigger: a change to bronze other than INSERT makes the next refresh rebuild; a change of presets makes it recompute gold';

-- A statement on retail.settings marks gold stale only when it changes a
-- value in force (a row's value, else the default): an UPDATE that matches
-- nothing, or writes the value already in force, leaves the marts as they are.
CREATE FUNCTION retail.note_setting_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	before_rows retail.settings[] := '{}';
	after_rows retail.settings[] := '{}';
	changed text[];
BEGIN
	IF TG_OP <> 'INSERT' THEN
		SELECT coalesce(array_agg(o), '{}') INTO before_rows FROM old_settings o;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		SELECT coalesce(array_agg(n), '{}') INTO after_rows FROM new_settings n;
	END IF;
	SELECT coalesce(array_agg(name), '{}') INTO changed
	FROM unnest(before_rows) o
		 FULL JOIN unnest(after_rows) n USING (name)
		 JOIN retail.setting_defaults d USING (name)
	WHERE btrim(coalesce(o.value, d.default_value)) IS DISTINCT FROM btrim(coalesce(n.value, d.default_value));
	IF 'cancellations' = ANY (changed) THEN
		UPDATE retail.refresh_progress SET silver_settings_changed = true;
	ELSIF cardinality(changed) > 0 THEN
		UPDATE retail.refresh_progress SET gold_stale = true;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION retail.note_setting_change() IS
	'Trigger of retail.settings: a statement that changes a value in force makes the next refresh recompute gold (rebuild, for the setting cancellations)';
CREATE TRIGGER note_insert AFTER INSERT ON retail.settings REFERENCING NEW TABLE AS new_settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_setting_change();
CREATE TRIGGER note_update AFTER UPDATE ON retail.settings
	REFERENCING OLD TABLE AS old_settings NEW TABLE AS new_settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_setting_change();
CREATE TRIGGER note_delete AFTER DELETE ON retail.settings REFERENCING OLD TABLE AS old_settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_setting_change();

REVOKE EXECUTE ON FUNCTION retail.set_setting(text, text), retail.reset_setting(text),
	retail.setting_name_check_trigger(), retail.note_setting_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.set_setting(text, text), retail.reset_setting(text),
	retail.setting_name_check_trigger() TO retail_bi;


CREATE OR REPLACE VIEW retail.current_settings AS
SELECT d.name, coalesce(s.value, d.default_value) AS value, s.name IS NOT NULL AS overridden,
	   d.default_value, d.description, retail.setting_allowed(d) AS allowed
FROM retail.setting_defaults d
LEFT JOIN retail.settings s ON s.name = d.name;
COMMENT ON VIEW retail.current_settings IS 'Each setting with the value in force and the values it allows';

CREATE OR REPLACE FUNCTION retail.setting(setting_name text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN retail.checked_setting(setting_name,
							  (SELECT coalesce(s.value, d.default_value)
							   FROM retail.setting_defaults d
							   LEFT JOIN retail.settings s ON s.name = d.name
							   WHERE d.name = setting_name));
COMMENT ON FUNCTION retail.setting(text) IS
	'The value in force of a setting (the user''s, else the default), checked against its rule';

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


-- Settings of the marts.  retail.setting_defaults belongs to the extension;
-- retail.settings holds the values a user chose instead, and is dumped.
CREATE TABLE retail.setting_defaults (
	name text PRIMARY KEY,
	default_value text,
	description text NOT NULL
);
COMMENT ON TABLE retail.setting_defaults IS 'Every setting of the marts with its default value';

CREATE TABLE retail.settings (
	name text PRIMARY KEY REFERENCES retail.setting_defaults (name),
	value text
);
COMMENT ON TABLE retail.settings IS
	'Settings chosen by the user (INSERT or UPDATE here; the defaults are in retail.setting_defaults); read at the next refresh';
SELECT pg_catalog.pg_extension_config_dump('retail.settings', '');

CREATE VIEW retail.current_settings AS
SELECT d.name, coalesce(s.value, d.default_value) AS value, s.name IS NOT NULL AS overridden,
	   d.default_value, d.description
FROM retail.setting_defaults d
LEFT JOIN retail.settings s ON s.name = d.name;
COMMENT ON VIEW retail.current_settings IS 'Each setting with the value in force';

CREATE FUNCTION retail.setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result text;
BEGIN
	SELECT coalesce(s.value, d.default_value) INTO result
	FROM retail.setting_defaults d
	LEFT JOIN retail.settings s ON s.name = d.name
	WHERE d.name = setting_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown setting "%"', setting_name
			USING ERRCODE = 'undefined_object', HINT = 'The settings are listed in retail.current_settings.';
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION retail.setting(text) IS 'The value in force of a setting (the user''s, else the default)';

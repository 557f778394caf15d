
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

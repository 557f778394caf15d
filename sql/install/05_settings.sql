
-- Settings of the marts.  retail.setting_defaults belongs to the extension;
-- retail.settings holds the values a user chose instead, and is dumped.
-- Each setting has a rule (value_type and bounds), given with its default by
-- the part of the mart it sets: a value is checked when it is written and
-- again when it is read, so a bad value is refused with its name instead of
-- breaking a refresh.
CREATE TABLE retail.setting_defaults (
	name text PRIMARY KEY,
	default_value text,
	description text NOT NULL,
	value_type text NOT NULL CHECK (value_type IN ('integer', 'number', 'date', 'preset', 'unit', 'cancellations', 'model',
											  'text')),
	lower_bound numeric,
	lower_exclusive boolean NOT NULL DEFAULT false,
	upper_bound numeric,
	nullable boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE retail.setting_defaults IS
	'Every setting of the marts with its default value and the values it allows';

CREATE TABLE retail.settings (
	name text PRIMARY KEY REFERENCES retail.setting_defaults (name),
	value text
);
COMMENT ON TABLE retail.settings IS
	'Settings chosen by the user (INSERT or UPDATE here; the defaults are in retail.setting_defaults); checked when written, read at the next refresh';
SELECT pg_catalog.pg_extension_config_dump('retail.settings', '');


-- Settings get rules, checked when written and when read.
ALTER TABLE retail.setting_defaults
	ADD COLUMN value_type text CHECK (value_type IN ('integer', 'number', 'date', 'preset', 'unit')),
	ADD COLUMN lower_bound numeric,
	ADD COLUMN lower_exclusive boolean NOT NULL DEFAULT false,
	ADD COLUMN upper_bound numeric,
	ADD COLUMN nullable boolean NOT NULL DEFAULT false;
COMMENT ON TABLE retail.setting_defaults IS
	'Every setting of the marts with its default value and the values it allows';
COMMENT ON TABLE retail.settings IS
	'Settings chosen by the user (INSERT or UPDATE here; the defaults are in retail.setting_defaults); checked when written, read at the next refresh';
INSERT INTO retail.setting_defaults VALUES
	('rfm_preset', 'standard', 'Preset of retail.segment_rules that names gold.mart_customer_segments.segment'),
	('rfm_seed_preset', 'seed', 'Preset of retail.segment_rules that names gold.mart_customer_segments.seed_segment');

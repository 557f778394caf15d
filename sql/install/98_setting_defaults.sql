
-- The values each setting allows (see retail.checked_setting).  Every
-- setting must have a rule; this part is also run by the upgrade scripts.
-- Upper bounds keep a refresh's cost within reason: the CLV of a customer
-- sums one term per month of the horizon (120: ten years).  rfm_as_of has a
-- rule against the data as well (retail.check_as_of_trigger).
UPDATE retail.setting_defaults d
SET value_type = r.value_type, lower_bound = r.lower_bound, lower_exclusive = r.lower_exclusive,
	upper_bound = r.upper_bound, nullable = r.nullable
FROM (VALUES
		('rfm_bins', 'integer', 2, false, 10, false),
		('rfm_as_of', 'date', NULL, false, NULL, true),
		('rfm_preset', 'preset', NULL, false, NULL, false),
		('rfm_seed_preset', 'preset', NULL, false, NULL, false),
		('abc_a', 'number', 0, true, 1, false),
		('abc_b', 'number', 0, true, 1, false),
		('xyz_x', 'number', 0, true, NULL, false),
		('xyz_y', 'number', 0, true, NULL, false),
		('audit_threshold', 'number', 0, true, NULL, false),
		('segment_snapshots', 'integer', 2, false, 1000, false),
		('clv_horizon_months', 'integer', 0, false, 120, false),
		('clv_unit', 'unit', NULL, false, NULL, false),
		('clv_discount_rate', 'number', 0, false, 1, false),
		('cancellations', 'cancellations', NULL, false, NULL, false),
		('clv_model', 'model', NULL, false, NULL, false),
		('currency', 'text', NULL, false, 16, true))
	AS r(name, value_type, lower_bound, lower_exclusive, upper_bound, nullable)
WHERE d.name = r.name;

DO $$
DECLARE
	unruled text;
BEGIN
	SELECT string_agg(name, ', ' ORDER BY name) INTO unruled
	FROM retail.setting_defaults WHERE value_type IS NULL;
	IF unruled IS NOT NULL THEN
		RAISE EXCEPTION 'settings without a rule: %', unruled;
	END IF;
	PERFORM retail.check_settings();
END
$$;

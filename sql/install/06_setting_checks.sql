
-- Checks of the settings (the rules are in retail.setting_defaults).  This
-- part is also run by the upgrade scripts.
CREATE FUNCTION retail.setting_allowed(rule retail.setting_defaults) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE rule.value_type
		   WHEN 'preset' THEN 'the name of a preset in retail.segment_rules'
		   WHEN 'date' THEN 'a date written YYYY-MM-DD'
		   WHEN 'unit' THEN 'day or week'
		   WHEN 'cancellations' THEN 'net or ignore'
		   WHEN 'model' THEN 'bgnbd, mbgnbd or paretonbd'
		   WHEN 'text' THEN 'text of at most ' || rule.upper_bound || ' characters, none of them control characters'
		   ELSE CASE rule.value_type WHEN 'integer' THEN 'an integer' ELSE 'a number' END
				|| CASE WHEN rule.lower_bound IS NULL THEN ''
						WHEN rule.lower_exclusive THEN ' above ' || rule.lower_bound
						ELSE ' from ' || rule.lower_bound END
				|| CASE WHEN rule.upper_bound IS NULL THEN ''
						WHEN rule.lower_bound IS NULL OR rule.lower_exclusive THEN ' and at most ' || rule.upper_bound
						ELSE ' to ' || rule.upper_bound END
	   END
	   || CASE WHEN rule.nullable THEN ', or NULL' ELSE '' END;
COMMENT ON FUNCTION retail.setting_allowed(retail.setting_defaults) IS
	'The values a setting allows, in words';

-- The value if the setting's rule allows it, else an error naming the
-- setting (its column name, for retail.refresh_log) and the allowed values.
CREATE FUNCTION retail.checked_setting(setting_name text, value text) RETURNS text
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
COMMENT ON FUNCTION retail.checked_setting(text, text) IS
	'A setting''s value, trimmed, if its rule in retail.setting_defaults allows it; else an error naming the setting and the values allowed';

-- All settings together: each by its rule, then the rules between settings.
CREATE FUNCTION retail.check_settings() RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pair record;
	preset record;
	bins integer;
BEGIN
	PERFORM retail.setting(d.name) FROM retail.setting_defaults d;
	FOR pair IN
		SELECT * FROM (VALUES ('abc_a', 'abc_b'), ('xyz_x', 'xyz_y')) p(lower_name, upper_name)
	LOOP
		IF retail.setting(pair.lower_name)::numeric >= retail.setting(pair.upper_name)::numeric THEN
			RAISE EXCEPTION 'setting "%" must be below setting "%"', pair.lower_name, pair.upper_name
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('"%s" is %s and "%s" is %s.', pair.lower_name,
									  retail.setting(pair.lower_name), pair.upper_name,
									  retail.setting(pair.upper_name)),
					  SCHEMA = 'retail', TABLE = 'settings', COLUMN = pair.lower_name;
		END IF;
	END LOOP;
	bins := retail.setting('rfm_bins')::integer;
	FOR preset IN
		SELECT p.setting_name, retail.setting(p.setting_name) AS name
		FROM unnest(ARRAY['rfm_preset', 'rfm_seed_preset']) p(setting_name)
	LOOP
		IF EXISTS (SELECT FROM retail.check_segment_preset(preset.name, bins)) THEN
			RAISE EXCEPTION 'segment preset "%" of setting "%" does not fit "rfm_bins" = %',
				preset.name, preset.setting_name, bins
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'Some score cells have no rule, or some segments no cell can reach, at these bins.',
					  HINT = format('SELECT * FROM retail.check_segment_preset(%L, %s) lists them; the shipped presets are made for 5 bins.',
									preset.name, bins),
					  SCHEMA = 'retail', TABLE = 'settings', COLUMN = preset.setting_name;
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION retail.check_settings() IS
	'Checks every setting in force, alone and against the others; retail.refresh() runs it first';

CREATE FUNCTION retail.settings_check_trigger() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM retail.check_settings();
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION retail.settings_check_trigger() IS
	'Trigger of retail.settings: a change that leaves an invalid setting is refused';
CREATE TRIGGER check_settings AFTER INSERT OR UPDATE ON retail.settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.settings_check_trigger();

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

-- An as-of date must be after the last purchase of silver when it is
-- written: an earlier one would never be in force.  Lines loaded later may
-- pass it; the marts then take the day after the last purchase
-- (retail.rfm_as_of), never an error.
CREATE FUNCTION retail.check_as_of_trigger() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	as_of date := retail.checked_setting('rfm_as_of', NEW.value)::date;
	last_purchase date := (SELECT max(c.last_purchase)::date FROM silver.customer_state c);
BEGIN
	IF as_of <= last_purchase THEN
		RAISE EXCEPTION 'invalid value for setting "rfm_as_of": "%"', NEW.value
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The last purchase in silver is on %s: setting "rfm_as_of" must be after it.',
								  to_char(last_purchase, 'YYYY-MM-DD')),
				  HINT = 'NULL stands for the day after the last purchase.',
				  SCHEMA = 'retail', TABLE = 'settings', COLUMN = 'rfm_as_of';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION retail.check_as_of_trigger() IS
	'Trigger of retail.settings: an rfm_as_of on or before the last purchase of silver is refused';
CREATE TRIGGER check_as_of AFTER INSERT OR UPDATE ON retail.settings
	FOR EACH ROW WHEN (NEW.name = 'rfm_as_of') EXECUTE FUNCTION retail.check_as_of_trigger();

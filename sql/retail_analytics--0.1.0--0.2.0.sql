-- retail_analytics upgrade 0.1.0 -> 0.2.0, as released: never edited again
\echo Use "ALTER EXTENSION retail_analytics UPDATE TO '0.2.0'" to load this file. \quit

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

-- Checks of the settings (the rules are in retail.setting_defaults).  This
-- part is also run by the upgrade scripts.
CREATE FUNCTION retail.setting_allowed(rule retail.setting_defaults) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE rule.value_type
		   WHEN 'preset' THEN 'the name of a preset in retail.segment_rules'
		   WHEN 'date' THEN 'a date written YYYY-MM-DD'
		   WHEN 'unit' THEN 'day or week'
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
			USING ERRCODE = 'undefined_object', HINT = 'The settings are listed in retail.current_settings.';
	END IF;
	IF trimmed IS NULL OR trimmed = '' THEN
		valid := rule.nullable;
		trimmed := NULL;
	ELSIF rule.value_type = 'preset' THEN
		valid := EXISTS (SELECT FROM retail.segment_rules r WHERE r.preset = trimmed);
	ELSIF rule.value_type = 'unit' THEN
		valid := trimmed IN ('day', 'week');
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
-- C hardening (issue 8): window-safe finals, interruptible loops, NULL and
-- range checks of rfm_segment, rfm_segments(NULL) (45_rfm_segments.sql), check_segment_preset
-- reporting unreachable segments, byte-wise key comparison documented; (issue 16) the
-- cohort matrices' limit of 2400 periods documented.

COMMENT ON FUNCTION retail.rfm_segment(text, integer, integer, integer, integer) IS
	'Segment of a score cell under a preset of retail.segment_rules (first matching rule); a cell no rule covers is an error; a NULL score gives NULL, a NULL recency_days gives NULL when a rule bounding it decides; scores outside 1 .. 10 and a negative recency_days are errors';

-- a new result column: drop and create
DROP FUNCTION retail.check_segment_preset(text, integer);
CREATE FUNCTION retail.check_segment_preset(preset text, bins integer DEFAULT 5)
	RETURNS TABLE (r integer, f integer, m integer, recency_days_from integer, recency_days_to integer,
				   unreachable_segment text)
	AS 'MODULE_PATHNAME', 'ra_check_segment_preset' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.check_segment_preset(text, integer) IS
	'What a preset leaves out at a number of bins: score cells (and recency_days ranges; NULL to = no end) without a rule, then one row (cell columns NULL) per segment that no cell can reach; no rows for a preset that is complete and fully used at those bins';

COMMENT ON AGGREGATE retail.rfm_customer(text, timestamp, numeric) IS
	'Per customer (GROUP BY customer): first and last purchase, number of distinct invoices (told apart byte by byte, whatever their collation), exact sum of amounts; NULLs are skipped field by field';
COMMENT ON AGGREGATE retail.rfm_customers(bigint, text, timestamp, numeric) IS
	'retail.rfm_customer of every customer in one pass, without GROUP BY: an array by customer_id; lines without a customer are skipped; invoices are told apart byte by byte, whatever their collation';
COMMENT ON AGGREGATE retail.abc_classify(text, numeric) IS
	'ABC classification of (key, value) pairs with thresholds 0.80 and 0.95: an array of retail.abc_item in rank order (unnest it); keys are told apart byte by byte whatever their collation (under a nondeterministic one ''a'' and ''A'' are two items), the collation only orders items of equal value';
COMMENT ON AGGREGATE retail.abc_classify(text, numeric, numeric, numeric) IS
	'ABC classification of (key, value) pairs: A while the share ranked before is < a, B while < b, else C (0 < a < b <= 1); an array of retail.abc_item; keys are told apart byte by byte whatever their collation, the collation only orders items of equal value';
COMMENT ON AGGREGATE retail.most_frequent(text) IS
	'Most frequent non-NULL value; among equally frequent values the first in the collation''s order (NULL when there is none); values are counted byte by byte whatever their collation (under a nondeterministic one ''a'' and ''A'' are two values)';

COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric) IS
	'Monthly cohort retention matrix (bounded) of order lines: customer, time, amount; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text) IS
	'Cohort retention matrix (bounded) at granularity month, week (ISO, from Monday) or day; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text, boolean) IS
	'Cohort retention matrix; unbounded counts a customer active in period p or later; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_merge(bytea) IS
	'Cohort retention matrix (bounded) of partial states from retail.cohort_state, e.g. one per shard; at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_merge(bytea, boolean) IS
	'Cohort retention matrix of partial states from retail.cohort_state, bounded or unbounded; at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON FUNCTION retail.cohort_retention(regclass, text, boolean) IS
	'Dense cohort retention matrix of a relation with columns customer_id, invoice_ts, line_total (SELECT privilege required); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';

-- A deterministic, streaming generator of bronze-shaped order lines.  OR
-- REPLACE: this part is also run by the upgrade from 0.1.0, whose
-- retail.generate_transactions was the C function itself (the same
-- signature, so its privileges and dependants are kept).
CREATE OR REPLACE FUNCTION retail.generate_transactions_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_generate_transactions_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.generate_transactions_support(internal) IS
	'Planner support of retail.generate_transactions: the row estimate is its lines argument';

-- The generator itself, value-per-call: it streams wherever PostgreSQL calls
-- it value-per-call (a select list), but a function scan in FROM would
-- materialize all of its rows first.  Users call the wrapper below.
CREATE OR REPLACE FUNCTION retail.generate_transaction_rows(
	lines bigint, seed integer, customers bigint, products integer, dirty boolean)
RETURNS TABLE (invoice_no text, stock_code text, description text, quantity text,
			   invoice_date text, unit_price text, customer_id text, country text)
	AS 'MODULE_PATHNAME', 'ra_generate_transactions' LANGUAGE C IMMUTABLE PARALLEL SAFE
	SUPPORT retail.generate_transactions_support;
COMMENT ON FUNCTION retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean) IS
	'The C generator behind retail.generate_transactions (call that instead): value-per-call, so it streams in a select list; in FROM it would be materialized whole';

-- What users call.  A set-returning SQL function with a SQL-standard body is
-- inlined into a query that calls it in FROM (alone, also LATERAL): the
-- generator then runs in the select list of the inlined subquery
-- (ProjectSet, one row per call) and LIMIT stops it.  In a select list the
-- function runs lazily, one row per call, and streams as well.  It has no SET
-- search_path on purpose: that would stop the inlining, and the body's names
-- are bound when it is created.
CREATE OR REPLACE FUNCTION retail.generate_transactions(
	lines bigint,
	seed integer DEFAULT 42,
	customers bigint DEFAULT NULL,
	products integer DEFAULT 4000,
	dirty boolean DEFAULT true)
RETURNS TABLE (invoice_no text, stock_code text, description text, quantity text,
			   invoice_date text, unit_price text, customer_id text, country text)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SUPPORT retail.generate_transactions_support
BEGIN ATOMIC
	SELECT (g.r).invoice_no, (g.r).stock_code, (g.r).description, (g.r).quantity,
		   (g.r).invoice_date, (g.r).unit_price, (g.r).customer_id, (g.r).country
	FROM (SELECT retail.generate_transaction_rows(lines, seed, customers, products, dirty) AS r) g;
END;
COMMENT ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean) IS
	'Stream lines synthetic order lines shaped like bronze.transactions_raw (UCI Online Retail text, 2010-12-01 .. 2011-12-09), the same rows for the same arguments; customers defaults to lines/125, dirty = false leaves out every line silver would reject.  Streams (LIMIT stops it) in a select list and alone in FROM; WITH ORDINALITY or ROWS FROM(...) make PostgreSQL materialize all its rows first';

-- Ordinals stay above 0, where the refresh's watermark starts (20_bronze.sql).
ALTER TABLE bronze.transactions_raw
	ADD CONSTRAINT transactions_raw_load_ordinal_check CHECK (load_ordinal > 0);
COMMENT ON COLUMN bronze.transactions_raw.load_ordinal IS
	'Position in load order, unique, above 0; given by the sequence (retail_loader cannot write it)';

-- Silver rule 1 bounds clean values (prices below 10^15 in steps of
-- 0.000001, dates 1900 .. 2099) and customer_id takes a point with any number
-- of zeros: the C parsers changed; their comments say so.
COMMENT ON FUNCTION retail.try_customer_id(text) IS
	'Non-negative integer within the 64-bit range, optionally followed by a point and one or more zeros ("17850.00" is 17850), else NULL';
COMMENT ON FUNCTION retail.try_numeric(text) IS
	'Unit price as silver rule 1 accepts it, else NULL: a plain decimal (optional sign, digits, at most one point, no exponent) of absolute value below 10^15 and a whole multiple of 0.000001, with at most 6 decimals kept (1.5000000 is 1.500000); the bound is applied here, not only in retail.rule_reason, so that the typed unit_price of silver never holds a value a mart cannot compute on';
COMMENT ON FUNCTION retail.try_timestamp(text) IS
	'Real date and time written YYYY-MM-DD HH:MI[:SS] (T allowed, one-digit hour allowed) or M/D/YYYY H:MI, within 1900-01-01 00:00 .. 2099-12-31 23:59:59 (silver rule 1), else NULL';

-- Silver becomes tables that retail.refresh() appends to, with mergeable
-- states; gold marts are computed from the states (31_silver.sql and
-- 80_gold.sql are the install script's parts).  Every gold mart, the
-- ad-hoc functions over silver and the silver views go, with what depends
-- on them; the next refresh rebuilds silver from bronze.
DROP MATERIALIZED VIEW gold.mart_customer_segments, gold.mart_cohort_retention, gold.mart_countries_abc,
	gold.mart_products_abc, gold.audit_order_anomalies CASCADE;
DROP FUNCTION retail.countries_abc(numeric, numeric), retail.products_abc(numeric, numeric, numeric, numeric),
	retail.order_anomalies(double precision);
DROP MATERIALIZED VIEW silver.orders, silver.transactions CASCADE;
DELETE FROM retail.refresh_steps WHERE layer = 'silver';
-- a gold view may say when a batch cannot change it, and what in its
-- contents deserves a warning
ALTER TABLE retail.refresh_steps ADD COLUMN unchanged_check regprocedure, ADD COLUMN warning_check regprocedure;
COMMENT ON COLUMN retail.refresh_steps.unchanged_check IS
	'A function (after bigint, through bigint) that is true when appending the bronze lines with load_ordinal in (after, through] leaves the view as it is: retail.refresh() then skips it';
COMMENT ON COLUMN retail.refresh_steps.warning_check IS
	'A function () that, run after the view is refreshed, returns NULL when its contents are as expected, else a warning: retail.refresh() then logs the step with status warning and that text';

-- Scheduling retail.refresh() with pg_cron.  pg_cron is optional: nothing here
-- refers to its objects until these functions run (dynamic SQL), and they check
-- first what a job needs to succeed, because pg_cron itself only reports
-- "connection failed" in cron.job_run_details, once per run.  This part is
-- also run by the upgrade scripts.
CREATE FUNCTION retail.refresh_job()
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'extension pg_cron is not installed in database %', current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'As a superuser: CREATE EXTENSION pg_cron;';
	END IF;
	IF NOT has_schema_privilege('cron', 'USAGE') THEN
		RAISE EXCEPTION 'role % may not use schema cron', current_user
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('As a superuser: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
	END IF;
	EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user' INTO job
		USING 'retail-refresh';
	RETURN job;
END
$$;
COMMENT ON FUNCTION retail.refresh_job() IS
	'The pg_cron job id of the calling role''s job retail-refresh (see cron.job_run_details), NULL if none';

CREATE FUNCTION retail.schedule_refresh(schedule text DEFAULT '*/15 * * * *')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	libraries text;
	cron_database text;
	cron_host text;
	hba_line integer;
	hba_method text := 'peer';	-- Debian's default, when pg_hba.conf cannot be read
	job bigint;
BEGIN
	IF schedule IS NULL THEN
		RAISE EXCEPTION 'schedule must not be null'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Give a cron schedule such as ''*/15 * * * *''.';
	END IF;
	-- pg_cron's settings are superuser-only, so are the checks below.
	IF NOT pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') THEN
		RAISE EXCEPTION 'role % may not read the settings pg_cron needs', current_user
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('As a superuser: GRANT pg_read_all_settings TO %I;', current_user);
	END IF;

	libraries := current_setting('shared_preload_libraries');
	IF NOT 'pg_cron' = ANY (SELECT btrim(l, ' "') FROM unnest(string_to_array(libraries, ',')) AS l) THEN
		RAISE EXCEPTION 'pg_cron is not loaded'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('shared_preload_libraries is %L.', libraries),
				  HINT = format('In postgresql.conf set shared_preload_libraries = ''pg_cron'', '
								'cron.database_name = %L and cron.use_background_workers = on, '
								'restart PostgreSQL, then run CREATE EXTENSION pg_cron in database %I.',
								current_database(), current_database());
	END IF;

	cron_database := current_setting('cron.database_name');
	IF cron_database <> current_database() THEN
		RAISE EXCEPTION 'pg_cron runs jobs from database %, not from %', cron_database, current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = format('Set cron.database_name = %L in postgresql.conf and restart PostgreSQL.',
								current_database());
	END IF;
	PERFORM retail.refresh_job();	-- pg_cron is installed here and usable

	-- The job runs as the role that schedules it, in a session of its own.
	IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'role % cannot log in, so pg_cron cannot run a job as it', current_user
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Schedule the refresh as a login role that may run CALL retail.refresh().';
	END IF;
	IF NOT has_function_privilege('retail.refresh(boolean, boolean)', 'EXECUTE') THEN
		RAISE EXCEPTION 'role % may not run retail.refresh()', current_user
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Schedule the refresh as a role that may run CALL retail.refresh().';
	END IF;

	-- Without background workers pg_cron connects through libpq, without a
	-- password, to cron.host.  TCP asks for a password in Debian's pg_hba.conf;
	-- the socket lets in (peer) only the role named like the server's OS user.
	IF current_setting('cron.use_background_workers') <> 'on' THEN
		cron_host := current_setting('cron.host');
		IF cron_host NOT LIKE '/%' THEN
			RAISE EXCEPTION 'pg_cron would connect to host "%" over TCP/IP, which needs a password it does not have',
							cron_host
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = 'Every run would fail with "connection failed" (see cron.job_run_details).',
					  HINT = 'Set cron.use_background_workers = on in postgresql.conf and restart PostgreSQL.';
		END IF;
		IF has_function_privilege('pg_hba_file_rules()', 'EXECUTE') THEN
			SELECT r.line_number, r.auth_method INTO hba_line, hba_method
			FROM pg_hba_file_rules r
			WHERE r.type = 'local' AND r.error IS NULL
			  AND r.database && ARRAY['all', current_database()::text]
			  AND r.user_name && ARRAY['all', current_user::text]
			ORDER BY r.line_number
			LIMIT 1;
		END IF;
		IF hba_method IS DISTINCT FROM 'trust'
		   AND NOT (hba_method IN ('peer', 'ident')
					AND current_user = (SELECT rolname FROM pg_roles WHERE oid = 10)) THEN
			RAISE EXCEPTION 'pg_cron cannot log in as role % through the socket in %', current_user, cron_host
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = CASE WHEN hba_method IS NULL THEN 'pg_hba.conf has no line for this connection.'
							   ELSE format('pg_hba.conf asks for %s authentication%s.', hba_method,
										   coalesce(' on line ' || hba_line, ''))
							   END,
					  HINT = 'Set cron.use_background_workers = on in postgresql.conf and restart PostgreSQL.';
		END IF;
	END IF;

	-- Unschedule rather than reschedule by name: pg_cron would keep the host
	-- the old job was scheduled with.
	PERFORM retail.unschedule_refresh();
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
		USING 'retail-refresh', schedule, 'CALL retail.refresh()';
	RETURN job;
END
$$;
COMMENT ON FUNCTION retail.schedule_refresh(text) IS
	'Schedule CALL retail.refresh() with pg_cron as job retail-refresh of the calling role, replacing it; checks first that the job can run';

CREATE FUNCTION retail.unschedule_refresh()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
		RETURN false;
	END IF;
	job := retail.refresh_job();
	IF job IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT cron.unschedule($1)' USING job;
	RETURN true;
END
$$;
COMMENT ON FUNCTION retail.unschedule_refresh() IS
	'Remove the pg_cron job retail-refresh of the calling role; false if there was none';

REVOKE ALL ON FUNCTION retail.refresh_job(), retail.schedule_refresh(text), retail.unschedule_refresh() FROM PUBLIC;

-- Silver: tables that retail.refresh() appends to.  Each bronze line is
-- classified once, by the first refresh after its load (retail.classify_lines):
-- the reason is the first rule of spec/metrics.md that the line breaks, NULL
-- for a clean line.  Typed columns are kept for every line (NULL where the
-- text does not parse), the raw text for rejected lines only, which is all
-- the quarantine needs.
CREATE TABLE silver.transactions (
	load_ordinal bigint PRIMARY KEY,
	batch_id bigint NOT NULL,
	reason text,
	invoice_no text,
	stock_code text,
	description text,
	quantity integer,
	invoice_ts timestamp,
	unit_price numeric,
	line_total numeric,
	customer_id bigint,
	country text,
	raw_invoice_no text,
	raw_stock_code text,
	raw_description text,
	raw_quantity text,
	raw_invoice_date text,
	raw_unit_price text,
	raw_customer_id text,
	raw_country text,
	fingerprint bigint
);
COMMENT ON TABLE silver.transactions IS
	'Every bronze row once, typed, with the reason it was rejected (NULL when clean); read it through silver.cleaned_transactions and silver.rejected_transactions';
COMMENT ON COLUMN silver.transactions.fingerprint IS
	'retail.line_fingerprint of a clean line: rule 7 finds earlier equal lines by it';
-- rule 7 looks up the clean lines of earlier batches by fingerprint; the
-- audit looks up the lines of a product at a price
CREATE INDEX transactions_clean_fingerprint ON silver.transactions (fingerprint) WHERE reason IS NULL;
CREATE INDEX transactions_clean_product_price ON silver.transactions (stock_code, unit_price) WHERE reason IS NULL;

CREATE VIEW silver.cleaned_transactions AS
SELECT invoice_no, stock_code, description, quantity, invoice_ts, unit_price,
	   line_total, customer_id, country, load_ordinal
FROM silver.transactions
WHERE reason IS NULL;
COMMENT ON VIEW silver.cleaned_transactions IS
	'Order lines that passed every cleaning rule, typed and trimmed';

CREATE VIEW silver.rejected_transactions AS
SELECT load_ordinal, batch_id, reason,
	   raw_invoice_no AS invoice_no, raw_stock_code AS stock_code,
	   raw_description AS description, raw_quantity AS quantity,
	   raw_invoice_date AS invoice_date, raw_unit_price AS unit_price,
	   raw_customer_id AS customer_id, raw_country AS country
FROM silver.transactions
WHERE reason IS NOT NULL;
COMMENT ON VIEW silver.rejected_transactions IS
	'Quarantined bronze rows, raw text as loaded, with the first rule each breaks';

-- One row per invoice of cleaned lines; customer and country of its first
-- line by load order.
CREATE TABLE silver.orders (
	invoice_no text PRIMARY KEY,
	customer_id bigint,
	country text,
	invoice_ts timestamp,
	lines bigint NOT NULL,
	units bigint NOT NULL,
	total numeric NOT NULL,
	mixed_parties boolean NOT NULL
);
COMMENT ON TABLE silver.orders IS
	'One row per invoice of cleaned lines: first line''s customer and country, earliest time, lines, units, total';
COMMENT ON COLUMN silver.orders.mixed_parties IS
	'Some line of the invoice has another customer or country than its first line';
CREATE INDEX orders_customer_id ON silver.orders (customer_id, invoice_ts, invoice_no);

-- Mergeable states of the clean lines, one table per grain: a refresh adds
-- the lines of a batch into the keys they touch, and the gold marts are
-- computed from these, at a cost that follows customers, products,
-- countries and orders, not lines.
CREATE TABLE silver.customer_invoices (
	customer_id bigint,
	invoice_no text,
	PRIMARY KEY (customer_id, invoice_no)
);
COMMENT ON TABLE silver.customer_invoices IS
	'State: the distinct invoices of each customer''s clean lines (RFM frequency)';

CREATE TABLE silver.customer_invoice_days (
	customer_id bigint,
	invoice_no text,
	day date,
	first_ts timestamp NOT NULL,
	last_ts timestamp NOT NULL,
	revenue numeric NOT NULL,
	PRIMARY KEY (customer_id, invoice_no, day)
);
COMMENT ON TABLE silver.customer_invoice_days IS
	'State: per customer, invoice and day with a clean line, the first and last time and the sum of line_total (segments at any date, purchase days of the CLV models)';

CREATE TABLE silver.customer_state (
	customer_id bigint PRIMARY KEY,
	first_purchase timestamp NOT NULL,
	last_purchase timestamp NOT NULL,
	frequency bigint NOT NULL,
	monetary numeric NOT NULL,
	first_order_country text
);
COMMENT ON TABLE silver.customer_state IS
	'State: per customer, first and last line, distinct invoices, sum of line_total (what retail.rfm_customer gives)';
COMMENT ON COLUMN silver.customer_state.first_order_country IS
	'Country of the customer''s first order in silver.orders (earliest invoice_ts, then invoice_no); NULL when every line of the customer is in an order of another customer';

CREATE TABLE silver.customer_months (
	customer_id bigint,
	month date,
	revenue numeric NOT NULL,
	PRIMARY KEY (customer_id, month)
);
COMMENT ON TABLE silver.customer_months IS
	'State: per customer and calendar month with a clean line, the sum of line_total (cohort retention)';

CREATE TABLE silver.country_state (
	country text PRIMARY KEY,
	revenue numeric NOT NULL
);
COMMENT ON TABLE silver.country_state IS 'State: sum of line_total per country (countries ABC)';

CREATE TABLE silver.product_months (
	stock_code text,
	month date,
	units bigint NOT NULL,
	revenue numeric NOT NULL,
	PRIMARY KEY (stock_code, month)
);
COMMENT ON TABLE silver.product_months IS
	'State: per product and calendar month with a clean line, units and sum of line_total (products ABC/XYZ)';

CREATE TABLE silver.product_descriptions (
	stock_code text NOT NULL,
	description text NOT NULL,
	lines bigint NOT NULL
);
COMMENT ON TABLE silver.product_descriptions IS
	'State: per product, how many clean lines carry each non-NULL description (the most frequent names it)';
-- A description may be of any length, more than an index row holds: the
-- index keeps its hash, and the merge compares the text on a hash match.
CREATE INDEX product_descriptions_hash ON silver.product_descriptions (stock_code, hashtextextended(description, 0));

CREATE TABLE silver.product_prices (
	stock_code text,
	unit_price numeric,
	lines bigint NOT NULL,
	PRIMARY KEY (stock_code, unit_price)
);
COMMENT ON TABLE silver.product_prices IS
	'State: per product, how many clean lines have each unit price (the audit''s price centre)';

-- Classify the bronze lines with load_ordinal in (after, through] into
-- silver.transactions.  Rule 7 compares a passing line with the passing
-- lines before it: earlier batches' clean lines are found by fingerprint,
-- and only lines whose fingerprint recurs are compared field by field.
CREATE FUNCTION retail.classify_lines(after bigint, through bigint) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
BEGIN
	INSERT INTO silver.transactions
	WITH batch AS MATERIALIZED (
		SELECT b.*, r.rule,
			   CASE WHEN r.rule IS NULL
					THEN retail.line_fingerprint(b.invoice_no, b.stock_code, b.description, b.quantity,
												 b.invoice_date, b.unit_price, b.customer_id, b.country)
			   END AS fingerprint
		FROM bronze.transactions_raw b
			 CROSS JOIN LATERAL (SELECT retail.rule_reason(b.invoice_no, b.stock_code, b.quantity,
														   b.invoice_date, b.unit_price, b.customer_id,
														   b.country) AS rule) r
		WHERE b.load_ordinal > after AND b.load_ordinal <= through
	),
	recurring AS MATERIALIZED (
		-- fingerprints of passing lines seen twice in the batch or before it
		SELECT fingerprint FROM batch WHERE rule IS NULL GROUP BY fingerprint HAVING count(*) > 1
		UNION
		SELECT s.fingerprint
		FROM silver.transactions s
		WHERE s.reason IS NULL
		  AND s.fingerprint IN (SELECT fingerprint FROM batch WHERE rule IS NULL)
	),
	compared AS (
		SELECT c.load_ordinal, c.in_batch,
			   row_number() OVER (
				   PARTITION BY coalesce(btrim(c.invoice_no), ''), coalesce(btrim(c.stock_code), ''),
					   coalesce(btrim(c.description), ''), coalesce(btrim(c.quantity), ''),
					   coalesce(btrim(c.invoice_date), ''), coalesce(btrim(c.unit_price), ''),
					   coalesce(btrim(c.customer_id), ''), coalesce(btrim(c.country), '')
				   ORDER BY c.load_ordinal) AS occurrence
		FROM (SELECT b.load_ordinal, b.invoice_no, b.stock_code, b.description, b.quantity,
					 b.invoice_date, b.unit_price, b.customer_id, b.country, true AS in_batch
			  FROM batch b
			  WHERE b.rule IS NULL AND b.fingerprint IN (SELECT fingerprint FROM recurring)
			  UNION ALL
			  SELECT e.load_ordinal, e.invoice_no, e.stock_code, e.description, e.quantity,
					 e.invoice_date, e.unit_price, e.customer_id, e.country, false
			  FROM silver.transactions s
				   JOIN bronze.transactions_raw e ON e.load_ordinal = s.load_ordinal
			  WHERE s.reason IS NULL AND s.fingerprint IN (SELECT fingerprint FROM recurring)) c
	),
	classified AS (
		SELECT b.*,
			   coalesce(b.rule, CASE WHEN d.load_ordinal IS NOT NULL THEN 'duplicate' END) AS reason,
			   retail.try_int4(b.quantity) AS typed_quantity,
			   retail.try_numeric(b.unit_price) AS typed_unit_price
		FROM batch b
			 LEFT JOIN compared d ON d.load_ordinal = b.load_ordinal AND d.in_batch AND d.occurrence > 1
		OFFSET 0				-- parse once per row, not once per reference
	)
	SELECT c.load_ordinal,
		   c.batch_id,
		   c.reason,
		   retail.clean_code(c.invoice_no),
		   retail.clean_code(c.stock_code),
		   NULLIF(btrim(c.description), ''),
		   c.typed_quantity,
		   retail.try_timestamp(c.invoice_date),
		   c.typed_unit_price,
		   c.typed_quantity * c.typed_unit_price,
		   retail.try_customer_id(c.customer_id),
		   btrim(c.country),
		   -- the raw text is kept for rejected rows only
		   CASE WHEN c.reason IS NOT NULL THEN c.invoice_no END,
		   CASE WHEN c.reason IS NOT NULL THEN c.stock_code END,
		   CASE WHEN c.reason IS NOT NULL THEN c.description END,
		   CASE WHEN c.reason IS NOT NULL THEN c.quantity END,
		   CASE WHEN c.reason IS NOT NULL THEN c.invoice_date END,
		   CASE WHEN c.reason IS NOT NULL THEN c.unit_price END,
		   CASE WHEN c.reason IS NOT NULL THEN c.customer_id END,
		   CASE WHEN c.reason IS NOT NULL THEN c.country END,
		   CASE WHEN c.reason IS NULL THEN c.fingerprint END
	FROM classified c;
	GET DIAGNOSTICS classified = ROW_COUNT;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.classify_lines(bigint, bigint) IS
	'Classify the bronze lines with load_ordinal in (after, through] into silver.transactions (rules 1-7; rule 7 against every earlier clean line); returns how many';

-- Merge the clean lines with load_ordinal in (after, through] into
-- silver.orders and the states.  Earlier batches hold earlier lines, so an
-- invoice already in silver.orders keeps its customer and country.
CREATE FUNCTION retail.merge_lines(after bigint, through bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- The batch mixes parties when its lines differ among themselves; the
	-- invoice does when they do or when the batch's first line differs from
	-- the invoice's first line of an earlier batch.
	INSERT INTO silver.orders AS o (invoice_no, customer_id, country, invoice_ts, lines, units, total,
									mixed_parties)
	SELECT DISTINCT ON (t.invoice_no)
		   t.invoice_no, t.customer_id, t.country,
		   min(t.invoice_ts) OVER invoice, count(*) OVER invoice,
		   sum(t.quantity) OVER invoice, sum(t.line_total) OVER invoice,
		   min(t.customer_id) OVER invoice <> max(t.customer_id) OVER invoice
		   OR min(t.country) OVER invoice <> max(t.country) OVER invoice
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	WINDOW invoice AS (PARTITION BY t.invoice_no ORDER BY t.load_ordinal
					   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
	ORDER BY t.invoice_no, t.load_ordinal
	ON CONFLICT (invoice_no) DO UPDATE
	SET invoice_ts = least(o.invoice_ts, excluded.invoice_ts),
		lines = o.lines + excluded.lines,
		units = o.units + excluded.units,
		total = o.total + excluded.total,
		mixed_parties = o.mixed_parties OR excluded.mixed_parties
			OR (o.customer_id, o.country) IS DISTINCT FROM (excluded.customer_id, excluded.country);

	WITH new_invoices AS (
		INSERT INTO silver.customer_invoices
		SELECT DISTINCT t.customer_id, t.invoice_no
		FROM silver.transactions t
		WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
		ON CONFLICT DO NOTHING
		RETURNING customer_id
	),
	new_frequency AS (
		SELECT customer_id, count(*) AS invoices FROM new_invoices GROUP BY customer_id
	),
	batch AS (
		SELECT t.customer_id, min(t.invoice_ts) AS first_purchase, max(t.invoice_ts) AS last_purchase,
			   sum(t.line_total) AS monetary
		FROM silver.transactions t
		WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
		GROUP BY t.customer_id
	)
	INSERT INTO silver.customer_state AS c (customer_id, first_purchase, last_purchase, frequency, monetary)
	SELECT b.customer_id, b.first_purchase, b.last_purchase, coalesce(f.invoices, 0), b.monetary
	FROM batch b LEFT JOIN new_frequency f ON f.customer_id = b.customer_id
	ON CONFLICT (customer_id) DO UPDATE
	SET first_purchase = least(c.first_purchase, excluded.first_purchase),
		last_purchase = greatest(c.last_purchase, excluded.last_purchase),
		frequency = c.frequency + excluded.frequency,
		monetary = c.monetary + excluded.monetary;

	INSERT INTO silver.customer_invoice_days AS c (customer_id, invoice_no, day, first_ts, last_ts, revenue)
	SELECT t.customer_id, t.invoice_no, t.invoice_ts::date, min(t.invoice_ts), max(t.invoice_ts),
		   sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2, 3
	ON CONFLICT (customer_id, invoice_no, day) DO UPDATE
	SET first_ts = least(c.first_ts, excluded.first_ts),
		last_ts = greatest(c.last_ts, excluded.last_ts),
		revenue = c.revenue + excluded.revenue;

	INSERT INTO silver.customer_months AS c (customer_id, month, revenue)
	SELECT t.customer_id, date_trunc('month', t.invoice_ts)::date, sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2
	ON CONFLICT (customer_id, month) DO UPDATE SET revenue = c.revenue + excluded.revenue;

	INSERT INTO silver.country_state AS c (country, revenue)
	SELECT t.country, sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1
	ON CONFLICT (country) DO UPDATE SET revenue = c.revenue + excluded.revenue;

	INSERT INTO silver.product_months AS p (stock_code, month, units, revenue)
	SELECT t.stock_code, date_trunc('month', t.invoice_ts)::date, sum(t.quantity), sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2
	ON CONFLICT (stock_code, month) DO UPDATE
	SET units = p.units + excluded.units, revenue = p.revenue + excluded.revenue;

	-- No unique key holds a description (see the table): count the known
	-- ones, add the others.
	WITH batch AS (
		SELECT t.stock_code, t.description, count(*) AS lines
		FROM silver.transactions t
		WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
		  AND t.description IS NOT NULL
		GROUP BY 1, 2
	),
	counted AS (
		UPDATE silver.product_descriptions p
		SET lines = p.lines + b.lines
		FROM batch b
		WHERE p.stock_code = b.stock_code
		  AND hashtextextended(p.description, 0) = hashtextextended(b.description, 0)
		  AND p.description = b.description
		RETURNING p.stock_code, p.description
	)
	INSERT INTO silver.product_descriptions (stock_code, description, lines)
	SELECT b.stock_code, b.description, b.lines
	FROM batch b
	WHERE NOT EXISTS (SELECT FROM counted c WHERE c.stock_code = b.stock_code AND c.description = b.description);

	INSERT INTO silver.product_prices AS p (stock_code, unit_price, lines)
	SELECT t.stock_code, t.unit_price, count(*)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2
	ON CONFLICT (stock_code, unit_price) DO UPDATE SET lines = p.lines + excluded.lines;

	-- The first order can change for the customers of the orders the batch
	-- touched (a line may make an order earlier).
	UPDATE silver.customer_state c
	SET first_order_country = f.country
	FROM (SELECT DISTINCT ON (o.customer_id) o.customer_id, o.country
		  FROM silver.orders o
		  WHERE o.customer_id IN (SELECT t.customer_id FROM silver.transactions t
								  WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
								  UNION
								  SELECT x.customer_id FROM silver.orders x
								  WHERE x.invoice_no IN (SELECT t.invoice_no FROM silver.transactions t
														 WHERE t.load_ordinal > after AND t.load_ordinal <= through
														   AND t.reason IS NULL))
		  ORDER BY o.customer_id, o.invoice_ts, o.invoice_no) f
	WHERE c.customer_id = f.customer_id AND c.first_order_country IS DISTINCT FROM f.country;
END
$$;
COMMENT ON FUNCTION retail.merge_lines(bigint, bigint) IS
	'Merge the clean lines with load_ordinal in (after, through] into silver.orders and the silver state tables';

-- One call: the finished segments of any relation of order lines with the
-- silver column names (customer_id, invoice_no, invoice_ts, line_total),
-- scored on the lines before as_of_date.  This part is also run by the
-- upgrade scripts.
CREATE OR REPLACE FUNCTION retail.rfm_segments(lines regclass, as_of_date date DEFAULT NULL, bins integer DEFAULT 5,
									preset text DEFAULT 'standard', seed_preset text DEFAULT 'seed')
	RETURNS TABLE (customer_id bigint, recency_days integer, frequency bigint, monetary numeric,
				   r integer, f integer, m integer, rfm_cell text, segment text, seed_segment text,
				   first_purchase timestamp, last_purchase timestamp, as_of date)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	customers retail.customer_summary_row[];
BEGIN
	IF lines IS NULL THEN
		RAISE EXCEPTION 'lines must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass a relation of order lines, such as ''silver.cleaned_transactions''.';
	END IF;
	IF NOT has_table_privilege(lines, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', lines
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	EXECUTE format($query$
		SELECT array_agg(ROW(g.customer_id, (g.s).first_purchase, (g.s).last_purchase, (g.s).frequency,
							 (g.s).monetary)::retail.customer_summary_row)
		FROM (SELECT l.customer_id::bigint AS customer_id,
					 retail.rfm_customer(l.invoice_no::text, l.invoice_ts::timestamp, l.line_total::numeric) AS s
			  FROM %s l
			  WHERE l.customer_id IS NOT NULL AND ($1 IS NULL OR l.invoice_ts < $1)
			  GROUP BY 1) g
	$query$, lines) INTO customers USING as_of_date;
	RETURN QUERY SELECT * FROM retail.rfm_segments_of(customers, as_of_date, bins, preset, seed_preset);
END
$$;
COMMENT ON FUNCTION retail.rfm_segments(regclass, date, integer, text, text) IS
	'RFM segments of the order lines in a relation (customer_id, invoice_no, invoice_ts, line_total): one row per customer with a line before as_of_date (default: every line, as_of the day after the last)';


-- The as-of date of the marts: the setting rfm_as_of, but never before the
-- day after the last purchase of silver.  Lines loaded after the setting was
-- chosen may pass it: the marts then move on with them, with a NOTICE, and
-- no refresh fails for it.
CREATE FUNCTION retail.rfm_as_of() RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	setting date := retail.setting('rfm_as_of')::date;
	day_after date := (SELECT max(c.last_purchase)::date + 1 FROM silver.customer_state c);
BEGIN
	IF setting < day_after THEN
		RAISE NOTICE 'setting "rfm_as_of" (%) is not after the last purchase of silver (%): as_of is %',
			to_char(setting, 'YYYY-MM-DD'), to_char(day_after - 1, 'YYYY-MM-DD'), to_char(day_after, 'YYYY-MM-DD');
	END IF;
	RETURN greatest(setting, day_after);
END
$$;
COMMENT ON FUNCTION retail.rfm_as_of() IS
	'As-of date of the RFM marts: the later of setting rfm_as_of and the day after the last purchase of silver (NULL without either)';

-- Customer lifetime value (src/btyd.c): the BG/NBD and Gamma-Gamma models of
-- spec/metrics.md, "Gold: customer lifetime value (BTYD)".  The summary per
-- customer (retail.btyd_summary), two fitting aggregates over customers, the
-- predictions under a fitted model, a holdout check and a simulator.  This
-- part is also run by the upgrade scripts.

CREATE TYPE retail.bgnbd_model AS (
	r double precision,
	alpha double precision,
	a double precision,
	b double precision,
	log_likelihood double precision,
	customers bigint,
	converged boolean
);
COMMENT ON TYPE retail.bgnbd_model IS
	'A fitted BG/NBD model: purchase rates Gamma(r, alpha) (alpha in the unit of the times), dropout probabilities Beta(a, b); the maximum log-likelihood, the customers it was fitted on, and whether the fit converged inside the parameter space';

CREATE TYPE retail.gamma_gamma_model AS (
	p double precision,
	q double precision,
	gamma double precision,
	log_likelihood double precision,
	customers bigint,
	converged boolean
);
COMMENT ON TYPE retail.gamma_gamma_model IS
	'A fitted Gamma-Gamma model of the value per purchase: values Gamma(p, nu), nu ~ Gamma(q, gamma); the maximum log-likelihood, the repeat buyers it was fitted on, and whether the fit converged inside the parameter space';

-- Both aggregates keep the customers per distinct point in one state type.
CREATE FUNCTION retail.bgnbd_fit_trans(internal, integer, double precision, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_fit_trans(internal, integer, double precision, double precision) IS
	'Transition of retail.bgnbd_fit: counts a customer at its (frequency, recency, age)';
CREATE FUNCTION retail.gamma_gamma_fit_trans(internal, integer, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_fit_trans(internal, integer, double precision) IS
	'Transition of retail.gamma_gamma_fit: counts a repeat buyer at its (frequency, monetary_value)';
CREATE FUNCTION retail.btyd_points_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_btyd_points_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_points_combine(internal, internal) IS
	'Combine function of retail.bgnbd_fit and retail.gamma_gamma_fit: adds the counts of each point';
CREATE FUNCTION retail.btyd_points_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_btyd_points_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_points_serial(internal) IS
	'Serialize a state of retail.bgnbd_fit or retail.gamma_gamma_fit';
CREATE FUNCTION retail.btyd_points_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_btyd_points_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_points_deserial(bytea, internal) IS
	'Deserialize and validate a state of retail.bgnbd_fit or retail.gamma_gamma_fit';
CREATE FUNCTION retail.bgnbd_fit_final(internal) RETURNS retail.bgnbd_model
	AS 'MODULE_PATHNAME', 'ra_bgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_fit_final(internal) IS
	'Final function of retail.bgnbd_fit: maximum likelihood (Nelder-Mead, then BFGS)';
CREATE FUNCTION retail.gamma_gamma_fit_final(internal) RETURNS retail.gamma_gamma_model
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_fit_final(internal) IS
	'Final function of retail.gamma_gamma_fit: maximum likelihood (Nelder-Mead, then BFGS)';

CREATE AGGREGATE retail.bgnbd_fit(frequency integer, recency double precision, age double precision) (
	SFUNC = retail.bgnbd_fit_trans, STYPE = internal,
	FINALFUNC = retail.bgnbd_fit_final, COMBINEFUNC = retail.btyd_points_combine,
	SERIALFUNC = retail.btyd_points_serial, DESERIALFUNC = retail.btyd_points_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.bgnbd_fit(integer, double precision, double precision) IS
	'Fits a BG/NBD model by maximum likelihood over customers (one row each, as retail.btyd_summary gives them); rows with a NULL are skipped; no customer, or no repeat buyer, is an error; a maximum at the edge of the parameter space gives converged = false and a NOTICE naming the parameter';

CREATE AGGREGATE retail.gamma_gamma_fit(frequency integer, monetary_value double precision) (
	SFUNC = retail.gamma_gamma_fit_trans, STYPE = internal,
	FINALFUNC = retail.gamma_gamma_fit_final, COMBINEFUNC = retail.btyd_points_combine,
	SERIALFUNC = retail.btyd_points_serial, DESERIALFUNC = retail.btyd_points_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.gamma_gamma_fit(integer, double precision) IS
	'Fits a Gamma-Gamma model by maximum likelihood over the customers with frequency above 0 (monetary_value must be positive there); no such customer is an error; a maximum at the edge of the parameter space gives converged = false and a NOTICE naming the parameter';

-- Both models at once, from customers given as summaries: the marts' path.
CREATE TYPE retail.btyd_customer AS (
	customer_id bigint,
	frequency integer,
	recency double precision,
	age double precision,
	monetary_value double precision
);
COMMENT ON TYPE retail.btyd_customer IS 'A customer as retail.btyd_summary gives it';

CREATE FUNCTION retail.btyd_models(customers retail.btyd_customer[], OUT bgnbd retail.bgnbd_model,
								   OUT gamma_gamma retail.gamma_gamma_model)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- without a repeat buyer both fits are errors; here the models stay NULL
	IF EXISTS (SELECT FROM unnest(customers) c WHERE c.frequency > 0) THEN
		bgnbd := (SELECT retail.bgnbd_fit(c.frequency, c.recency, c.age) FROM unnest(customers) c);
		gamma_gamma := (SELECT retail.gamma_gamma_fit(c.frequency, c.monetary_value) FROM unnest(customers) c);
	END IF;
END
$$;
COMMENT ON FUNCTION retail.btyd_models(retail.btyd_customer[]) IS
	'The BG/NBD and Gamma-Gamma models of customers given as summaries; both NULL while no customer bought again';

CREATE FUNCTION retail.bgnbd_expected_purchases(model retail.bgnbd_model, t double precision, frequency integer,
												recency double precision, age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_bgnbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_expected_purchases(retail.bgnbd_model, double precision, integer, double precision,
													double precision) IS
	'Expected repeat purchases of a customer in the next t units after the calibration end (Fader, Hardie & Lee 2005, eq. 10); NULL, with a NOTICE for the first of a query, where double precision cannot give it to 1e-8 (at extreme parameters, such as r far above a + b) or it is not below 1e32';

CREATE FUNCTION retail.bgnbd_p_alive(model retail.bgnbd_model, frequency integer, recency double precision,
									 age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_bgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_p_alive(retail.bgnbd_model, integer, double precision, double precision) IS
	'Probability that a customer is still alive at the calibration end; 1 for frequency 0';

CREATE FUNCTION retail.gamma_gamma_expected_value(model retail.gamma_gamma_model, frequency integer,
												  monetary_value double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_expected_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_expected_value(retail.gamma_gamma_model, integer, double precision) IS
	'Conditional expected value per purchase, p (gamma + frequency monetary_value) / (p frequency + q - 1), the population mean p gamma / (q - 1) for frequency 0; NULL, with a NOTICE for the first of a query, where p frequency + q <= 1 (the expectation is infinite) or the value is not below 1e32';

CREATE FUNCTION retail.bgnbd_log_likelihood(model retail.bgnbd_model, frequency integer, recency double precision,
											age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_bgnbd_log_likelihood' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_log_likelihood(retail.bgnbd_model, integer, double precision, double precision) IS
	'Log-likelihood of one customer under a BG/NBD model (Fader, Hardie & Lee 2005, eq. 6): what retail.bgnbd_fit maximizes the sum of';

CREATE FUNCTION retail.gamma_gamma_log_likelihood(model retail.gamma_gamma_model, frequency integer,
												  monetary_value double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_log_likelihood' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_log_likelihood(retail.gamma_gamma_model, integer, double precision) IS
	'Log-likelihood of the mean value of one repeat buyer under a Gamma-Gamma model: what retail.gamma_gamma_fit maximizes the sum of; NULL for frequency 0 (not in the likelihood)';

CREATE FUNCTION retail.clv(bgnbd retail.bgnbd_model, gamma_gamma retail.gamma_gamma_model, frequency integer,
						   recency double precision, age double precision, monetary_value double precision,
						   months integer DEFAULT 12, discount_rate double precision DEFAULT 0.01,
						   unit text DEFAULT 'day')
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.clv(retail.bgnbd_model, retail.gamma_gamma_model, integer, double precision,
							   double precision, double precision, integer, double precision, text) IS
	'Customer lifetime value as lifetimes computes it: over months of 30 days (in the unit of the models, day or week), the expected purchases of each month times the expected value, divided by (1 + discount_rate)^month; months from 0 to 1200, discount_rate 0 or more; NULL, with a NOTICE for the first of a query, where the expected value or purchases are, or the sum is not below 1e32';

CREATE FUNCTION retail.btyd_unit_days(unit text) RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_btyd_unit_days' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_unit_days(text) IS
	'Days in a unit of time of the BTYD models: day 1, week 7; anything else is an error';

-- The summary per customer, from any relation of transactions: a purchase is
-- a calendar day of a customer's lines (spec/metrics.md).
CREATE FUNCTION retail.btyd_summary(transactions regclass, calibration_end date DEFAULT NULL,
									unit text DEFAULT 'day', customer_column name DEFAULT 'customer_id',
									time_column name DEFAULT 'invoice_ts',
									value_column name DEFAULT 'line_total')
	RETURNS TABLE (customer_id bigint, frequency integer, recency double precision, age double precision,
				   monetary_value double precision)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	days double precision := retail.btyd_unit_days(unit);
BEGIN
	IF transactions IS NULL OR customer_column IS NULL OR time_column IS NULL OR value_column IS NULL THEN
		RAISE EXCEPTION 'transactions and the column names must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass a relation of transactions, such as ''silver.cleaned_transactions''.';
	END IF;
	IF NOT has_table_privilege(transactions, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', transactions
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN QUERY EXECUTE format($query$
		WITH purchases AS (
			SELECT l.%1$I::bigint AS customer_id, l.%2$I::date AS day, sum(l.%3$I::numeric) AS value
			FROM %4$s l
			WHERE l.%1$I IS NOT NULL AND l.%2$I IS NOT NULL
			GROUP BY 1, 2
		),
		calibration AS (
			SELECT coalesce($1, max(p.day)) AS end_day FROM purchases p
		),
		numbered AS (
			SELECT p.customer_id, p.day, p.value, c.end_day,
				   row_number() OVER (PARTITION BY p.customer_id ORDER BY p.day) AS n
			FROM purchases p, calibration c
			WHERE p.day <= c.end_day
		)
		SELECT n.customer_id, (count(*) - 1)::integer,
			   (max(n.day) - min(n.day)) / $2, (max(n.end_day) - min(n.day)) / $2,
			   coalesce((sum(n.value) FILTER (WHERE n.n > 1) / nullif(count(*) - 1, 0))::double precision, 0)
		FROM numbered n
		GROUP BY n.customer_id
		ORDER BY n.customer_id
	$query$, customer_column, time_column, value_column, transactions)
	USING calibration_end, days;
END
$$;
COMMENT ON FUNCTION retail.btyd_summary(regclass, date, text, name, name, name) IS
	'Per customer, from the transactions up to calibration_end (NULL: the last date in the data): frequency (purchase days - 1), recency (last - first purchase day) and age (calibration_end - first purchase day) in the unit (day or week), monetary_value (mean value of the repeat purchase days, 0 without); needs SELECT on the relation';

-- The check every BTYD user makes before trusting the model.
CREATE FUNCTION retail.btyd_holdout(transactions regclass, calibration_end date, holdout_end date,
									unit text DEFAULT 'day', customer_column name DEFAULT 'customer_id',
									time_column name DEFAULT 'invoice_ts',
									value_column name DEFAULT 'line_total')
	RETURNS TABLE (frequency text, customers bigint, mean_actual double precision,
				   mean_predicted double precision)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF transactions IS NULL OR customer_column IS NULL OR time_column IS NULL OR value_column IS NULL THEN
		RAISE EXCEPTION 'transactions and the column names must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass a relation of transactions, such as ''silver.cleaned_transactions''.';
	END IF;
	IF calibration_end IS NULL OR holdout_end IS NULL OR holdout_end <= calibration_end THEN
		RAISE EXCEPTION 'invalid holdout period: % to %', calibration_end, holdout_end
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Both dates are required, and holdout_end must come after calibration_end.';
	END IF;
	-- the query checks the privilege on the relation; btyd_summary the unit
	RETURN QUERY EXECUTE format($query$
		WITH summary AS MATERIALIZED (
			SELECT * FROM retail.btyd_summary($3, $1, $4, $5, $6, $7)
		),
		model AS (
			SELECT retail.bgnbd_fit(s.frequency, s.recency, s.age) AS fitted FROM summary s
		),
		actual AS (
			SELECT l.%1$I::bigint AS customer_id, count(DISTINCT l.%2$I::date) AS purchases
			FROM %3$s l
			WHERE l.%1$I IS NOT NULL AND l.%2$I::date > $1 AND l.%2$I::date <= $2
			GROUP BY 1
		),
		customers AS (
			SELECT least(s.frequency, 7) AS frequency_group, coalesce(a.purchases, 0) AS actual,
				   retail.bgnbd_expected_purchases(m.fitted, ($2 - $1) / retail.btyd_unit_days($4),
												   s.frequency, s.recency, s.age) AS predicted
			FROM summary s
			CROSS JOIN model m
			LEFT JOIN actual a ON a.customer_id = s.customer_id
		)
		SELECT CASE WHEN GROUPING(c.frequency_group) = 1 THEN 'total'
					WHEN c.frequency_group = 7 THEN '7+'
					ELSE c.frequency_group::text END,
			   count(*), avg(c.actual)::double precision, avg(c.predicted)
		FROM customers c
		GROUP BY ROLLUP (c.frequency_group)
		ORDER BY GROUPING(c.frequency_group), c.frequency_group
	$query$, customer_column, time_column, transactions)
	USING calibration_end, holdout_end, transactions, unit, customer_column, time_column, value_column;
END
$$;
COMMENT ON FUNCTION retail.btyd_holdout(regclass, date, date, text, name, name, name) IS
	'Holdout check of BG/NBD: fitted on the transactions up to calibration_end, the customers of each calibration frequency (0 .. 6, 7+, then total) with their mean actual and mean predicted purchase days in (calibration_end, holdout_end]; needs SELECT on the relation';

CREATE FUNCTION retail.simulate_bgnbd_customers(customers bigint, r double precision, alpha double precision,
												a double precision, b double precision,
												max_age double precision, seed integer DEFAULT 42,
												whole_units boolean DEFAULT false)
	RETURNS TABLE (customer_id bigint, frequency integer, recency double precision, age double precision)
	AS 'MODULE_PATHNAME', 'ra_simulate_bgnbd_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 1000;
COMMENT ON FUNCTION retail.simulate_bgnbd_customers(bigint, double precision, double precision, double precision,
													 double precision, double precision, integer, boolean) IS
	'Customers 1 .. customers drawn from a BG/NBD process with the given parameters (times in any unit), ages uniform in [0, max_age], as retail.btyd_summary gives them; the same rows for the same arguments; whole_units truncates the times to whole units and counts purchases in one unit once, as btyd_summary counts days; at most 10 million customers (in FROM all rows are stored before the first is read), and a customer with more than a million purchase events is an error';

-- Gold: the marts, computed from the silver states by the aggregates of the
-- feature parts, and the ad-hoc forms of their queries.  Each mart is a
-- materialized view that retail.refresh() refreshes (steps registered by the
-- feature parts) and that REFRESH MATERIALIZED VIEW alone also brings up to
-- silver.  This part is also run by the upgrade scripts, after they drop the
-- gold objects of the older version.

-- Fractions (shares, retention) are double precision: the exact ratio,
-- carried to 40 decimals, rounded once to the nearest double.
CREATE FUNCTION retail.fraction(part numeric, whole numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (round(part, 40) / nullif(whole, 0))::double precision;
COMMENT ON FUNCTION retail.fraction(numeric, numeric) IS
	'part / whole as the double precision nearest the exact ratio (NULL when whole is 0): how gold gives shares and retention';

-- RFM (src/rfm.c, 40_rfm.sql)
-- Scores and segments of customers: the mart's path (from
-- silver.customer_state) and the ad-hoc one (from any relation) both end here.
CREATE FUNCTION retail.rfm_segments_of(customers retail.customer_summary_row[], as_of_date date DEFAULT NULL,
									   bins integer DEFAULT 5, preset text DEFAULT 'standard',
									   seed_preset text DEFAULT 'seed')
	RETURNS TABLE (customer_id bigint, recency_days integer, frequency bigint, monetary numeric,
				   r integer, f integer, m integer, rfm_cell text, segment text, seed_segment text,
				   first_purchase timestamp, last_purchase timestamp, as_of date)
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH summaries AS MATERIALIZED (
		SELECT c.customer_id, c.first_purchase, c.last_purchase, c.frequency, c.monetary
		FROM unnest(rfm_segments_of.customers) c
		WHERE c.customer_id IS NOT NULL
	),
	measured AS MATERIALIZED (
		SELECT s.*, retail.rfm_recency_days(s.last_purchase, d.as_of) AS recency_days, d.as_of
		FROM summaries s,
			 (SELECT coalesce(rfm_segments_of.as_of_date, max(x.last_purchase)::date + 1) AS as_of
			  FROM summaries x) d
	),
	scored AS MATERIALIZED (
		SELECT x.*, retail.rfm_score(model.cuts, x.recency_days, x.frequency, x.monetary) AS s
		FROM measured x,
			 (SELECT retail.rfm_model(y.recency_days, y.frequency, y.monetary, rfm_segments_of.bins) AS cuts
			  FROM measured y) model
	)
	SELECT x.customer_id, x.recency_days, x.frequency, x.monetary, (x.s).r, (x.s).f, (x.s).m,
		   (x.s).r::text || (x.s).f::text || (x.s).m::text,
		   retail.rfm_segment(rfm_segments_of.preset, (x.s).r, (x.s).f, (x.s).m, x.recency_days),
		   retail.rfm_segment(rfm_segments_of.seed_preset, (x.s).r, (x.s).f, (x.s).m, x.recency_days),
		   x.first_purchase, x.last_purchase, x.as_of
	FROM scored x
	ORDER BY x.customer_id;
END;
COMMENT ON FUNCTION retail.rfm_segments_of(retail.customer_summary_row[], date, integer, text, text) IS
	'RFM segments of customers given as summaries (one element each): recency to as_of (default the day after the last purchase), scores, cell and the two presets'' segments';

CREATE MATERIALIZED VIEW gold.mart_customer_segments AS
SELECT customer_id, recency_days, frequency, monetary::numeric(38, 6) AS monetary, r, f, m, rfm_cell,
	   segment, seed_segment, first_purchase, last_purchase, as_of
FROM retail.rfm_segments_of((SELECT array_agg(ROW(s.customer_id, s.first_purchase, s.last_purchase, s.frequency,
												   s.monetary)::retail.customer_summary_row)
							 FROM silver.customer_state s),
							(SELECT retail.rfm_as_of()), (SELECT retail.setting('rfm_bins'))::integer,
							(SELECT retail.setting('rfm_preset')), (SELECT retail.setting('rfm_seed_preset')))
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_segments IS
	'One row per customer of silver: recency, frequency, monetary, RFM scores and cell, segments of the presets of the settings rfm_preset and rfm_seed_preset';
CREATE UNIQUE INDEX ON gold.mart_customer_segments (customer_id);
CREATE INDEX ON gold.mart_customer_segments (segment);

CREATE VIEW gold.segment_summary AS
SELECT segment, count(*) AS customers,
	   retail.fraction(count(*), sum(count(*)) OVER ()) AS customer_share,
	   sum(monetary)::numeric(38, 6) AS revenue,
	   retail.fraction(sum(monetary), sum(sum(monetary)) OVER ()) AS revenue_share,
	   avg(recency_days)::numeric(12, 1) AS avg_recency_days,
	   avg(frequency)::numeric(12, 2) AS avg_frequency,
	   avg(monetary)::numeric(38, 2) AS avg_monetary
FROM gold.mart_customer_segments
GROUP BY segment
ORDER BY revenue DESC, segment;
COMMENT ON VIEW gold.segment_summary IS
	'Segments of gold.mart_customer_segments, largest revenue first: customers and revenue, and their shares';

-- Segments at earlier dates: a snapshot at the current as-of date and at the
-- first day of each earlier month (the segments at the end of the month
-- before), each from the lines before its date only.
INSERT INTO retail.setting_defaults VALUES
	('segment_snapshots', '13', 'Snapshots kept in gold.segment_history: the current one and the month ends before it');

CREATE FUNCTION retail.segment_snapshot_dates(as_of date, first_day date, snapshots integer)
	RETURNS SETOF date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- the upper bound of the setting segment_snapshots (85_setting_rules.sql)
	max_snapshots CONSTANT integer := 1000;
	last_month timestamp;
	months_back integer;
BEGIN
	IF NOT isfinite(as_of) OR NOT isfinite(first_day) THEN
		RAISE EXCEPTION 'segment snapshots need finite dates: as_of %, first_day %', as_of, first_day
			USING ERRCODE = 'datetime_field_overflow';
	END IF;
	IF snapshots IS NULL OR snapshots < 0 OR snapshots > max_snapshots THEN
		RAISE EXCEPTION 'segment snapshot count % is outside 0 .. %', coalesce(snapshots::text, 'NULL'), max_snapshots
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- as_of, then month starts back from the last one before it: as many as
	-- are asked for, none before the month after first_day's (none without
	-- both dates)
	last_month := date_trunc('month', (as_of - 1)::timestamp);
	months_back := (extract(year FROM last_month) * 12 + extract(month FROM last_month)
					- extract(year FROM first_day) * 12 - extract(month FROM first_day))::integer;
	RETURN QUERY
	SELECT d.day
	FROM (SELECT segment_snapshot_dates.as_of AS day
		  UNION ALL
		  SELECT (last_month - k * interval '1 month')::date
		  FROM generate_series(0, least(snapshots - 2, coalesce(months_back - 1, -1))) k) d
	ORDER BY d.day DESC
	LIMIT snapshots;
END
$$;
COMMENT ON FUNCTION retail.segment_snapshot_dates(date, date, integer) IS
	'As-of dates of the segment snapshots: as_of and the first day of each month after that of first_day and before as_of, the latest snapshots (0 .. 1000) of them; infinite dates are an error';

-- Customers as retail.rfm_customer sums up their lines before a date, from
-- the per-invoice-day state.
CREATE FUNCTION retail.customer_summaries_before(before date) RETURNS retail.customer_summary_row[]
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT array_agg(ROW(c.customer_id, c.first_purchase, c.last_purchase, c.frequency,
						 c.monetary)::retail.customer_summary_row ORDER BY c.customer_id)
	FROM (SELECT d.customer_id, min(d.first_ts) AS first_purchase, max(d.last_ts) AS last_purchase,
				 count(DISTINCT d.invoice_no) AS frequency, sum(d.revenue) AS monetary
		  FROM silver.customer_invoice_days d
		  WHERE d.day < customer_summaries_before.before
		  GROUP BY d.customer_id) c;
END;
COMMENT ON FUNCTION retail.customer_summaries_before(date) IS
	'Every customer with a clean line before a date, summed over those lines only (first and last purchase, invoices, revenue)';

-- The current snapshot is gold.mart_customer_segments; the month ends are
-- a view of their own, which a batch of lines of the current month cannot
-- change: the refresh recomputes it once a month, or for late lines.
CREATE MATERIALIZED VIEW gold.segment_month_ends AS
SELECT s.as_of, s.customer_id, s.recency_days, s.frequency, s.monetary::numeric(38, 6) AS monetary,
	   s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment
FROM (SELECT (SELECT retail.rfm_as_of()) AS as_of,
			 min(c.first_purchase)::date AS first_day
	  FROM silver.customer_state c) d
	 CROSS JOIN LATERAL retail.segment_snapshot_dates(d.as_of, d.first_day,
													  (SELECT retail.setting('segment_snapshots'))::integer) a
	 CROSS JOIN LATERAL retail.rfm_segments_of(retail.customer_summaries_before(a), a,
											   (SELECT retail.setting('rfm_bins'))::integer,
											   (SELECT retail.setting('rfm_preset')),
											   (SELECT retail.setting('rfm_seed_preset'))) s
WHERE a < d.as_of
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.segment_month_ends IS
	'The snapshots of gold.segment_history at the first day of a month before the current as-of date';
CREATE UNIQUE INDEX ON gold.segment_month_ends (as_of, customer_id);

-- Appending lines leaves the month ends as they are when every new clean
-- line is on or after the latest month start they hold, and that month
-- start is still the latest before the as-of date.
CREATE FUNCTION retail.segment_month_ends_unchanged(after bigint, through bigint) RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT coalesce(e.latest = date_trunc('month', (SELECT retail.rfm_as_of()) - 1)
					AND (SELECT min(t.invoice_ts) FROM silver.transactions t
						 WHERE t.load_ordinal > segment_month_ends_unchanged.after
						   AND t.load_ordinal <= segment_month_ends_unchanged.through AND t.reason IS NULL)
						>= e.latest,
					false)
	FROM (SELECT max(h.as_of) AS latest FROM gold.segment_month_ends h) e;
END;
COMMENT ON FUNCTION retail.segment_month_ends_unchanged(bigint, bigint) IS
	'Whether the lines with load_ordinal in (after, through], once merged into silver, leave gold.segment_month_ends as it is';

CREATE VIEW gold.segment_history AS
SELECT as_of, customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
FROM gold.mart_customer_segments
UNION ALL
SELECT as_of, customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment
FROM gold.segment_month_ends;
COMMENT ON VIEW gold.segment_history IS
	'Segments at the current as-of date and at the first day of earlier months (setting segment_snapshots), each scored on the lines before its date: one row per snapshot and customer';

-- How customers moved between the segments of two snapshots; a customer
-- without a line before the earlier one comes from segment NULL.
CREATE FUNCTION retail.check_segment_snapshots(from_as_of date, to_as_of date) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	missing date;
	snapshots text;
BEGIN
	SELECT d INTO missing
	FROM unnest(ARRAY[from_as_of, to_as_of]) d
	WHERE d IS NULL OR NOT EXISTS (SELECT FROM gold.segment_history h WHERE h.as_of = d)
	LIMIT 1;
	IF FOUND THEN
		SELECT string_agg(DISTINCT h.as_of::text, ', ') INTO snapshots FROM gold.segment_history h;
		RAISE EXCEPTION 'no segment snapshot as of %', coalesce(missing::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('gold.segment_history holds snapshots as of: %s.',
								  coalesce(snapshots, 'none (retail.refresh() makes them)'));
	END IF;
	IF from_as_of >= to_as_of THEN
		RAISE EXCEPTION 'from_as_of % is not before to_as_of %', from_as_of, to_as_of
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN true;
END
$$;
COMMENT ON FUNCTION retail.check_segment_snapshots(date, date) IS
	'True when gold.segment_history has both snapshots and the first is the earlier; an error naming the missing one otherwise';

CREATE FUNCTION retail.segment_migration(from_as_of date, to_as_of date)
	RETURNS TABLE (from_as_of date, to_as_of date, from_segment text, to_segment text, customers bigint,
				   revenue numeric(38, 6))
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT segment_migration.from_as_of, segment_migration.to_as_of, f.segment, t.segment, count(*),
		   sum(t.monetary)::numeric(38, 6)
	FROM gold.segment_history t
		 LEFT JOIN gold.segment_history f
				   ON f.as_of = segment_migration.from_as_of AND f.customer_id = t.customer_id
	WHERE t.as_of = segment_migration.to_as_of
	  AND retail.check_segment_snapshots(segment_migration.from_as_of, segment_migration.to_as_of)
	GROUP BY f.segment, t.segment
	ORDER BY f.segment NULLS FIRST, t.segment;
END;
COMMENT ON FUNCTION retail.segment_migration(date, date) IS
	'Transition matrix between two snapshots of gold.segment_history: per (from_segment, to_segment), the customers and their revenue to to_as_of; from_segment NULL for customers new since from_as_of';

CREATE VIEW gold.segment_migration AS
SELECT m.from_as_of, m.to_as_of, m.from_segment, m.to_segment, m.customers, m.revenue::numeric(38, 6) AS revenue
FROM (SELECT h.as_of, lag(h.as_of) OVER (ORDER BY h.as_of) AS previous
	  FROM (SELECT DISTINCT as_of FROM gold.segment_history) h) s
	 CROSS JOIN LATERAL retail.segment_migration(s.previous, s.as_of) m
WHERE s.previous IS NOT NULL
ORDER BY m.to_as_of DESC, m.from_segment NULLS FIRST, m.to_segment;
COMMENT ON VIEW gold.segment_migration IS
	'How customers moved between the segments of every two consecutive snapshots of gold.segment_history, latest first';

-- Cohort retention (src/cohort.c, 50_cohort.sql)
-- The mart: monthly cohorts of silver, bounded retention, from the
-- customers' monthly state (one row per customer and active month: the same
-- matrix as from the lines).  A cell is complete when its month had ended by
-- the last day with a line.
CREATE MATERIALIZED VIEW gold.mart_cohort_retention AS
SELECT c.cohort AS cohort_month,
	   c.period,
	   c.cohort_size,
	   c.active_customers,
	   retail.fraction(c.active_customers, c.cohort_size) AS retention,
	   c.revenue::numeric(38, 6) AS revenue,
	   (c.cohort + make_interval(months => c.period + 1))::date <= l.last_day + 1 AS complete
FROM (SELECT retail.cohort_matrix(s.customer_id, s.month::timestamp, s.revenue) AS cells
	  FROM silver.customer_months s) m
	 CROSS JOIN LATERAL pg_catalog.unnest(m.cells) AS c
	 CROSS JOIN (SELECT max(s.last_purchase)::date AS last_day FROM silver.customer_state s) l
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_cohort_retention IS
	'Monthly cohorts of silver customers: for every cohort and period up to the last month of silver, cohort size, active customers, retention, revenue, and whether the period is complete';
CREATE UNIQUE INDEX ON gold.mart_cohort_retention (cohort_month, period);

-- The triangle: one row per cohort, a column per period.
CREATE VIEW gold.cohort_triangle AS
SELECT r.cohort_month,
	   max(r.cohort_size) AS cohort_size,
	   min(r.period) FILTER (WHERE NOT r.complete) AS running_period,
	   max(r.retention) FILTER (WHERE r.period = 0) AS p0,
	   max(r.retention) FILTER (WHERE r.period = 1) AS p1,
	   max(r.retention) FILTER (WHERE r.period = 2) AS p2,
	   max(r.retention) FILTER (WHERE r.period = 3) AS p3,
	   max(r.retention) FILTER (WHERE r.period = 4) AS p4,
	   max(r.retention) FILTER (WHERE r.period = 5) AS p5,
	   max(r.retention) FILTER (WHERE r.period = 6) AS p6,
	   max(r.retention) FILTER (WHERE r.period = 7) AS p7,
	   max(r.retention) FILTER (WHERE r.period = 8) AS p8,
	   max(r.retention) FILTER (WHERE r.period = 9) AS p9,
	   max(r.retention) FILTER (WHERE r.period = 10) AS p10,
	   max(r.retention) FILTER (WHERE r.period = 11) AS p11,
	   max(r.retention) FILTER (WHERE r.period = 12) AS p12
FROM gold.mart_cohort_retention r
GROUP BY r.cohort_month
ORDER BY r.cohort_month;
COMMENT ON VIEW gold.cohort_triangle IS
	'Retention triangle: one row per monthly cohort, retention (fraction) of periods 0 .. 12, NULL where the data ends; running_period is the period not yet complete';

-- For people: percentages, the running period marked.
CREATE FUNCTION retail.retention_display(retention double precision, running boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char((100 * retention)::numeric, 'FM990.0') || ' %' || CASE WHEN running THEN '*' ELSE '' END;
COMMENT ON FUNCTION retail.retention_display(double precision, boolean) IS
	'A retention as shown to people: percent with one decimal, followed by * when its period is still running';

CREATE VIEW gold.cohort_triangle_display AS
SELECT t.cohort_month, t.cohort_size,
	   retail.retention_display(t.p0, t.running_period = 0) AS p0,
	   retail.retention_display(t.p1, t.running_period = 1) AS p1,
	   retail.retention_display(t.p2, t.running_period = 2) AS p2,
	   retail.retention_display(t.p3, t.running_period = 3) AS p3,
	   retail.retention_display(t.p4, t.running_period = 4) AS p4,
	   retail.retention_display(t.p5, t.running_period = 5) AS p5,
	   retail.retention_display(t.p6, t.running_period = 6) AS p6,
	   retail.retention_display(t.p7, t.running_period = 7) AS p7,
	   retail.retention_display(t.p8, t.running_period = 8) AS p8,
	   retail.retention_display(t.p9, t.running_period = 9) AS p9,
	   retail.retention_display(t.p10, t.running_period = 10) AS p10,
	   retail.retention_display(t.p11, t.running_period = 11) AS p11,
	   retail.retention_display(t.p12, t.running_period = 12) AS p12
FROM gold.cohort_triangle t
ORDER BY t.cohort_month;
COMMENT ON VIEW gold.cohort_triangle_display IS
	'gold.cohort_triangle for people: retention in percent with one decimal; * marks a period still running';

CREATE VIEW gold.cohort_period_averages AS
SELECT r.period,
	   count(*) AS cohorts,
	   sum(r.cohort_size)::bigint AS customers,
	   sum(r.active_customers)::bigint AS active_customers,
	   retail.fraction(sum(round(r.active_customers::numeric, 40) / r.cohort_size), count(*)) AS avg_retention,
	   retail.fraction(sum(r.active_customers), sum(r.cohort_size)) AS weighted_retention
FROM gold.mart_cohort_retention r
WHERE r.complete
GROUP BY r.period
ORDER BY r.period;
COMMENT ON VIEW gold.cohort_period_averages IS
	'Per period, over the cohorts whose cell is complete: cohorts, their customers, active customers, mean retention over cohorts and retention weighted by cohort size';

-- ABC/XYZ (src/abc.c, 60_abc.sql)
-- The marts' queries, with their thresholds as arguments.
CREATE FUNCTION retail.countries_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95)
RETURNS TABLE (rank bigint, country text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
	FROM (SELECT retail.abc_classify(c.country, c.revenue, countries_abc.a, countries_abc.b) AS items
		  FROM silver.country_state c) s
		 CROSS JOIN LATERAL unnest(s.items) i
	ORDER BY i.rank;
END;
COMMENT ON FUNCTION retail.countries_abc(numeric, numeric) IS
	'ABC classification of countries by revenue (sum of silver line_total) with thresholds a and b: the query of gold.mart_countries_abc';

CREATE FUNCTION retail.products_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95,
									x numeric DEFAULT 0.5, y numeric DEFAULT 1.0)
RETURNS TABLE (rank bigint, stock_code text, description text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text, cv numeric, xyz_class text, abc_xyz text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH products AS (
		SELECT s.stock_code, sum(s.revenue) AS revenue, retail.xyz_cv(s.month::timestamp, s.units) AS cv
		FROM silver.product_months s
		GROUP BY s.stock_code
	),
	descriptions AS (
		-- the most frequent, ties to the first in collation order
		SELECT DISTINCT ON (d.stock_code) d.stock_code, d.description
		FROM silver.product_descriptions d
		ORDER BY d.stock_code, d.lines DESC, d.description
	),
	ranked AS (
		SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
		FROM (SELECT retail.abc_classify(p.stock_code, p.revenue, products_abc.a, products_abc.b) AS items
			  FROM products p) s
			 CROSS JOIN LATERAL unnest(s.items) i
	)
	SELECT r.rank, r.key, d.description, r.value, r.share, r.cum_share_before, r.abc_class,
		   p.cv, k.xyz_class, r.abc_class || k.xyz_class
	FROM ranked r
		 JOIN products p ON p.stock_code = r.key
		 LEFT JOIN descriptions d ON d.stock_code = r.key
		 CROSS JOIN LATERAL (SELECT retail.xyz_class(p.cv, products_abc.x, products_abc.y)) k(xyz_class)
	ORDER BY r.rank;
END;
COMMENT ON FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) IS
	'ABC by revenue and XYZ by monthly demand variability of products (stock_code) with thresholds a, b, x, y: the query of gold.mart_products_abc';

-- Settings as sub-selects: computed once per refresh, not once per line.
CREATE MATERIALIZED VIEW gold.mart_countries_abc AS
SELECT rank, country, revenue::numeric(38, 6) AS revenue, retail.fraction(revenue, sum(revenue) OVER ()) AS share,
	   retail.fraction(coalesce(sum(revenue) OVER preceding, 0), sum(revenue) OVER ()) AS cum_share_before,
	   abc_class
FROM retail.countries_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric)
WINDOW preceding AS (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_countries_abc IS
	'Countries ranked by revenue with share, share of the countries before, and ABC class (A < 80 %, B < 95 %, else C)';
CREATE UNIQUE INDEX ON gold.mart_countries_abc (country);

CREATE MATERIALIZED VIEW gold.mart_products_abc AS
SELECT rank, stock_code, description, revenue::numeric(38, 6) AS revenue,
	   retail.fraction(revenue, sum(revenue) OVER ()) AS share,
	   retail.fraction(coalesce(sum(revenue) OVER preceding, 0), sum(revenue) OVER ()) AS cum_share_before,
	   abc_class, cv::double precision AS cv, xyz_class, abc_xyz
FROM retail.products_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric,
						 (SELECT retail.setting('xyz_x'))::numeric, (SELECT retail.setting('xyz_y'))::numeric)
WINDOW preceding AS (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_products_abc IS
	'Products (stock_code) ranked by revenue with ABC class, coefficient of variation of monthly units, XYZ class (X < 0.5, Y < 1.0, else Z) and the ABC-XYZ cell';
CREATE UNIQUE INDEX ON gold.mart_products_abc (stock_code);

-- Order audit (src/audit.c, 70_audit.sql)
-- The audit's query, with its threshold as argument.  One row per (order,
-- reason): wholesale_total when the order's z of ln(total) exceeds the
-- threshold; unit_price_outlier when one of its lines has |z| of
-- ln(unit_price), against the lines of the same product, above it (the line
-- with the largest |z| is named: its product, price and z, and the product's
-- median price); mixed_parties when its lines carry more than one customer
-- or country (z NULL).
CREATE FUNCTION retail.order_anomalies(threshold double precision DEFAULT 3.5)
RETURNS TABLE (invoice_no text, customer_id bigint, country text, invoice_ts timestamp,
			   total numeric, z double precision, reason text, stock_code text, unit_price numeric,
			   product_median_price numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH order_center AS (
		SELECT retail.median_mad(ln(o.total::double precision)) AS center
		FROM silver.orders o
	),
	wholesale AS (
		SELECT o.invoice_no, retail.modified_z(ln(o.total::double precision), c.center) AS z
		FROM silver.orders o CROSS JOIN order_center c
	),
	-- each product's centre of ln(unit_price) over its lines, from the count
	-- of lines at each price: the value of rank k (0-based) is the first
	-- whose running count exceeds k; an even count takes lo + (hi - lo) * 0.5,
	-- as retail.median_mad does
	prices AS (
		SELECT p.stock_code, p.unit_price, ln(p.unit_price::double precision) AS v, p.lines,
			   (sum(p.lines) OVER (PARTITION BY p.stock_code))::bigint AS n
		FROM silver.product_prices p
	),
	medians AS (
		SELECT x.stock_code, x.lo + (x.hi - x.lo) * 0.5 AS median,
			   (x.lo_price + x.hi_price) / 2 AS median_price
		FROM (SELECT r.stock_code, min(r.v) FILTER (WHERE r.running > (r.n - 1) / 2) AS lo,
					 min(r.v) FILTER (WHERE r.running > r.n / 2) AS hi,
					 min(r.unit_price) FILTER (WHERE r.running > (r.n - 1) / 2) AS lo_price,
					 min(r.unit_price) FILTER (WHERE r.running > r.n / 2) AS hi_price
			  FROM (SELECT p.*, (sum(p.lines) OVER (PARTITION BY p.stock_code ORDER BY p.v
													ROWS UNBOUNDED PRECEDING))::bigint AS running
					FROM prices p) r
			  GROUP BY r.stock_code) x
	),
	product_center AS (
		SELECT x.stock_code, x.median_price,
			   ROW(x.median, x.lo + (x.hi - x.lo) * 0.5)::retail.median_mad_result AS center
		FROM (SELECT r.stock_code, r.median, r.median_price,
					 min(r.d) FILTER (WHERE r.running > (r.n - 1) / 2) AS lo,
					 min(r.d) FILTER (WHERE r.running > r.n / 2) AS hi
			  FROM (SELECT p.stock_code, m.median, m.median_price, p.n, abs(p.v - m.median) AS d,
						   (sum(p.lines) OVER (PARTITION BY p.stock_code ORDER BY abs(p.v - m.median)
											   ROWS UNBOUNDED PRECEDING))::bigint AS running
					FROM prices p JOIN medians m ON m.stock_code = p.stock_code) r
			  GROUP BY r.stock_code, r.median, r.median_price) x
	),
	price_lines AS (
		-- the lines at a price whose |z| exceeds the threshold
		SELECT t.invoice_no, f.z, f.stock_code, f.unit_price, f.median_price
		FROM (SELECT p.stock_code, p.unit_price, c.median_price, retail.modified_z(p.v, c.center) AS z
			  FROM prices p JOIN product_center c ON c.stock_code = p.stock_code
			  WHERE (c.center).mad > 0) f
			 JOIN silver.transactions t
				  ON t.stock_code = f.stock_code AND t.unit_price = f.unit_price AND t.reason IS NULL
		WHERE abs(f.z) > order_anomalies.threshold
	),
	flags AS (
		SELECT w.invoice_no, w.z, 'wholesale_total' AS reason, NULL AS stock_code, NULL::numeric AS unit_price,
			   NULL::numeric AS median_price
		FROM wholesale w
		WHERE w.z > order_anomalies.threshold
		UNION ALL
		(SELECT DISTINCT ON (l.invoice_no) l.invoice_no, l.z, 'unit_price_outlier', l.stock_code, l.unit_price,
				l.median_price
		 FROM price_lines l
		 ORDER BY l.invoice_no, abs(l.z) DESC, l.z DESC, l.stock_code, l.unit_price)
		UNION ALL
		SELECT o.invoice_no, NULL, 'mixed_parties', NULL, NULL, NULL
		FROM silver.orders o
		WHERE o.mixed_parties
	)
	SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, f.z, f.reason, f.stock_code,
		   f.unit_price, f.median_price
	FROM flags f
		 JOIN silver.orders o ON o.invoice_no = f.invoice_no
	ORDER BY abs(f.z) DESC NULLS LAST, o.invoice_no, f.reason;
END;
COMMENT ON FUNCTION retail.order_anomalies(double precision) IS
	'Orders with a modified z-score above threshold: wholesale_total (z of ln(total) among all orders), unit_price_outlier (|z| of a line''s ln(unit_price) among its product''s lines; the line named), and mixed_parties (lines of more than one customer or country); the query of gold.audit_order_anomalies';

CREATE MATERIALIZED VIEW gold.audit_order_anomalies AS
SELECT invoice_no, customer_id, country, invoice_ts, total::numeric(38, 6) AS total, z, reason, stock_code,
	   unit_price::numeric(38, 6) AS unit_price, product_median_price::numeric(38, 6) AS product_median_price
FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.audit_order_anomalies IS
	'Orders flagged by a modified z-score above the setting audit_threshold (3.5), or mixing customers or countries: one row per (order, reason), strongest |z| first';
CREATE UNIQUE INDEX ON gold.audit_order_anomalies (invoice_no, reason);

-- For BI: the orders (gold.dim_customers, one row per customer with what
-- describes it, is in 84_dim_customers.sql, after the customer value).
CREATE VIEW gold.orders AS
SELECT invoice_no, customer_id, country, invoice_ts, lines, units, total::numeric(38, 6) AS total
FROM silver.orders;
COMMENT ON VIEW gold.orders IS 'One row per order (invoice) of clean lines';



INSERT INTO retail.refresh_steps VALUES
	(150, 'gold', 'gold', 'segment_month_ends', 'retail.segment_month_ends_unchanged(bigint, bigint)');

-- Gold: customer lifetime value (src/btyd.c, 75_btyd.sql).
-- gold.mart_customer_value fits both models on silver and applies them to
-- each customer; gold.clv_model shows the models, so retail.refresh()
-- refreshes it after the mart.  This part is also run by the upgrade scripts.
INSERT INTO retail.setting_defaults VALUES
	('clv_horizon_months', '12', 'Horizon of gold.mart_customer_value.clv, in months of 30 days'),
	('clv_unit', 'day', 'Unit of time of the CLV models and of gold.mart_customer_value (day or week)'),
	('clv_discount_rate', '0.01', 'Monthly discount rate of gold.mart_customer_value.clv');

CREATE FUNCTION retail.clv_settings(OUT unit text, OUT horizon_months integer, OUT discount_rate double precision)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT retail.setting('clv_unit'), retail.setting('clv_horizon_months')::integer,
		   retail.setting('clv_discount_rate')::double precision;
END;
COMMENT ON FUNCTION retail.clv_settings() IS
	'The settings of gold.mart_customer_value in force: unit, horizon in months, monthly discount rate';

-- The mart computes the summary once (from the per-invoice-day state: a
-- purchase day's value is the sum of its rows), fits both models on it and
-- applies them.  monetary_value is rounded to the mart's 6 decimals first, so that
-- gold.clv_model, fitted again on the mart's columns, is the same model to
-- the bit (the fits do not depend on the order of the rows).
CREATE MATERIALIZED VIEW gold.mart_customer_value AS
WITH settings AS MATERIALIZED (
	SELECT * FROM retail.clv_settings()
),
summary AS MATERIALIZED (
	SELECT s.customer_id, s.frequency, s.recency, s.age,
		   round(s.monetary_value::numeric, 6)::double precision AS monetary_value
	FROM settings x,
		 retail.btyd_summary('silver.customer_invoice_days', NULL, x.unit, 'customer_id', 'first_ts', 'revenue') s
),
fitted AS MATERIALIZED (
	SELECT m.* FROM retail.btyd_models((SELECT array_agg(s::retail.btyd_customer) FROM summary s)) m
)
SELECT s.customer_id, s.frequency, s.recency, s.age,
	   s.monetary_value::numeric(38, 6) AS monetary_value,
	   retail.bgnbd_p_alive(f.bgnbd, s.frequency, s.recency, s.age) AS p_alive,
	   retail.bgnbd_expected_purchases(f.bgnbd, 90 / retail.btyd_unit_days(x.unit), s.frequency, s.recency,
									   s.age) AS expected_purchases_90d,
	   retail.gamma_gamma_expected_value(f.gamma_gamma, s.frequency, s.monetary_value)::numeric(38, 6)
		   AS expected_value,
	   retail.clv(f.bgnbd, f.gamma_gamma, s.frequency, s.recency, s.age, s.monetary_value, x.horizon_months,
				  x.discount_rate, x.unit)::numeric(38, 6) AS clv
FROM settings x, fitted f, summary s
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_value IS
	'One row per customer of silver: the BTYD summary (to the last date of the lines, in the unit of setting clv_unit) and what the BG/NBD and Gamma-Gamma models fitted on it predict (NULL while no customer bought twice); gold.clv_model shows the models';
CREATE UNIQUE INDEX ON gold.mart_customer_value (customer_id);
COMMENT ON COLUMN gold.mart_customer_value.customer_id IS 'Customer';
COMMENT ON COLUMN gold.mart_customer_value.frequency IS 'Repeat purchases: purchase days - 1';
COMMENT ON COLUMN gold.mart_customer_value.recency IS 'Last purchase day - first purchase day, in the unit of setting clv_unit';
COMMENT ON COLUMN gold.mart_customer_value.age IS 'Last date of the lines - first purchase day, in the unit of setting clv_unit';
COMMENT ON COLUMN gold.mart_customer_value.monetary_value IS 'Mean value of the repeat purchase days (the first excluded), to 6 decimals; 0 without';
COMMENT ON COLUMN gold.mart_customer_value.p_alive IS 'BG/NBD probability that the customer is still active at the calibration end';
COMMENT ON COLUMN gold.mart_customer_value.expected_purchases_90d IS 'BG/NBD expected purchase days in the 90 days after the calibration end; NULL where double precision cannot give it (see retail.bgnbd_expected_purchases)';
COMMENT ON COLUMN gold.mart_customer_value.expected_value IS 'Gamma-Gamma conditional expected value per purchase day (the population mean for frequency 0); NULL where it is infinite (p frequency + q <= 1) or not below 1e32';
COMMENT ON COLUMN gold.mart_customer_value.clv IS 'Customer lifetime value over clv_horizon_months months of 30 days, discounted by clv_discount_rate a month, as lifetimes computes it; NULL where expected_value or the expected purchases are, or not below 1e32';

-- The models of the mart, fitted again on its columns (the same fits: see
-- above) with the settings it was refreshed with; no row without customers.
CREATE MATERIALIZED VIEW gold.clv_model AS
WITH settings AS MATERIALIZED (
	SELECT * FROM retail.clv_settings()
),
summary AS MATERIALIZED (
	SELECT v.customer_id, v.frequency, v.recency, v.age, v.monetary_value::double precision AS monetary_value
	FROM gold.mart_customer_value v
),
fitted AS MATERIALIZED (
	SELECT m.* FROM retail.btyd_models((SELECT array_agg(s::retail.btyd_customer) FROM summary s)) m
)
SELECT (SELECT max(c.last_purchase)::date FROM silver.customer_state c) AS calibration_end,
	   x.unit, x.horizon_months, x.discount_rate,
	   (SELECT count(*) FROM summary) AS customers,
	   (SELECT count(*) FROM summary s WHERE s.frequency > 0) AS repeat_customers,
	   (f.bgnbd).r, (f.bgnbd).alpha, (f.bgnbd).a, (f.bgnbd).b,
	   (f.bgnbd).log_likelihood AS bgnbd_log_likelihood, (f.bgnbd).converged AS bgnbd_converged,
	   (f.gamma_gamma).p, (f.gamma_gamma).q, (f.gamma_gamma).gamma,
	   (f.gamma_gamma).log_likelihood AS gamma_gamma_log_likelihood,
	   (f.gamma_gamma).converged AS gamma_gamma_converged,
	   -- in a fixed order: a float sum depends on it
	   (SELECT corr(s.frequency, s.monetary_value ORDER BY s.customer_id) FROM summary s WHERE s.frequency > 0)
		   AS frequency_monetary_correlation
FROM settings x, fitted f
WHERE EXISTS (SELECT FROM summary)
WITH NO DATA;
-- one row; REFRESH ... CONCURRENTLY needs a unique index
CREATE UNIQUE INDEX ON gold.clv_model (unit);
COMMENT ON MATERIALIZED VIEW gold.clv_model IS
	'The BG/NBD and Gamma-Gamma models of gold.mart_customer_value (one row, none without customers; parameters NULL while no customer bought twice) and the settings it applies them with; refresh the mart first';
COMMENT ON COLUMN gold.clv_model.calibration_end IS 'Last date of the silver lines with a customer: the end of the calibration period';
COMMENT ON COLUMN gold.clv_model.unit IS 'Unit of time of the models (setting clv_unit): day or week';
COMMENT ON COLUMN gold.clv_model.horizon_months IS 'Horizon of gold.mart_customer_value.clv in months of 30 days (setting clv_horizon_months)';
COMMENT ON COLUMN gold.clv_model.discount_rate IS 'Monthly discount rate of gold.mart_customer_value.clv (setting clv_discount_rate)';
COMMENT ON COLUMN gold.clv_model.customers IS 'Customers the BG/NBD model is fitted on';
COMMENT ON COLUMN gold.clv_model.repeat_customers IS 'Customers with frequency above 0, those the Gamma-Gamma model is fitted on';
COMMENT ON COLUMN gold.clv_model.r IS 'BG/NBD: shape of the Gamma distribution of purchase rates';
COMMENT ON COLUMN gold.clv_model.alpha IS 'BG/NBD: scale of the Gamma distribution of purchase rates, in the unit';
COMMENT ON COLUMN gold.clv_model.a IS 'BG/NBD: first shape of the Beta distribution of dropout probabilities';
COMMENT ON COLUMN gold.clv_model.b IS 'BG/NBD: second shape of the Beta distribution of dropout probabilities';
COMMENT ON COLUMN gold.clv_model.bgnbd_log_likelihood IS 'BG/NBD: maximum log-likelihood';
COMMENT ON COLUMN gold.clv_model.bgnbd_converged IS 'BG/NBD: false if the fit did not converge or its maximum is at the edge of the parameter space (a parameter at e^30 or e^-30)';
COMMENT ON COLUMN gold.clv_model.p IS 'Gamma-Gamma: shape of the Gamma distribution of a customer''s purchase values';
COMMENT ON COLUMN gold.clv_model.q IS 'Gamma-Gamma: shape of the Gamma distribution of the customers'' rate parameters nu';
COMMENT ON COLUMN gold.clv_model.gamma IS 'Gamma-Gamma: scale of the Gamma distribution of nu';
COMMENT ON COLUMN gold.clv_model.gamma_gamma_log_likelihood IS 'Gamma-Gamma: maximum log-likelihood';
COMMENT ON COLUMN gold.clv_model.gamma_gamma_converged IS 'Gamma-Gamma: false if the fit did not converge or its maximum is at the edge of the parameter space (a parameter at e^30 or e^-30)';
COMMENT ON COLUMN gold.clv_model.frequency_monetary_correlation IS 'Pearson correlation of frequency and monetary_value over the repeat customers: the Gamma-Gamma model assumes none';

-- The models as values, for the prediction functions (gold itself keeps to
-- types a BI tool reads).
CREATE FUNCTION retail.clv_models(OUT bgnbd retail.bgnbd_model, OUT gamma_gamma retail.gamma_gamma_model)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT ROW(m.r, m.alpha, m.a, m.b, m.bgnbd_log_likelihood, m.customers, m.bgnbd_converged)::retail.bgnbd_model,
		   ROW(m.p, m.q, m.gamma, m.gamma_gamma_log_likelihood, m.repeat_customers,
			   m.gamma_gamma_converged)::retail.gamma_gamma_model
	FROM gold.clv_model m;
END;
COMMENT ON FUNCTION retail.clv_models() IS
	'The models of gold.clv_model as values, for retail.bgnbd_expected_purchases, retail.bgnbd_p_alive, retail.gamma_gamma_expected_value and retail.clv';

INSERT INTO retail.refresh_steps VALUES
	(500, 'gold', 'gold', 'mart_customer_value'),
	(510, 'gold', 'gold', 'clv_model');

-- gold.dim_customers: one row per customer, what BI tools join and slice by:
-- the country of the first order (silver.customer_state), purchases, cohort,
-- RFM (80_gold.sql) and customer value (82_customer_value.sql).  A view over
-- the marts and the state: the refresh has nothing more to do.  This part is
-- also run by the upgrade scripts.
CREATE VIEW gold.dim_customers AS
SELECT s.customer_id, c.first_order_country AS country, s.first_purchase, s.last_purchase, s.frequency AS orders,
	   s.monetary AS revenue, date_trunc('month', s.first_purchase)::date AS cohort_month,
	   s.recency_days, s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment,
	   v.p_alive, v.expected_purchases_90d, v.expected_value, v.clv
FROM gold.mart_customer_segments s
	 LEFT JOIN silver.customer_state c ON c.customer_id = s.customer_id
	 LEFT JOIN gold.mart_customer_value v ON v.customer_id = s.customer_id
ORDER BY s.customer_id;
COMMENT ON VIEW gold.dim_customers IS
	'One row per customer: country of the first order, purchases, cohort, RFM scores and segments, predicted value';

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
		('clv_discount_rate', 'number', 0, false, 1, false))
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

-- The report: one self-contained HTML page drawn from the gold marts (inline
-- SVG and CSS, no script, nothing fetched from the network), for people who
-- would not read the marts' tables.  It reads gold and retail.refresh_log
-- only, so retail_bi can produce it.  Customer value is drawn where its mart
-- exists.  This part is also run by the upgrade scripts (it only creates
-- objects).

CREATE FUNCTION retail.html_escape(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(replace(replace(replace(replace(replace(html_escape.value, '&', '&amp;'), '<', '&lt;'),
												'>', '&gt;'), '"', '&quot;'), '''', '&#39;'), '');
END;
COMMENT ON FUNCTION retail.html_escape(text) IS
	'Text made safe inside an HTML or SVG element or a quoted attribute: & < > " and '' as character references; NULL gives the empty string';

CREATE FUNCTION retail.report_html(top_anomalies integer DEFAULT 20) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $report$
DECLARE
	-- counts: 'FM' drops padding; ',' and '.' are fixed, not the locale's
	count_format CONSTANT text := 'FM999,999,999,999,990';
	money_format CONSTANT text := 'FM999,999,999,999,990.00';
	-- what the page draws at most, whatever the data: a page of a few
	-- hundred kB, which says what it leaves out
	grid_size CONSTANT integer := 24;		-- cohorts and months of the heatmap
	top_countries CONSTANT integer := 40;	-- the real file has 38
	max_anomalies CONSTANT integer := 1000;
	style CONSTANT text := $css$
:root{--ink:#1d2733;--muted:#5b6776;--line:#dde2e8;--navy:#1f4e79;--pale:#9fb7cf;--bg:#f4f5f7}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
h1{font-size:24px;margin:0 0 2px}
h2{font-size:17px;margin:0 0 2px}
.sub,.lead,.left-out,footer{color:var(--muted)}
.sub{margin:0}
.lead,.left-out{margin:0 0 14px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:18px 20px;margin-top:18px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:12px;background:none;border:0;padding:0}
.kpi{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 14px}
.kpi .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.kpi .value{font-size:23px;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpi .note{font-size:12px;color:var(--muted)}
.notice{border-color:#e3b755;background:#fff8e5}
.empty{text-align:center;padding:48px 20px}
.split{display:grid;grid-template-columns:auto minmax(0,1fr);gap:24px;align-items:start}
@media (max-width:860px){.split{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
td:first-child{white-space:nowrap}
small{color:var(--muted)}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
.num{text-align:right;white-space:nowrap}
svg{display:block;max-width:100%;height:auto;font-variant-numeric:tabular-nums}
svg text{fill:var(--ink);font-size:11px}
svg text.muted{fill:var(--muted)}
svg text.on-dark{fill:#fff}
svg text.strong{font-weight:600;font-size:12px}
footer{font-size:12px;margin-top:18px}
$css$;
	body text := '';
	part text;
	freshness text;
	age text;
	last_ok timestamptz;
	last_at timestamptz;
	last_status text;
	last_error text;
	version text;
	populated boolean;
	customers bigint;
	orders bigint;
	revenue numeric;
	first_ts timestamp;
	last_ts timestamp;
	as_of date;
	month1 numeric;
	-- chart geometry
	cohorts integer;
	periods integer;
	shown_cohorts integer;
	first_shown date;
	shown_periods integer;
	countries integer;
	shown_countries integer;
	bar numeric;
	chart_width numeric;
	tick numeric;
	anomalies bigint;
	migration_to date;
	migration_from date;
BEGIN
	IF top_anomalies IS NULL OR top_anomalies < 0 THEN
		RAISE EXCEPTION 'top_anomalies % is not a row count', coalesce(top_anomalies::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Give 0 or more: the number of anomalous orders listed.';
	END IF;
	IF top_anomalies > max_anomalies THEN
		RAISE EXCEPTION 'top_anomalies % is more than the limit of %', top_anomalies, max_anomalies
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = format('The page lists at most %s anomalous orders; gold.audit_order_anomalies has them all.',
								max_anomalies);
	END IF;

	-- Freshness: the end of the last refresh that did not fail, and the
	-- latest run when it failed (its marts are then the earlier run's).
	SELECT max(l.finished_at) INTO last_ok FROM retail.refresh_log l WHERE l.status <> 'failed';
	SELECT l.finished_at, l.status, l.error INTO last_at, last_status, last_error
	FROM retail.refresh_log l
	ORDER BY l.run_id DESC, l.step_order DESC
	LIMIT 1;
	age := CASE
		WHEN pg_catalog.now() - last_ok < interval '1 hour'
			THEN floor(extract(epoch FROM pg_catalog.now() - last_ok) / 60)::text || ' min ago'
		WHEN pg_catalog.now() - last_ok < interval '2 days'
			THEN floor(extract(epoch FROM pg_catalog.now() - last_ok) / 3600)::text || ' h ago'
		ELSE floor(extract(epoch FROM pg_catalog.now() - last_ok) / 86400)::text || ' days ago'
	END;
	freshness := CASE WHEN last_ok IS NULL THEN 'never refreshed'
					 ELSE format('%s (%s)', to_char(last_ok, 'YYYY-MM-DD HH24:MI TZ'), age) END;
	IF last_status = 'failed' THEN
		body := body || format('<section class="notice" id="refresh-failed"><strong>The latest refresh failed</strong> '
							   '(%s): %s. The figures below are those of the last refresh that succeeded.</section>',
							   to_char(last_at, 'YYYY-MM-DD HH24:MI TZ'), retail.html_escape(last_error));
	END IF;
	SELECT e.extversion INTO version FROM pg_catalog.pg_extension e WHERE e.extname = 'retail_analytics';

	-- The marts are filled by retail.refresh(); before that there is no data.
	SELECT bool_and(c.relispopulated) INTO populated
	FROM pg_catalog.pg_class c
	WHERE c.oid IN ('gold.mart_customer_segments'::regclass, 'gold.segment_month_ends'::regclass,
					'gold.mart_cohort_retention'::regclass, 'gold.mart_countries_abc'::regclass,
					'gold.mart_products_abc'::regclass, 'gold.audit_order_anomalies'::regclass,
					'gold.mart_customer_value'::regclass);
	IF populated THEN
		SELECT count(*), sum(s.monetary), min(s.first_purchase), max(s.last_purchase), max(s.as_of)
		INTO customers, revenue, first_ts, last_ts, as_of
		FROM gold.mart_customer_segments s;
	END IF;
	IF coalesce(customers, 0) = 0 THEN
		body := body || format('<section class="empty" id="no-data"><h2>No data yet</h2><p class="lead">There are no '
							   'customers in the gold marts (last refresh: %s). Load order lines into '
							   '<code>bronze.transactions_raw</code> and run <code>CALL retail.refresh()</code>; this '
							   'page then shows customers, retention, segments, countries, products and anomalous '
							   'orders.</p></section>', freshness);
	ELSE
		SELECT count(*) INTO orders FROM gold.orders;
		-- month-1 retention over the cohorts whose month 1 has ended
		SELECT a.weighted_retention INTO month1 FROM gold.cohort_period_averages a WHERE a.period = 1;

		body := body || format(
			'<section class="kpis" id="headline">'
			'<div class="kpi"><div class="label">Revenue</div><div class="value">%s</div><div class="note">quantity × unit price of clean lines</div></div>'
			'<div class="kpi"><div class="label">Orders</div><div class="value">%s</div><div class="note">average %s</div></div>'
			'<div class="kpi"><div class="label">Customers</div><div class="value">%s</div><div class="note">%s orders each on average</div></div>'
			'<div class="kpi"><div class="label">Month-1 retention</div><div class="value">%s</div><div class="note">of new customers buy again the next month</div></div>'
			'<div class="kpi"><div class="label">Data</div><div class="value">%s days</div><div class="note">%s to %s, as of %s</div></div>'
			'<div class="kpi%s"><div class="label">Last refresh</div><div class="value">%s</div><div class="note">%s</div></div>'
			'</section>',
			to_char(round(revenue), count_format),
			to_char(orders, count_format), to_char(revenue / nullif(orders, 0), money_format),
			to_char(customers, count_format), to_char(orders::numeric / customers, 'FM999,990.0'),
			coalesce(to_char(100 * month1, 'FM990.0') || ' %', '–'),
			to_char(last_ts::date - first_ts::date + 1, count_format),
			to_char(first_ts, 'YYYY-MM-DD'), to_char(last_ts, 'YYYY-MM-DD'), to_char(as_of, 'YYYY-MM-DD'),
			CASE WHEN last_status = 'failed' THEN ' notice' ELSE '' END,
			coalesce(age, 'never'),
			coalesce(to_char(last_ok, 'YYYY-MM-DD HH24:MI TZ'), 'no refresh succeeded yet')
			|| CASE WHEN last_status = 'failed' THEN '; the latest failed' ELSE '' END);

		-- Cohort heatmap: the most recent cohorts in their first months (a
		-- mart of 200 years has 2,400 of each), shaded by retention against
		-- the best retention after month 0 (month 0 is always 100 %).
		SELECT count(*) FILTER (WHERE r.period = 0), max(r.period) + 1 INTO cohorts, periods
		FROM gold.mart_cohort_retention r;
		SELECT min(k.cohort_month) INTO first_shown
		FROM (SELECT r.cohort_month FROM gold.mart_cohort_retention r WHERE r.period = 0
			  ORDER BY r.cohort_month DESC LIMIT grid_size) k;
		shown_cohorts := least(cohorts, grid_size);
		shown_periods := least(periods, grid_size);
		chart_width := 170 + 56 * shown_periods;
		WITH cells AS (
			SELECT r.cohort_month, r.period, r.cohort_size, r.active_customers, r.retention::numeric AS retention,
				   r.complete, dense_rank() OVER (ORDER BY r.cohort_month) - 1 AS row_no
			FROM gold.mart_cohort_retention r
			WHERE r.cohort_month >= first_shown AND r.period < grid_size
		),
		shaded AS (
			SELECT c.*, 0.06 + 0.94 * least(1, c.retention / coalesce(nullif(t.top, 0), 1)) AS shade
			FROM cells c,
				 (SELECT max(x.retention) FILTER (WHERE x.period > 0) AS top FROM cells x) t
		),
		averages AS (
			-- the size-weighted retention per period over the ended cells of
			-- every cohort, shown or not
			SELECT r.period, sum(r.active_customers)::numeric / nullif(sum(r.cohort_size), 0) AS retention
			FROM gold.mart_cohort_retention r
			WHERE r.complete AND r.period < grid_size
			GROUP BY r.period
		)
		SELECT format('<svg width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="Cohort retention heatmap">'
					  '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
					  'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff" fill-opacity="0.55"/>'
					  '<line x1="0" y1="0" x2="0" y2="6" stroke="#5b6776" stroke-width="1.6"/></pattern></defs>'
					  '<text x="8" y="16" class="muted">Cohort</text>'
					  '<text x="158" y="16" class="muted" text-anchor="end">Customers</text>'
					  '<text x="170" y="16" class="muted">Months since first purchase →</text>%s%s%s%s</svg>',
					  chart_width, 58 + 26 * (shown_cohorts + 1), chart_width, 58 + 26 * (shown_cohorts + 1),
					  -- column heads
					  (SELECT string_agg(format('<text x="%s" y="40" text-anchor="middle" class="strong">%s</text>',
												170 + 56 * p + 27, p), '' ORDER BY p)
					   FROM generate_series(0, shown_periods - 1) p),
					  -- row heads
					  (SELECT string_agg(format('<text x="8" y="%s" class="strong">%s</text>'
												'<text x="158" y="%s" text-anchor="end" class="muted">%s</text>',
												48 + 26 * c.row_no + 17, to_char(c.cohort_month, 'Mon YYYY'),
												48 + 26 * c.row_no + 17, to_char(c.cohort_size, count_format)),
										 '' ORDER BY c.row_no)
					   FROM cells c WHERE c.period = 0),
					  -- the cells
					  (SELECT string_agg(format('<g class="heat-cell%s" data-cohort="%s" data-period="%s" '
												'data-retention="%s" data-complete="%s"><title>%s cohort, month %s: '
												'%s of %s customers active (%s)%s</title>'
												'<rect x="%s" y="%s" width="54" height="24" rx="2" fill="#1f4e79" '
												'fill-opacity="%s"/>%s<text x="%s" y="%s" text-anchor="middle"%s>%s%s</text></g>',
												CASE WHEN s.complete THEN '' ELSE ' incomplete' END,
												to_char(s.cohort_month, 'YYYY-MM-DD'), s.period, s.retention, s.complete,
												to_char(s.cohort_month, 'Mon YYYY'), s.period,
												to_char(s.active_customers, count_format),
												to_char(s.cohort_size, count_format),
												to_char(100 * s.retention, 'FM990.0') || ' %',
												CASE WHEN s.complete THEN '' ELSE ', month still running' END,
												170 + 56 * s.period, 48 + 26 * s.row_no, round(s.shade, 3),
												CASE WHEN s.complete THEN ''
													 ELSE format('<rect x="%s" y="%s" width="54" height="24" rx="2" '
																 'fill="url(#hatch)"/>',
																 170 + 56 * s.period, 48 + 26 * s.row_no) END,
												170 + 56 * s.period + 27, 48 + 26 * s.row_no + 16,
												CASE WHEN s.shade > 0.55 AND s.complete THEN ' class="on-dark"' ELSE '' END,
												to_char(100 * s.retention, 'FM990.0') || '%',
												CASE WHEN s.complete THEN '' ELSE '*' END),
										 '' ORDER BY s.row_no, s.period)
					   FROM shaded s),
					  -- the average row
					  (SELECT format('<text x="8" y="%s" class="strong">Weighted average</text>', 54 + 26 * shown_cohorts + 17)
							  || coalesce(string_agg(format('<text x="%s" y="%s" text-anchor="middle" class="strong">%s</text>',
															170 + 56 * a.period + 27, 54 + 26 * shown_cohorts + 17,
															to_char(100 * a.retention, 'FM990.0') || '%'),
													 '' ORDER BY a.period), '')
					   FROM averages a))
		INTO part;
		body := body || format('<section id="cohorts"><h2>How well do we keep new customers?</h2>'
							   '<p class="lead">Share of each monthly cohort (customers by month of first purchase) '
							   'buying again in the months after; darker is better.%s The last row weights each '
							   'cohort by its size.</p>%s%s</section>',
							   CASE WHEN EXISTS (SELECT FROM gold.mart_cohort_retention r
												 WHERE r.cohort_month >= first_shown AND r.period < grid_size
												   AND NOT r.complete)
									THEN ' Hatched cells marked * are months that had not ended when the data stops: '
										 'their figure can still grow.'
									ELSE '' END,
							   CASE WHEN cohorts > shown_cohorts OR periods > shown_periods
									THEN format('<p class="left-out" id="cohorts-left-out">Showing %s; the last row '
												'weights every cohort.</p>',
												concat_ws(' and ',
														  CASE WHEN cohorts > shown_cohorts
															   THEN format('the %s most recent cohorts of %s',
																		   shown_cohorts, to_char(cohorts, count_format))
														  END,
														  CASE WHEN periods > shown_periods
															   THEN format('the first %s months of %s', shown_periods,
																		   to_char(periods, count_format))
														  END))
									ELSE '' END,
							   part);

		-- Segments: share of customers next to share of revenue.
		WITH segments AS (
			SELECT s.segment, s.customers, s.revenue, s.avg_recency_days, s.avg_frequency, s.avg_monetary,
				   s.customer_share::numeric AS customer_share, s.revenue_share::numeric AS revenue_share,
				   row_number() OVER (ORDER BY s.revenue DESC, s.segment) - 1 AS row_no
			FROM gold.segment_summary s
		),
		scale AS (
			SELECT greatest(max(x.customer_share), max(coalesce(x.revenue_share, 0))) AS top, count(*) AS n
			FROM segments x
		)
		SELECT format('<div class="split"><svg width="500" height="%s" viewBox="0 0 500 %s" role="img" '
					  'aria-label="Customers and revenue by segment">'
					  '<rect x="158" y="6" width="12" height="10" fill="#9fb7cf"/><text x="176" y="15">customers</text>'
					  '<rect x="258" y="6" width="12" height="10" fill="#1f4e79"/><text x="276" y="15">revenue</text>'
					  '%s</svg><table><thead><tr><th>Segment</th><th class="num">Customers</th>'
					  '<th class="num">Revenue</th><th class="num">Recency</th>'
					  '<th class="num">Orders</th><th class="num">Spend</th></tr></thead><tbody>%s</tbody></table></div>',
					  30 + 40 * k.n, 30 + 40 * k.n,
					  string_agg(format('<g class="segment" data-segment="%s"><text x="150" y="%s" text-anchor="end" '
										'class="strong">%s</text><rect x="158" y="%s" width="%s" height="15" fill="#9fb7cf">'
										'<title>%s: %s customers</title></rect><text x="%s" y="%s" class="muted">%s</text>'
										'<rect x="158" y="%s" width="%s" height="15" fill="#1f4e79"><title>%s: revenue %s'
										'</title></rect><text x="%s" y="%s" class="muted">%s</text></g>',
										retail.html_escape(g.segment), 30 + 40 * g.row_no + 18,
										retail.html_escape(g.segment),
										30 + 40 * g.row_no, round(260 * g.customer_share / k.top, 1),
										retail.html_escape(g.segment), to_char(g.customers, count_format),
										164 + round(260 * g.customer_share / k.top, 1), 30 + 40 * g.row_no + 12,
										to_char(100 * g.customer_share, 'FM990.0') || ' %',
										30 + 40 * g.row_no + 16, round(260 * coalesce(g.revenue_share, 0) / k.top, 1),
										retail.html_escape(g.segment), to_char(round(g.revenue), count_format),
										164 + round(260 * coalesce(g.revenue_share, 0) / k.top, 1), 30 + 40 * g.row_no + 28,
										coalesce(to_char(100 * g.revenue_share, 'FM990.0') || ' %', '–')),
								 '' ORDER BY g.row_no),
					  string_agg(format('<tr><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
										'<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>',
										retail.html_escape(g.segment), to_char(g.customers, count_format),
										to_char(round(g.revenue), count_format),
										to_char(g.avg_recency_days, 'FM999,990'), to_char(g.avg_frequency, 'FM999,990.0'),
										to_char(round(g.avg_monetary), count_format)),
								 '' ORDER BY g.row_no))
		INTO part
		FROM segments g, scale k
		GROUP BY k.n;
		body := body || format('<section id="segments"><h2>Who are our best customers?</h2>'
							   '<p class="lead">RFM segments (recency, frequency, monetary value) as of %s: their share '
							   'of customers and of revenue. The table gives their averages per customer: days since '
							   'the last order (recency), orders and spend.</p>%s</section>',
							   to_char(as_of, 'YYYY-MM-DD'), part);

		-- Pareto of countries: bars by revenue, the cumulative share on the
		-- right axis, the A/B/C classes as bands behind.
		SELECT count(*), max(m.revenue) INTO countries, tick FROM gold.mart_countries_abc m;
		shown_countries := least(countries, top_countries);
		bar := greatest(12, least(40, round(880.0 / greatest(shown_countries, 1))));
		chart_width := 80 + bar * shown_countries + 50;
		-- four ticks of a round step (1, 2, 2.5 or 5 times a power of ten)
		-- up to the largest revenue or above
		IF tick > 0 THEN
			SELECT min(x.magnitude * k) INTO tick
			FROM (SELECT power(10::numeric, floor(log(tick / 4))) AS magnitude) x,
				 unnest(ARRAY[1, 2, 2.5, 5, 10]) k
			WHERE x.magnitude * k >= tick / 4;
		END IF;
		WITH c AS (
			SELECT m.country, m.revenue, m.share, m.abc_class,
				   (m.cum_share_before + m.share)::numeric AS cum_share,
				   row_number() OVER (ORDER BY m.rank) - 1 AS i,
				   m.revenue / nullif(4 * tick, 0) AS height
			FROM gold.mart_countries_abc m
			ORDER BY m.rank
			LIMIT top_countries
		)
		SELECT format('<svg width="%s" height="380" viewBox="0 0 %s 380" role="img" '
					  'aria-label="Revenue by country with cumulative share">%s%s%s'
					  '<polyline class="pareto-line" fill="none" stroke="#c0504d" stroke-width="2" points="%s"/>%s</svg>',
					  chart_width, chart_width,
					  -- the class bands, behind
					  (SELECT string_agg(format('<rect class="abc-band" data-class="%s" x="%s" y="20" width="%s" height="260" '
												'fill="%s"/><text x="%s" y="14" text-anchor="middle" class="strong">%s</text>',
												b.abc_class, 80 + bar * b.first_i, bar * b.n,
												CASE b.abc_class WHEN 'A' THEN '#e6eef6' WHEN 'B' THEN '#eff2f5' ELSE '#f8f9fa' END,
												80 + bar * b.first_i + bar * b.n / 2, b.abc_class),
										 '' ORDER BY b.abc_class)
					   FROM (SELECT x.abc_class, min(x.i) AS first_i, count(*) AS n FROM c x GROUP BY x.abc_class) b),
					  -- axes: revenue on the left, cumulative share on the right
					  (SELECT string_agg(format('<line x1="80" x2="%s" y1="%s" y2="%s" stroke="#dde2e8"/>'
												'<text x="74" y="%s" text-anchor="end" class="muted">%s</text>'
												'<text x="%s" y="%s" class="muted">%s %%</text>',
												80 + bar * shown_countries, 280 - 65 * q, 280 - 65 * q, 284 - 65 * q,
												-- FM drops the trailing zeros of the decimals, not the point
												CASE WHEN tick * q >= 1e6 THEN rtrim(to_char(tick * q / 1e6, 'FM999,990.99'), '.') || ' M'
													 WHEN tick * q >= 1e3 THEN rtrim(to_char(tick * q / 1e3, 'FM990.99'), '.') || ' k'
													 ELSE rtrim(to_char(tick * q, 'FM990.99'), '.') END,
												86 + bar * shown_countries, 284 - 65 * q, 25 * q),
										 '' ORDER BY q)
					   FROM generate_series(0, 4) q),
					  -- the bars, with the country below
					  string_agg(format('<g class="pareto-bar" data-country="%s" data-class="%s"><title>%s: %s (%s, '
										'cumulative %s)</title><rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>'
										'<text transform="translate(%s 292) rotate(-45)" text-anchor="end">%s</text></g>',
										retail.html_escape(c.country), c.abc_class, retail.html_escape(c.country),
										to_char(round(c.revenue), count_format), to_char(100 * c.share, 'FM990.0') || ' %',
										to_char(100 * c.cum_share, 'FM990.0') || ' %',
										80 + bar * c.i + 2, 280 - round(260 * coalesce(c.height, 0), 1), bar - 4,
										round(260 * coalesce(c.height, 0), 1),
										CASE c.abc_class WHEN 'A' THEN '#1f4e79' WHEN 'B' THEN '#5b84ad' ELSE '#9fb7cf' END,
										80 + bar * c.i + bar / 2 + 4,
										retail.html_escape(CASE WHEN length(c.country) > 24
																THEN left(c.country, 23) || '…' ELSE c.country END)),
								 '' ORDER BY c.i),
					  string_agg(format('%s,%s', 80 + bar * c.i + bar / 2, 20 + round(260 * (1 - c.cum_share), 1)), ' '
								 ORDER BY c.i),
					  string_agg(format('<circle cx="%s" cy="%s" r="2.5" fill="#c0504d"/>',
										80 + bar * c.i + bar / 2, 20 + round(260 * (1 - c.cum_share), 1)), '' ORDER BY c.i))
		INTO part
		FROM c;
		body := body || format('<section id="countries"><h2>Where does revenue come from?</h2>'
							   '<p class="lead">Revenue by country, largest first; the red line is the cumulative share '
							   '(right axis). Class A brings the first 80 %% of revenue, B the next 15 %%, C the rest; '
							   'here %s.</p>%s%s</section>',
							   (SELECT string_agg(format('%s: %s %s, %s', b.abc_class, b.n,
														 CASE WHEN b.n = 1 THEN 'country' ELSE 'countries' END,
														 to_char(100 * b.share, 'FM990.0') || ' %'),
												  '; ' ORDER BY b.abc_class)
								FROM (SELECT m.abc_class, count(*) AS n, sum(m.share) AS share
									  FROM gold.mart_countries_abc m GROUP BY m.abc_class) b),
							   CASE WHEN countries > shown_countries
									THEN format('<p class="left-out" id="countries-left-out">Showing the %s largest '
												'countries of %s; the classes count all of them.</p>',
												shown_countries, to_char(countries, count_format))
									ELSE '' END,
							   part);

		-- Products: the ABC-XYZ matrix and the best sellers.
		WITH cells AS (
			SELECT a.abc, x.xyz, a.i, x.j
			FROM unnest(ARRAY['A', 'B', 'C']) WITH ORDINALITY a(abc, i),
				 unnest(ARRAY['X', 'Y', 'Z']) WITH ORDINALITY x(xyz, j)
		),
		products AS (
			SELECT p.abc_class, p.xyz_class, count(*) AS n, sum(p.revenue) AS revenue
			FROM gold.mart_products_abc p
			GROUP BY p.abc_class, p.xyz_class
		),
		filled AS (
			SELECT c.abc, c.xyz, c.i, c.j, coalesce(p.n, 0) AS n, coalesce(p.revenue, 0) AS revenue,
				   coalesce(p.revenue / nullif(sum(p.revenue) OVER (), 0), 0) AS share
			FROM cells c LEFT JOIN products p ON p.abc_class = c.abc AND p.xyz_class = c.xyz
		)
		SELECT format('<svg width="470" height="300" viewBox="0 0 470 300" role="img" aria-label="ABC-XYZ matrix of products">'
					  '<text x="110" y="16" class="strong">X steady</text><text x="230" y="16" class="strong">Y variable</text>'
					  '<text x="350" y="16" class="strong">Z erratic</text>'
					  '<text x="8" y="70" class="strong">A</text><text x="8" y="86" class="muted">top 80 %%</text>'
					  '<text x="8" y="160" class="strong">B</text><text x="8" y="176" class="muted">next 15 %%</text>'
					  '<text x="8" y="250" class="strong">C</text><text x="8" y="266" class="muted">last 5 %%</text>%s</svg>',
					  string_agg(format('<g class="abcxyz-cell" data-cell="%s%s" data-products="%s"><title>%s%s: %s %s, '
										'revenue %s</title><rect x="%s" y="%s" width="116" height="86" rx="3" fill="#1f4e79" '
										'fill-opacity="%s"/><text x="%s" y="%s" text-anchor="middle" class="strong%s">%s</text>'
										'<text x="%s" y="%s" text-anchor="middle"%s>%s %s</text>'
										'<text x="%s" y="%s" text-anchor="middle"%s>%s revenue</text></g>',
										f.abc, f.xyz, f.n, f.abc, f.xyz, to_char(f.n, count_format),
										CASE WHEN f.n = 1 THEN 'product' ELSE 'products' END,
										to_char(round(f.revenue), count_format),
										90 + 120 * (f.j - 1), 26 + 90 * (f.i - 1), round(0.06 + 0.94 * f.share / t.top, 3),
										148 + 120 * (f.j - 1), 26 + 90 * (f.i - 1) + 24,
										CASE WHEN f.share / t.top > 0.5 THEN ' on-dark' ELSE '' END, f.abc || f.xyz,
										148 + 120 * (f.j - 1), 26 + 90 * (f.i - 1) + 46,
										CASE WHEN f.share / t.top > 0.5 THEN ' class="on-dark"' ELSE '' END,
										to_char(f.n, count_format), CASE WHEN f.n = 1 THEN 'product' ELSE 'products' END,
										148 + 120 * (f.j - 1), 26 + 90 * (f.i - 1) + 64,
										CASE WHEN f.share / t.top > 0.5 THEN ' class="on-dark"' ELSE '' END,
										to_char(100 * f.share, 'FM990.0') || ' %'),
								 '' ORDER BY f.i, f.j))
		INTO part
		FROM filled f, (SELECT coalesce(nullif(max(x.share), 0), 1) AS top FROM filled x) t;
		body := body || format('<section id="products"><h2>Which products matter?</h2>'
							   '<p class="lead">Products by share of revenue (ABC) and by how steady their monthly '
							   'demand is (XYZ: coefficient of variation below 0.5, below 1, above). AX products are '
							   'the ones never to run out of; CZ the candidates to drop.</p><div class="split">%s'
							   '<table><thead><tr><th>#</th><th>Product</th><th class="num">Revenue</th>'
							   '<th class="num">Share</th><th>Class</th></tr></thead><tbody>%s</tbody></table></div></section>',
							   part,
							   (SELECT string_agg(format('<tr class="product"><td class="num">%s</td><td>%s <small>%s</small></td>'
														 '<td class="num">%s</td><td class="num">%s</td><td>%s</td></tr>',
														 p.rank, retail.html_escape(coalesce(p.description, '(no description)')),
														 retail.html_escape(p.stock_code),
														 to_char(round(p.revenue), count_format),
														 to_char(100 * p.share, 'FM990.0') || ' %',
														 retail.html_escape(p.abc_xyz)),
										  '' ORDER BY p.rank)
								FROM (SELECT * FROM gold.mart_products_abc x ORDER BY x.rank LIMIT 10) p));

		-- Anomalous orders, strongest first.
		SELECT count(*) INTO anomalies FROM gold.audit_order_anomalies;
		SELECT string_agg(format('<tr class="anomaly"><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
								 '<td class="num">%s</td><td class="num">%s</td><td>%s</td></tr>',
								 retail.html_escape(a.invoice_no), to_char(a.invoice_ts, 'YYYY-MM-DD HH24:MI'),
								 coalesce(a.customer_id::text, '–'), retail.html_escape(a.country),
								 to_char(a.total, money_format), coalesce(to_char(a.z, 'FM999,990.0'), '–'),
								 CASE a.reason
									 WHEN 'wholesale_total' THEN 'Total far above the usual order'
									 WHEN 'unit_price_outlier' THEN
										 'A unit price far from the product''s usual'
										 || CASE WHEN a.stock_code IS NOT NULL
												 THEN format(': %s at %s (usual %s)',
															 retail.html_escape(coalesce(p.description, a.stock_code)),
															 to_char(a.unit_price, money_format),
															 to_char(a.product_median_price, money_format))
												 ELSE '' END
									 WHEN 'mixed_parties' THEN 'Lines of several customers or countries'
									 ELSE retail.html_escape(a.reason)
								 END),
						  '' ORDER BY a.strength)
		INTO part
		FROM (SELECT x.*, row_number() OVER (ORDER BY abs(x.z) DESC NULLS LAST, x.invoice_no, x.reason) AS strength
			  FROM gold.audit_order_anomalies x
			  ORDER BY strength
			  LIMIT top_anomalies) a
			 LEFT JOIN gold.mart_products_abc p ON p.stock_code = a.stock_code;
		body := body || format('<section id="anomalies"><h2>Which orders need a look?</h2><p class="lead">%s</p>%s</section>',
							   CASE
								   WHEN anomalies = 0 THEN 'No order stands out.'
								   ELSE format('%s flagged %s%s', to_char(anomalies, count_format),
											   CASE WHEN anomalies = 1 THEN 'order' ELSE 'orders' END,
											   CASE
												   WHEN top_anomalies = 0 THEN '.'
												   WHEN anomalies <= top_anomalies
													   THEN ', strongest first (z: robust z-score).'
												   ELSE format('; the %s strongest (z: robust z-score).',
															   to_char(top_anomalies, count_format))
											   END)
							   END,
							   CASE WHEN part IS NULL THEN ''
									ELSE '<table><thead><tr><th>Invoice</th><th>Date</th><th>Customer</th><th>Country</th>'
										 '<th class="num">Total</th><th class="num">z</th><th>Why</th></tr></thead><tbody>'
										 || part || '</tbody></table>' END);

		-- Customer value by segment.
		WITH v AS (
			SELECT s.segment, count(*) AS n, sum(v.clv)::numeric AS clv, avg(v.clv)::numeric AS avg_clv,
				   avg(v.p_alive) AS p_alive, sum(v.expected_purchases_90d) AS purchases_90d,
				   row_number() OVER (ORDER BY sum(v.clv) DESC NULLS LAST, s.segment) - 1 AS row_no
			FROM gold.mart_customer_value v
				 JOIN gold.mart_customer_segments s ON s.customer_id = v.customer_id
			GROUP BY s.segment
		)
		SELECT format('<div class="split"><svg width="480" height="%s" viewBox="0 0 480 %s" role="img" '
					  'aria-label="Customer lifetime value by segment">%s</svg><table><thead><tr><th>Segment</th>'
					  '<th class="num">Customers</th><th class="num">CLV</th><th class="num">Per customer</th>'
					  '<th class="num">P(alive)</th><th class="num">Orders, 90 days</th></tr></thead>'
					  '<tbody>%s</tbody></table></div>',
					  10 + 26 * count(*), 10 + 26 * count(*),
					  string_agg(format('<g class="clv-segment" data-segment="%s"><text x="162" y="%s" '
										'text-anchor="end" class="strong">%s</text><rect x="170" y="%s" width="%s" '
										'height="18" fill="#1f4e79"/><text x="%s" y="%s" class="muted">%s</text></g>',
										retail.html_escape(v.segment), 10 + 26 * v.row_no + 13,
										retail.html_escape(v.segment), 10 + 26 * v.row_no,
										round(230 * greatest(coalesce(v.clv, 0), 0) / t.top, 1),
										176 + round(230 * greatest(coalesce(v.clv, 0), 0) / t.top, 1),
										10 + 26 * v.row_no + 13, to_char(round(v.clv), count_format)),
								 '' ORDER BY v.row_no),
					  string_agg(format('<tr><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
										'<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>',
										retail.html_escape(v.segment), to_char(v.n, count_format),
										to_char(round(v.clv), count_format), to_char(v.avg_clv, money_format),
										to_char(100 * v.p_alive, 'FM990.0') || ' %',
										to_char(v.purchases_90d, 'FM999,999,990.0')),
								 '' ORDER BY v.row_no))
		INTO part
		FROM v, (SELECT coalesce(nullif(max(x.clv), 0), 1) AS top FROM v x) t
		GROUP BY t.top;
		body := body || format('<section id="clv"><h2>What are customers worth?</h2><p class="lead">Customer '
							   'lifetime value (BG/NBD and Gamma-Gamma models) by segment: the expected value of '
							   'future purchases, the chance the customer is still active, and the orders '
							   'expected in the next 90 days.</p>%s</section>', part);

		-- Segment migration between the two latest snapshots, where there are two.
		SELECT max(h.as_of) INTO migration_to FROM gold.segment_history h;
		SELECT max(h.as_of) INTO migration_from FROM gold.segment_history h WHERE h.as_of < migration_to;
		IF migration_from IS NOT NULL THEN
			WITH flows AS (
				SELECT m.from_segment, m.to_segment, m.customers AS n
				FROM retail.segment_migration(migration_from, migration_to) m
			),
			known AS (
				SELECT s.segment, s.revenue FROM gold.segment_summary s
			),
			-- segments in the order of the segments section, new customers first
			axis AS (
				SELECT x.segment, row_number() OVER (ORDER BY x.segment IS NOT NULL, k.revenue DESC NULLS LAST, x.segment)
									  - 1 AS pos
				FROM (SELECT f.from_segment AS segment FROM flows f
					  UNION SELECT f.to_segment FROM flows f) x
					 LEFT JOIN known k ON k.segment = x.segment
			),
			rows_ AS (
				SELECT f.from_segment, sum(f.n) AS total FROM flows f GROUP BY f.from_segment
			),
			placed AS (
				SELECT f.*, r.pos AS row_pos, c.pos - (SELECT count(*) FROM axis WHERE segment IS NULL) AS col_pos,
					   f.n::numeric / nullif(t.total, 0) AS share
				FROM flows f
					 JOIN axis r ON r.segment IS NOT DISTINCT FROM f.from_segment
					 JOIN axis c ON c.segment = f.to_segment
					 JOIN rows_ t ON t.from_segment IS NOT DISTINCT FROM f.from_segment
			)
			SELECT format('<svg width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="Segment migration">'
						  '<text x="8" y="16" class="muted">From ↓  to →</text>%s%s%s</svg>',
						  250 + 74 * (SELECT count(*) FROM axis WHERE segment IS NOT NULL),
						  120 + 30 * (SELECT count(*) FROM axis),
						  250 + 74 * (SELECT count(*) FROM axis WHERE segment IS NOT NULL),
						  120 + 30 * (SELECT count(*) FROM axis),
						  (SELECT string_agg(format('<text transform="translate(%s 104) rotate(-40)" class="strong">%s</text>',
													170 + 74 * (a.pos - (SELECT count(*) FROM axis WHERE segment IS NULL)) + 30,
													retail.html_escape(a.segment)), '' ORDER BY a.pos)
						   FROM axis a WHERE a.segment IS NOT NULL),
						  (SELECT string_agg(format('<text x="162" y="%s" text-anchor="end" class="strong">%s</text>',
													112 + 30 * a.pos + 19,
													retail.html_escape(coalesce(a.segment, 'Not yet customers'))),
											 '' ORDER BY a.pos)
						   FROM axis a),
						  string_agg(format('<g class="migration-cell" data-from="%s" data-to="%s"><title>%s → %s: %s '
											'customers (%s of the row)</title><rect x="%s" y="%s" width="72" height="28" '
											'rx="2" fill="#1f4e79" fill-opacity="%s"%s/><text x="%s" y="%s" '
											'text-anchor="middle"%s>%s</text></g>',
											retail.html_escape(coalesce(p.from_segment, '(new)')), retail.html_escape(p.to_segment),
											retail.html_escape(coalesce(p.from_segment, 'Not yet customers')),
											retail.html_escape(p.to_segment),
											to_char(p.n, count_format), to_char(100 * p.share, 'FM990.0') || ' %',
											170 + 74 * p.col_pos, 112 + 30 * p.row_pos,
											round(0.06 + 0.94 * coalesce(p.share, 0), 3),
											CASE WHEN p.from_segment = p.to_segment THEN ' stroke="#c0504d" stroke-width="2"'
												 ELSE '' END,
											170 + 74 * p.col_pos + 36, 112 + 30 * p.row_pos + 19,
											CASE WHEN p.share > 0.55 THEN ' class="on-dark"' ELSE '' END,
											to_char(p.n, count_format)),
									 '' ORDER BY p.row_pos, p.col_pos))
			INTO part
			FROM placed p;
			IF part IS NOT NULL THEN
				body := body || format('<section id="migration"><h2>How did customers move?</h2><p class="lead">'
									   'Customers by segment on %s (rows) and on %s (columns); a red frame marks '
									   'those who stayed, the shade the share of the row.</p>%s</section>',
									   to_char(migration_from, 'YYYY-MM-DD'), to_char(migration_to, 'YYYY-MM-DD'), part);
			END IF;
		END IF;
	END IF;

	RETURN '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
		-- nothing may run or load, whatever the data holds
		|| '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">'
		|| '<meta name="viewport" content="width=device-width, initial-scale=1">'
		|| '<title>Retail analytics report</title><style>' || style || '</style></head><body><main>'
		|| format('<header><h1>Retail analytics</h1><p class="sub">%s</p></header>',
				  CASE WHEN coalesce(customers, 0) = 0 THEN 'No data yet'
					   ELSE format('Order lines from %s to %s · customers scored as of %s',
								   to_char(first_ts, 'DD Mon YYYY'), to_char(last_ts, 'DD Mon YYYY'),
								   to_char(as_of, 'DD Mon YYYY')) END)
		|| body
		|| format('<footer>Made by retail_analytics %s from the gold marts on %s. Revenue is quantity × unit price of '
				  'the clean order lines (no cancellations, returns or non-product lines).</footer>',
				  retail.html_escape(version), to_char(pg_catalog.now(), 'YYYY-MM-DD HH24:MI TZ'))
		|| '</main></body></html>';
END
$report$;
COMMENT ON FUNCTION retail.report_html(integer) IS
	'The report of the gold marts as one self-contained HTML page (inline SVG and CSS, no script): headline figures and freshness, cohort retention heatmap (the 24 most recent cohorts, months 0 to 23), RFM segments, Pareto of the 40 largest countries, ABC-XYZ matrix and the 10 best-selling products, the top_anomalies (at most 1000) strongest anomalous orders, and customer value and segment migration where those marts exist; the page says what it leaves out';

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

-- What in a mart deserves a warning (retail.refresh_steps.warning_check).
-- Customer value: the models are fitted once a customer bought twice; a
-- prediction that is NULL then could not be evaluated for that customer.
CREATE FUNCTION retail.customer_value_warning() RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT format('%s of %s customers have no prediction (p_alive, expected_purchases_90d, expected_value or clv NULL): the fitted models could not be evaluated for them',
				  n.unpredicted, n.customers)
	FROM (SELECT count(*) AS customers, bool_or(v.frequency > 0) AS fitted,
				 count(*) FILTER (WHERE v.p_alive IS NULL OR v.expected_purchases_90d IS NULL
								  OR v.expected_value IS NULL OR v.clv IS NULL) AS unpredicted
		  FROM gold.mart_customer_value v) n
	WHERE n.fitted AND n.unpredicted > 0;
END;
COMMENT ON FUNCTION retail.customer_value_warning() IS
	'Warning check of gold.mart_customer_value: how many customers have a NULL prediction although the models are fitted (some customer bought twice), NULL when none';
UPDATE retail.refresh_steps SET warning_check = 'retail.customer_value_warning()'
WHERE schema_name = 'gold' AND view_name = 'mart_customer_value';

-- A failed refresh is logged; retail.refresh() runs its work through
-- retail.refresh_run() so that retail_loader can refresh.
ALTER TABLE retail.refresh_log
	ALTER COLUMN rows DROP NOT NULL,
	ADD COLUMN status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'warning', 'failed', 'nothing_new', 'unchanged')),
	ADD COLUMN error text,
	ADD COLUMN sqlstate text,
	ADD COLUMN setting text;

-- a new argument, full (92_refresh_call.sql creates it again)
DROP PROCEDURE retail.refresh(boolean);

-- What retail.refresh_log says, and its latest run.  This part is also run
-- by the upgrade scripts, after they change the log's columns.
COMMENT ON TABLE retail.refresh_log IS
	'One row per object refreshed by retail.refresh() (rows, seconds, status), and for a step that failed: the error and the setting at fault';
COMMENT ON COLUMN retail.refresh_log.step_order IS
	'0: the settings checked (or, status nothing_new, no new bronze line); 10: silver lines classified; 20: silver.orders and states merged; then the gold views of retail.refresh_steps';
COMMENT ON COLUMN retail.refresh_log.status IS
	'ok; warning (refreshed, but its warning_check found something: see error); nothing_new (no new bronze line, no changed setting: nothing was done); unchanged (the new lines cannot change this view: it was not refreshed); or failed: at step 0, 10 or 20 the whole run was rolled back and the marts are those of the last run that succeeded; at a gold view, that view keeps its contents, the others were refreshed, and the next refresh tries it again';
COMMENT ON COLUMN retail.refresh_log.error IS 'The error of a failed step, or the warning of a step with status warning';
COMMENT ON COLUMN retail.refresh_log.setting IS 'For a failed step caused by a setting, its name';

CREATE OR REPLACE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at, status, error, setting
FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log)
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS
	'Rows and seconds of each object in the latest retail.refresh(), or the step where it failed and why';

-- A failed step's row of retail.refresh_log: the step, the error and, for an
-- error of a setting's check (retail.checked_setting), the setting's name.
CREATE FUNCTION retail.log_failed_step(run bigint, step_order integer, layer text, relation text,
									   started timestamptz, concurrent boolean, sqlstate text, message text,
									   detail text, error_table text, error_column text) RETURNS void
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent,
									status, error, sqlstate, setting)
	VALUES (log_failed_step.run, log_failed_step.step_order, log_failed_step.layer, log_failed_step.relation, NULL,
			round(extract(epoch FROM clock_timestamp() - log_failed_step.started), 3), log_failed_step.concurrent,
			'failed', concat_ws(E'\n', log_failed_step.message, nullif(log_failed_step.detail, '')),
			log_failed_step.sqlstate,
			CASE WHEN log_failed_step.error_table = 'settings' THEN nullif(log_failed_step.error_column, '') END);
END;
COMMENT ON FUNCTION retail.log_failed_step(bigint, integer, text, text, timestamptz, boolean, text, text, text, text,
										   text) IS
	'Log a failed step of retail.refresh() in retail.refresh_log, with the setting at fault when the error names one';

-- The work of retail.refresh(), as the extension's owner so that a role
-- without ownership (retail_loader) can refresh.  Silver is all or nothing:
-- a failure there (or in the settings) is caught, the run's changes are
-- rolled back, the failure is logged, and its error is returned for
-- retail.refresh() to raise after committing the log row.  A gold view that
-- fails keeps its contents (a subtransaction per view), is logged, and the
-- others are refreshed; gold stays stale, so the next refresh tries again,
-- and the run ends with a WARNING naming it.  This part is also run by the
-- upgrade scripts.
CREATE FUNCTION retail.refresh_run(concurrently boolean, full boolean,
								   OUT failed_sqlstate text, OUT failed_message text,
								   OUT failed_detail text, OUT failed_hint text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- room for the fingerprints of a whole bronze when rebuilding
SET work_mem = '256MB'
AS $$
DECLARE
	step record;
	run bigint := nextval('retail.refresh_run_seq');
	progress retail.refresh_progress;
	through bigint;
	after bigint;
	rebuild boolean;
	current_step integer := 0;
	current_layer text := 'settings';
	current_relation text := 'retail.settings';
	use_concurrently boolean := false;
	started timestamptz := clock_timestamp();
	row_count bigint;
	failed_table text;
	failed_column text;
	silver_tables text[];
	unchanged boolean;
	warning text;
	failed_views text[] := '{}';
	step_sqlstate text;
	step_message text;
	step_detail text;
	next_ordinal bigint;
	table_name text;
BEGIN
	-- Under REPEATABLE READ or SERIALIZABLE the snapshot is older than the
	-- lock below: the lines of the loads it waits for would stay invisible,
	-- and the watermark would pass them for good.
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'retail.refresh() cannot run at isolation level %',
			upper(current_setting('transaction_isolation'))
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Its snapshot would be older than the loads it waits for, and their lines would never reach silver.',
				  HINT = 'Run it at READ COMMITTED, or outside a transaction block, where CALL retail.refresh() switches to READ COMMITTED itself.';
	END IF;
	-- One refresh at a time; a second caller waits for the first.
	PERFORM pg_advisory_xact_lock('retail.refresh_steps'::regclass::oid::bigint);
	BEGIN
		-- Loads in flight finish first and loads starting now wait for the
		-- commit, so no line can later appear below the ordinals read here.
		-- Readers of bronze are not blocked.
		LOCK TABLE bronze.transactions_raw IN SHARE MODE;
		SELECT * INTO progress FROM retail.refresh_progress;
		through := coalesce((SELECT max(b.load_ordinal) FROM bronze.transactions_raw b), 0);
		-- An ordinal written by hand may be ahead of the sequence: move the
		-- sequence past it, so that later loads land above the watermark.
		SELECT q.last_value + CASE WHEN q.is_called THEN 1 ELSE 0 END INTO next_ordinal
		FROM bronze.transactions_raw_load_ordinal_seq q;
		IF through >= next_ordinal THEN
			PERFORM setval('bronze.transactions_raw_load_ordinal_seq', through);
		END IF;
		rebuild := refresh_run.full OR progress.rebuild_needed OR through < progress.bronze_through;
		IF NOT rebuild AND through = progress.bronze_through AND NOT progress.gold_stale
			AND NOT EXISTS (SELECT FROM retail.refresh_steps s
								JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
							WHERE NOT m.ispopulated) THEN
			INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent, status)
			VALUES (run, 0, 'bronze', 'bronze.transactions_raw', 0,
					round(extract(epoch FROM clock_timestamp() - started), 3), false, 'nothing_new');
			RAISE NOTICE 'nothing new in bronze.transactions_raw since the last refresh';
			RETURN;
		END IF;
		PERFORM retail.check_settings();

		current_step := 10;
		current_layer := 'silver';
		current_relation := 'silver.transactions';
		started := clock_timestamp();
		after := progress.bronze_through;
		IF rebuild THEN
			after := 0;
			-- every table of silver that the extension made is derived from bronze
			SELECT array_agg(c.oid::regclass::text ORDER BY c.relname) INTO silver_tables
			FROM pg_class c
				 JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
				 JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'retail_analytics'
			WHERE c.relnamespace = 'silver'::regnamespace AND c.relkind = 'r';
			IF refresh_run.concurrently THEN
				-- readers keep the old rows until the commit
				FOREACH table_name IN ARRAY silver_tables LOOP
					EXECUTE format('DELETE FROM %s', table_name);
				END LOOP;
			ELSE
				EXECUTE format('TRUNCATE %s', array_to_string(silver_tables, ', '));
				-- readers wait anyway: build the lookup indexes once, after
				-- the rows, instead of row by row
				DROP INDEX silver.transactions_clean_fingerprint, silver.transactions_clean_product_price;
			END IF;
		END IF;
		row_count := retail.classify_lines(after, through);
		IF rebuild AND NOT refresh_run.concurrently THEN
			CREATE INDEX transactions_clean_fingerprint ON silver.transactions (fingerprint)
				WHERE reason IS NULL;
			CREATE INDEX transactions_clean_product_price ON silver.transactions (stock_code, unit_price)
				WHERE reason IS NULL;
		END IF;
		INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent)
		VALUES (run, 10, 'silver', current_relation, row_count,
				round(extract(epoch FROM clock_timestamp() - started), 3), NOT rebuild);
		RAISE NOTICE 'silver %: % lines classified in % s (%)', current_relation, row_count,
			round(extract(epoch FROM clock_timestamp() - started), 3),
			CASE WHEN rebuild THEN 'rebuilt from all of bronze' ELSE 'appended' END;

		current_step := 20;
		current_relation := 'silver.orders';
		started := clock_timestamp();
		PERFORM retail.merge_lines(after, through);
		IF rebuild THEN
			EXECUTE format('ANALYZE %s', array_to_string(silver_tables, ', '));
		END IF;
		INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent)
		VALUES (run, 20, 'silver', 'silver.orders and states',
				(SELECT count(*) FROM silver.transactions t
				 WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL),
				round(extract(epoch FROM clock_timestamp() - started), 3), NOT rebuild);

		FOR step IN
			SELECT s.step_order, s.layer, s.schema_name, s.view_name, s.unchanged_check, s.warning_check,
				   m.ispopulated
			FROM retail.refresh_steps s
			JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
			ORDER BY s.step_order
		LOOP
			current_step := step.step_order;
			current_layer := step.layer;
			current_relation := format('%I.%I', step.schema_name, step.view_name);
			-- CONCURRENTLY keeps readers unblocked but needs a populated view.
			use_concurrently := refresh_run.concurrently AND step.ispopulated;
			started := clock_timestamp();
			BEGIN
				IF step.unchanged_check IS NOT NULL AND step.ispopulated AND NOT rebuild
					AND NOT progress.gold_stale THEN
					EXECUTE format('SELECT %s($1, $2)', step.unchanged_check::oid::regproc) INTO unchanged
						USING after, through;
					IF unchanged THEN
						INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds,
														concurrent, status)
						VALUES (run, step.step_order, step.layer, current_relation, NULL,
								round(extract(epoch FROM clock_timestamp() - started), 3), false, 'unchanged');
						CONTINUE;
					END IF;
				END IF;
				EXECUTE format('REFRESH MATERIALIZED VIEW %s %s',
							   CASE WHEN use_concurrently THEN 'CONCURRENTLY' ELSE '' END, current_relation);
				EXECUTE format('ANALYZE %s', current_relation);
				EXECUTE format('SELECT count(*) FROM %s', current_relation) INTO row_count;
				warning := NULL;
				IF step.warning_check IS NOT NULL THEN
					EXECUTE format('SELECT %s()', step.warning_check::oid::regproc) INTO warning;
				END IF;
				INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent,
												status, error)
				VALUES (run, step.step_order, step.layer, current_relation, row_count,
						round(extract(epoch FROM clock_timestamp() - started), 3), use_concurrently,
						CASE WHEN warning IS NULL THEN 'ok' ELSE 'warning' END, warning);
				RAISE NOTICE '% %: % rows in % s%', step.layer, current_relation, row_count,
					round(extract(epoch FROM clock_timestamp() - started), 3), coalesce(': ' || warning, '');
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS step_sqlstate = RETURNED_SQLSTATE, step_message = MESSAGE_TEXT,
										step_detail = PG_EXCEPTION_DETAIL, failed_table = TABLE_NAME,
										failed_column = COLUMN_NAME;
				PERFORM retail.log_failed_step(run, current_step, current_layer, current_relation, started,
											   use_concurrently, step_sqlstate, step_message, step_detail,
											   failed_table, failed_column);
				failed_views := failed_views || current_relation;
			END;
		END LOOP;
		UPDATE retail.refresh_progress
		SET bronze_through = through, rebuild_needed = false, gold_stale = cardinality(failed_views) > 0;
		IF cardinality(failed_views) > 0 THEN
			RAISE WARNING 'retail.refresh() could not refresh %', array_to_string(failed_views, ', ')
				USING DETAIL = format('Their contents stay those of the last refresh that built them; the errors are logged in retail.refresh_log (run %s), and the next refresh tries again.',
									  run);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS failed_sqlstate = RETURNED_SQLSTATE, failed_message = MESSAGE_TEXT,
								failed_detail = PG_EXCEPTION_DETAIL, failed_hint = PG_EXCEPTION_HINT,
								failed_table = TABLE_NAME, failed_column = COLUMN_NAME;
		PERFORM retail.log_failed_step(run, current_step, current_layer, current_relation, started,
									   use_concurrently, failed_sqlstate, failed_message, failed_detail,
									   failed_table, failed_column);
		failed_hint := nullif(failed_hint, '');
		failed_detail := concat_ws(E'\n', nullif(failed_detail, ''),
								   format('retail.refresh() stopped at %s (step %s) and changed nothing; the failure is logged in retail.refresh_log (run %s).',
										  current_relation, current_step, run));
	END;
END
$$;
COMMENT ON FUNCTION retail.refresh_run(boolean, boolean) IS
	'The work of retail.refresh(), at READ COMMITTED only: silver from the new bronze lines (or all of them), then gold, logged; a failure in the settings or silver rolls the run back, is logged and its error returned; a gold view that fails keeps its contents, is logged, and leaves gold stale for the next refresh';

-- retail.refresh() itself.  This part is also run by the upgrade scripts.
CREATE FUNCTION retail.in_transaction_block() RETURNS boolean
	AS 'MODULE_PATHNAME', 'ra_in_transaction_block' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.in_transaction_block() IS
	'Whether the current statement runs inside a transaction block (BEGIN ... COMMIT), where a procedure cannot commit';

-- No SET clause and no SECURITY DEFINER here: either would forbid the COMMITs
-- that start the work at READ COMMITTED and keep the failure's log row.  So
-- it runs on the caller's search_path: it names nothing unqualified and
-- qualifies its one operator.
CREATE PROCEDURE retail.refresh(concurrently boolean DEFAULT true, full boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	failure record;
BEGIN
	-- retail.refresh_run needs a snapshot per statement (see there); inside a
	-- transaction block it refuses any other isolation level.
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed'
		AND NOT retail.in_transaction_block() THEN
		COMMIT;
		SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	END IF;
	failure := retail.refresh_run(refresh.concurrently, refresh.full);
	IF failure.failed_sqlstate IS NOT NULL THEN
		-- Keep the log row, unless the caller's transaction block owns it.
		IF NOT retail.in_transaction_block() THEN
			COMMIT;
		END IF;
		IF failure.failed_hint IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = failure.failed_sqlstate, MESSAGE = failure.failed_message,
								  DETAIL = failure.failed_detail, HINT = failure.failed_hint;
		END IF;
		RAISE EXCEPTION USING ERRCODE = failure.failed_sqlstate, MESSAGE = failure.failed_message,
							  DETAIL = failure.failed_detail;
	END IF;
END
$$;
COMMENT ON PROCEDURE retail.refresh(boolean, boolean) IS
	'Bring silver and gold up to bronze in one transaction at READ COMMITTED: classify the lines loaded since the last refresh (all of bronze when full, or when bronze changed otherwise), merge them into the states, recompute gold (CONCURRENTLY: readers not blocked); nothing new, nothing done; a failure in silver changes nothing, is logged in retail.refresh_log and raised; a gold view that fails keeps its contents, is logged and named in a WARNING';

-- What every gold column means, for psql's \d+ and for BI tools (JDBC
-- REMARKS).  A column named here for '*' means the same in every gold
-- relation that has it and no comment of its own, unless a row for the
-- relation says otherwise.  The
-- check at the end fails the install when a gold column is left without a
-- comment.  This part is also run by the upgrade scripts.
DO $$
DECLARE
	described record;
	undocumented text;
BEGIN
	FOR described IN
		SELECT DISTINCT ON (c.oid, a.attname) c.oid::regclass AS relation, a.attname, d.comment
		FROM (VALUES
			('*', 'customer_id', 'Customer number (CustomerID of the source, as an integer)'),
			('*', 'invoice_no', 'Invoice number (InvoiceNo of the source)'),
			('*', 'invoice_ts', 'Time of the invoice''s earliest clean line'),
			('*', 'country', 'Country of the order (that of its first line by load order)'),
			('*', 'recency_days', 'Days from the date of the customer''s last purchase to as_of (1: bought on the day before as_of)'),
			('*', 'frequency', 'Distinct invoices of the customer'),
			('*', 'monetary', 'Revenue of the customer: sum of line_total (quantity x unit_price)'),
			('*', 'r', 'Recency score, 1 (longest ago) .. bins (most recent): one more per cutpoint (percentile_disc(k/bins) of recency_days over customers) the customer''s recency_days is below'),
			('*', 'f', 'Frequency score, 1 .. bins: one more per cutpoint of frequency the customer exceeds'),
			('*', 'm', 'Monetary score, 1 .. bins: one more per cutpoint of monetary the customer exceeds'),
			('*', 'rfm_cell', 'r, f and m as text, e.g. 545'),
			('*', 'segment', 'Segment of the preset of the setting rfm_preset (standard: Champions, Loyal Customers, ..., Hibernating)'),
			('*', 'seed_segment', 'Segment of the preset of the setting rfm_seed_preset (seed: Champions, Regular, Lowspender, At Risk)'),
			('*', 'first_purchase', 'Time of the customer''s first clean line'),
			('*', 'last_purchase', 'Time of the customer''s last clean line'),
			('*', 'as_of', 'Date the scores are measured at: the lines before it count; default the day after the last line'),
			('*', 'customers', 'Number of customers'),
			('*', 'revenue', 'Revenue: sum of line_total (quantity x unit_price)'),
			('*', 'cohort_month', 'Cohort: calendar month of the customer''s first clean line'),
			('*', 'cohort_size', 'Customers of the cohort'),
			('*', 'period', 'Months since the cohort month (0: the cohort month itself)'),
			('*', 'active_customers', 'Customers of the cohort with a clean line in the period''s month'),
			('*', 'rank', 'Rank by revenue, largest first; ties by key ascending'),
			('*', 'share', 'Share of total revenue, a fraction in [0, 1]'),
			('*', 'cum_share_before', 'Sum of the shares of the items ranked before, a fraction in [0, 1]'),
			('*', 'abc_class', 'A while cum_share_before < setting abc_a (0.80), B while < abc_b (0.95), else C'),
			('*', 'stock_code', 'Product code (StockCode of the source)'),
			('*', 'unit_price', 'Unit price of the line'),
			('*', 'p_alive', 'BG/NBD probability that the customer is still active at the calibration end (1 for a customer without a repeat purchase, as the model has it)'),
			('*', 'expected_purchases_90d', 'BG/NBD expected purchase days in the 90 days after the calibration end; NULL where double precision cannot give it'),
			('*', 'expected_value', 'Gamma-Gamma conditional expected value per purchase day; NULL where it is infinite (p frequency + q <= 1) or not below 1e32'),
			('*', 'clv', 'Customer lifetime value over setting clv_horizon_months months, discounted by clv_discount_rate a month (gold.mart_customer_value); NULL where expected_value or the expected purchases are'),
			('mart_customer_segments', 'monetary', 'Revenue of the customer: sum of line_total'),
			('dim_customers', 'country', 'Country of the customer''s first order'),
			('dim_customers', 'orders', 'Distinct invoices of the customer (RFM frequency)'),
			('dim_customers', 'revenue', 'Revenue of the customer: sum of line_total (RFM monetary)'),
			('dim_customers', 'cohort_month', 'Cohort: calendar month of the customer''s first purchase'),
			('segment_summary', 'segment', 'Segment of gold.mart_customer_segments'),
			('segment_summary', 'customers', 'Customers in the segment'),
			('segment_summary', 'customer_share', 'Share of all customers, a fraction in [0, 1]'),
			('segment_summary', 'revenue', 'Revenue of the segment''s customers'),
			('segment_summary', 'revenue_share', 'Share of all revenue, a fraction in [0, 1] (NULL when the total is 0)'),
			('segment_summary', 'avg_recency_days', 'Mean recency_days of the segment'),
			('segment_summary', 'avg_frequency', 'Mean invoices per customer of the segment'),
			('segment_summary', 'avg_monetary', 'Mean revenue per customer of the segment'),
			('segment_month_ends', 'as_of', 'Snapshot date: the first day of a month; only lines before it count'),
			('segment_month_ends', 'monetary', 'Revenue of the customer from the lines before as_of'),
			('segment_month_ends', 'frequency', 'Distinct invoices of the customer with a line before as_of'),
			('segment_history', 'as_of', 'Snapshot date: the current as-of date or the first day of a month; only lines before it count'),
			('segment_history', 'monetary', 'Revenue of the customer from the lines before as_of'),
			('segment_history', 'frequency', 'Distinct invoices of the customer with a line before as_of'),
			('segment_migration', 'from_as_of', 'Earlier snapshot of gold.segment_history'),
			('segment_migration', 'to_as_of', 'Later snapshot of gold.segment_history'),
			('segment_migration', 'from_segment', 'Segment at from_as_of; NULL: no purchase before from_as_of (a new customer)'),
			('segment_migration', 'to_segment', 'Segment at to_as_of'),
			('segment_migration', 'customers', 'Customers that were in from_segment at from_as_of and are in to_segment at to_as_of'),
			('segment_migration', 'revenue', 'Revenue of those customers up to to_as_of'),
			('mart_cohort_retention', 'retention', 'active_customers / cohort_size, a fraction in [0, 1]'),
			('mart_cohort_retention', 'revenue', 'Revenue of the cohort''s customers in the period''s month'),
			('mart_cohort_retention', 'complete', 'The period''s month had ended by the last day with a line; false for the running month'),
			('cohort_triangle', 'running_period', 'The period of this cohort that is still running (its month not ended), NULL if none'),
			('cohort_triangle_display', 'cohort_month', 'Cohort: calendar month of the customer''s first clean line'),
			('cohort_period_averages', 'cohorts', 'Cohorts with a complete cell at this period'),
			('cohort_period_averages', 'customers', 'Customers of those cohorts'),
			('cohort_period_averages', 'active_customers', 'Customers of those cohorts active in the period'),
			('cohort_period_averages', 'avg_retention', 'Mean retention over those cohorts, a fraction in [0, 1]'),
			('cohort_period_averages', 'weighted_retention', 'active_customers / customers, a fraction in [0, 1]'),
			('mart_countries_abc', 'country', 'Country'),
			('mart_countries_abc', 'revenue', 'Revenue of the country: sum of line_total'),
			('mart_products_abc', 'revenue', 'Revenue of the product: sum of line_total'),
			('mart_products_abc', 'description', 'The product''s most frequent description (ties: the first alphabetically)'),
			('mart_products_abc', 'cv', 'Coefficient of variation of monthly units over the product''s active span (months without a line count 0)'),
			('mart_products_abc', 'xyz_class', 'X if cv < setting xyz_x (0.5), Y if cv < xyz_y (1.0), else Z'),
			('mart_products_abc', 'abc_xyz', 'abc_class followed by xyz_class, e.g. AX'),
			('audit_order_anomalies', 'total', 'Order total: sum of line_total'),
			('audit_order_anomalies', 'z', 'Modified z-score (0.6745 (x - median) / MAD): of ln(total) for wholesale_total, of the named line''s ln(unit_price) among its product''s lines for unit_price_outlier; NULL for mixed_parties'),
			('audit_order_anomalies', 'reason', 'wholesale_total, unit_price_outlier or mixed_parties (lines with more than one customer or country)'),
			('audit_order_anomalies', 'stock_code', 'unit_price_outlier: the product of the line with the largest |z|'),
			('audit_order_anomalies', 'unit_price', 'unit_price_outlier: the unit price of that line'),
			('audit_order_anomalies', 'product_median_price', 'unit_price_outlier: the median unit price of the product over its clean lines'),
			('orders', 'lines', 'Clean lines of the order'),
			('orders', 'units', 'Units ordered: sum of quantity'),
			('orders', 'total', 'Order total: sum of line_total'))
			AS d(relation, column_name, comment)
			 JOIN pg_catalog.pg_class c ON c.relnamespace = 'gold'::regnamespace
										AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
										AND (d.relation = '*' OR c.relname = d.relation)
			 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = d.column_name
		WHERE d.relation <> '*' OR pg_catalog.col_description(c.oid, a.attnum) IS NULL
		ORDER BY c.oid, a.attname, d.relation = '*'
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname, described.comment);
	END LOOP;
	FOR described IN
		SELECT c.oid::regclass AS relation, a.attname, 'Retention (fraction in [0, 1]) in period ' || substr(a.attname, 2) AS comment
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		WHERE c.oid IN ('gold.cohort_triangle'::regclass, 'gold.cohort_triangle_display'::regclass)
		  AND a.attname ~ '^p[0-9]+$'
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname,
					   CASE WHEN described.relation = 'gold.cohort_triangle'::regclass THEN described.comment
							ELSE replace(described.comment, 'fraction in [0, 1]', 'percent, * while running') END);
	END LOOP;

	SELECT string_agg(format('%s.%I', c.oid::regclass, a.attname), ', ') INTO undocumented
	FROM pg_catalog.pg_class c
		 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace = 'gold'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
	  AND pg_catalog.col_description(c.oid, a.attnum) IS NULL;
	IF undocumented IS NOT NULL THEN
		RAISE EXCEPTION 'gold columns without a comment: %', undocumented;
	END IF;
END
$$;

-- Least privilege.  PUBLIC gets nothing; two roles (cluster-wide, so they
-- outlive DROP EXTENSION) carry what the extension's users need:
--   retail_bi      reads gold and runs the functions that compute on what
--                  its members may read;
--   retail_loader  appends to bronze, reads bronze and silver, refreshes,
--                  generates data; a member of retail_bi.
-- This part is also run by the upgrade scripts: every statement is
-- idempotent.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'retail_bi') THEN
		CREATE ROLE retail_bi NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'retail_loader') THEN
		CREATE ROLE retail_loader NOLOGIN;
	END IF;
END
$$;
GRANT retail_bi TO retail_loader;

REVOKE ALL ON SCHEMA retail, bronze, silver, gold FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA retail FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA retail FROM PUBLIC;

-- The ad-hoc marts over silver run as the extension's owner: they return
-- what the gold marts show, with other thresholds.
ALTER FUNCTION retail.countries_abc(numeric, numeric) SECURITY DEFINER;
ALTER FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) SECURITY DEFINER;
ALTER FUNCTION retail.order_anomalies(double precision) SECURITY DEFINER;
ALTER FUNCTION retail.countries_abc(numeric, numeric) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION retail.order_anomalies(double precision) SET search_path = pg_catalog, pg_temp;

GRANT USAGE ON SCHEMA retail, gold TO retail_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA gold TO retail_bi;
GRANT SELECT ON retail.setting_defaults, retail.settings, retail.current_settings, retail.segment_rules,
	retail.refresh_steps, retail.refresh_log, retail.last_refresh, retail.refresh_progress TO retail_bi;
-- Every function computes on its arguments or checks the caller's right to
-- read the relation it is given, but for these: they make data or act.
-- retail_bi runs retail.report_html() too: it reads gold and retail.refresh_log
-- only, as its caller (test/sql/security.sql).
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA retail TO retail_bi;
REVOKE EXECUTE ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean),
	retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean),
	retail.simulate_bgnbd_customers(bigint, double precision, double precision, double precision,
									double precision, double precision, integer, boolean),
	retail.refresh_run(boolean, boolean), retail.schedule_refresh(text), retail.unschedule_refresh(),
	retail.refresh_job() FROM retail_bi;
-- A trigger function that marks gold stale: on a trigger of a reader's own
-- table it would make every refresh recompute gold.  The extension's
-- triggers fire it whatever the privileges.
REVOKE EXECUTE ON FUNCTION retail.note_change() FROM retail_bi;

GRANT USAGE ON SCHEMA bronze, silver TO retail_loader;
-- Loaders write lines, not their place in load order: an ordinal of their
-- own could fall at or below what the refresh has read, and the line would
-- never reach silver.  (REVOKE first: a table-wide INSERT, as builds before
-- 0.2.0 was released granted it, would cover load_ordinal too.)
REVOKE INSERT ON bronze.transactions_raw FROM retail_loader;
GRANT SELECT ON bronze.transactions_raw TO retail_loader;
GRANT INSERT (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
			  batch_id, loaded_at) ON bronze.transactions_raw TO retail_loader;
GRANT USAGE ON SEQUENCE bronze.transactions_raw_load_ordinal_seq TO retail_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA silver TO retail_loader;
GRANT EXECUTE ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean),
	retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean),
	retail.simulate_bgnbd_customers(bigint, double precision, double precision, double precision,
									double precision, double precision, integer, boolean),
	retail.refresh_run(boolean, boolean), retail.schedule_refresh(text), retail.unschedule_refresh(),
	retail.refresh_job() TO retail_loader;
GRANT EXECUTE ON PROCEDURE retail.refresh(boolean, boolean) TO retail_loader;

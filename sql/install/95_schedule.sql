
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
		RAISE EXCEPTION 'schedule must not be NULL'
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


-- The functions of schema retail are for every analyst; its tables are not.
GRANT USAGE ON SCHEMA retail TO PUBLIC;

-- A read-only role for BI tools: gold only.  Grant it to login roles.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'retail_bi') THEN
		CREATE ROLE retail_bi NOLOGIN;
	END IF;
END
$$;
GRANT USAGE ON SCHEMA gold TO retail_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA gold TO retail_bi;

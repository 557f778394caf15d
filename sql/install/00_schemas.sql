-- retail_analytics install script, assembled by the Makefile from sql/install/*.sql
\echo Use "CREATE EXTENSION retail_analytics" to load this file. \quit

-- Schema retail (functions, settings) is created by CREATE EXTENSION from the
-- control file; the medallion layers get one schema each.
CREATE SCHEMA bronze;
COMMENT ON SCHEMA bronze IS 'Raw order lines exactly as loaded, every column text';
CREATE SCHEMA silver;
COMMENT ON SCHEMA silver IS 'Typed, cleaned order lines; rejected lines kept with their reason';
CREATE SCHEMA gold;
COMMENT ON SCHEMA gold IS 'Customer analytics marts built on silver';
-- Materialized views are not in information_schema, which many BI tools and
-- drivers read: the refresh keeps the marts' rows here, and gold shows each
-- as a plain view of the same name.
CREATE SCHEMA gold_store;
COMMENT ON SCHEMA gold_store IS
	'The stored rows of the gold marts (tables and materialized views that retail.refresh() keeps); read them through the views of gold';
COMMENT ON SCHEMA retail IS 'The extension retail_analytics: its functions, aggregates, settings, presets and refresh log';

-- Fractions (shares, retention) are double precision: the exact ratio,
-- carried to 40 decimals, rounded once to the nearest double.
CREATE FUNCTION retail.fraction(part numeric, whole numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (round(part, 40) / nullif(whole, 0))::double precision;
COMMENT ON FUNCTION retail.fraction(numeric, numeric) IS
	'part / whole as the double precision nearest the exact ratio (NULL when whole is 0): how gold gives shares and retention';

-- What retail.refresh() refreshes, in this order.  Each feature area's
-- install part registers its steps here.
CREATE TABLE retail.refresh_steps (
	step_order integer PRIMARY KEY,
	layer text NOT NULL CHECK (layer IN ('silver', 'gold')),
	schema_name name NOT NULL,
	view_name name NOT NULL,
	unchanged_check regprocedure,
	warning_check regprocedure,
	maintain regprocedure,
	UNIQUE (schema_name, view_name)
);
COMMENT ON TABLE retail.refresh_steps IS
	'What retail.refresh() brings up to silver, in step_order: materialized views it refreshes, and tables that a function maintains';
COMMENT ON COLUMN retail.refresh_steps.unchanged_check IS
	'A function (after bigint, through bigint) that is true when appending the bronze lines with load_ordinal in (after, through] leaves the view as it is: retail.refresh() then skips it';
COMMENT ON COLUMN retail.refresh_steps.maintain IS
	'For a table (view_name) rather than a materialized view: a function (after bigint, through bigint, rebuild boolean) that brings it up to silver once the bronze lines with load_ordinal in (after, through] are merged, or from all of silver when rebuild is true, and returns how many rows it wrote';
COMMENT ON COLUMN retail.refresh_steps.warning_check IS
	'A function () that, run after the view is refreshed, returns NULL when its contents are as expected, else a warning: retail.refresh() then logs the step with status warning and that text';

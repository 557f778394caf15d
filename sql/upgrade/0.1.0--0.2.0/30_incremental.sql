
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

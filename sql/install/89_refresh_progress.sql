
-- How far silver has got, and what makes the next refresh do more than
-- append: a change to bronze other than an INSERT (rebuild from bronze), a
-- changed setting or preset (recompute gold).
CREATE TABLE retail.refresh_progress (
	bronze_through bigint NOT NULL,
	rebuild_needed boolean NOT NULL,
	gold_stale boolean NOT NULL,
	silver_settings_changed boolean NOT NULL DEFAULT false,
	analyzed_through bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE retail.refresh_progress IS
	'One row: the highest load_ordinal silver holds, whether bronze changed otherwise than by INSERT (the next refresh rebuilds), whether a setting or preset changed (the next refresh recomputes gold)';
COMMENT ON COLUMN retail.refresh_progress.bronze_through IS
	'Every bronze line with a load_ordinal up to this is in silver';
COMMENT ON COLUMN retail.refresh_progress.silver_settings_changed IS
	'A setting that the silver states depend on (cancellations) changed: the next refresh rebuilds';
COMMENT ON COLUMN retail.refresh_progress.analyzed_through IS
	'bronze_through when a refresh last analyzed silver: the next analyzes it once silver has doubled';
INSERT INTO retail.refresh_progress VALUES (0, false, false, false, 0);

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
	'Trigger: a change to bronze other than INSERT makes the next refresh rebuild; a change of presets makes it recompute gold';
CREATE TRIGGER note_change AFTER UPDATE OR DELETE ON bronze.transactions_raw
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();
CREATE TRIGGER note_truncate AFTER TRUNCATE ON bronze.transactions_raw
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();

-- A statement on retail.settings marks gold stale only when it changes a
-- value in force (a row's value, else the default): an UPDATE that matches
-- nothing, or writes the value already in force, leaves the marts as they are.
-- The silver states count lines by the setting cancellations: a change of it
-- makes the next refresh rebuild.
CREATE FUNCTION retail.note_setting_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	before_rows retail.settings[] := '{}';
	after_rows retail.settings[] := '{}';
	changed text[];
BEGIN
	IF TG_OP <> 'INSERT' THEN
		SELECT coalesce(array_agg(o), '{}') INTO before_rows FROM old_settings o;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		SELECT coalesce(array_agg(n), '{}') INTO after_rows FROM new_settings n;
	END IF;
	SELECT coalesce(array_agg(name), '{}') INTO changed
	FROM unnest(before_rows) o
		 FULL JOIN unnest(after_rows) n USING (name)
		 JOIN retail.setting_defaults d USING (name)
	WHERE btrim(coalesce(o.value, d.default_value)) IS DISTINCT FROM btrim(coalesce(n.value, d.default_value));
	IF 'cancellations' = ANY (changed) THEN
		UPDATE retail.refresh_progress SET silver_settings_changed = true;
	ELSIF cardinality(changed) > 0 THEN
		UPDATE retail.refresh_progress SET gold_stale = true;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION retail.note_setting_change() IS
	'Trigger of retail.settings: a statement that changes a value in force makes the next refresh recompute gold (rebuild, for the setting cancellations)';
CREATE TRIGGER note_insert AFTER INSERT ON retail.settings REFERENCING NEW TABLE AS new_settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_setting_change();
CREATE TRIGGER note_update AFTER UPDATE ON retail.settings
	REFERENCING OLD TABLE AS old_settings NEW TABLE AS new_settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_setting_change();
CREATE TRIGGER note_delete AFTER DELETE ON retail.settings REFERENCING OLD TABLE AS old_settings
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_setting_change();
CREATE TRIGGER note_change AFTER INSERT OR UPDATE OR DELETE ON retail.segment_rules
	FOR EACH STATEMENT EXECUTE FUNCTION retail.note_change();

-- What in a mart deserves a warning (retail.refresh_steps.warning_check).
-- Customer value: the models are fitted once a customer bought twice; a
-- prediction that is NULL then could not be evaluated for that customer.
-- The counts come from RETURN QUERY, which runs its query to the end, so that
-- parallel workers can share the predictions of every customer: PostgreSQL
-- runs a query whose first row alone is wanted (a SQL function's scalar
-- result, SELECT INTO) in one process.
CREATE FUNCTION retail.customer_value_counts(OUT customers bigint, OUT fitted boolean, OUT unpredicted bigint)
	RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT count(*), bool_or(v.frequency > 0),
		   count(*) FILTER (WHERE v.p_alive IS NULL OR v.expected_purchases_90d IS NULL
							OR v.expected_value IS NULL OR v.clv IS NULL)
	FROM gold.mart_customer_value v;
END
$$;
COMMENT ON FUNCTION retail.customer_value_counts() IS
	'One row: the customers of gold.mart_customer_value, whether any bought twice (the models are fitted), and how many have a NULL prediction';
CREATE FUNCTION retail.customer_value_warning() RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT format('%s of %s customers have no prediction (p_alive, expected_purchases_90d, expected_value or clv NULL): the fitted models could not be evaluated for them',
				  n.unpredicted, n.customers)
	FROM retail.customer_value_counts() n
	WHERE n.fitted AND n.unpredicted > 0;
END;
COMMENT ON FUNCTION retail.customer_value_warning() IS
	'Warning check of gold.mart_customer_value: how many customers have a NULL prediction although the models are fitted (some customer bought twice), NULL when none';
UPDATE retail.refresh_steps SET warning_check = 'retail.customer_value_warning()'
WHERE schema_name = 'gold_store' AND view_name = 'clv_customers';

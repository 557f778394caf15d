-- Steps 10 and 20 are registered steps like the others (retail.refresh_run
-- as in sql/install/91_refresh_run.sql runs them), as in
-- sql/install/30_silver.sql.
-- The tables of silver that the extension made: every one is derived from
-- bronze, and a rebuild starts them over.
CREATE FUNCTION retail.silver_tables() RETURNS regclass[]
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT array_agg(c.oid::regclass ORDER BY c.relname)
	FROM pg_catalog.pg_class c
		 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
										AND d.deptype = 'e'
		 JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'retail_analytics'
	WHERE c.relnamespace = 'silver'::pg_catalog.regnamespace AND c.relkind = 'r';
END;
COMMENT ON FUNCTION retail.silver_tables() IS
	'The tables of silver that the extension made, all derived from bronze';

-- Step 10 of the refresh: the bronze lines with load_ordinal in (after,
-- through] classified into silver.transactions, or every line when
-- rebuilding.  A rebuild reclassifies the lines in place, and readers keep the
-- old rows until the commit.  An empty table (the first load, or a rebuild
-- that emptied it with a TRUNCATE) has no rows to show: readers wait for the
-- commit, and its indexes, the primary key's too, are built once, after the
-- rows, instead of row by row (3 to 4 times less work for a first load; the
-- primary key alone, about a second of the real file's 5).
CREATE FUNCTION retail.maintain_silver_lines(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
	lookup_indexes regclass[];
	lookup_index regclass;
	definitions text[];
	definition text;
	primary_key name;
	primary_key_definition text;
BEGIN
	-- (SELECT 1: Citus fails on an empty select list; LIMIT 1, or it brings
	-- every line to the coordinator to see whether there is one)
	IF EXISTS (SELECT 1 FROM silver.transactions LIMIT 1) THEN
		IF rebuild THEN
			RETURN retail.reclassify_lines(through);
		END IF;
		RETURN retail.classify_lines(after, through);
	END IF;
	SELECT array_agg(i.indexrelid::regclass), array_agg(pg_get_indexdef(i.indexrelid))
	INTO lookup_indexes, definitions
	FROM pg_index i
	WHERE i.indrelid = 'silver.transactions'::regclass AND NOT i.indisprimary AND NOT i.indisunique;
	SELECT c.conname, pg_get_constraintdef(c.oid) INTO primary_key, primary_key_definition
	FROM pg_constraint c
	WHERE c.conrelid = 'silver.transactions'::regclass AND c.contype = 'p';
	-- one at a time: Citus drops one distributed index a statement
	FOREACH lookup_index IN ARRAY lookup_indexes LOOP
		EXECUTE 'DROP INDEX ' || lookup_index;
	END LOOP;
	EXECUTE format('ALTER TABLE silver.transactions DROP CONSTRAINT %I', primary_key);
	classified := retail.classify_lines(after, through);
	EXECUTE format('ALTER TABLE silver.transactions ADD CONSTRAINT %I %s', primary_key, primary_key_definition);
	FOREACH definition IN ARRAY definitions LOOP
		EXECUTE definition;
	END LOOP;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.maintain_silver_lines(bigint, bigint, boolean) IS
	'Step 10 of retail.refresh(): classify the bronze lines with load_ordinal in (after, through] into silver.transactions, or every line up to through when rebuild is true; returns how many lines';

-- Step 20: the lines merged into silver.orders, silver.net_orders and the
-- state tables.  The merges' plans need statistics of about the right size:
-- autovacuum cannot see inside the refresh, and statistics taken while
-- silver was small make joins of the whole tables quadratic.  Silver is
-- analyzed whenever it has doubled since it last was, and after a rebuild.
CREATE FUNCTION retail.maintain_silver_states(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	all_tables text;
BEGIN
	IF rebuild OR through > 2 * (SELECT p.analyzed_through FROM retail.refresh_progress p) + 100 THEN
		all_tables := array_to_string(retail.silver_tables(), ', ');
		ANALYZE silver.transactions;
		IF NOT rebuild THEN
			EXECUTE 'ANALYZE ' || all_tables;
		END IF;
		UPDATE retail.refresh_progress SET analyzed_through = through;
	END IF;
	PERFORM retail.merge_lines(after, through);
	IF rebuild THEN
		-- the silver tables, found above: a rebuild analyzes before the merge too
		EXECUTE 'ANALYZE ' || all_tables;
	END IF;
	RETURN (SELECT count(*) FROM silver.transactions t
			WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL);
END
$$;
COMMENT ON FUNCTION retail.maintain_silver_states(bigint, bigint, boolean) IS
	'Step 20 of retail.refresh(): merge the lines with load_ordinal in (after, through] (every line when rebuild is true) into silver.orders, silver.net_orders and the state tables, analyzing silver as it grows; returns how many clean lines were merged';

INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(10, 'silver', 'silver', 'transactions', 'retail.maintain_silver_lines(bigint, bigint, boolean)'),
	(20, 'silver', 'silver', 'orders', 'retail.maintain_silver_states(bigint, bigint, boolean)');
REVOKE EXECUTE ON FUNCTION retail.silver_tables(), retail.maintain_silver_lines(bigint, bigint, boolean),
	retail.maintain_silver_states(bigint, bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.silver_tables() TO retail_bi;
COMMENT ON COLUMN retail.refresh_log.step_order IS
	'The step of retail.refresh_steps, or 0: the settings checked and, on a Citus node, its workers (layer cluster) (or, status nothing_new, no new bronze line); step 10 classifies the silver lines (silver.transactions), step 20 merges them into silver.orders and the states, the later steps keep gold';
COMMENT ON COLUMN retail.refresh_log.concurrent IS
	'Readers of the relation were not blocked by the step; false for silver in a rebuild with concurrently => false, and for a materialized view refreshed with concurrently => false or populated for the first time';

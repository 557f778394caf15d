
-- Whether Citus distributes the relation: a few statements of the refresh
-- take another form there (doc/citus.md).  Citus's catalog exists only
-- where it is installed.
CREATE FUNCTION retail.is_distributed(relation regclass) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found boolean := false;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)'
			INTO found USING relation;
	END IF;
	RETURN found;
END
$$;
COMMENT ON FUNCTION retail.is_distributed(regclass) IS
	'Whether Citus distributes the relation (false where Citus is absent)';

-- Distributed mode on a Citus coordinator (doc/citus.md).  On the workers:
-- the per-customer states, distributed by customer_id, and silver's lines,
-- by distribution_key (the customer, or for a line without one a negative
-- number spread by its ordinal), all co-located, so that a customer's lines
-- and states sit on one shard.  Bronze and the states not kept per customer
-- stay on the coordinator (doc/citus.md, "In what order").  A table already
-- distributed as wanted is left alone, so a second call changes nothing;
-- one distributed otherwise is an error, before any change.  The refresh's
-- advisory lock keeps a refresh from running meanwhile.
CREATE FUNCTION retail.distribute(shard_count integer DEFAULT 32)
	RETURNS TABLE (relation regclass, distribution_column text, shards bigint, newly_distributed boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	placed constant regclass[] := ARRAY['silver.customer_state', 'silver.customer_invoice_days',
										'silver.customer_months', 'silver.transactions']::regclass[];
	keys constant text[] := ARRAY['customer_id', 'customer_id', 'customer_id', 'distribution_key'];
	anchor constant regclass := placed[1];
	coordinator boolean;
	workers bigint;
	misplaced text;
BEGIN
	IF distribute.shard_count IS NULL OR distribute.shard_count NOT BETWEEN 1 AND 64000 THEN
		RAISE EXCEPTION 'shard_count % is out of range', coalesce(distribute.shard_count::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Citus allows 1 to 64000 shards a table.';
	END IF;
	IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
		RAISE EXCEPTION 'retail.distribute() needs Citus, which database % does not have', current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Load citus through shared_preload_libraries, CREATE EXTENSION citus, and add the workers with citus_add_node() (doc/citus.md).';
	END IF;
	-- Citus's functions and catalogs exist only where it is installed.
	EXECUTE $query$
		SELECT pg_catalog.citus_is_coordinator(),
			   (SELECT count(*) FROM pg_catalog.pg_dist_node n
				WHERE n.isactive AND n.noderole = 'primary' AND n.groupid <> 0)
	$query$ INTO coordinator, workers;
	IF NOT coordinator THEN
		RAISE EXCEPTION 'retail.distribute() runs on the Citus coordinator, and this node is not one'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF workers = 0 THEN
		RAISE EXCEPTION 'retail.distribute() found no active Citus worker'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Add the workers with citus_add_node() first.';
	END IF;
	PERFORM retail.check_workers();
	PERFORM pg_advisory_xact_lock('retail.refresh_steps'::regclass::oid::bigint);

	EXECUTE $query$
		SELECT string_agg(format('%s (%s)', d.relation,
								 CASE WHEN d.method <> 'h' THEN 'not hash-distributed'
									  WHEN d.key <> d.wanted THEN 'distributed by ' || d.key
									  ELSE 'not co-located with ' || $3::text END), ', ' ORDER BY d.relation)
		FROM (SELECT p.logicalrelid::regclass AS relation, p.partmethod AS method, p.colocationid, w.wanted,
					 coalesce(pg_catalog.column_to_column_name(p.logicalrelid, p.partkey), '') AS key
			  FROM pg_catalog.pg_dist_partition p
				   JOIN unnest($1, $2) w(relation, wanted) ON w.relation = p.logicalrelid) d
		WHERE d.method <> 'h' OR d.key <> d.wanted
		   OR (d.relation <> $3 AND d.colocationid IS DISTINCT FROM (SELECT a.colocationid
																	FROM pg_catalog.pg_dist_partition a
																	WHERE a.logicalrelid = $3))
	$query$ INTO misplaced USING placed, keys, anchor;
	IF misplaced IS NOT NULL THEN
		RAISE EXCEPTION 'retail.distribute() cannot place tables already distributed otherwise: %', misplaced
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'undistribute_table() them, then call retail.distribute() again.';
	END IF;

	FOR i IN 1 .. cardinality(placed) LOOP
		relation := placed[i];
		distribution_column := keys[i];
		newly_distributed := NOT retail.is_distributed(relation);
		IF newly_distributed THEN
			IF relation = 'silver.transactions'::regclass THEN
				-- Citus wants the distribution column in the primary key; led
				-- by the ordinal, the key still finds a line by its ordinal
				ALTER TABLE silver.transactions DROP CONSTRAINT transactions_pkey,
					ADD CONSTRAINT transactions_pkey PRIMARY KEY (load_ordinal, distribution_key);
			END IF;
			EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3, shard_count => $4)'
				USING relation, distribution_column, CASE WHEN relation = anchor THEN 'none' ELSE anchor::text END,
					  CASE WHEN relation = anchor THEN distribute.shard_count END;
			-- The coordinator's shell keeps the rows it had; nothing reads them.
			EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING relation;
		END IF;
		EXECUTE 'SELECT count(*) FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = $1' INTO shards USING relation;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION retail.distribute(integer) IS
	'On a Citus coordinator with workers: distribute the per-customer states by customer_id and silver.transactions by distribution_key, co-located, in shard_count shards (tables already so distributed are kept); one row per table, and whether this call distributed it';
REVOKE EXECUTE ON FUNCTION retail.is_distributed(regclass), retail.distribute(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.is_distributed(regclass) TO retail_bi;

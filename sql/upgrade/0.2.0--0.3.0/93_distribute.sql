
-- Distributed mode on a Citus coordinator (doc/citus.md).  What can live on
-- the workers today are the per-customer states: each is distributed by
-- customer_id and all are co-located, so that a customer's states sit on one
-- shard and the merges and gold's reads of them push down per shard.  The
-- lines stay on the coordinator until silver.transactions has a key that is
-- never NULL (doc/citus.md, "In what order", stage 2).  A table already
-- distributed as wanted is left alone, so a second call changes nothing;
-- one distributed otherwise is an error, before any change.  The refresh's
-- advisory lock keeps a refresh from running meanwhile.
CREATE FUNCTION retail.distribute(shard_count integer DEFAULT 32)
	RETURNS TABLE (relation regclass, distribution_column text, shards bigint, newly_distributed boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	states constant regclass[] := ARRAY['silver.customer_state', 'silver.customer_invoice_days',
										'silver.customer_months']::regclass[];
	anchor constant regclass := states[1];
	coordinator boolean;
	workers bigint;
	misplaced text;
	state regclass;
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
									  WHEN d.key <> 'customer_id' THEN 'distributed by ' || d.key
									  ELSE 'not co-located with ' || $2::text END), ', ' ORDER BY d.relation)
		FROM (SELECT p.logicalrelid::regclass AS relation, p.partmethod AS method, p.colocationid,
					 coalesce(pg_catalog.column_to_column_name(p.logicalrelid, p.partkey), '') AS key
			  FROM pg_catalog.pg_dist_partition p
			  WHERE p.logicalrelid = ANY ($1)) d
		WHERE d.method <> 'h' OR d.key <> 'customer_id'
		   OR (d.relation <> $2 AND d.colocationid IS DISTINCT FROM (SELECT a.colocationid
																	FROM pg_catalog.pg_dist_partition a
																	WHERE a.logicalrelid = $2))
	$query$ INTO misplaced USING states, anchor;
	IF misplaced IS NOT NULL THEN
		RAISE EXCEPTION 'retail.distribute() cannot place tables already distributed otherwise: %', misplaced
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'undistribute_table() them, then call retail.distribute() again.';
	END IF;

	FOREACH state IN ARRAY states LOOP
		relation := state;
		distribution_column := 'customer_id';
		EXECUTE 'SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)'
			INTO newly_distributed USING state;
		IF newly_distributed THEN
			IF state = anchor THEN
				EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''customer_id'', colocate_with => ''none'',
																	 shard_count => $2)'
					USING state, distribute.shard_count;
			ELSE
				EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''customer_id'', colocate_with => $2)'
					USING state, anchor::text;
			END IF;
			-- The coordinator's shell keeps the rows it had; nothing reads them.
			EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING state;
		END IF;
		EXECUTE 'SELECT count(*) FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = $1' INTO shards USING state;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION retail.distribute(integer) IS
	'On a Citus coordinator with workers: distribute the per-customer states by customer_id, co-located, in shard_count shards (those already so distributed are kept); one row per table, and whether this call distributed it';
REVOKE EXECUTE ON FUNCTION retail.distribute(integer) FROM PUBLIC;

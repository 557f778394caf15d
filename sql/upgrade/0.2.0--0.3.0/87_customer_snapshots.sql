
-- Issue 17, item 4: the segments are tables that step 100 maintains
-- (sql/install/45_rfm_segments.sql), writing only the rows that change, in
-- place of the materialized views of the current snapshot, the month ends and the
-- migration, which every refresh rewrote whole.  A refresh step may now be
-- a table and the function that keeps it (retail.refresh_steps.maintain,
-- sql/install/00_schemas.sql).  The views of gold keep their columns; the
-- first refresh after the update (a rebuild, see 29_cancellations.sql)
-- fills the tables.
ALTER TABLE retail.refresh_steps ADD COLUMN maintain regprocedure;
COMMENT ON TABLE retail.refresh_steps IS
	'What retail.refresh() brings up to silver, in step_order: materialized views it refreshes, and tables that a function maintains';
COMMENT ON COLUMN retail.refresh_steps.maintain IS
	'For a table (view_name) rather than a materialized view: a function (after bigint, through bigint, rebuild boolean) that brings it up to silver once the bronze lines with load_ordinal in (after, through] are merged, or from all of silver when rebuild is true, and returns how many rows it wrote';
COMMENT ON COLUMN retail.refresh_log.rows IS
	'Silver: the lines of the batch; a materialized view: its rows after the refresh; a maintained table (retail.refresh_steps.maintain): the rows the step wrote';

-- The customers whose counted lines the last merge changed, with the time of
-- the earliest: the keys the kept marts of gold rewrite
-- (retail.refresh_steps.maintain), listed by the merge from what it read.
CREATE TABLE retail.touched_customers (
	customer_id bigint PRIMARY KEY,
	since timestamp NOT NULL
);
COMMENT ON TABLE retail.touched_customers IS
	'Customers whose counted lines the last refresh merged or netted anew (all customers after a merge of every line), with the earliest time of those lines';

-- The segments are kept as tables that the refresh maintains (step 100,
-- retail.maintain_customer_snapshots): one row per snapshot and customer,
-- the current snapshot under the date 'infinity' and the month ends under
-- their own dates (gold.segment_month_ends).  What moves with the as-of date
-- alone (recency_days, as_of) is computed when read, so that a day of new
-- lines rewrites the rows of the customers it touches and of the few whose
-- score it really changes, not every row.
CREATE TABLE gold_store.customer_snapshots (
	snapshot date NOT NULL,
	customer_id bigint NOT NULL,
	first_purchase timestamp NOT NULL,
	last_purchase timestamp NOT NULL,
	frequency bigint NOT NULL,
	monetary numeric(38, 6) NOT NULL,
	r integer,
	f integer,
	m integer,
	segment text,
	seed_segment text,
	PRIMARY KEY (snapshot, customer_id)
);
COMMENT ON TABLE gold_store.customer_snapshots IS
	'The RFM segments of every snapshot: the current one (snapshot infinity, gold.mart_customer_segments) and the month ends (gold.segment_month_ends), scored on the lines before the snapshot''s date';
COMMENT ON COLUMN gold_store.customer_snapshots.snapshot IS
	'The first day of a month (only lines before it count), or infinity for the current snapshot (as of gold_store.customer_snapshot_models.as_of)';
CREATE INDEX ON gold_store.customer_snapshots (snapshot, segment);

-- What each snapshot was scored with: a refresh that leaves a snapshot's
-- cutpoints where they were rescores only the customers it touched.
CREATE TABLE gold_store.customer_snapshot_models (
	snapshot date PRIMARY KEY,
	as_of date NOT NULL,
	model retail.rfm_cutpoints NOT NULL,
	rules text NOT NULL
);
COMMENT ON TABLE gold_store.customer_snapshot_models IS
	'Per snapshot of gold_store.customer_snapshots: the as-of date and the RFM model it is scored with, and the settings and segment rules in force then';
COMMENT ON COLUMN gold_store.customer_snapshot_models.snapshot IS
	'The snapshot of gold_store.customer_snapshots (infinity: the current one)';
COMMENT ON COLUMN gold_store.customer_snapshot_models.model IS
	'The cutpoints the snapshot''s scores are read from (retail.rfm_model over its customers)';
COMMENT ON COLUMN gold_store.customer_snapshot_models.rules IS
	'The settings rfm_bins, rfm_preset and rfm_seed_preset and the rules of both presets when the snapshot was scored: when they change, every customer is scored again';

CREATE OR REPLACE VIEW gold.mart_customer_segments AS
SELECT s.customer_id, retail.rfm_recency_days(s.last_purchase, d.as_of) AS recency_days, s.frequency, s.monetary,
	   s.r, s.f, s.m, s.r::text || s.f::text || s.m::text AS rfm_cell, s.segment, s.seed_segment,
	   s.first_purchase, s.last_purchase, d.as_of
FROM gold_store.customer_snapshots s
	 JOIN gold_store.customer_snapshot_models d ON d.snapshot = s.snapshot
WHERE s.snapshot = 'infinity';
COMMENT ON VIEW gold.mart_customer_segments IS
	'One row per customer of silver: recency, frequency, monetary, RFM scores and cell, segments of the presets of the settings rfm_preset and rfm_seed_preset';

-- Whether a value that moved from old to new leaves every cutpoint of a
-- measure where it was: equal (a customer whose revenue a cancellation
-- netted often keeps its frequency, which may equal a cutpoint), or both
-- strictly on the same side of each.  When that holds for every customer
-- that moved and their number is the same, each percentile_disc cutpoint
-- is the same value at the same rank.
CREATE FUNCTION retail.same_side_of_cuts(old numeric, new numeric, cuts numeric[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN NOT EXISTS (SELECT FROM unnest(cuts) c
				   WHERE old IS NULL OR new IS NULL
					 OR NOT (old = new OR (old < c AND new < c) OR (old > c AND new > c)));

-- Step 100 of the refresh: brings every snapshot up to silver.  A snapshot
-- is built whole when it is new, at a rebuild, or when the settings or
-- rules it was scored with changed.  Otherwise the customers whose lines
-- before its date changed (the batch's, and those whose earlier lines a
-- cancellation netted) get their measures again, and if none of them crosses
-- a cutpoint the model stands (its recency cutpoints moved with the as-of
-- date) and only they, plus the customers whose recency crosses a bound of
-- a segment rule as the as-of date moves, are scored again; else the model
-- is fitted again and every customer scored.  Only rows that change are
-- written.  Then the migration between every two consecutive snapshots is
-- computed again where either of them changed.
CREATE FUNCTION retail.maintain_customer_snapshots(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- The customers listed ($2; all for NULL) with a net line before a date
	-- ($1; infinity: all lines), summed as retail.rfm_customer sums up their
	-- lines: the per-customer state that holds it for all, else the same
	-- reduction of their invoice days before the date.  Text, put into the
	-- statements below so that each is planned with it (the branch that does
	-- not apply falls away): as a function, PL/pgSQL would hide its row count
	-- from their plans, and SQL is what Citus cannot plan over distributed
	-- tables (doc/citus.md).
	measures constant text := $sql$
		SELECT c.customer_id, c.first_purchase, c.last_purchase, c.frequency, c.monetary
		FROM silver.customer_state c
		WHERE $1 = 'infinity' AND ($2 IS NULL OR c.customer_id = ANY ($2))
		UNION ALL
		SELECT r.customer_id, (r.summary).*
		FROM (SELECT d.customer_id, retail.rfm_customer(d.invoice_no, d.first_ts, d.last_ts, d.revenue) AS summary
			  FROM silver.customer_invoice_days d
			  WHERE $1 < 'infinity' AND d.day < $1 AND ($2 IS NULL OR d.customer_id = ANY ($2))
			  GROUP BY d.customer_id) r
	$sql$;
	as_of date := retail.rfm_as_of();
	bins integer := retail.setting('rfm_bins')::integer;
	preset_name text := retail.setting('rfm_preset');
	seed_preset_name text := retail.setting('rfm_seed_preset');
	rules_now text;
	bounds integer[];
	snapshots date[];
	snap date;
	scored_as_of date;
	stored gold_store.customer_snapshot_models;
	shift integer;
	shifted retail.rfm_cutpoints;
	model retail.rfm_cutpoints;
	keys bigint[];
	whole boolean;
	cuts_stand boolean;
	changed date[] := '{}';
	rescored date[] := '{}';
	written_before bigint;
	pair record;
	row_count bigint;
	written bigint := 0;
BEGIN
	SELECT format('%s %s %s: %s', bins, preset_name, seed_preset_name,
				  string_agg(format('%s', r), '; ' ORDER BY r.preset, r.priority))
	INTO rules_now
	FROM retail.segment_rules r
	WHERE r.preset IN (preset_name, seed_preset_name);
	-- the recency_days at which some rule starts or stops holding
	SELECT array_agg(DISTINCT b) INTO bounds
	FROM retail.segment_rules r,
		 LATERAL (VALUES (r.recency_days_min), (r.recency_days_max + 1)) v(b)
	WHERE r.preset IN (preset_name, seed_preset_name)
	  AND b IS NOT NULL;
	SELECT array_agg(a ORDER BY a) INTO snapshots
	FROM (SELECT 'infinity'::date AS a
		  UNION ALL
		  SELECT a
		  FROM (SELECT min(c.first_purchase)::date AS first_day FROM silver.customer_state c) d,
			   retail.segment_snapshot_dates(as_of, d.first_day, retail.setting('segment_snapshots')::integer) a
		  WHERE a < as_of) x
	WHERE as_of IS NOT NULL;
	-- the snapshots no longer kept, found in the models (a snapshot of the
	-- customers has a model) and deleted by key
	DELETE FROM gold_store.customer_snapshots s
	WHERE s.snapshot = ANY (ARRAY(SELECT m.snapshot FROM gold_store.customer_snapshot_models m
								  WHERE m.snapshot <> ALL (coalesce(snapshots, '{}'))));
	GET DIAGNOSTICS row_count = ROW_COUNT;
	written := written + row_count;
	DELETE FROM gold_store.customer_snapshot_models s WHERE s.snapshot <> ALL (coalesce(snapshots, '{}'));
	IF snapshots IS NULL THEN
		DELETE FROM gold_store.mart_segment_migration;
		GET DIAGNOSTICS row_count = ROW_COUNT;
		RETURN written + row_count;
	END IF;

	-- per snapshot, the customers whose rows the loop may rewrite, with the
	-- rows they had (for the migration below)
	CREATE TEMP TABLE snapshot_keys (snapshot date, customer_id bigint) ON COMMIT DROP;
	CREATE TEMP TABLE snapshot_before ON COMMIT DROP AS
	SELECT s.snapshot, s.customer_id, s.segment, s.monetary FROM gold_store.customer_snapshots s WITH NO DATA;

	FOREACH snap IN ARRAY snapshots LOOP
		written_before := written;
		scored_as_of := CASE WHEN snap = 'infinity' THEN as_of ELSE snap END;
		SELECT * INTO stored FROM gold_store.customer_snapshot_models s
		WHERE s.snapshot = snap;
		whole := rebuild OR stored IS NULL OR stored.rules <> rules_now;
		keys := NULL;
		shift := 0;
		shifted := NULL;
		cuts_stand := false;
		IF NOT whole THEN
			SELECT array_agg(t.customer_id) INTO keys FROM retail.touched_customers t WHERE t.since < snap;
			shift := scored_as_of - stored.as_of;
			IF keys IS NULL AND shift = 0 THEN
				CONTINUE;
			END IF;
			keys := coalesce(keys, '{}');
			INSERT INTO snapshot_keys SELECT snap, unnest(keys);
			INSERT INTO snapshot_before
			SELECT s.snapshot, s.customer_id, s.segment, s.monetary
			FROM gold_store.customer_snapshots s
			WHERE s.snapshot = snap AND s.customer_id = ANY (keys);
			-- the model as it stands: recency moved with the as-of date
			shifted := ROW((stored.model).bins, (stored.model).customers,
						   (SELECT array_agg(c + shift ORDER BY k)
							FROM unnest((stored.model).recency_cuts) WITH ORDINALITY u(c, k)),
						   (stored.model).frequency_cuts, (stored.model).monetary_cuts);
			-- do the customers that moved leave each cutpoint where it was?
			EXECUTE format($check$
				SELECT count(n.customer_id) = count(o.customer_id)
					   AND coalesce(bool_and(
						   retail.same_side_of_cuts(retail.rfm_recency_days(o.last_purchase, $3),
													retail.rfm_recency_days(n.last_purchase, $3),
													($4).recency_cuts::numeric[])
						   AND retail.same_side_of_cuts(o.frequency, n.frequency, ($4).frequency_cuts::numeric[])
						   AND retail.same_side_of_cuts(o.monetary, n.monetary, ($4).monetary_cuts)), true)
				FROM (SELECT s.* FROM gold_store.customer_snapshots s
					  WHERE s.snapshot = $1 AND s.customer_id = ANY ($2)) o
					 FULL JOIN (%s) n ON n.customer_id = o.customer_id
			$check$, measures) INTO cuts_stand USING snap, keys, scored_as_of, shifted;
		END IF;

		-- the measures of the customers touched (all when keys is NULL)
		EXECUTE format($measured$
			-- at the mart's scale, said: Citus passes the measures from the
			-- shards without the column's implicit coercion
			WITH measured AS MATERIALIZED (
				SELECT m.customer_id, m.first_purchase, m.last_purchase, m.frequency,
					   m.monetary::numeric(38, 6) AS monetary
				FROM (%s) m
			),
			gone AS (
				DELETE FROM gold_store.customer_snapshots s
				WHERE s.snapshot = $1 AND ($2 IS NULL OR s.customer_id = ANY ($2))
				  AND NOT EXISTS (SELECT FROM measured n WHERE n.customer_id = s.customer_id)
				RETURNING 1
			),
			changed AS (
				UPDATE gold_store.customer_snapshots s
				SET first_purchase = n.first_purchase, last_purchase = n.last_purchase, frequency = n.frequency,
					monetary = n.monetary, r = NULL
				FROM measured n
				WHERE s.snapshot = $1 AND s.customer_id = n.customer_id
				  AND (s.first_purchase, s.last_purchase, s.frequency, s.monetary)
					  IS DISTINCT FROM (n.first_purchase, n.last_purchase, n.frequency, n.monetary)
				RETURNING 1
			),
			added AS (
				INSERT INTO gold_store.customer_snapshots (snapshot, customer_id, first_purchase, last_purchase,
														   frequency, monetary)
				SELECT $1, n.customer_id, n.first_purchase, n.last_purchase, n.frequency, n.monetary
				FROM measured n
				WHERE NOT EXISTS (SELECT FROM gold_store.customer_snapshots s
								  WHERE s.snapshot = $1 AND s.customer_id = n.customer_id)
				RETURNING 1
			)
			SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
		$measured$, measures) INTO row_count USING snap, keys;
		written := written + row_count;
		IF stored IS NULL THEN
			-- a new snapshot date, unknown to the statistics: the planner would
			-- take its rows for one, and score them in a nested loop over all
			ANALYZE gold_store.customer_snapshots (snapshot);
		END IF;

		IF cuts_stand THEN
			model := shifted;
		ELSE
			model := (SELECT retail.rfm_model(retail.rfm_recency_days(s.last_purchase, scored_as_of), s.frequency,
											  s.monetary, bins)
					  FROM gold_store.customer_snapshots s
					  WHERE s.snapshot = snap);
			cuts_stand := NOT whole AND model IS NOT DISTINCT FROM shifted;
		END IF;

		-- the scores: of every customer when the model moved, else of those
		-- touched (every row whose measures changed is one of them) and of
		-- those whose recency crosses a rule's bound between the two as-of
		-- dates; the parameters are constants here, so that for a month end
		-- (no shift) the planner reads the touched rows by key alone
		EXECUTE $scores$
			UPDATE gold_store.customer_snapshots s
			SET r = x.r, f = x.f, m = x.m, segment = x.segment, seed_segment = x.seed_segment
			FROM (SELECT c.customer_id, e.r, e.f, e.m,
						 retail.rfm_segment($5, e.r, e.f, e.m, d.recency_days) AS segment,
						 retail.rfm_segment($6, e.r, e.f, e.m, d.recency_days) AS seed_segment
				  FROM gold_store.customer_snapshots c,
					   LATERAL (SELECT retail.rfm_recency_days(c.last_purchase, $4) AS recency_days) d,
					   LATERAL retail.rfm_score($3, d.recency_days, c.frequency, c.monetary) e
				  WHERE c.snapshot = $1
					AND ($2 IS NULL OR c.customer_id = ANY ($2)
						 OR $8 <> 0 AND EXISTS (SELECT FROM unnest($7) b
									WHERE least(d.recency_days, d.recency_days - $8) < b
									  AND b <= greatest(d.recency_days, d.recency_days - $8)))) x
			WHERE s.snapshot = $1 AND s.customer_id = x.customer_id
			  AND (s.r, s.f, s.m, s.segment, s.seed_segment) IS DISTINCT FROM
				  (x.r, x.f, x.m, x.segment, x.seed_segment)
		$scores$ USING snap, CASE WHEN cuts_stand THEN keys END, model, scored_as_of, preset_name, seed_preset_name,
			coalesce(bounds, '{}'), coalesce(shift, 0);
		GET DIAGNOSTICS row_count = ROW_COUNT;
		written := written + row_count;

		IF written > written_before OR whole OR shift <> 0 THEN
			changed := changed || snap;
		END IF;
		IF whole OR shift <> 0 OR NOT cuts_stand THEN
			-- any row may have changed, not only the touched customers'
			rescored := rescored || snap;
		END IF;
		INSERT INTO gold_store.customer_snapshot_models AS s (snapshot, as_of, model, rules)
		VALUES (snap, scored_as_of, model, rules_now)
		ON CONFLICT ON CONSTRAINT customer_snapshot_models_pkey DO UPDATE
		SET as_of = excluded.as_of, model = excluded.model, rules = excluded.rules
		WHERE (s.as_of, s.model, s.rules) IS DISTINCT FROM (excluded.as_of, excluded.model, excluded.rules);
	END LOOP;

	-- the migration between consecutive snapshots whose either end changed
	DELETE FROM gold_store.mart_segment_migration g
	WHERE NOT EXISTS (SELECT FROM gold_store.customer_snapshot_models m WHERE m.as_of = g.to_as_of)
	   OR NOT EXISTS (SELECT FROM gold_store.customer_snapshot_models m WHERE m.as_of = g.from_as_of);
	GET DIAGNOSTICS row_count = ROW_COUNT;
	written := written + row_count;
	FOR pair IN
		SELECT p.previous, p.snapshot, p.as_of
		FROM (SELECT m.snapshot, m.as_of, lag(m.snapshot) OVER (ORDER BY m.snapshot) AS previous
			  FROM gold_store.customer_snapshot_models m) p
		WHERE p.previous IS NOT NULL
	LOOP
		IF pair.previous = ANY (changed) OR pair.snapshot = ANY (changed) THEN
			IF pair.previous = ANY (rescored) OR pair.snapshot = ANY (rescored) THEN
				DELETE FROM gold_store.mart_segment_migration g WHERE g.to_as_of = pair.as_of;
				INSERT INTO gold_store.mart_segment_migration
				SELECT * FROM retail.segment_migration_pair(pair.previous, pair.snapshot);
				GET DIAGNOSTICS row_count = ROW_COUNT;
			ELSE
				-- only touched customers moved
				row_count := retail.migrate_touched(pair.previous, pair.snapshot);
			END IF;
			written := written + row_count;
		END IF;
	END LOOP;
	DROP TABLE snapshot_keys, snapshot_before;
	RETURN written;
END
$$;
COMMENT ON FUNCTION retail.maintain_customer_snapshots(bigint, bigint, boolean) IS
	'Step 100 of retail.refresh(): brings gold_store.customer_snapshots up to silver after the lines with load_ordinal in (after, through] were merged (all of them when rebuild), writing only the rows that change, and gold_store.mart_segment_migration for the snapshots that changed; returns how many rows it wrote';

-- The month ends: as the current snapshot, each at its own date.
CREATE OR REPLACE VIEW gold.segment_month_ends AS
SELECT s.snapshot AS as_of, s.customer_id, retail.rfm_recency_days(s.last_purchase, s.snapshot) AS recency_days,
	   s.frequency, s.monetary, s.r, s.f, s.m, s.r::text || s.f::text || s.m::text AS rfm_cell, s.segment,
	   s.seed_segment
FROM gold_store.customer_snapshots s
WHERE s.snapshot < 'infinity';
COMMENT ON VIEW gold.segment_month_ends IS
	'The snapshots of gold.segment_history at the first day of a month before the current as-of date';

ALTER MATERIALIZED VIEW gold_store.mart_segment_migration RENAME TO mart_segment_migration_0_2_0;
ALTER INDEX gold_store.mart_segment_migration_to_as_of_from_segment_to_segment_idx
	RENAME TO mart_segment_migration_0_2_0_idx;
-- Every two consecutive snapshots: computed at read time it joins all of
-- them (seconds on millions of lines), so step 100 keeps it with the
-- snapshots, computing a pair again when one of its snapshots changed; a
-- read is a scan of a few rows.
CREATE TABLE gold_store.mart_segment_migration (
	from_as_of date NOT NULL,
	to_as_of date NOT NULL,
	from_segment text,
	to_segment text,
	customers bigint NOT NULL,
	revenue numeric(38, 6)
);
COMMENT ON TABLE gold_store.mart_segment_migration IS
	'How customers moved between the segments of every two consecutive snapshots of gold.segment_history, as of the last refresh (gold.segment_migration: the same rows in order)';
-- from_segment is NULL for new customers: one NULL per snapshot pair
CREATE UNIQUE INDEX ON gold_store.mart_segment_migration (to_as_of, from_segment, to_segment) NULLS NOT DISTINCT;

-- The rows of gold_store.mart_segment_migration for two snapshots of
-- gold_store.customer_snapshots, as of their as-of dates.
CREATE FUNCTION retail.segment_migration_pair(from_snapshot date, to_snapshot date)
	RETURNS SETOF gold_store.mart_segment_migration
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT fm.as_of, tm.as_of, f.segment, t.segment, count(*), sum(t.monetary)::numeric(38, 6)
	FROM gold_store.customer_snapshot_models fm
		 JOIN gold_store.customer_snapshot_models tm ON tm.snapshot = segment_migration_pair.to_snapshot
		 JOIN gold_store.customer_snapshots t ON t.snapshot = segment_migration_pair.to_snapshot
		 LEFT JOIN gold_store.customer_snapshots f
				   ON f.snapshot = segment_migration_pair.from_snapshot AND f.customer_id = t.customer_id
	WHERE fm.snapshot = segment_migration_pair.from_snapshot
	GROUP BY fm.as_of, tm.as_of, f.segment, t.segment;
END;
COMMENT ON FUNCTION retail.segment_migration_pair(date, date) IS
	'Per (from_segment, to_segment) of two snapshots of gold_store.customer_snapshots: the customers of the later one and their revenue; from_segment NULL for customers new since the earlier';

-- The moves of the customers that step 100 listed for two snapshots
-- (pg_temp.snapshot_keys, with the rows they had in pg_temp.snapshot_before):
-- their cells as they were are taken back from
-- gold_store.mart_segment_migration and their cells as they are added (the
-- revenues add exactly: each is stored to 6 decimals).
CREATE FUNCTION retail.migrate_touched(from_snapshot date, to_snapshot date) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	written bigint;
	emptied bigint;
BEGIN
	WITH moved AS (
		SELECT DISTINCT k.customer_id FROM pg_temp.snapshot_keys k
		WHERE k.snapshot IN (migrate_touched.from_snapshot, migrate_touched.to_snapshot)
	),
	rows_now AS (
		SELECT s.snapshot, s.customer_id, s.segment, s.monetary
		FROM gold_store.customer_snapshots s
		WHERE s.snapshot IN (migrate_touched.from_snapshot, migrate_touched.to_snapshot)
		  AND s.customer_id IN (SELECT m.customer_id FROM moved m)
	),
	rows_before AS (
		SELECT b.snapshot, b.customer_id, b.segment, b.monetary
		FROM pg_temp.snapshot_before b
		WHERE b.snapshot IN (migrate_touched.from_snapshot, migrate_touched.to_snapshot)
		  AND b.customer_id IN (SELECT m.customer_id FROM moved m)
		UNION ALL
		SELECT n.* FROM rows_now n
		WHERE NOT EXISTS (SELECT FROM pg_temp.snapshot_keys k
						  WHERE k.snapshot = n.snapshot AND k.customer_id = n.customer_id)
	),
	cells AS (
		SELECT f.segment AS from_segment, t.segment AS to_segment, 1 AS customers, t.monetary
		FROM rows_now t
			 LEFT JOIN rows_now f ON f.snapshot = migrate_touched.from_snapshot AND f.customer_id = t.customer_id
		WHERE t.snapshot = migrate_touched.to_snapshot
		UNION ALL
		SELECT f.segment, t.segment, -1, -t.monetary
		FROM rows_before t
			 LEFT JOIN rows_before f ON f.snapshot = migrate_touched.from_snapshot AND f.customer_id = t.customer_id
		WHERE t.snapshot = migrate_touched.to_snapshot
	)
	INSERT INTO gold_store.mart_segment_migration AS g (from_as_of, to_as_of, from_segment, to_segment, customers,
														  revenue)
	SELECT fm.as_of, tm.as_of, c.from_segment, c.to_segment, sum(c.customers), sum(c.monetary)
	FROM cells c
		 JOIN gold_store.customer_snapshot_models fm ON fm.snapshot = migrate_touched.from_snapshot
		 JOIN gold_store.customer_snapshot_models tm ON tm.snapshot = migrate_touched.to_snapshot
	GROUP BY fm.as_of, tm.as_of, c.from_segment, c.to_segment
	HAVING sum(c.customers) <> 0 OR sum(c.monetary) <> 0
	ON CONFLICT (to_as_of, from_segment, to_segment) DO UPDATE
	SET customers = g.customers + excluded.customers, revenue = g.revenue + excluded.revenue;
	GET DIAGNOSTICS written = ROW_COUNT;
	DELETE FROM gold_store.mart_segment_migration g
	USING gold_store.customer_snapshot_models tm
	WHERE tm.snapshot = migrate_touched.to_snapshot AND g.to_as_of = tm.as_of AND g.customers = 0;
	GET DIAGNOSTICS emptied = ROW_COUNT;
	RETURN written + emptied;
END
$$;
COMMENT ON FUNCTION retail.migrate_touched(date, date) IS
	'Step 100: bring the rows of gold_store.mart_segment_migration for two consecutive snapshots up to date for the customers listed in pg_temp.snapshot_keys, from their rows before (pg_temp.snapshot_before) and now; returns the rows written';
CREATE OR REPLACE VIEW gold.mart_segment_migration AS SELECT * FROM gold_store.mart_segment_migration;

DROP FUNCTION retail.segment_month_ends_unchanged(bigint, bigint);
DROP MATERIALIZED VIEW gold_store.mart_customer_segments, gold_store.segment_month_ends,
	gold_store.mart_segment_migration_0_2_0;
DROP FUNCTION retail.customer_summaries_before(date);
DELETE FROM retail.refresh_steps
WHERE view_name IN ('mart_customer_segments', 'segment_month_ends', 'mart_segment_migration');
INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(100, 'gold', 'gold_store', 'customer_snapshots', 'retail.maintain_customer_snapshots(bigint, bigint, boolean)');
REVOKE EXECUTE ON FUNCTION retail.same_side_of_cuts(numeric, numeric, numeric[]),
	retail.segment_migration_pair(date, date),
	retail.maintain_customer_snapshots(bigint, bigint, boolean), retail.migrate_touched(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.same_side_of_cuts(numeric, numeric, numeric[]),
	retail.segment_migration_pair(date, date) TO retail_bi;
REVOKE ALL ON gold_store.customer_snapshots, gold_store.customer_snapshot_models, gold_store.mart_segment_migration
	FROM retail_bi;

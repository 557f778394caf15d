
-- The segments mart, one unit: the ad-hoc form (retail.rfm_segments on any
-- relation), the snapshots that step 100 keeps (the current one, the month
-- ends and the migration between them), their setting, gold views and
-- column comments.  The aggregates it scores with are in 40_rfm.sql
-- (src/rfm_*.c); its test is test/sql/gold_bi.sql with test/sql/rfm.sql.
-- One call: the finished segments of any relation of order lines, scored on
-- the lines before as_of_date.  The columns are named by the last four
-- parameters (by default silver's: customer_id, invoice_no, invoice_ts,
-- line_total); a relation of orders works as well as one of lines, since
-- frequency counts distinct invoices.
CREATE FUNCTION retail.rfm_segments(lines regclass, as_of_date date DEFAULT NULL, bins integer DEFAULT 5,
									preset text DEFAULT 'standard', seed_preset text DEFAULT 'seed',
									customer_column name DEFAULT 'customer_id',
									time_column name DEFAULT 'invoice_ts',
									value_column name DEFAULT 'line_total',
									invoice_column name DEFAULT 'invoice_no')
	RETURNS TABLE (customer_id bigint, recency_days integer, frequency bigint, monetary numeric,
				   r integer, f integer, m integer, rfm_cell text, segment text, seed_segment text,
				   first_purchase timestamp, last_purchase timestamp, as_of date)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	statement text;
	col name;
	param text;
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
	FOR col, param IN
		SELECT * FROM unnest(ARRAY[customer_column, time_column, value_column, invoice_column],
							 ARRAY['customer_column', 'time_column', 'value_column', 'invoice_column'])
	LOOP
		IF col IS NULL THEN
			RAISE EXCEPTION '% must not be NULL', param
				USING ERRCODE = 'null_value_not_allowed',
					  HINT = format('Pass the name of a column of %s as %s.', lines, param);
		END IF;
		IF NOT EXISTS (SELECT FROM pg_attribute a
					   WHERE a.attrelid = lines AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
			RAISE EXCEPTION 'relation "%" has no column "%" (%)', lines, col, param
				USING ERRCODE = 'undefined_column',
					  HINT = format('Pass the name of the column as %s.', param);
		END IF;
	END LOOP;
	-- One statement: the customers (retail.rfm_customer over their lines),
	-- their recency to as_of (default: the day after the last purchase), the
	-- model fitted on them all, then each one's scores, cell and segments.
	statement := format($query$
		WITH summaries AS MATERIALIZED (
			SELECT g.customer_id, (g.s).first_purchase, (g.s).last_purchase, (g.s).frequency, (g.s).monetary
			FROM (SELECT l.%1$I::bigint AS customer_id,
						 retail.rfm_customer(l.%4$I::text, l.%2$I::timestamp, l.%3$I::numeric) AS s
				  FROM %5$s l
				  WHERE l.%1$I IS NOT NULL AND ($1 IS NULL OR l.%2$I::timestamp < $1)
				  GROUP BY 1) g
		),
		measured AS MATERIALIZED (
			SELECT s.*, retail.rfm_recency_days(s.last_purchase, d.as_of) AS recency_days, d.as_of
			FROM summaries s,
				 (SELECT coalesce($1, max(x.last_purchase)::date + 1) AS as_of FROM summaries x) d
		),
		scored AS MATERIALIZED (
			SELECT x.*, retail.rfm_score(model.cuts, x.recency_days, x.frequency, x.monetary) AS s
			FROM measured x,
				 (SELECT retail.rfm_model(y.recency_days, y.frequency, y.monetary, $2) AS cuts FROM measured y) model
		)
		SELECT x.customer_id, x.recency_days, x.frequency, x.monetary, (x.s).r, (x.s).f, (x.s).m,
			   (x.s).r::text || (x.s).f::text || (x.s).m::text,
			   retail.rfm_segment($3, (x.s).r, (x.s).f, (x.s).m, x.recency_days),
			   retail.rfm_segment($4, (x.s).r, (x.s).f, (x.s).m, x.recency_days),
			   x.first_purchase, x.last_purchase, x.as_of
		FROM scored x
		ORDER BY x.customer_id
	$query$, customer_column, time_column, value_column, invoice_column, lines);
	RETURN QUERY EXECUTE statement USING as_of_date, bins, preset, seed_preset;
END
$$;
COMMENT ON FUNCTION retail.rfm_segments(regclass, date, integer, text, text, name, name, name, name) IS
	'RFM segments of the order lines (or orders) in a relation, its columns named by customer_column, time_column, value_column and invoice_column (default customer_id, invoice_ts, line_total, invoice_no): one row per customer with a line before as_of_date (default: every line, as_of the day after the last); needs SELECT on the relation';


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

CREATE VIEW gold.mart_customer_segments AS
SELECT s.customer_id, retail.rfm_recency_days(s.last_purchase, d.as_of) AS recency_days, s.frequency, s.monetary,
	   s.r, s.f, s.m, s.r::text || s.f::text || s.m::text AS rfm_cell, s.segment, s.seed_segment,
	   s.first_purchase, s.last_purchase, d.as_of
FROM gold_store.customer_snapshots s
	 JOIN gold_store.customer_snapshot_models d ON d.snapshot = s.snapshot
WHERE s.snapshot = 'infinity';
COMMENT ON VIEW gold.mart_customer_segments IS
	'One row per customer of silver: recency, frequency, monetary, RFM scores and cell, segments of the presets of the settings rfm_preset and rfm_seed_preset';

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
INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('segment_snapshots', '13', 'Snapshots kept in gold.segment_history: the current one and the month ends before it',
	 'integer', 2, false, 1000, false);

CREATE FUNCTION retail.segment_snapshot_dates(as_of date, first_day date, snapshots integer)
	RETURNS SETOF date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- the upper bound of the rule of the setting segment_snapshots
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
CREATE VIEW gold.segment_month_ends AS
SELECT s.snapshot AS as_of, s.customer_id, retail.rfm_recency_days(s.last_purchase, s.snapshot) AS recency_days,
	   s.frequency, s.monetary, s.r, s.f, s.m, s.r::text || s.f::text || s.m::text AS rfm_cell, s.segment,
	   s.seed_segment
FROM gold_store.customer_snapshots s
WHERE s.snapshot < 'infinity';
COMMENT ON VIEW gold.segment_month_ends IS
	'The snapshots of gold.segment_history at the first day of a month before the current as-of date';

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
CREATE VIEW gold.mart_segment_migration AS SELECT * FROM gold_store.mart_segment_migration;

CREATE VIEW gold.segment_migration AS
SELECT from_as_of, to_as_of, from_segment, to_segment, customers, revenue
FROM gold.mart_segment_migration
ORDER BY to_as_of DESC, from_segment NULLS FIRST, to_segment;
COMMENT ON VIEW gold.segment_migration IS
	'How customers moved between the segments of every two consecutive snapshots of gold.segment_history, latest first';

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold.mart_customer_segments.monetary IS
	'Revenue of the customer: sum of line_total';
COMMENT ON COLUMN gold.segment_summary.segment IS
	'Segment of gold.mart_customer_segments';
COMMENT ON COLUMN gold.segment_summary.customers IS
	'Customers in the segment';
COMMENT ON COLUMN gold.segment_summary.customer_share IS
	'Share of all customers, a fraction in [0, 1]';
COMMENT ON COLUMN gold.segment_summary.revenue IS
	'Revenue of the segment''s customers';
COMMENT ON COLUMN gold.segment_summary.revenue_share IS
	'Share of all revenue, a fraction in [0, 1] (NULL when the total is 0)';
COMMENT ON COLUMN gold.segment_summary.avg_recency_days IS
	'Mean recency_days of the segment';
COMMENT ON COLUMN gold.segment_summary.avg_frequency IS
	'Mean invoices per customer of the segment';
COMMENT ON COLUMN gold.segment_summary.avg_monetary IS
	'Mean revenue per customer of the segment';
COMMENT ON COLUMN gold.segment_month_ends.as_of IS
	'Snapshot date: the first day of a month; only lines before it count';
COMMENT ON COLUMN gold.segment_month_ends.monetary IS
	'Revenue of the customer from the lines before as_of';
COMMENT ON COLUMN gold.segment_month_ends.frequency IS
	'Distinct invoices of the customer with a line before as_of';
COMMENT ON COLUMN gold.segment_history.as_of IS
	'Snapshot date: the current as-of date or the first day of a month; only lines before it count';
COMMENT ON COLUMN gold.segment_history.monetary IS
	'Revenue of the customer from the lines before as_of';
COMMENT ON COLUMN gold.segment_history.frequency IS
	'Distinct invoices of the customer with a line before as_of';
COMMENT ON COLUMN gold_store.mart_segment_migration.customers IS
	'Customers that were in from_segment at from_as_of and are in to_segment at to_as_of';
COMMENT ON COLUMN gold.segment_migration.customers IS
	'Customers that were in from_segment at from_as_of and are in to_segment at to_as_of';
COMMENT ON COLUMN gold_store.mart_segment_migration.revenue IS
	'Revenue of those customers up to to_as_of';
COMMENT ON COLUMN gold.segment_migration.revenue IS
	'Revenue of those customers up to to_as_of';

INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(100, 'gold', 'gold_store', 'customer_snapshots', 'retail.maintain_customer_snapshots(bigint, bigint, boolean)');

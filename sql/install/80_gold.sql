
-- Gold: the marts, computed from the silver states by the aggregates of the
-- feature parts, and the ad-hoc forms of their queries.  Each mart is a
-- materialized view in gold_store that retail.refresh() refreshes (steps
-- registered by the feature parts) and that REFRESH MATERIALIZED VIEW alone
-- also brings up to silver; readers see it as the plain view of the same name
-- in gold (information_schema lists no materialized view), which runs as its
-- owner and takes the mart's comments (96_gold_columns.sql).  This part is
-- also run by the upgrade scripts, after they drop the gold objects of the
-- older version.

-- Fractions (shares, retention) are double precision: the exact ratio,
-- carried to 40 decimals, rounded once to the nearest double.
CREATE FUNCTION retail.fraction(part numeric, whole numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (round(part, 40) / nullif(whole, 0))::double precision;
COMMENT ON FUNCTION retail.fraction(numeric, numeric) IS
	'part / whole as the double precision nearest the exact ratio (NULL when whole is 0): how gold gives shares and retention';

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
INSERT INTO retail.setting_defaults VALUES
	('segment_snapshots', '13', 'Snapshots kept in gold.segment_history: the current one and the month ends before it');

CREATE FUNCTION retail.segment_snapshot_dates(as_of date, first_day date, snapshots integer)
	RETURNS SETOF date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- the upper bound of the setting segment_snapshots (85_setting_rules.sql)
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

-- Customers as retail.rfm_customer sums up their lines before a date (all of
-- them for infinity), from the per-customer and per-invoice-day states; only
-- the customers listed, or all for NULL.
CREATE FUNCTION retail.customer_measures(before date, customers bigint[])
	RETURNS TABLE (customer_id bigint, first_purchase timestamp, last_purchase timestamp, frequency bigint,
				   monetary numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT c.customer_id, c.first_purchase, c.last_purchase, c.frequency, c.monetary
	FROM silver.customer_state c
	WHERE customer_measures.before = 'infinity'
	  AND (customer_measures.customers IS NULL OR c.customer_id = ANY (customer_measures.customers))
	UNION ALL
	SELECT d.customer_id, min(d.first_ts), max(d.last_ts), count(DISTINCT d.invoice_no), sum(d.revenue)
	FROM silver.customer_invoice_days d
	WHERE customer_measures.before < 'infinity' AND d.day < customer_measures.before
	  AND (customer_measures.customers IS NULL OR d.customer_id = ANY (customer_measures.customers))
	GROUP BY d.customer_id;
END;
COMMENT ON FUNCTION retail.customer_measures(date, bigint[]) IS
	'The customers listed (all for NULL) with a net line before a date (infinity: all lines), summed over those lines: first and last purchase, invoices, revenue';

-- Whether a value that moved from old to new leaves every cutpoint of a
-- measure where it was: both strictly on the same side of each.  When that
-- holds for every customer that moved and their number is the same, each
-- percentile_disc cutpoint is the same value at the same rank.
CREATE FUNCTION retail.same_side_of_cuts(old numeric, new numeric, cuts numeric[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN NOT EXISTS (SELECT FROM unnest(cuts) c
				   WHERE old IS NULL OR new IS NULL OR NOT ((old < c AND new < c) OR (old > c AND new > c)));

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

	-- customers whose lines changed, with the time of the earliest
	CREATE TEMP TABLE touched ON COMMIT DROP AS
	SELECT t.* FROM retail.touched_customers(after, through) t WHERE NOT rebuild;

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
			SELECT array_agg(t.customer_id) INTO keys FROM touched t WHERE t.since < snap;
			shift := scored_as_of - stored.as_of;
			IF keys IS NULL AND shift = 0 THEN
				CONTINUE;
			END IF;
			keys := coalesce(keys, '{}');
			-- the model as it stands: recency moved with the as-of date
			shifted := ROW((stored.model).bins, (stored.model).customers,
						   (SELECT array_agg(c + shift ORDER BY k)
							FROM unnest((stored.model).recency_cuts) WITH ORDINALITY u(c, k)),
						   (stored.model).frequency_cuts, (stored.model).monetary_cuts);
			-- do the customers that moved leave each cutpoint where it was?
			EXECUTE $check$
				SELECT count(n.customer_id) = count(o.customer_id)
					   AND coalesce(bool_and(
						   retail.same_side_of_cuts(retail.rfm_recency_days(o.last_purchase, $3),
													retail.rfm_recency_days(n.last_purchase, $3),
													($4).recency_cuts::numeric[])
						   AND retail.same_side_of_cuts(o.frequency, n.frequency, ($4).frequency_cuts::numeric[])
						   AND retail.same_side_of_cuts(o.monetary, n.monetary, ($4).monetary_cuts)), true)
				FROM (SELECT s.* FROM gold_store.customer_snapshots s
					  WHERE s.snapshot = $1 AND s.customer_id = ANY ($2)) o
					 FULL JOIN retail.customer_measures($1, $2) n ON n.customer_id = o.customer_id
			$check$ INTO cuts_stand USING snap, keys, scored_as_of, shifted;
		END IF;

		-- the measures of the customers touched (all when keys is NULL)
		EXECUTE $measures$
			WITH measured AS MATERIALIZED (
				SELECT * FROM retail.customer_measures($1, $2)
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
		$measures$ INTO row_count USING snap, keys;
		written := written + row_count;

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
		-- touched and of those whose recency crosses a rule's bound between
		-- the two as-of dates
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
					AND ($2 IS NULL OR c.customer_id = ANY ($2) OR c.r IS NULL
						 OR EXISTS (SELECT FROM unnest($7) b
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
		INSERT INTO gold_store.customer_snapshot_models AS s (snapshot, as_of, model, rules)
		VALUES (snap, scored_as_of, model, rules_now)
		ON CONFLICT ON CONSTRAINT customer_snapshot_models_pkey DO UPDATE
		SET as_of = excluded.as_of, model = excluded.model, rules = excluded.rules
		WHERE (s.as_of, s.model, s.rules) IS DISTINCT FROM (excluded.as_of, excluded.model, excluded.rules);
	END LOOP;
	DROP TABLE touched;

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
			DELETE FROM gold_store.mart_segment_migration g WHERE g.to_as_of = pair.as_of;
			INSERT INTO gold_store.mart_segment_migration
			SELECT * FROM retail.segment_migration_pair(pair.previous, pair.snapshot);
			GET DIAGNOSTICS row_count = ROW_COUNT;
			written := written + row_count;
		END IF;
	END LOOP;
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
CREATE VIEW gold.mart_segment_migration AS SELECT * FROM gold_store.mart_segment_migration;

CREATE VIEW gold.segment_migration AS
SELECT from_as_of, to_as_of, from_segment, to_segment, customers, revenue
FROM gold.mart_segment_migration
ORDER BY to_as_of DESC, from_segment NULLS FIRST, to_segment;
COMMENT ON VIEW gold.segment_migration IS
	'How customers moved between the segments of every two consecutive snapshots of gold.segment_history, latest first';

-- Cohort retention (src/cohort.c, 50_cohort.sql)
-- The mart: monthly cohorts of silver, bounded retention, from the
-- customers' monthly state (one row per customer and active month: the same
-- matrix as from the lines).  A cell is complete when its month had ended by
-- the last day with a line.
CREATE MATERIALIZED VIEW gold_store.mart_cohort_retention AS
SELECT c.cohort AS cohort_month,
	   c.period,
	   c.cohort_size,
	   c.active_customers,
	   retail.fraction(c.active_customers, c.cohort_size) AS retention,
	   c.revenue::numeric(38, 6) AS revenue,
	   (c.cohort + make_interval(months => c.period + 1))::date <= l.last_day + 1 AS complete
FROM (SELECT retail.cohort_matrix(s.customer_id, s.month::timestamp, s.revenue) AS cells
	  FROM silver.customer_months s) m
	 CROSS JOIN LATERAL pg_catalog.unnest(m.cells) AS c
	 CROSS JOIN (SELECT max(s.last_purchase)::date AS last_day FROM silver.customer_state s) l
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold_store.mart_cohort_retention IS
	'Monthly cohorts of silver customers: for every cohort and period up to the last month of silver, cohort size, active customers, retention, revenue, and whether the period is complete';
CREATE UNIQUE INDEX ON gold_store.mart_cohort_retention (cohort_month, period);
CREATE VIEW gold.mart_cohort_retention AS SELECT * FROM gold_store.mart_cohort_retention;

-- The triangle: one row per cohort, a column per period.
CREATE VIEW gold.cohort_triangle AS
SELECT r.cohort_month,
	   max(r.cohort_size) AS cohort_size,
	   min(r.period) FILTER (WHERE NOT r.complete) AS running_period,
	   max(r.retention) FILTER (WHERE r.period = 0) AS p0,
	   max(r.retention) FILTER (WHERE r.period = 1) AS p1,
	   max(r.retention) FILTER (WHERE r.period = 2) AS p2,
	   max(r.retention) FILTER (WHERE r.period = 3) AS p3,
	   max(r.retention) FILTER (WHERE r.period = 4) AS p4,
	   max(r.retention) FILTER (WHERE r.period = 5) AS p5,
	   max(r.retention) FILTER (WHERE r.period = 6) AS p6,
	   max(r.retention) FILTER (WHERE r.period = 7) AS p7,
	   max(r.retention) FILTER (WHERE r.period = 8) AS p8,
	   max(r.retention) FILTER (WHERE r.period = 9) AS p9,
	   max(r.retention) FILTER (WHERE r.period = 10) AS p10,
	   max(r.retention) FILTER (WHERE r.period = 11) AS p11,
	   max(r.retention) FILTER (WHERE r.period = 12) AS p12
FROM gold.mart_cohort_retention r
GROUP BY r.cohort_month
ORDER BY r.cohort_month;
COMMENT ON VIEW gold.cohort_triangle IS
	'Retention triangle: one row per monthly cohort, retention (fraction) of periods 0 .. 12, NULL where the data ends; running_period is the period not yet complete';

-- For people: percentages, the running period marked.
CREATE FUNCTION retail.retention_display(retention double precision, running boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char((100 * retention)::numeric, 'FM990.0') || ' %' || CASE WHEN running THEN '*' ELSE '' END;
COMMENT ON FUNCTION retail.retention_display(double precision, boolean) IS
	'A retention as shown to people: percent with one decimal, followed by * when its period is still running';

CREATE VIEW gold.cohort_triangle_display AS
SELECT t.cohort_month, t.cohort_size,
	   retail.retention_display(t.p0, t.running_period = 0) AS p0,
	   retail.retention_display(t.p1, t.running_period = 1) AS p1,
	   retail.retention_display(t.p2, t.running_period = 2) AS p2,
	   retail.retention_display(t.p3, t.running_period = 3) AS p3,
	   retail.retention_display(t.p4, t.running_period = 4) AS p4,
	   retail.retention_display(t.p5, t.running_period = 5) AS p5,
	   retail.retention_display(t.p6, t.running_period = 6) AS p6,
	   retail.retention_display(t.p7, t.running_period = 7) AS p7,
	   retail.retention_display(t.p8, t.running_period = 8) AS p8,
	   retail.retention_display(t.p9, t.running_period = 9) AS p9,
	   retail.retention_display(t.p10, t.running_period = 10) AS p10,
	   retail.retention_display(t.p11, t.running_period = 11) AS p11,
	   retail.retention_display(t.p12, t.running_period = 12) AS p12
FROM gold.cohort_triangle t
ORDER BY t.cohort_month;
COMMENT ON VIEW gold.cohort_triangle_display IS
	'gold.cohort_triangle for people: retention in percent with one decimal; * marks a period still running';

CREATE VIEW gold.cohort_period_averages AS
SELECT r.period,
	   count(*) AS cohorts,
	   sum(r.cohort_size)::bigint AS customers,
	   sum(r.active_customers)::bigint AS active_customers,
	   retail.fraction(sum(round(r.active_customers::numeric, 40) / r.cohort_size), count(*)) AS avg_retention,
	   retail.fraction(sum(r.active_customers), sum(r.cohort_size)) AS weighted_retention
FROM gold.mart_cohort_retention r
WHERE r.complete
GROUP BY r.period
ORDER BY r.period;
COMMENT ON VIEW gold.cohort_period_averages IS
	'Per period, over the cohorts whose cell is complete: cohorts, their customers, active customers, mean retention over cohorts and retention weighted by cohort size';

-- ABC/XYZ (src/abc.c, 60_abc.sql)
-- The marts' queries, with their thresholds as arguments.
-- Shares as the marts give them: doubles through retail.fraction().
CREATE FUNCTION retail.countries_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95)
RETURNS TABLE (rank bigint, country text, revenue numeric, share double precision,
			   cum_share_before double precision, abc_class text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT i.rank, i.key, i.value, retail.fraction(i.value, sum(i.value) OVER ()),
		   retail.fraction(coalesce(sum(i.value) OVER (ORDER BY i.rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
						   sum(i.value) OVER ()),
		   i.abc_class
	FROM (SELECT retail.abc_classify(c.country, c.revenue, countries_abc.a, countries_abc.b) AS items
		  FROM silver.country_state c) s
		 CROSS JOIN LATERAL unnest(s.items) i
	ORDER BY i.rank;
END;
COMMENT ON FUNCTION retail.countries_abc(numeric, numeric) IS
	'ABC classification of countries by revenue (sum of silver line_total) with thresholds a and b: the query of gold.mart_countries_abc';

CREATE FUNCTION retail.products_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95,
									x numeric DEFAULT 0.5, y numeric DEFAULT 1.0)
RETURNS TABLE (rank bigint, stock_code text, description text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text, cv numeric, xyz_class text, abc_xyz text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH products AS (
		SELECT s.stock_code, sum(s.revenue) AS revenue, retail.xyz_cv(s.month::timestamp, s.units) AS cv
		FROM silver.product_months s
		GROUP BY s.stock_code
	),
	descriptions AS (
		-- the most frequent, ties to the first in collation order
		SELECT d.stock_code, retail.most_frequent(d.description, d.lines) AS description
		FROM silver.product_descriptions d
		GROUP BY d.stock_code
	),
	ranked AS (
		SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
		FROM (SELECT retail.abc_classify(p.stock_code, p.revenue, products_abc.a, products_abc.b) AS items
			  FROM products p) s
			 CROSS JOIN LATERAL unnest(s.items) i
	)
	SELECT r.rank, r.key, d.description, r.value, r.share, r.cum_share_before, r.abc_class,
		   p.cv, k.xyz_class, r.abc_class || k.xyz_class
	FROM ranked r
		 JOIN products p ON p.stock_code = r.key
		 LEFT JOIN descriptions d ON d.stock_code = r.key
		 CROSS JOIN LATERAL (SELECT retail.xyz_class(p.cv, products_abc.x, products_abc.y)) k(xyz_class)
	ORDER BY r.rank;
END;
COMMENT ON FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) IS
	'ABC by revenue and XYZ by monthly demand variability of products (stock_code) with thresholds a, b, x, y (N: an active span under 3 months): the query of gold.mart_products_abc';

-- Settings as sub-selects: computed once per refresh, not once per line.
CREATE MATERIALIZED VIEW gold_store.mart_countries_abc AS
SELECT rank, country, revenue::numeric(38, 6) AS revenue, retail.fraction(revenue, sum(revenue) OVER ()) AS share,
	   retail.fraction(coalesce(sum(revenue) OVER preceding, 0), sum(revenue) OVER ()) AS cum_share_before,
	   abc_class
FROM retail.countries_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric)
WINDOW preceding AS (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold_store.mart_countries_abc IS
	'Countries ranked by revenue with share, share of the countries before, and ABC class (A < 80 %, B < 95 %, else C)';
CREATE UNIQUE INDEX ON gold_store.mart_countries_abc (country);
CREATE VIEW gold.mart_countries_abc AS SELECT * FROM gold_store.mart_countries_abc;

CREATE MATERIALIZED VIEW gold_store.mart_products_abc AS
SELECT rank, stock_code, description, revenue::numeric(38, 6) AS revenue,
	   retail.fraction(revenue, sum(revenue) OVER ()) AS share,
	   retail.fraction(coalesce(sum(revenue) OVER preceding, 0), sum(revenue) OVER ()) AS cum_share_before,
	   abc_class, cv::double precision AS cv, xyz_class, abc_xyz
FROM retail.products_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric,
						 (SELECT retail.setting('xyz_x'))::numeric, (SELECT retail.setting('xyz_y'))::numeric)
WINDOW preceding AS (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold_store.mart_products_abc IS
	'Products (stock_code) ranked by revenue with ABC class, coefficient of variation of monthly units, XYZ class (X < 0.5, Y < 1.0, else Z; N when the active span is shorter than 3 months) and the ABC-XYZ cell';
CREATE UNIQUE INDEX ON gold_store.mart_products_abc (stock_code);
CREATE VIEW gold.mart_products_abc AS SELECT * FROM gold_store.mart_products_abc;

-- Order audit (src/audit.c, 70_audit.sql)
-- The audit's query, with its threshold as argument.  One row per (order,
-- reason): wholesale_total when the order's z of ln(total) exceeds the
-- threshold; unit_price_outlier when one of its lines has |z| of
-- ln(unit_price), against the lines of the same product, above it (the line
-- with the largest |z| is named: its product, price and z, and the product's
-- median price); mixed_parties when its lines carry more than one customer
-- or country (z NULL).  The price z's scale is at least ln(1.25) / 3.5, as
-- the contract says: a product sold at one list price (MAD 0 or near it)
-- must not flag its ordinary variants within a factor 1.25.
CREATE FUNCTION retail.order_anomalies(threshold double precision DEFAULT 3.5)
RETURNS TABLE (invoice_no text, customer_id bigint, country text, invoice_ts timestamp,
			   total numeric, z double precision, reason text, stock_code text, unit_price numeric,
			   product_median_price numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	-- one row, computed once (however few orders the statistics expect)
	WITH order_center AS MATERIALIZED (
		SELECT retail.median_mad(ln(o.total::double precision)) AS center
		FROM silver.net_orders o
	),
	wholesale AS (
		SELECT o.invoice_no, retail.modified_z(ln(o.total::double precision), c.center) AS z
		FROM silver.net_orders o CROSS JOIN order_center c
	),
	-- each product's centre of ln(unit_price) over its lines, from the count
	-- of lines at each price
	prices AS (
		SELECT p.stock_code, p.unit_price, ln(p.unit_price::double precision) AS v, p.lines
		FROM silver.product_prices p
	),
	centers AS (
		SELECT p.stock_code, retail.median_mad(p.v, p.lines) AS center
		FROM prices p
		GROUP BY p.stock_code
	),
	-- and the two middle prices lo and hi (the same for an odd count), whose
	-- logarithms the median lies between, with no other price's between
	-- them: the last price at or below the median and the first at or above
	-- it (exact while their logarithms are not adjacent doubles, prices equal
	-- to some 15 digits); for the median price and exactly exp(median)
	-- squared
	product_center AS (
		SELECT x.stock_code, x.center, (x.lo_price + x.hi_price) / 2 AS median_price,
			   x.lo_price * x.hi_price AS center_price_squared
		FROM (SELECT c.stock_code, c.center,
					 max(p.unit_price) FILTER (WHERE p.v <= (c.center).median) AS lo_price,
					 min(p.unit_price) FILTER (WHERE p.v >= (c.center).median) AS hi_price
			  FROM centers c JOIN prices p ON p.stock_code = c.stock_code
			  GROUP BY c.stock_code, c.center) x
	),
	-- the prices whose |z| exceeds the threshold, beyond a factor 1.25 of
	-- the centre exp(median) (compared exactly: at a factor of exactly 1.25
	-- the float z may exceed 3.5 by a rounding error); few, so found before
	-- their lines: joined at once, the planner read every line of silver
	outlier_prices AS MATERIALIZED (
		SELECT f.*
		FROM (SELECT p.stock_code, p.unit_price, c.median_price,
					 retail.modified_z(p.v, c.center, ln(1.25) / 3.5) AS z
			  FROM prices p JOIN product_center c ON c.stock_code = p.stock_code
			  WHERE p.unit_price * p.unit_price > 1.5625 * c.center_price_squared
				 OR 1.5625 * p.unit_price * p.unit_price < c.center_price_squared) f
		WHERE abs(f.z) > order_anomalies.threshold
	),
	price_lines AS (
		SELECT t.invoice_no, f.z, f.stock_code, f.unit_price, f.median_price
		FROM outlier_prices f
			 JOIN silver.transactions t
				  ON t.stock_code = f.stock_code AND t.unit_price = f.unit_price AND t.reason IS NULL
		-- a counted line (as in silver.product_prices)
		WHERE t.quantity > CASE WHEN (SELECT retail.setting('cancellations')) = 'net' THEN t.cancelled_quantity ELSE 0 END
	),
	flags AS (
		SELECT w.invoice_no, w.z, 'wholesale_total' AS reason, NULL AS stock_code, NULL::numeric AS unit_price,
			   NULL::numeric AS median_price
		FROM wholesale w
		WHERE w.z > order_anomalies.threshold
		UNION ALL
		(SELECT DISTINCT ON (l.invoice_no) l.invoice_no, l.z, 'unit_price_outlier', l.stock_code, l.unit_price,
				l.median_price
		 FROM price_lines l
		 ORDER BY l.invoice_no, abs(l.z) DESC, l.z DESC, l.stock_code, l.unit_price)
		UNION ALL
		SELECT o.invoice_no, NULL, 'mixed_parties', NULL, NULL, NULL
		FROM silver.net_orders o
		WHERE o.mixed_parties
	)
	SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, f.z, f.reason, f.stock_code,
		   f.unit_price, f.median_price
	FROM flags f
		 JOIN silver.net_orders o ON o.invoice_no = f.invoice_no
	ORDER BY abs(f.z) DESC NULLS LAST, o.invoice_no, f.reason;
END;
COMMENT ON FUNCTION retail.order_anomalies(double precision) IS
	'Orders with a modified z-score above threshold: wholesale_total (z of ln(total) among all orders), unit_price_outlier (|z| of a line''s ln(unit_price) among its product''s lines, the scale at least ln(1.25) / 3.5; the line named), and mixed_parties (lines of more than one customer or country); the query of gold.audit_order_anomalies';

CREATE MATERIALIZED VIEW gold_store.audit_order_anomalies AS
SELECT invoice_no, customer_id, country, invoice_ts, total::numeric(38, 6) AS total, z, reason, stock_code,
	   unit_price::numeric(38, 6) AS unit_price, product_median_price::numeric(38, 6) AS product_median_price
FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold_store.audit_order_anomalies IS
	'Orders flagged by a modified z-score above the setting audit_threshold (3.5), or mixing customers or countries: one row per (order, reason), strongest |z| first';
CREATE UNIQUE INDEX ON gold_store.audit_order_anomalies (invoice_no, reason);
CREATE VIEW gold.audit_order_anomalies AS SELECT * FROM gold_store.audit_order_anomalies;

-- For BI: the orders (gold.dim_customers, one row per customer with what
-- describes it, is in 84_dim_customers.sql, after the customer value).
CREATE VIEW gold.orders AS
SELECT invoice_no, customer_id, country, invoice_ts, lines, units, total::numeric(38, 6) AS total
FROM silver.net_orders;
COMMENT ON VIEW gold.orders IS
	'One row per order (invoice) with lines left after the cancellations (setting cancellations): net lines, units and total';

-- What the netting did, for the report and for people: from the cancellation
-- lines alone (few, and indexed), not from every line.
CREATE VIEW gold.cancellation_summary AS
SELECT (SELECT retail.setting('cancellations')) AS cancellations,
	   count(*) AS cancellation_lines,
	   coalesce(sum(-t.quantity::bigint), 0)::bigint AS cancelled_units,
	   coalesce(sum(-t.quantity::bigint - t.unmatched_quantity), 0)::bigint AS matched_units,
	   coalesce(sum(t.unmatched_quantity), 0)::bigint AS unmatched_units,
	   coalesce(sum((-t.quantity::bigint - t.unmatched_quantity) * t.unit_price), 0)::numeric(38, 6) AS matched_value,
	   coalesce(sum(t.unmatched_quantity * t.unit_price), 0)::numeric(38, 6) AS unmatched_value
FROM silver.transactions t
WHERE t.unmatched_quantity IS NOT NULL;
COMMENT ON VIEW gold.cancellation_summary IS
	'One row: the cancellation lines that cancel product units, the units they cancel, how many matched earlier lines of the same customer, product and price (netted from gold under cancellations = net) and how many matched none, with their value';



INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(100, 'gold', 'gold_store', 'customer_snapshots', 'retail.maintain_customer_snapshots(bigint, bigint, boolean)');



-- Each install part now gives its settings' rules with their defaults: none
-- is left without one.
ALTER TABLE retail.setting_defaults ALTER COLUMN value_type SET NOT NULL;

-- The bound's comment named the part that gave the rules (as in
-- sql/install/45_rfm_segments.sql).
CREATE OR REPLACE FUNCTION retail.segment_snapshot_dates(as_of date, first_day date, snapshots integer)
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

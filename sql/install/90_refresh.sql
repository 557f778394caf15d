
-- Refresh: silver from the bronze lines loaded since the last refresh, then
-- every registered gold view, in one transaction.

CREATE SEQUENCE retail.refresh_run_seq;
CREATE TABLE retail.refresh_log (
	run_id bigint NOT NULL,
	step_order integer NOT NULL,
	layer text NOT NULL,
	relation text NOT NULL,
	rows bigint,
	seconds numeric NOT NULL,
	concurrent boolean NOT NULL,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'warning', 'failed', 'nothing_new', 'unchanged')),
	error text,
	sqlstate text,
	setting text,
	run_kind text CHECK (run_kind IN ('append', 'rebuild', 'nothing_new')),
	reason text CHECK (reason IN ('full_requested', 'bronze_changed', 'settings_changed', 'gold_retry')),
	PRIMARY KEY (run_id, step_order)
);

-- The ABC marts and the audit, computed whole at each refresh, are tables
-- that their steps bring to the rows of their queries, matched by primary
-- key: only the rows gone, changed or new are written, under row locks, so
-- readers are never blocked and see the change at the commit (REFRESH
-- MATERIALIZED VIEW CONCURRENTLY compared whole rows, and deleted and
-- inserted every changed one).  The query runs once (MATERIALIZED); a row
-- whose values are all equal, NULL to NULL, is not written again.
CREATE FUNCTION retail.sync_table(target regclass, query text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	columns text;
	assignments text;
	same_key text;
	written bigint;
BEGIN
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
		   string_agg(format('%1$I = s.%1$I', a.attname), ', ' ORDER BY a.attnum)
	INTO columns, assignments
	FROM pg_attribute a
	WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped;
	SELECT string_agg(format('t.%1$I = s.%1$I', a.attname), ' AND ')
	INTO same_key
	FROM pg_index i
		 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
	WHERE i.indrelid = target AND i.indisprimary;
	IF same_key IS NULL THEN
		RAISE EXCEPTION 'table % has no primary key', target
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'retail.sync_table matches the rows of the query with the table''s by its primary key.';
	END IF;
	-- the query's columns take the table's names, in order: one too many or
	-- too few is an error
	EXECUTE format($sync$
		WITH source (%2$s) AS MATERIALIZED (
			%3$s
		),
		gone AS (
			DELETE FROM %1$s t
			WHERE NOT EXISTS (SELECT FROM source s WHERE %4$s)
			RETURNING 1
		),
		changed AS (
			UPDATE %1$s t SET %5$s
			FROM source s
			WHERE %4$s AND ROW(t.*) IS DISTINCT FROM ROW(s.*)
			RETURNING 1
		),
		added AS (
			INSERT INTO %1$s
			SELECT s.* FROM source s
			WHERE NOT EXISTS (SELECT FROM %1$s t WHERE %4$s)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
	$sync$, target, columns, query, same_key, assignments) INTO written;
	RETURN written;
END
$$;
COMMENT ON FUNCTION retail.sync_table(regclass, text) IS
	'Bring a table to exactly the rows of a query (its columns, in order), matched by the table''s primary key: delete the keys the query lacks, update the rows whose values differ (IS DISTINCT FROM), insert the new keys; returns the rows written. Row-level writes only: readers are not blocked and see the change at the commit';


-- Relation-taking functions for readers (issue 18): retail.rfm_segments and
-- retail.cohort_retention take the names of their columns, as
-- retail.btyd_summary does, so retail_bi can run them on gold.orders.  A new
-- signature is a new function: drop the old one, create the new one as
-- sql/install/45_rfm_segments.sql and 50_cohort.sql do, with the grants of
-- sql/install/99_privileges.sql.
DROP FUNCTION retail.rfm_segments(regclass, date, integer, text, text);
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

DROP FUNCTION retail.cohort_retention(regclass, text, boolean);
CREATE FUNCTION retail.cohort_retention(lines regclass, granularity text DEFAULT 'month',
										unbounded boolean DEFAULT false,
										customer_column name DEFAULT 'customer_id',
										time_column name DEFAULT 'invoice_ts',
										value_column name DEFAULT 'line_total')
	RETURNS SETOF retail.cohort_cell
	AS 'MODULE_PATHNAME', 'ra_cohort_retention' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.cohort_retention(regclass, text, boolean, name, name, name) IS
	'Dense cohort retention matrix of a relation, its columns named by customer_column, time_column and value_column (default customer_id, invoice_ts, line_total; SELECT privilege required); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';

REVOKE EXECUTE ON FUNCTION retail.rfm_segments(regclass, date, integer, text, text, name, name, name, name),
	retail.cohort_retention(regclass, text, boolean, name, name, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.rfm_segments(regclass, date, integer, text, text, name, name, name, name),
	retail.cohort_retention(regclass, text, boolean, name, name, name) TO retail_bi;

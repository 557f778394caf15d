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


-- One call: the finished segments of any relation of order lines with the
-- silver column names (customer_id, invoice_no, invoice_ts, line_total),
-- scored on the lines before as_of_date.  This part is also run by the
-- upgrade scripts.
CREATE OR REPLACE FUNCTION retail.rfm_segments(lines regclass, as_of_date date DEFAULT NULL, bins integer DEFAULT 5,
									preset text DEFAULT 'standard', seed_preset text DEFAULT 'seed')
	RETURNS TABLE (customer_id bigint, recency_days integer, frequency bigint, monetary numeric,
				   r integer, f integer, m integer, rfm_cell text, segment text, seed_segment text,
				   first_purchase timestamp, last_purchase timestamp, as_of date)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	customers retail.customer_summary_row[];
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
	EXECUTE format($query$
		SELECT array_agg(ROW(g.customer_id, (g.s).first_purchase, (g.s).last_purchase, (g.s).frequency,
							 (g.s).monetary)::retail.customer_summary_row)
		FROM (SELECT l.customer_id::bigint AS customer_id,
					 retail.rfm_customer(l.invoice_no::text, l.invoice_ts::timestamp, l.line_total::numeric) AS s
			  FROM %s l
			  WHERE l.customer_id IS NOT NULL AND ($1 IS NULL OR l.invoice_ts < $1)
			  GROUP BY 1) g
	$query$, lines) INTO customers USING as_of_date;
	RETURN QUERY SELECT * FROM retail.rfm_segments_of(customers, as_of_date, bins, preset, seed_preset);
END
$$;
COMMENT ON FUNCTION retail.rfm_segments(regclass, date, integer, text, text) IS
	'RFM segments of the order lines in a relation (customer_id, invoice_no, invoice_ts, line_total): one row per customer with a line before as_of_date (default: every line, as_of the day after the last)';


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

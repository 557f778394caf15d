-- Order-anomaly audit, one unit: exact median and MAD in C (src/audit.c),
-- modified z-scores, the mart gold.audit_order_anomalies (step 400) with its
-- setting and column comments; its test is test/sql/audit.sql.

CREATE TYPE retail.median_mad_result AS (
	median double precision,
	mad double precision
);
COMMENT ON TYPE retail.median_mad_result IS
	'Result of retail.median_mad: the median and the median absolute deviation';

CREATE FUNCTION retail.median_mad_trans(internal, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_trans(internal, double precision) IS
	'Transition function of retail.median_mad: collects the values';

CREATE FUNCTION retail.median_mad_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_combine(internal, internal) IS
	'Combine function of retail.median_mad: merges two partial states';

CREATE FUNCTION retail.median_mad_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_median_mad_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_serial(internal) IS
	'Serialization function of retail.median_mad';

CREATE FUNCTION retail.median_mad_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_deserial(bytea, internal) IS
	'Deserialization function of retail.median_mad; rejects malformed states';

CREATE FUNCTION retail.median_mad_final(internal) RETURNS retail.median_mad_result
	AS 'MODULE_PATHNAME', 'ra_median_mad_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_final(internal) IS
	'Final function of retail.median_mad: selects the median, then the median of the absolute deviations';

CREATE AGGREGATE retail.median_mad(double precision) (
	SFUNC = retail.median_mad_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = retail.median_mad_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.median_mad_combine,
	SERIALFUNC = retail.median_mad_serial,
	DESERIALFUNC = retail.median_mad_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.median_mad(double precision) IS
	'Exact median and median absolute deviation of the non-NULL values (even count: the mean of the two middle values, as percentile_cont(0.5)); NULL when there are none';

-- The weighted form: each value counts weight times (the state keeps one
-- entry per row, not one per occurrence).  The same C as the unweighted
-- form, whose rows are values of weight 1, and the same support functions.
CREATE FUNCTION retail.median_mad_trans(internal, double precision, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_trans(internal, double precision, bigint) IS
	'Transition function of retail.median_mad(double precision, bigint): collects the values with their weights';

CREATE AGGREGATE retail.median_mad(value double precision, weight bigint) (
	SFUNC = retail.median_mad_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = retail.median_mad_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.median_mad_combine,
	SERIALFUNC = retail.median_mad_serial,
	DESERIALFUNC = retail.median_mad_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.median_mad(double precision, bigint) IS
	'Exact median and median absolute deviation of the non-NULL values, each counted weight times: what retail.median_mad(value) gives on the rows repeated weight times; a weight of 0 adds nothing, a NULL or negative weight of a non-NULL value is an error; NULL when no value has weight';

CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN (center).mad > 0
			THEN 0.6745::double precision * (value - (center).median) / (center).mad
	   END;
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result) IS
	'Modified z-score 0.6745 * (value - median) / MAD; NULL when the MAD is 0 (no score, never flagged)';

CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result,
								  min_scale double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (value - (center).median) / nullif(greatest((center).mad / 0.6745, min_scale), 0);
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result, double precision) IS
	'Robust z-score (value - median) / max(MAD / 0.6745, min_scale): the modified z-score whose scale never falls below min_scale, so that a MAD of 0 or near it does not flag values within min_scale * threshold of the median; NULL when the scale is 0';

INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('audit_threshold', '3.5', 'gold.audit_order_anomalies: flag a modified z-score above this',
	 'number', 0, true, NULL, false);

-- The audit's query, with its threshold as argument.  One row per (order,
-- reason): wholesale_total when the order's z of ln(total) exceeds the
-- threshold; unit_price_outlier when one of its lines has |z| of
-- ln(unit_price), against the lines of the same product, above it (the line
-- with the largest |z| is named: its product, price and z, and the product's
-- median price); mixed_parties when its lines carry more than one customer
-- or country (z NULL).  The price z's scale is at least ln(1.25) / 3.5, as
-- the contract says: a product sold at one list price (MAD 0 or near it)
-- must not flag its ordinary variants within a factor 1.25.  PL/pgSQL, as
-- Citus plans a SQL function's statement over distributed tables only there
-- (doc/citus.md); it returns few rows.
CREATE FUNCTION retail.order_anomalies(threshold double precision DEFAULT 3.5)
RETURNS TABLE (invoice_no text, customer_id bigint, country text, invoice_ts timestamp,
			   total numeric, z double precision, reason text, stock_code text, unit_price numeric,
			   product_median_price numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	-- one row, computed once (however few orders the statistics expect):
	-- the centre, and the total that an order must exceed for its z to
	-- exceed the threshold, less a millionth (the z's rounding is some
	-- 1e-15), so that only the few orders above it get a z; NULL when the
	-- MAD is 0 (no z)
	WITH order_center AS MATERIALIZED (
		SELECT c.center,
			   exp(least(greatest((c.center).median + order_anomalies.threshold * (c.center).mad / 0.6745::double precision,
								  -700), 700))::numeric * 0.999999 AS least_total
		FROM (SELECT retail.median_mad(ln(o.total::double precision)) AS center
			  FROM silver.net_orders o) c
		WHERE (c.center).mad > 0
	),
	wholesale AS (
		SELECT o.*, retail.modified_z(ln(o.total::double precision), c.center) AS z
		FROM silver.net_orders o JOIN order_center c ON o.total > c.least_total
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
	-- each invoice's strongest line; the invoices in byte order, which
	-- sorts faster and picks the same line
	price_flags AS (
		SELECT DISTINCT ON (l.invoice_no COLLATE "C") l.invoice_no, l.z, l.stock_code, l.unit_price,
			   l.median_price
		FROM price_lines l
		ORDER BY l.invoice_no COLLATE "C", abs(l.z) DESC, l.z DESC, l.stock_code, l.unit_price
	),
	-- each branch reads its orders' columns where it finds them: joined to
	-- the flags, whose number the planner cannot foresee, the orders were
	-- hashed whole
	flags AS (
		SELECT w.invoice_no, w.customer_id, w.country, w.invoice_ts, w.total, w.z, 'wholesale_total' AS reason,
			   NULL AS stock_code, NULL::numeric AS unit_price, NULL::numeric AS median_price
		FROM wholesale w
		WHERE w.z > order_anomalies.threshold
		UNION ALL
		SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, p.z, 'unit_price_outlier',
			   p.stock_code, p.unit_price, p.median_price
		FROM price_flags p
			 JOIN silver.net_orders o ON o.invoice_no = p.invoice_no
		UNION ALL
		SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, NULL, 'mixed_parties', NULL, NULL,
			   NULL
		FROM silver.net_orders o
		WHERE o.mixed_parties
	)
	SELECT f.*
	FROM flags f
	ORDER BY abs(f.z) DESC NULLS LAST, f.invoice_no, f.reason;
END
$$;
COMMENT ON FUNCTION retail.order_anomalies(double precision) IS
	'Orders with a modified z-score above threshold: wholesale_total (z of ln(total) among all orders), unit_price_outlier (|z| of a line''s ln(unit_price) among its product''s lines, the scale at least ln(1.25) / 3.5; the line named), and mixed_parties (lines of more than one customer or country); the query of gold.audit_order_anomalies';

-- The mart is a table that step 400 brings to the rows of its query
-- (retail.sync_table), writing only the rows that change; gold shows them
-- strongest first.
CREATE TABLE gold_store.audit_order_anomalies (
	invoice_no text,
	customer_id bigint,
	country text,
	invoice_ts timestamp,
	total numeric(38, 6),
	z double precision,
	reason text,
	stock_code text,
	unit_price numeric(38, 6),
	product_median_price numeric(38, 6),
	PRIMARY KEY (invoice_no, reason)
);
COMMENT ON TABLE gold_store.audit_order_anomalies IS
	'Orders flagged by a modified z-score above the setting audit_threshold (3.5), or mixing customers or countries: one row per (order, reason), strongest |z| first';
CREATE VIEW gold.audit_order_anomalies AS
SELECT * FROM gold_store.audit_order_anomalies ORDER BY abs(z) DESC NULLS LAST, invoice_no, reason;

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold_store.audit_order_anomalies.total IS
	'Order total: sum of line_total';
COMMENT ON COLUMN gold_store.audit_order_anomalies.z IS
	'Modified z-score: 0.6745 (x - median) / MAD of ln(total) for wholesale_total; (x - median) / max(MAD / 0.6745, ln(1.25) / 3.5) of the named line''s ln(unit_price) among its product''s lines for unit_price_outlier (a price within a factor 1.25 of the median is never flagged); NULL for mixed_parties';
COMMENT ON COLUMN gold_store.audit_order_anomalies.reason IS
	'wholesale_total, unit_price_outlier or mixed_parties (lines with more than one customer or country)';
COMMENT ON COLUMN gold_store.audit_order_anomalies.stock_code IS
	'unit_price_outlier: the product of the line with the largest |z|';
COMMENT ON COLUMN gold_store.audit_order_anomalies.unit_price IS
	'unit_price_outlier: the unit price of that line';
COMMENT ON COLUMN gold_store.audit_order_anomalies.product_median_price IS
	'unit_price_outlier: the median unit price of the product over its clean lines';

-- Step 400 of the refresh.  The centres are medians over every order and
-- every line of a product, so the mart is computed whole whatever the batch
-- touched; the threshold is a sub-select, read once a refresh.
CREATE FUNCTION retail.maintain_order_anomalies(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN retail.sync_table('gold_store.audit_order_anomalies', $query$
		SELECT invoice_no, customer_id, country, invoice_ts, total::numeric(38, 6) AS total, z, reason, stock_code,
			   unit_price::numeric(38, 6) AS unit_price, product_median_price::numeric(38, 6) AS product_median_price
		FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
	$query$);
END
$$;
COMMENT ON FUNCTION retail.maintain_order_anomalies(bigint, bigint, boolean) IS
	'Step 400 of retail.refresh(): brings gold_store.audit_order_anomalies to retail.order_anomalies() at the setting audit_threshold, from all of silver whatever the lines (after, through], writing only the rows that change; returns how many rows it wrote';

INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(400, 'gold', 'gold_store', 'audit_order_anomalies', 'retail.maintain_order_anomalies(bigint, bigint, boolean)');

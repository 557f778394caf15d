-- Issue 18: a product sold for less than 3 calendar months has no demand
-- pattern yet: retail.xyz_cv is NULL for it (src/abc.c) and
-- retail.xyz_class gives it class N; the products mart and the report's
-- ABC-XYZ matrix show it.  The C changed with the shared library; here the
-- comments and the report.
COMMENT ON AGGREGATE retail.xyz_cv(timestamp, bigint) IS
	'Coefficient of variation (population stddev / mean) of units per calendar month from the first to the last month with a row, empty months counting 0; NULL when that span is shorter than 3 months (no demand pattern yet) or has no units';
COMMENT ON FUNCTION retail.xyz_class(numeric, numeric, numeric) IS
	'XYZ class of a coefficient of variation: X if cv < x, Y if cv < y, else Z (0 < x < y); N (new, no demand pattern yet) for a NULL cv';
COMMENT ON FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) IS
	'ABC by revenue and XYZ by monthly demand variability of products (stock_code) with thresholds a, b, x, y (N: an active span under 3 months): the query of gold.mart_products_abc';
COMMENT ON MATERIALIZED VIEW gold.mart_products_abc IS
	'Products (stock_code) ranked by revenue with ABC class, coefficient of variation of monthly units, XYZ class (X < 0.5, Y < 1.0, else Z; N when the active span is shorter than 3 months) and the ABC-XYZ cell';
COMMENT ON COLUMN gold.mart_products_abc.cv IS
	'Coefficient of variation of monthly units over the product''s active span (months without a line count 0); NULL when the span is shorter than 3 calendar months';
COMMENT ON COLUMN gold.mart_products_abc.xyz_class IS
	'X if cv < setting xyz_x (0.5), Y if cv < xyz_y (1.0), else Z; N (new) when cv is NULL: an active span shorter than 3 calendar months has no demand pattern yet';
COMMENT ON COLUMN gold.mart_products_abc.abc_xyz IS
	'abc_class followed by xyz_class, e.g. AX, CN';

-- Issue 18: the unit-price z-score's scale is at least ln(1.25) / 3.5, so a
-- price within a factor 1.25 of its product's median is never flagged
-- (a MAD of 0 or near it flagged list-price variants; MAD 0 flagged nothing).
CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result,
								  min_scale double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (value - (center).median) / nullif(greatest((center).mad / 0.6745, min_scale), 0);
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result, double precision) IS
	'Robust z-score (value - median) / max(MAD / 0.6745, min_scale): the modified z-score whose scale never falls below min_scale, so that a MAD of 0 or near it does not flag values within min_scale * threshold of the median; NULL when the scale is 0';
REVOKE EXECUTE ON FUNCTION retail.modified_z(double precision, retail.median_mad_result, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.modified_z(double precision, retail.median_mad_result, double precision) TO retail_bi;

-- The audit's query with that floor, in PL/pgSQL, where Citus plans its
-- statement over distributed lines (70_audit.sql).
CREATE OR REPLACE FUNCTION retail.order_anomalies(threshold double precision DEFAULT 3.5)
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
-- OR REPLACE resets what 99_privileges.sql set
ALTER FUNCTION retail.order_anomalies(double precision) SECURITY DEFINER;
ALTER FUNCTION retail.order_anomalies(double precision) SET search_path = pg_catalog, pg_temp;
COMMENT ON COLUMN gold.audit_order_anomalies.z IS
	'Modified z-score: 0.6745 (x - median) / MAD of ln(total) for wholesale_total; (x - median) / max(MAD / 0.6745, ln(1.25) / 3.5) of the named line''s ln(unit_price) among its product''s lines for unit_price_outlier (a price within a factor 1.25 of the median is never flagged); NULL for mixed_parties';

-- Order-anomaly audit: exact median and MAD in C (src/audit.c), modified
-- z-scores, and the mart gold.audit_order_anomalies.

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

CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN (center).mad > 0
			THEN 0.6745::double precision * (value - (center).median) / (center).mad
	   END;
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result) IS
	'Modified z-score 0.6745 * (value - median) / MAD; NULL when the MAD is 0 (no score, never flagged)';

-- The audit's query, with its threshold as argument.  One row per (order,
-- reason): wholesale_total when the order's z of ln(total) exceeds the
-- threshold; unit_price_outlier when one of its lines has |z| of
-- ln(unit_price), against the lines of the same product, above it (z is then
-- that of the line with the largest |z|).
CREATE FUNCTION retail.order_anomalies(threshold double precision DEFAULT 3.5)
RETURNS TABLE (invoice_no text, customer_id bigint, country text, invoice_ts timestamp,
			   total numeric, z double precision, reason text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH order_center AS (
		SELECT retail.median_mad(ln(o.total::double precision)) AS center
		FROM silver.orders o
	),
	wholesale AS (
		SELECT o.invoice_no, retail.modified_z(ln(o.total::double precision), c.center) AS z
		FROM silver.orders o CROSS JOIN order_center c
	),
	-- each product's centre of ln(unit_price) over its lines, from the count
	-- of lines at each price: the value of rank k (0-based) is the first
	-- whose running count exceeds k; an even count takes lo + (hi - lo) * 0.5,
	-- as retail.median_mad does
	prices AS (
		SELECT p.stock_code, p.unit_price, ln(p.unit_price::double precision) AS v, p.lines,
			   (sum(p.lines) OVER (PARTITION BY p.stock_code))::bigint AS n
		FROM silver.product_prices p
	),
	medians AS (
		SELECT x.stock_code, x.lo + (x.hi - x.lo) * 0.5 AS median
		FROM (SELECT r.stock_code, min(r.v) FILTER (WHERE r.running > (r.n - 1) / 2) AS lo,
					 min(r.v) FILTER (WHERE r.running > r.n / 2) AS hi
			  FROM (SELECT p.*, (sum(p.lines) OVER (PARTITION BY p.stock_code ORDER BY p.v
													ROWS UNBOUNDED PRECEDING))::bigint AS running
					FROM prices p) r
			  GROUP BY r.stock_code) x
	),
	product_center AS (
		SELECT x.stock_code, ROW(x.median, x.lo + (x.hi - x.lo) * 0.5)::retail.median_mad_result AS center
		FROM (SELECT r.stock_code, r.median, min(r.d) FILTER (WHERE r.running > (r.n - 1) / 2) AS lo,
					 min(r.d) FILTER (WHERE r.running > r.n / 2) AS hi
			  FROM (SELECT p.stock_code, m.median, p.n, abs(p.v - m.median) AS d,
						   (sum(p.lines) OVER (PARTITION BY p.stock_code ORDER BY abs(p.v - m.median)
											   ROWS UNBOUNDED PRECEDING))::bigint AS running
					FROM prices p JOIN medians m ON m.stock_code = p.stock_code) r
			  GROUP BY r.stock_code, r.median) x
	),
	price_lines AS (
		-- the lines at a price whose |z| exceeds the threshold
		SELECT t.invoice_no, f.z
		FROM (SELECT p.stock_code, p.unit_price, retail.modified_z(p.v, c.center) AS z
			  FROM prices p JOIN product_center c ON c.stock_code = p.stock_code
			  WHERE (c.center).mad > 0) f
			 JOIN silver.transactions t
				  ON t.stock_code = f.stock_code AND t.unit_price = f.unit_price AND t.reason IS NULL
		WHERE abs(f.z) > order_anomalies.threshold
	),
	flags AS (
		SELECT w.invoice_no, w.z, 'wholesale_total' AS reason
		FROM wholesale w
		WHERE w.z > order_anomalies.threshold
		UNION ALL
		(SELECT DISTINCT ON (l.invoice_no) l.invoice_no, l.z, 'unit_price_outlier'
		 FROM price_lines l
		 ORDER BY l.invoice_no, abs(l.z) DESC, l.z DESC)
	)
	SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, f.z, f.reason
	FROM flags f
		 JOIN silver.orders o ON o.invoice_no = f.invoice_no
	ORDER BY o.invoice_no, f.reason;
END;
COMMENT ON FUNCTION retail.order_anomalies(double precision) IS
	'Orders with a modified z-score above threshold: wholesale_total (z of ln(total) among all orders) and unit_price_outlier (|z| of a line''s ln(unit_price) among its product''s lines); the query of gold.audit_order_anomalies';

INSERT INTO retail.setting_defaults VALUES
	('audit_threshold', '3.5', 'gold.audit_order_anomalies: flag a modified z-score above this');

CREATE MATERIALIZED VIEW gold.audit_order_anomalies AS
SELECT invoice_no, customer_id, country, invoice_ts, total, z, reason
FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.audit_order_anomalies IS
	'Orders flagged by a modified z-score above 3.5, one row per (order, reason): wholesale_total, unit_price_outlier';
CREATE UNIQUE INDEX ON gold.audit_order_anomalies (invoice_no, reason);

INSERT INTO retail.refresh_steps VALUES
	(400, 'gold', 'gold', 'audit_order_anomalies');


-- Gold: the marts, computed from the silver states by the aggregates of the
-- feature parts, and the ad-hoc forms of their queries.  Each mart is a
-- materialized view in gold_store that retail.refresh() refreshes (steps
-- registered by the feature parts) and that REFRESH MATERIALIZED VIEW alone
-- also brings up to silver; readers see it as the plain view of the same name
-- in gold (information_schema lists no materialized view), which runs as its
-- owner and takes the mart's comments (96_gold_columns.sql).  This part is
-- also run by the upgrade scripts, after they drop the gold objects of the
-- older version.

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

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold_store.mart_countries_abc.country IS
	'Country';
COMMENT ON COLUMN gold_store.mart_countries_abc.revenue IS
	'Revenue of the country: sum of line_total';
COMMENT ON COLUMN gold_store.mart_products_abc.revenue IS
	'Revenue of the product: sum of line_total';
COMMENT ON COLUMN gold_store.mart_products_abc.description IS
	'The product''s most frequent description (ties: the first alphabetically)';
COMMENT ON COLUMN gold_store.mart_products_abc.cv IS
	'Coefficient of variation of monthly units over the product''s active span (months without a line count 0); NULL when the span is shorter than 3 calendar months';
COMMENT ON COLUMN gold_store.mart_products_abc.xyz_class IS
	'X if cv < setting xyz_x (0.5), Y if cv < xyz_y (1.0), else Z; N (new) when cv is NULL: an active span shorter than 3 calendar months has no demand pattern yet';
COMMENT ON COLUMN gold_store.mart_products_abc.abc_xyz IS
	'abc_class followed by xyz_class, e.g. AX, CN';
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
COMMENT ON COLUMN gold.orders.lines IS
	'Net lines of the order: clean lines with units left after their cancellations';
COMMENT ON COLUMN gold.orders.units IS
	'Units ordered: sum of net quantity';
COMMENT ON COLUMN gold.orders.total IS
	'Order total: sum of net line_total';
COMMENT ON COLUMN gold.cancellation_summary.cancellations IS
	'The setting cancellations: net (gold nets them) or ignore';
COMMENT ON COLUMN gold.cancellation_summary.cancellation_lines IS
	'Cancellation lines that cancel product units (a customer, a product, a positive price, a negative quantity)';
COMMENT ON COLUMN gold.cancellation_summary.cancelled_units IS
	'Units those lines cancel';
COMMENT ON COLUMN gold.cancellation_summary.matched_units IS
	'Of those, the units matched to earlier lines of the same customer, product and price';
COMMENT ON COLUMN gold.cancellation_summary.unmatched_units IS
	'Of those, the units no earlier line was left to match (its order predates the data, or was at another price)';
COMMENT ON COLUMN gold.cancellation_summary.matched_value IS
	'matched_units x unit_price: the revenue netted from gold under cancellations = net';
COMMENT ON COLUMN gold.cancellation_summary.unmatched_value IS
	'unmatched_units x unit_price';


-- Gold: the marts, computed from the silver states by the aggregates of the
-- feature parts, and the ad-hoc forms of their queries.  Each mart is a
-- materialized view that retail.refresh() refreshes (steps registered by the
-- feature parts) and that REFRESH MATERIALIZED VIEW alone also brings up to
-- silver.  This part is also run by the upgrade scripts, after they drop the
-- gold objects of the older version.

-- RFM (src/rfm.c, 40_rfm.sql)
-- Scores and segments of customers: the mart's path (from
-- silver.customer_state) and the ad-hoc one (from any relation) both end here.
CREATE FUNCTION retail.rfm_segments_of(customers retail.customer_summary_row[], as_of_date date DEFAULT NULL,
									   bins integer DEFAULT 5, preset text DEFAULT 'standard',
									   seed_preset text DEFAULT 'seed')
	RETURNS TABLE (customer_id bigint, recency_days integer, frequency bigint, monetary numeric,
				   r integer, f integer, m integer, rfm_cell text, segment text, seed_segment text,
				   first_purchase timestamp, last_purchase timestamp, as_of date)
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH summaries AS MATERIALIZED (
		SELECT c.customer_id, c.first_purchase, c.last_purchase, c.frequency, c.monetary
		FROM unnest(rfm_segments_of.customers) c
		WHERE c.customer_id IS NOT NULL
	),
	measured AS MATERIALIZED (
		SELECT s.*, retail.rfm_recency_days(s.last_purchase, d.as_of) AS recency_days, d.as_of
		FROM summaries s,
			 (SELECT coalesce(rfm_segments_of.as_of_date, max(x.last_purchase)::date + 1) AS as_of
			  FROM summaries x) d
	),
	scored AS MATERIALIZED (
		SELECT x.*, retail.rfm_score(model.cuts, x.recency_days, x.frequency, x.monetary) AS s
		FROM measured x,
			 (SELECT retail.rfm_model(y.recency_days, y.frequency, y.monetary, rfm_segments_of.bins) AS cuts
			  FROM measured y) model
	)
	SELECT x.customer_id, x.recency_days, x.frequency, x.monetary, (x.s).r, (x.s).f, (x.s).m,
		   (x.s).r::text || (x.s).f::text || (x.s).m::text,
		   retail.rfm_segment(rfm_segments_of.preset, (x.s).r, (x.s).f, (x.s).m, x.recency_days),
		   retail.rfm_segment(rfm_segments_of.seed_preset, (x.s).r, (x.s).f, (x.s).m, x.recency_days),
		   x.first_purchase, x.last_purchase, x.as_of
	FROM scored x
	ORDER BY x.customer_id;
END;
COMMENT ON FUNCTION retail.rfm_segments_of(retail.customer_summary_row[], date, integer, text, text) IS
	'RFM segments of customers given as summaries (one element each): recency to as_of (default the day after the last purchase), scores, cell and the two presets'' segments';

CREATE MATERIALIZED VIEW gold.mart_customer_segments AS
SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment,
	   first_purchase, last_purchase, as_of
FROM retail.rfm_segments_of((SELECT array_agg(ROW(s.customer_id, s.first_purchase, s.last_purchase, s.frequency,
												   s.monetary)::retail.customer_summary_row)
							 FROM silver.customer_state s),
							(SELECT retail.setting('rfm_as_of'))::date, (SELECT retail.setting('rfm_bins'))::integer,
							(SELECT retail.setting('rfm_preset')), (SELECT retail.setting('rfm_seed_preset')))
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_segments IS
	'One row per customer of silver: recency, frequency, monetary, RFM scores and cell, segments of the presets of the settings rfm_preset and rfm_seed_preset';
CREATE UNIQUE INDEX ON gold.mart_customer_segments (customer_id);
CREATE INDEX ON gold.mart_customer_segments (segment);

CREATE VIEW gold.segment_summary AS
SELECT segment, count(*) AS customers,
	   round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct_customers,
	   sum(monetary) AS revenue,
	   round(100 * sum(monetary) / sum(sum(monetary)) OVER (), 2) AS pct_revenue,
	   round(avg(recency_days), 1) AS avg_recency_days,
	   round(avg(frequency), 2) AS avg_frequency,
	   round(avg(monetary), 2) AS avg_monetary
FROM gold.mart_customer_segments
GROUP BY segment;
COMMENT ON VIEW gold.segment_summary IS 'Segments of gold.mart_customer_segments: size and share of customers and of revenue';

-- Cohort retention (src/cohort.c, 50_cohort.sql)
-- The mart: monthly cohorts of silver, bounded retention, from the
-- customers' monthly state (one row per customer and active month: the same
-- matrix as from the lines).
CREATE MATERIALIZED VIEW gold.mart_cohort_retention AS
SELECT c.cohort AS cohort_month,
	   c.period,
	   c.cohort_size,
	   c.active_customers,
	   c.retention,
	   c.revenue
FROM (SELECT retail.cohort_matrix(s.customer_id, s.month::timestamp, s.revenue) AS cells
	  FROM silver.customer_months s) m
	 CROSS JOIN LATERAL pg_catalog.unnest(m.cells) AS c
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_cohort_retention IS
	'Monthly cohorts of silver customers: for every cohort and period up to the last month of silver, cohort size, active customers, retention, revenue';
CREATE UNIQUE INDEX ON gold.mart_cohort_retention (cohort_month, period);

-- For people: the triangle in percent, and the average per period.
CREATE VIEW gold.cohort_triangle AS
SELECT r.cohort_month,
	   max(r.cohort_size) AS cohort_size,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 0), 1) AS p0,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 1), 1) AS p1,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 2), 1) AS p2,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 3), 1) AS p3,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 4), 1) AS p4,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 5), 1) AS p5,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 6), 1) AS p6,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 7), 1) AS p7,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 8), 1) AS p8,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 9), 1) AS p9,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 10), 1) AS p10,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 11), 1) AS p11,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 12), 1) AS p12
FROM gold.mart_cohort_retention r
GROUP BY r.cohort_month
ORDER BY r.cohort_month;
COMMENT ON VIEW gold.cohort_triangle IS
	'Retention triangle in percent (1 decimal): one row per monthly cohort, columns p0 .. p12; NULL where the data ends';

CREATE VIEW gold.cohort_period_averages AS
SELECT r.period,
	   count(*) AS cohorts,
	   sum(r.cohort_size) AS customers,
	   sum(r.active_customers) AS active_customers,
	   round(100 * avg(r.retention), 1) AS avg_retention_pct,
	   round(100 * sum(r.active_customers) / sum(r.cohort_size), 1) AS weighted_retention_pct
FROM gold.mart_cohort_retention r
GROUP BY r.period
ORDER BY r.period;
COMMENT ON VIEW gold.cohort_period_averages IS
	'Per period: cohorts that reached it, their customers, average retention in percent, plain (mean over cohorts) and weighted by cohort size';

-- ABC/XYZ (src/abc.c, 60_abc.sql)
-- The marts' queries, with their thresholds as arguments.
CREATE FUNCTION retail.countries_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95)
RETURNS TABLE (rank bigint, country text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
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
		SELECT DISTINCT ON (d.stock_code) d.stock_code, d.description
		FROM silver.product_descriptions d
		ORDER BY d.stock_code, d.lines DESC, d.description
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
	'ABC by revenue and XYZ by monthly demand variability of products (stock_code) with thresholds a, b, x, y: the query of gold.mart_products_abc';

-- Settings as sub-selects: computed once per refresh, not once per line.
CREATE MATERIALIZED VIEW gold.mart_countries_abc AS
SELECT rank, country, revenue, share, cum_share_before, abc_class
FROM retail.countries_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_countries_abc IS
	'Countries ranked by revenue with share, share of the countries before, and ABC class (A < 80 %, B < 95 %, else C)';
CREATE UNIQUE INDEX ON gold.mart_countries_abc (country);

CREATE MATERIALIZED VIEW gold.mart_products_abc AS
SELECT rank, stock_code, description, revenue, share, cum_share_before, abc_class,
	   cv, xyz_class, abc_xyz
FROM retail.products_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric,
						 (SELECT retail.setting('xyz_x'))::numeric, (SELECT retail.setting('xyz_y'))::numeric)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_products_abc IS
	'Products (stock_code) ranked by revenue with ABC class, coefficient of variation of monthly units, XYZ class (X < 0.5, Y < 1.0, else Z) and the ABC-XYZ cell';
CREATE UNIQUE INDEX ON gold.mart_products_abc (stock_code);

-- Order audit (src/audit.c, 70_audit.sql)
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

CREATE MATERIALIZED VIEW gold.audit_order_anomalies AS
SELECT invoice_no, customer_id, country, invoice_ts, total, z, reason
FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.audit_order_anomalies IS
	'Orders flagged by a modified z-score above 3.5, one row per (order, reason): wholesale_total, unit_price_outlier';
CREATE UNIQUE INDEX ON gold.audit_order_anomalies (invoice_no, reason);

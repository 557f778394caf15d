-- gold.mart_products_abc in plain SQL, independent of the C aggregates:
-- window functions for ABC as for countries; for XYZ, generate_series over
-- each product's months (empty ones 0) and stddev_pop / avg, none under 3
-- months (class N); GROUP BY +
-- DISTINCT ON for the most frequent description.  Used by
-- test/realdata/sql/abc.sql as the oracle and by bench/abc.sql as the
-- plain-SQL contender.
WITH lines AS (
	SELECT stock_code, description, date_trunc('month', invoice_ts) AS month, quantity, line_total
	FROM silver.net_transactions
), v AS (
	SELECT stock_code, sum(line_total) AS revenue FROM lines GROUP BY stock_code
), r AS (
	SELECT stock_code, revenue,
		   row_number() OVER w AS rank,
		   sum(revenue) OVER () AS total,
		   coalesce(sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum_before
	FROM v
	WINDOW w AS (ORDER BY revenue DESC, stock_code)
), descriptions AS (
	SELECT DISTINCT ON (stock_code) stock_code, description
	FROM lines
	WHERE description IS NOT NULL
	GROUP BY stock_code, description
	ORDER BY stock_code, count(*) DESC, description
), monthly AS (
	SELECT stock_code, month, sum(quantity) AS units FROM lines GROUP BY stock_code, month
), dense AS (
	SELECT s.stock_code, coalesce(m.units, 0) AS units
	FROM (SELECT stock_code, min(month) AS first, max(month) AS last FROM monthly GROUP BY stock_code) s
		 CROSS JOIN LATERAL generate_series(s.first, s.last, interval '1 month') g(month)
		 LEFT JOIN monthly m ON m.stock_code = s.stock_code AND m.month = g.month
), cv AS (
	-- a span of fewer than 3 months (rows of dense) has no cv
	SELECT stock_code, CASE WHEN count(*) >= 3 THEN stddev_pop(units) / avg(units) END AS cv
	FROM dense GROUP BY stock_code
), classes AS (
	SELECT r.rank, r.stock_code, d.description, r.revenue,
		   r.revenue / NULLIF(r.total, 0) AS share,
		   r.cum_before / NULLIF(r.total, 0) AS cum_share_before,
		   CASE WHEN r.total = 0 THEN 'C'
				WHEN r.cum_before < 0.80 * r.total THEN 'A'
				WHEN r.cum_before < 0.95 * r.total THEN 'B'
				ELSE 'C' END AS abc_class,
		   cv.cv,
		   CASE WHEN cv.cv IS NULL THEN 'N' WHEN cv.cv < 0.5 THEN 'X' WHEN cv.cv < 1.0 THEN 'Y' ELSE 'Z' END AS xyz_class
	FROM r
		 JOIN cv ON cv.stock_code = r.stock_code
		 LEFT JOIN descriptions d ON d.stock_code = r.stock_code
)
SELECT *, abc_class || xyz_class AS abc_xyz
FROM classes

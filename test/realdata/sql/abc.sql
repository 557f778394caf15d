-- ABC/XYZ marts on the real UCI data against independent plain-SQL
-- formulations: window functions for ranks, shares and classes;
-- generate_series over each product's months with stddev_pop / avg for cv;
-- GROUP BY + DISTINCT ON for the most frequent description.  Every
-- mismatch count must be 0.

-- Countries: value = revenue; classes decided on exact sums
-- (cum_before < 0.80 * total), shares = exact sum / total.
CREATE TEMP TABLE oracle_countries AS
WITH v AS (
	SELECT country, sum(line_total) AS revenue
	FROM silver.cleaned_transactions
	GROUP BY country
), r AS (
	SELECT country, revenue,
		   row_number() OVER w AS rank,
		   sum(revenue) OVER () AS total,
		   coalesce(sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum_before
	FROM v
	WINDOW w AS (ORDER BY revenue DESC, country)
)
SELECT rank, country, revenue,
	   revenue / NULLIF(total, 0) AS share,
	   cum_before / NULLIF(total, 0) AS cum_share_before,
	   CASE WHEN total = 0 THEN 'C'
			WHEN cum_before < 0.80 * total THEN 'A'
			WHEN cum_before < 0.95 * total THEN 'B'
			ELSE 'C' END AS abc_class
FROM r;

SELECT count(*) AS country_mismatches
FROM gold.mart_countries_abc m
	 FULL JOIN oracle_countries o ON o.country = m.country
WHERE m.country IS NULL OR o.country IS NULL
   OR m.rank <> o.rank OR m.revenue <> o.revenue OR m.share <> o.share
   OR m.cum_share_before <> o.cum_share_before OR m.abc_class <> o.abc_class;

-- The spec's wording, cum_share_before = sum of the (rounded) shares before:
-- the same up to rounding, and the same classes.
SELECT count(*) AS country_cum_share_mismatches
FROM (SELECT m.cum_share_before,
			 coalesce(sum(m.share) OVER (ORDER BY m.rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS summed,
			 m.abc_class
	  FROM gold.mart_countries_abc m) s
WHERE abs(s.cum_share_before - s.summed) > 1e-15
   OR s.abc_class <> CASE WHEN s.summed < 0.80 THEN 'A' WHEN s.summed < 0.95 THEN 'B' ELSE 'C' END;

-- Headline figures: the UK alone is past 80 %, five more countries to 95 %.
SELECT abc_class, count(*) AS countries, sum(revenue) AS revenue
FROM oracle_countries GROUP BY abc_class ORDER BY abc_class;
SELECT rank, country, revenue, round(share, 6) AS share, round(cum_share_before, 6) AS cum_share_before, abc_class
FROM oracle_countries WHERE rank <= 7 ORDER BY rank;

-- Products: same ABC rule per stock_code, plus XYZ and description.
CREATE TEMP TABLE oracle_products AS
WITH lines AS (
	SELECT stock_code, description, date_trunc('month', invoice_ts) AS month, quantity, line_total
	FROM silver.cleaned_transactions
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
	SELECT stock_code, stddev_pop(units) / avg(units) AS cv FROM dense GROUP BY stock_code
)
SELECT r.rank, r.stock_code, d.description, r.revenue,
	   r.revenue / NULLIF(r.total, 0) AS share,
	   r.cum_before / NULLIF(r.total, 0) AS cum_share_before,
	   CASE WHEN r.total = 0 THEN 'C'
			WHEN r.cum_before < 0.80 * r.total THEN 'A'
			WHEN r.cum_before < 0.95 * r.total THEN 'B'
			ELSE 'C' END AS abc_class,
	   cv.cv,
	   CASE WHEN cv.cv < 0.5 THEN 'X' WHEN cv.cv < 1.0 THEN 'Y' ELSE 'Z' END AS xyz_class
FROM r
	 JOIN cv ON cv.stock_code = r.stock_code
	 LEFT JOIN descriptions d ON d.stock_code = r.stock_code;

SELECT count(*) AS product_mismatches
FROM gold.mart_products_abc m
	 FULL JOIN oracle_products o ON o.stock_code = m.stock_code
WHERE m.stock_code IS NULL OR o.stock_code IS NULL
   OR m.rank <> o.rank OR m.revenue <> o.revenue OR m.share <> o.share
   OR m.cum_share_before <> o.cum_share_before OR m.abc_class <> o.abc_class
   OR m.description IS DISTINCT FROM o.description
   OR abs(m.cv - o.cv) > 1e-12 OR m.xyz_class <> o.xyz_class
   OR m.abc_xyz <> o.abc_class || o.xyz_class;

-- Headline figures: the ABC-XYZ matrix, products and revenue per cell.
SELECT abc_class, xyz_class, count(*) AS products, sum(revenue) AS revenue
FROM oracle_products GROUP BY abc_class, xyz_class ORDER BY abc_class, xyz_class;
SELECT rank, stock_code, description, revenue, abc_class, round(cv, 6) AS cv, xyz_class
FROM oracle_products WHERE rank <= 5 ORDER BY rank;

-- The functions behind the marts take the thresholds.
SELECT abc_class, count(*) AS countries
FROM retail.countries_abc(0.5, 0.9) GROUP BY abc_class ORDER BY abc_class;
SELECT count(*) AS product_threshold_mismatches
FROM retail.products_abc(0.7, 0.9, 0.25, 0.75) f
	 JOIN oracle_products o ON o.stock_code = f.stock_code
WHERE f.abc_class <> CASE WHEN o.cum_share_before < 0.7 THEN 'A' WHEN o.cum_share_before < 0.9 THEN 'B' ELSE 'C' END
   OR f.xyz_class <> CASE WHEN o.cv < 0.25 THEN 'X' WHEN o.cv < 0.75 THEN 'Y' ELSE 'Z' END;

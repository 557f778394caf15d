-- ABC/XYZ marts on the real UCI data against independent plain-SQL
-- formulations: window functions for ranks, shares and classes;
-- generate_series over each product's months with stddev_pop / avg for cv;
-- GROUP BY + DISTINCT ON for the most frequent description.  Every
-- mismatch count must be 0.

-- The oracles live in test/realdata/oracle/ (bench/abc.sql races them).  The
-- marts' shares are the doubles nearest the exact ratios: they must agree
-- with the oracle's numeric ratios to double precision (relative 1e-15).
\set countries_oracle `cat test/realdata/oracle/countries_abc.sql`
\set products_oracle `cat test/realdata/oracle/products_abc.sql`

CREATE TEMP TABLE oracle_countries AS :countries_oracle;

SELECT count(*) AS country_mismatches
FROM gold.mart_countries_abc m
	 FULL JOIN oracle_countries o ON o.country = m.country
WHERE m.country IS NULL OR o.country IS NULL
   OR m.rank <> o.rank OR m.revenue <> o.revenue
   OR abs(m.share - o.share::double precision) > 1e-15 * o.share::double precision
   OR abs(m.cum_share_before - o.cum_share_before::double precision) > 1e-15 * o.cum_share_before::double precision
   OR m.abc_class <> o.abc_class;

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
CREATE TEMP TABLE oracle_products AS :products_oracle;

SELECT count(*) AS product_mismatches
FROM gold.mart_products_abc m
	 FULL JOIN oracle_products o ON o.stock_code = m.stock_code
WHERE m.stock_code IS NULL OR o.stock_code IS NULL
   OR m.rank <> o.rank OR m.revenue <> o.revenue
   OR abs(m.share - o.share::double precision) > 1e-15 * o.share::double precision
   OR abs(m.cum_share_before - o.cum_share_before::double precision) > 1e-15 * o.cum_share_before::double precision
   OR m.abc_class <> o.abc_class
   OR m.description IS DISTINCT FROM o.description
   OR (m.cv IS NULL) <> (o.cv IS NULL) OR abs(m.cv - o.cv) > 1e-12 OR m.xyz_class <> o.xyz_class
   OR m.abc_xyz <> o.abc_xyz;

-- Headline figures: the ABC-XYZ matrix, products and revenue per cell.
SELECT abc_class, xyz_class, count(*) AS products, sum(revenue) AS revenue
FROM oracle_products GROUP BY abc_class, xyz_class ORDER BY abc_class, xyz_class;
SELECT rank, stock_code, description, revenue, abc_class, round(cv, 6) AS cv, xyz_class
FROM oracle_products WHERE rank <= 5 ORDER BY rank;

-- The functions behind the marts take the thresholds.
SELECT abc_class, count(*) AS countries
FROM retail.countries_abc(0.5, 0.9) GROUP BY abc_class ORDER BY abc_class;
-- At the settings' thresholds retail.countries_abc() gives what the mart
-- shows, value for value: shares as doubles through retail.fraction().
SELECT DISTINCT pg_typeof(share) AS share_type, pg_typeof(cum_share_before) AS cum_share_before_type
FROM retail.countries_abc();
SELECT count(*) AS function_mart_mismatches
FROM retail.countries_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric) f
	 FULL JOIN gold.mart_countries_abc m ON m.country = f.country
WHERE f.country IS NULL OR m.country IS NULL OR f.rank <> m.rank OR f.revenue <> m.revenue
   OR f.share <> m.share OR f.cum_share_before <> m.cum_share_before OR f.abc_class <> m.abc_class;
SELECT count(*) AS product_threshold_mismatches
FROM retail.products_abc(0.7, 0.9, 0.25, 0.75) f
	 JOIN oracle_products o ON o.stock_code = f.stock_code
WHERE f.abc_class <> CASE WHEN o.cum_share_before < 0.7 THEN 'A' WHEN o.cum_share_before < 0.9 THEN 'B' ELSE 'C' END
   OR f.xyz_class <> CASE WHEN o.cv IS NULL THEN 'N' WHEN o.cv < 0.25 THEN 'X' WHEN o.cv < 0.75 THEN 'Y' ELSE 'Z' END;

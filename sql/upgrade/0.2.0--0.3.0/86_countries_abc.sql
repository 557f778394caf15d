
-- Issue 18, item 8: retail.countries_abc() gives share and cum_share_before as
-- the mart does, doubles through retail.fraction() (they were numeric to 20
-- or more decimals).  A return type cannot be replaced: the function is
-- dropped with the mart whose query it is (and the view of gold over it),
-- and all three are made again as sql/install/60_abc.sql makes them.  The
-- mart is left unpopulated, as the other remade marts: the first refresh
-- after the update rebuilds everything (29_cancellations.sql).
DROP VIEW gold.mart_countries_abc;
DROP MATERIALIZED VIEW gold_store.mart_countries_abc;
DROP FUNCTION retail.countries_abc(numeric, numeric);

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
ALTER FUNCTION retail.countries_abc(numeric, numeric) SECURITY DEFINER;
ALTER FUNCTION retail.countries_abc(numeric, numeric) SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION retail.countries_abc(numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.countries_abc(numeric, numeric) TO retail_bi;

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
-- (column comments: 96_gold_columns.sql, as for every gold relation)
REVOKE ALL ON gold_store.mart_countries_abc FROM retail_bi;
GRANT SELECT ON gold.mart_countries_abc TO retail_bi;

-- gold.mart_countries_abc in plain SQL, independent of the C aggregates:
-- window functions for rank and the running sum; the class compares exact
-- sums (cum_before < 0.80 * total).  Used by test/realdata/sql/abc.sql as the
-- oracle and by bench/abc.sql as the plain-SQL contender.
WITH v AS (
	SELECT country, sum(line_total) AS revenue
	FROM silver.net_transactions
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
FROM r

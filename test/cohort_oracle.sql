-- The cohort matrix in plain SQL, independent of src/cohort.c: date_trunc
-- for the periods (week = ISO week from Monday), min/max windows for each
-- customer's first and last period, generate_series for the dense grid of
-- periods (its ordinality is the period number), count(DISTINCT) and sum()
-- for the cells.  Included by test/sql/cohort.sql, test/realdata/sql/cohort.sql
-- and bench/cohort.sql (psql runs them from the repository root).
CREATE FUNCTION pg_temp.cohort_oracle(lines regclass, granularity text DEFAULT 'month',
									  unbounded boolean DEFAULT false)
RETURNS TABLE (cohort date, period integer, cohort_size bigint, active_customers bigint,
			   retention numeric, revenue numeric)
LANGUAGE plpgsql AS $fn$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH lines AS (
			SELECT customer_id, date_trunc(%1$L, invoice_ts)::date AS period_start, line_total
			FROM %2$s
			WHERE customer_id IS NOT NULL AND invoice_ts IS NOT NULL
		),
		customers AS (
			SELECT DISTINCT customer_id,
				   min(period_start) OVER w AS cohort,
				   max(period_start) OVER w AS last_active
			FROM lines
			WINDOW w AS (PARTITION BY customer_id)
		),
		grid AS (
			SELECT c.cohort, g.period_start::date AS period_start, (g.n - 1)::integer AS period,
				   c.cohort_size
			FROM (SELECT cohort, count(*) AS cohort_size FROM customers GROUP BY cohort) c,
				 LATERAL generate_series(c.cohort::timestamp,
										 (SELECT max(period_start) FROM lines)::timestamp,
										 %3$L::interval) WITH ORDINALITY AS g(period_start, n)
		),
		activity AS (
			SELECT c.cohort, l.period_start, count(DISTINCT l.customer_id) AS active,
				   sum(l.line_total) AS revenue
			FROM lines l JOIN customers c USING (customer_id)
			GROUP BY c.cohort, l.period_start
		),
		active_or_later AS (
			SELECT g.cohort, g.period_start, count(c.customer_id) AS active
			FROM grid g
			LEFT JOIN customers c ON c.cohort = g.cohort AND c.last_active >= g.period_start
			WHERE %4$L
			GROUP BY g.cohort, g.period_start
		)
		SELECT g.cohort, g.period, g.cohort_size, x.active, x.active::numeric / g.cohort_size,
			   coalesce(a.revenue, 0)
		FROM grid g
		LEFT JOIN activity a ON a.cohort = g.cohort AND a.period_start = g.period_start
		LEFT JOIN active_or_later l ON l.cohort = g.cohort AND l.period_start = g.period_start
		CROSS JOIN LATERAL (SELECT CASE WHEN %4$L THEN l.active ELSE coalesce(a.active, 0) END
							AS active) x
		ORDER BY g.cohort, g.period
		$q$, granularity, lines, '1 ' || granularity, unbounded);
END
$fn$;

-- Cells where a matrix and the oracle differ (0 when they agree everywhere,
-- including on which cells exist).
CREATE FUNCTION pg_temp.cohort_mismatches(matrix retail.cohort_cell[], lines regclass,
										  granularity text DEFAULT 'month',
										  unbounded boolean DEFAULT false)
RETURNS bigint
LANGUAGE sql AS $fn$
	SELECT count(*)
	FROM unnest(matrix) m
	FULL JOIN pg_temp.cohort_oracle(lines, granularity, unbounded) o
		ON o.cohort = m.cohort AND o.period = m.period
	WHERE (m.*) IS DISTINCT FROM (o.*)
$fn$;

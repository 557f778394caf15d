
-- gold.segment_migration reads a mart that the refresh keeps (issue 17).
-- Every two consecutive snapshots: computed at read time it joins all of
-- them (seconds on millions of lines), so the refresh keeps it, after both
-- kinds of snapshot (steps 100 and 150), and a read is a scan of a few rows.
-- The pairs in one join, not one call of retail.segment_migration each
-- (which scans the history per pair): the same rows, a third of the time.
CREATE MATERIALIZED VIEW gold.mart_segment_migration AS
SELECT p.previous AS from_as_of, p.as_of AS to_as_of, f.segment AS from_segment, t.segment AS to_segment,
	   count(*) AS customers, sum(t.monetary)::numeric(38, 6) AS revenue
FROM (SELECT d.as_of, lag(d.as_of) OVER (ORDER BY d.as_of) AS previous
	  FROM (SELECT DISTINCT as_of FROM gold.segment_history) d) p
	 JOIN gold.segment_history t ON t.as_of = p.as_of
	 LEFT JOIN gold.segment_history f ON f.as_of = p.previous AND f.customer_id = t.customer_id
WHERE p.previous IS NOT NULL
GROUP BY p.previous, p.as_of, f.segment, t.segment
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_segment_migration IS
	'How customers moved between the segments of every two consecutive snapshots of gold.segment_history, as of the last refresh (gold.segment_migration: the same rows in order)';
-- from_segment is NULL for new customers: one NULL per snapshot pair
CREATE UNIQUE INDEX ON gold.mart_segment_migration (to_as_of, from_segment, to_segment) NULLS NOT DISTINCT;

CREATE OR REPLACE VIEW gold.segment_migration AS
SELECT from_as_of, to_as_of, from_segment, to_segment, customers, revenue
FROM gold.mart_segment_migration
ORDER BY to_as_of DESC, from_segment NULLS FIRST, to_segment;
COMMENT ON VIEW gold.segment_migration IS
	'How customers moved between the segments of every two consecutive snapshots of gold.segment_history, latest first';
INSERT INTO retail.refresh_steps VALUES (160, 'gold', 'gold', 'mart_segment_migration', NULL);
GRANT SELECT ON gold.mart_segment_migration TO retail_bi;
COMMENT ON COLUMN gold.mart_segment_migration.from_as_of IS 'Earlier snapshot of gold.segment_history';
COMMENT ON COLUMN gold.mart_segment_migration.to_as_of IS 'Later snapshot of gold.segment_history';
COMMENT ON COLUMN gold.mart_segment_migration.from_segment IS 'Segment at from_as_of; NULL: no purchase before from_as_of (a new customer)';
COMMENT ON COLUMN gold.mart_segment_migration.to_segment IS 'Segment at to_as_of';
COMMENT ON COLUMN gold.mart_segment_migration.customers IS 'Customers that were in from_segment at from_as_of and are in to_segment at to_as_of';
COMMENT ON COLUMN gold.mart_segment_migration.revenue IS 'Revenue of those customers up to to_as_of';
-- readable at once where the snapshots are; else the next refresh fills it
DO $$
BEGIN
	IF (SELECT bool_and(m.ispopulated) FROM pg_catalog.pg_matviews m
		WHERE m.schemaname = 'gold' AND m.matviewname IN ('mart_customer_segments', 'segment_month_ends')) THEN
		REFRESH MATERIALIZED VIEW gold.mart_segment_migration;
	END IF;
END
$$;

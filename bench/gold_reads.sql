-- Reads of gold views as a BI tool runs them: the whole view and one
-- snapshot's rows, in milliseconds per read (the median of the rounds of
-- :reads reads each).  Needs bronze loaded and refreshed; run from the
-- repository root (bench/run does).
\i bench/lib.sql
\set reads 20
SELECT max(to_as_of) AS latest FROM gold.segment_migration \gset
CREATE FUNCTION pg_temp.reads(query text) RETURNS text LANGUAGE sql
RETURN format('DO $reads$ BEGIN FOR i IN 1..%s LOOP PERFORM count(*) FROM (%s) q; END LOOP; END $reads$',
			  :reads, query);
\echo '== gold reads (median milliseconds per read)'
SELECT b.label, round(1000 * b.seconds / :reads, 2) AS ms_per_read
FROM (SELECT * FROM pg_temp.bench('gold.segment_migration, all rows',
								  pg_temp.reads('SELECT * FROM gold.segment_migration'))
	  UNION ALL
	  SELECT * FROM pg_temp.bench('gold.segment_migration, the latest snapshot',
								  pg_temp.reads(format('SELECT * FROM gold.segment_migration WHERE to_as_of = %L',
													   :'latest')))) b;

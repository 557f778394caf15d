-- retail.segment_snapshot_dates: as_of and the first day of each month after
-- that of first_day and before as_of, the latest `snapshots` of them; built
-- only as far back as those need (issue 16: '-infinity' wrote GBs of temp
-- files).
SET datestyle = 'ISO, YMD';

-- By hand: the months after 2010-12 and before 2011-12-10 are 2011-01 ..
-- 2011-12, so 13 dates with as_of; asking 1000 gives the same 13.  With as_of
-- 2011-12-01 and first_day in 2011-11 no month is after the one and before
-- the other.  0 snapshots give none, 1 as_of alone, 2 as_of and 2011-12-01.
SELECT array_agg(d) AS dates FROM retail.segment_snapshot_dates('2011-12-10', '2010-12-01', 13) d;
SELECT count(*) AS dates FROM retail.segment_snapshot_dates('2011-12-10', '2010-12-01', 1000);
SELECT array_agg(d) AS dates FROM retail.segment_snapshot_dates('2011-12-01', '2011-11-30', 13) d;
SELECT n, coalesce(array_agg(d) FILTER (WHERE d IS NOT NULL), '{}') AS dates
FROM generate_series(0, 2) n LEFT JOIN LATERAL retail.segment_snapshot_dates('2011-12-10', '2010-12-01', n) d ON true
GROUP BY n ORDER BY n;
-- No data (NULL dates): as_of alone, as before (the mart filters it out)
SELECT array_agg(d) AS dates FROM retail.segment_snapshot_dates(NULL, NULL, 13) d;
SELECT array_agg(d) AS dates FROM retail.segment_snapshot_dates('2011-12-10', NULL, 13) d;

-- Against the plain-SQL definition (every month start from the month after
-- first_day's to as_of - 1, with as_of, the latest `snapshots`), on dates
-- around month and year ends and leap days, first_day before, at and after
-- as_of.
CREATE FUNCTION pg_temp.snapshot_dates_oracle(as_of date, first_day date, snapshots integer) RETURNS date[]
LANGUAGE sql AS $$
	SELECT coalesce(array_agg(d ORDER BY d DESC), '{}')
	FROM (SELECT d FROM (SELECT as_of AS d
						 UNION
						 SELECT m::date
						 FROM generate_series(date_trunc('month', first_day::timestamp) + interval '1 month',
											  (as_of - 1)::timestamp, interval '1 month') m) x
		  ORDER BY d DESC LIMIT snapshots) y
$$;
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE pg_temp.snapshot_dates_oracle(a, f, n)
						  IS DISTINCT FROM ARRAY(SELECT retail.segment_snapshot_dates(a, f, n))) AS mismatches
FROM unnest('{2011-12-10, 2011-12-01, 2012-01-01, 2012-03-01, 2012-02-29, 1900-01-01, 2100-01-01}'::date[]) a,
	 unnest('{2010-12-01, 2010-12-31, 2011-11-30, 2011-12-01, 2011-12-09, 2011-12-10, 2012-02-29, 1900-01-01, 2099-12-31}'::date[]) f,
	 unnest('{0, 1, 2, 3, 13, 1000}'::integer[]) n;

-- Dates far apart: only as many months as asked for are built.  The last
-- month before 294276-12-31 is 294276-12; 999 months back from it (k = 0 ..
-- 998 = 83 years 2 months) reach 294193-10.
SELECT count(*) AS dates, min(d) AS earliest, max(d) AS latest
FROM retail.segment_snapshot_dates('294276-12-31', '4714-11-24 BC', 1000) d;

-- Refused: infinite dates (the issue's call), counts outside 0 .. 1000 (1000:
-- the upper bound of the setting segment_snapshots)
\set VERBOSITY terse
SELECT * FROM retail.segment_snapshot_dates('2011-12-10', '-infinity', 13);
SELECT * FROM retail.segment_snapshot_dates('infinity', '2010-12-01', 13);
SELECT * FROM retail.segment_snapshot_dates('2011-12-10', '2010-12-01', 1001);
SELECT * FROM retail.segment_snapshot_dates('2011-12-10', '2010-12-01', -1);
SELECT * FROM retail.segment_snapshot_dates('2011-12-10', '2010-12-01', NULL);

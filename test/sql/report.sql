-- retail.report_html(): the gold marts as one HTML page.  What a browser
-- makes of it is checked by test/report/run; here the escaping, the figures
-- of a few lines worked by hand, and the page without data.

-- the five characters that matter in an element or a quoted attribute
SELECT retail.html_escape('<script>alert("x") & ''y''</script>') AS escaped,
	   retail.html_escape(NULL) AS null_gives, retail.html_escape('') AS empty_gives;
-- a bad row count
\set VERBOSITY terse
SELECT retail.report_html(-1);
SELECT retail.report_html(NULL);
\set VERBOSITY default

-- Inside a transaction that is rolled back, so that bronze and silver are
-- left as other tests expect them.
BEGIN;
SET LOCAL client_min_messages = warning;
DELETE FROM bronze.transactions_raw;
CALL retail.refresh();
-- no line: a page that says so, without charts
SELECT r LIKE '%<section class="empty" id="no-data"><h2>No data yet</h2>%' AS says_no_data,
	   r LIKE '%<svg%' AS has_chart, r LIKE '<!DOCTYPE html>%</html>' AS whole_page
FROM retail.report_html() r;

-- Five orders of three customers, by hand:
--   17850 (United Kingdom): A1 2011-01-10 6 x 2.55 = 15.30, A2 2011-02-12 10 x 1.00 = 10.00
--   17851 (France):         B1 2011-01-20 4 x 5.00 = 20.00, B2 2011-03-01 2 x 5.00 = 10.00
--   17852 (<b>Land</b>):    E1 2011-02-05 1 x 1234.50 = 1234.50
-- revenue 1,289.80 (shown rounded: 1,290), 5 orders of 257.96 on average, 3
-- customers of 1.7 orders each; 2011-01-10 .. 2011-03-01 is 51 days.  March
-- has not ended on the last day: month-1 retention is that of January's
-- cohort alone, 1 of 2.
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country) VALUES
	('A1', 'P1', 'HEART', '6', '2011-01-10 09:00', '2.55', '17850', 'United Kingdom'),
	('A2', 'P2', 'HAND WARMER', '10', '2011-02-12 09:00', '1.00', '17850', 'United Kingdom'),
	('B1', 'P3', 'LANTERN', '4', '2011-01-20 09:00', '5.00', '17851', 'France'),
	('B2', 'P3', 'LANTERN', '2', '2011-03-01 09:00', '5.00', '17851', 'France'),
	('E1', 'P4', '<i>Widget</i> & "co"', '1', '2011-02-05 10:00', '1234.50', '17852', '<b>Land</b>');
CALL retail.refresh();
CREATE TEMPORARY TABLE page ON COMMIT DROP AS SELECT retail.report_html() AS r;

-- the headline figures (the last refresh's time aside)
SELECT m[1] AS label, m[2] AS value, m[3] AS note
FROM page, regexp_matches(r, '<div class="label">([^<]*)</div><div class="value">([^<]*)</div><div class="note">([^<]*)</div>', 'g') m
WHERE m[1] <> 'Last refresh';

-- the heatmap: cohort January (17850, 17851): month 1 17850 (1 of 2), month 2
-- 17851 (1 of 2); cohort February (17852): month 1 nobody.  The cells of
-- March are incomplete.
SELECT m[1] AS class, m[2] AS cohort, m[3] AS period, m[4] AS title
FROM page, regexp_matches(r, '<g class="(heat-cell[^"]*)" data-cohort="([^"]*)" data-period="([^"]*)"[^>]*><title>([^<]*)</title>', 'g') m;
-- the average row, weighted by cohort size, over ended months: month 0 3/3,
-- month 1 1/2 (January's), month 2 none
SELECT m[1] AS average
FROM page, regexp_matches(substring(r FROM 'Weighted average(.*?)</svg>'), '>([0-9.]+%)</text>', 'g') m;

-- Pareto: <b>Land</b> 1234.50 of 1289.80 = 95.7 % (class A: the share before
-- it is 0); France 30.00 and the United Kingdom 25.30 come after 95 %: C
SELECT m[1] AS country, m[2] AS class, m[3] AS title
FROM page, regexp_matches(r, '<g class="pareto-bar" data-country="([^"]*)" data-class="([^"]*)"><title>([^<]*)</title>', 'g') m;
SELECT m[1] AS band, m[2] AS first_bar_x, m[3] AS width
FROM page, regexp_matches(r, '<rect class="abc-band" data-class="(.)" x="([^"]*)" y="20" width="([^"]*)"', 'g') m;
SELECT substring(r FROM 'the rest; here (.*?)\.</p>') AS bands FROM page;

-- segments: those of gold.segment_summary, with its counts
SELECT array_agg(m[1] ORDER BY m[1]) = (SELECT array_agg(segment ORDER BY segment) FROM gold.segment_summary)
	   AS every_segment
FROM page, regexp_matches(r, '<g class="segment" data-segment="([^"]*)">', 'g') m;

-- ABC-XYZ: P4 1234.50 (A, one month: X); P3 30.00 (C; units 4, 0, 2 over
-- January .. March: cv 0.82, Y); P1 15.30 and P2 10.00 (C, one month: X)
SELECT m[1] AS cell, m[2] AS products, m[3] AS title
FROM page, regexp_matches(r, '<g class="abcxyz-cell" data-cell="(..)" data-products="([0-9]+)"><title>([^<]*)</title>', 'g') m
WHERE m[2] <> '0';
SELECT m[1] AS rank, m[2] AS product, m[3] AS revenue, m[4] AS share, m[5] AS class
FROM page, regexp_matches(r, '<tr class="product"><td class="num">([0-9]+)</td><td>((?:[^<]|</?small>)*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td><td>([^<]*)</td></tr>', 'g') m;

-- anomalies: ln(total) of the orders 2.303 (twice), 2.728, 2.996, 7.118:
-- median 2.728, MAD 0.425; E1's z = 0.6745 * 4.391 / 0.425 = 6.96
SELECT m[1] AS anomaly
FROM page, regexp_matches(r, '<tr class="anomaly">(.*?)</tr>', 'g') m;
SELECT substring(r FROM '<section id="anomalies"><h2>[^<]*</h2><p class="lead">([^<]*)</p>') AS lead FROM page;
-- top_anomalies 0: the count, no table
SELECT substring(retail.report_html(0) FROM '<section id="anomalies">.*?</section>') AS no_rows;

-- migration between the two latest snapshots: 2011-03-01 (the month end
-- before the as-of date) and 2011-03-02; a cell per flow of
-- retail.segment_migration, with its customers
SELECT substring(r FROM '<section id="migration"><h2>[^<]*</h2><p class="lead">Customers by segment on ([0-9-]+ \(rows\) and on [0-9-]+)')
	   AS snapshots
FROM page;
WITH drawn AS (
	SELECT replace(m[1], '&#39;', '''') || ' > ' || replace(m[2], '&#39;', '''') || ': ' || m[3] AS flow
	FROM page, regexp_matches(r, '<g class="migration-cell" data-from="([^"]*)" data-to="([^"]*)"><title>[^<]*</title><rect[^>]*/><text[^>]*>([0-9,]+)</text>', 'g') m
),
computed AS (
	SELECT coalesce(f.from_segment, '(new)') || ' > ' || f.to_segment || ': ' || f.customers AS flow
	FROM retail.segment_migration('2011-03-01', '2011-03-02') f
)
SELECT (SELECT array_agg(flow ORDER BY flow) FROM drawn) = (SELECT array_agg(flow ORDER BY flow) FROM computed)
	   AS cell_per_flow,
	   (SELECT count(*) FROM drawn) AS cells;

-- a failed latest refresh is told, its error escaped
INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, seconds, concurrent, status, error)
SELECT max(run_id) + 1, 0, 'settings', 'retail.settings', 0, false, 'failed', 'setting <x> & co'
FROM retail.refresh_log;
SELECT substring(r FROM '<section class="notice" id="refresh-failed"><strong>([^<]*)</strong> \(') AS notice,
	   substring(r FROM '<section class="notice" id="refresh-failed">.*?\): (.*?)</section>') AS error,
	   substring(r FROM '<div class="kpi notice"><div class="label">([^<]*)</div>') AS tile
FROM retail.report_html() r;

-- nothing from the data reaches the page unescaped, nothing is fetched
SELECT r LIKE '%<b>Land%' OR r LIKE '%<i>Widget%' AS raw_text,
	   r ~* '<script|src=|href=|@import|https?:' AS fetches_or_runs
FROM page;
ROLLBACK;

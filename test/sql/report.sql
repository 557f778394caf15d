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
SELECT retail.report_html(1001);
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

-- ABC-XYZ: P4 1234.50 (A, one month: N); P3 30.00 (C; units 4, 0, 2 over
-- January .. March: cv 0.82, Y); P1 15.30 and P2 10.00 (C, one month: N)
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

-- customer value: what the model assumes (model, horizon, discount, unit,
-- currency), and per segment P(alive)'s quartiles as percentile_cont over
-- the mart gives them
SELECT substring(r FROM '<p class="muted" id="clv-assumptions">([^<]*)</p>') AS assumptions,
	   substring(r FROM '<th class="num">(CLV[^<]*)</th>') AS clv_header,
	   r LIKE '%<th class="num">Purchase days, 90 days</th>%' AS purchase_days
FROM page;
WITH drawn AS (
	SELECT m[1] AS segment, m[2] AS quartiles
	FROM page, regexp_matches(substring(r FROM '<section id="clv">.*?</section>'),
							  '<tr><td>([^<]*)</td>(?:<td class="num">[^<]*</td>){4}<td class="num">([^<]*)</td>', 'g') m
),
computed AS (
	SELECT s.segment, array_to_string(ARRAY(SELECT to_char(100 * q, 'FM990.0') FROM unnest(
			   percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY v.p_alive)) q), ' / ') || ' %' AS quartiles
	FROM gold.mart_customer_value v JOIN gold.mart_customer_segments s USING (customer_id)
	GROUP BY s.segment
)
SELECT d.segment, d.quartiles, d.quartiles = c.quartiles AS as_computed
FROM drawn d LEFT JOIN computed c ON c.segment = retail.html_escape(d.segment)
ORDER BY d.segment;
-- with a currency (escaped) and another model
INSERT INTO retail.settings VALUES ('currency', '<GBP>'), ('clv_model', 'paretonbd'), ('clv_horizon_months', '6');
SAVEPOINT too_long;
UPDATE retail.settings SET value = 'seventeen letters' WHERE name = 'currency';
ROLLBACK TO SAVEPOINT too_long;
SET client_min_messages = warning;
CALL retail.refresh();
RESET client_min_messages;
SELECT substring(r FROM '<p class="muted" id="clv-assumptions">([^<]*)</p>') AS assumptions,
	   substring(r FROM '<th class="num">(CLV[^<]*)</th>') AS clv_header
FROM retail.report_html() r;
DELETE FROM retail.settings WHERE name IN ('currency', 'clv_model', 'clv_horizon_months');

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

-- 200 years: the page summarizes whatever the data.  Customer 1 buys on the
-- 15th of every month from 1900-01 to 2099-12 (2400 lines), in countries
-- C00 .. C44 in turn (2400 = 45 * 53 + 15: C00 .. C14 have 54 lines of 1.00,
-- C15 .. C44 53); customers 101 .. 129 buy once, in the last 29 months
-- (2097-08 .. 2099-12), in country Recent (29.00).  So 30 cohorts (1900-01
-- and 29 of one customer each), 2400 periods; the page shows the 24 most
-- recent cohorts (2098-01 .. 2099-12) and months 0 .. 23: 24 + 23 + ... + 1
-- = 300 cells, of which the 24 of December 2099 (not ended on the 15th) are
-- incomplete.  Countries: 46, ranked by revenue then name; the 40 shown leave
-- out C40 .. C44 (53, the last by name) and Recent (29).
BEGIN;
SET LOCAL client_min_messages = warning;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
SELECT 'L' || m, 'P1', 'LONG', '1', to_char(timestamp '1900-01-15 10:00' + m * interval '1 month', 'YYYY-MM-DD HH24:MI'),
	   '1.00', '1', 'C' || lpad((m % 45)::text, 2, '0')
FROM generate_series(0, 2399) m
UNION ALL
SELECT 'R' || k, 'P2', 'RECENT', '1', to_char(timestamp '2097-08-15 10:00' + (k - 101) * interval '1 month',
											 'YYYY-MM-DD HH24:MI'),
	   '1.00', k::text, 'Recent'
FROM generate_series(101, 129) k;
CALL retail.refresh();
CREATE TEMPORARY TABLE page ON COMMIT DROP AS SELECT retail.report_html() AS r;
SELECT length(r) < 2000000 AS bounded,
	   substring(r FROM '<p class="left-out" id="cohorts-left-out">([^<]*)</p>') AS cohorts_left_out,
	   substring(r FROM '<p class="left-out" id="countries-left-out">([^<]*)</p>') AS countries_left_out
FROM page;
-- the cells drawn: 24 rows of cohorts 2098-01 .. 2099-12, periods up to 23
SELECT count(*) AS cells, count(DISTINCT m[1]) AS cohorts, min(m[1]) AS first_cohort, max(m[1]) AS last_cohort,
	   max(m[2]::integer) AS last_period, count(*) FILTER (WHERE m[3] = ' incomplete') AS incomplete
FROM page, regexp_matches(r, '<g class="heat-cell( incomplete)?" data-cohort="([^"]*)" data-period="([^"]*)"', 'g') x,
	 LATERAL (SELECT ARRAY[x[2], x[3], x[1]]) y(m);
-- the average row, over every cohort's ended cells: month 0 29 of 29 (not
-- December 2099's); month p >= 1 customer 1 alone, of 1900-01 and the 28 - p
-- recent cohorts whose month p had ended: 1/28 = 3.6 %, 1/27 = 3.7 %, 1/26 =
-- 3.8 %, 1/25 = 4.0 %, 1/24 = 4.2 %, 1/23 = 4.3 %, 1/22 = 4.5 %, 1/21 = 4.8 %,
-- 1/20 = 5.0 %, 1/19 = 5.3 %, 1/18 = 5.6 %, 1/17 = 5.9 %, 1/16 = 6.25 (6.3 %),
-- 1/15 = 6.7 %, 1/14 = 7.1 %, 1/13 = 7.7 %, 1/12 = 8.3 %, 1/11 = 9.1 %, 1/10 =
-- 10.0 %, 1/9 = 11.1 %, 1/8 = 12.5 %, 1/7 = 14.3 %, 1/6 = 16.7 %
SELECT string_agg(m[1], ' ') AS averages
FROM page, regexp_matches(substring(r FROM 'Weighted average(.*?)</svg>'), '>([0-9.]+%)</text>', 'g') m;
-- the Pareto bars: the 40 of the largest revenue, the 6 others left out
SELECT count(*) AS bars,
	   (SELECT string_agg(c, ' ' ORDER BY c)
		FROM (VALUES ('C40'), ('C41'), ('C42'), ('C43'), ('C44'), ('Recent'),
					 ('C00'), ('C14'), ('C15'), ('C39')) v(c)
		WHERE c <> ALL (array_agg(m[1]))) AS not_drawn
FROM page, regexp_matches(r, '<g class="pareto-bar" data-country="([^"]*)"', 'g') m;
ROLLBACK;

-- Gold for BI (issue 10): segments at any date, their history and
-- migration, the customer dimension and the orders view, on hand-made lines
-- whose answers are worked out below, with a preset simple enough to score
-- by hand: Lapsed when recency_days > 30, else Active.
--   customer 1: 2011-01-10 (10, UK), 2011-02-20 (20, France), 2011-03-15 (30)
--   customer 2: 2011-01-05 (5)
--   customer 3: 2011-02-10 (7), 2011-03-20 (8)
--   customer 4: 2011-03-25 (100)
--   customer 5: invoice S5 spanning midnight: 2011-02-28 23:50 (1) and
--               2011-03-01 00:10 (2)
-- The last line is on 2011-03-25: as_of 2011-03-26.  Snapshots: 2011-03-26
-- and the first days of the months after the first line's: 2011-02-01,
-- 2011-03-01.
SET client_min_messages = warning;
BEGIN;
DELETE FROM bronze.transactions_raw;
CALL retail.refresh(concurrently => false);
INSERT INTO retail.segment_rules (preset, priority, segment, recency_days_min)
VALUES ('regress_simple', 1, 'Lapsed', 31), ('regress_simple', 2, 'Active', NULL);
INSERT INTO retail.settings VALUES ('rfm_preset', 'regress_simple');
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('S1a', '10001', 'a', '1', '2011-01-10 10:00', '10', '1', 'UK'),
	   ('S1b', '10001', 'a', '1', '2011-02-20 10:00', '20', '1', 'France'),
	   ('S1c', '10001', 'a', '1', '2011-03-15 10:00', '30', '1', 'UK'),
	   ('S2a', '10001', 'a', '1', '2011-01-05 10:00', '5', '2', 'Germany'),
	   ('S3a', '10001', 'a', '1', '2011-02-10 10:00', '7', '3', 'UK'),
	   ('S3b', '10001', 'a', '1', '2011-03-20 10:00', '8', '3', 'UK'),
	   ('S4a', '10001', 'a', '1', '2011-03-25 10:00', '100', '4', 'UK'),
	   ('S5', '10001', 'a', '1', '2011-02-28 23:50', '1', '5', 'UK'),
	   ('S5', '10002', 'b', '1', '2011-03-01 00:10', '2', '5', 'UK');
CALL retail.refresh();

-- Segments at a date count the lines before it only: at 2011-03-01
-- customer 5 has bought once, for 1 (the 00:10 line is not before), and
-- customer 4 is not a customer yet; customer 2: 2011-03-01 - 2011-01-05 =
-- 55 days, Lapsed.
SELECT customer_id, recency_days, frequency, monetary, segment, as_of
FROM retail.rfm_segments('silver.cleaned_transactions', as_of_date => '2011-03-01', preset => 'regress_simple')
ORDER BY customer_id;

-- The snapshots, and customer 5 in each: none at 02-01; at 03-01 as above;
-- at 03-26 both lines (3), last on 03-01 (25 days).
SELECT as_of, count(*) AS customers FROM gold.segment_history GROUP BY as_of ORDER BY as_of;
SELECT as_of, recency_days, frequency, monetary, segment FROM gold.segment_history
WHERE customer_id = 5 ORDER BY as_of;
-- Every snapshot equals the line-level path, retail.rfm_segments at its date
-- (compared as text, both ways).
CREATE TEMP VIEW snapshots_vs_lines AS
SELECT h.as_of,
	   (SELECT count(*) FROM (SELECT s::text FROM (SELECT as_of, customer_id, recency_days, frequency,
														  monetary::numeric(38, 6), r, f, m, rfm_cell, segment,
														  seed_segment
													   FROM retail.rfm_segments('silver.cleaned_transactions',
																				h.as_of, preset => 'regress_simple')) s
							  EXCEPT
							  SELECT g::text FROM (SELECT * FROM gold.segment_history WHERE as_of = h.as_of) g) d)
	   AS missing,
	   (SELECT count(*) FROM (SELECT g::text FROM (SELECT * FROM gold.segment_history WHERE as_of = h.as_of) g
							  EXCEPT
							  SELECT s::text FROM (SELECT as_of, customer_id, recency_days, frequency,
														  monetary::numeric(38, 6), r, f, m, rfm_cell, segment,
														  seed_segment
													   FROM retail.rfm_segments('silver.cleaned_transactions',
																				h.as_of, preset => 'regress_simple')) s) d)
	   AS extra
FROM (SELECT DISTINCT as_of FROM gold.segment_history) h
ORDER BY h.as_of;
SELECT * FROM snapshots_vs_lines;

-- Migration, by hand:
--   02-01 -> 03-01: Active -> Active: 1 (30 by 03-01); Active -> Lapsed: 2
--   (5); new -> Active: 3 and 5 (7 + 1 = 8)
--   03-01 -> 03-26: Active -> Active: 1, 3, 5 (60 + 15 + 3 = 78); Lapsed ->
--   Lapsed: 2 (5); new -> Active: 4 (100)
SELECT * FROM gold.segment_migration;
SELECT * FROM retail.segment_migration('2011-02-01', '2011-03-26');
-- an as-of date without a snapshot, and the wrong way round
SAVEPOINT refused;
SELECT * FROM retail.segment_migration('2011-02-02', '2011-03-26');
ROLLBACK TO refused;
SELECT * FROM retail.segment_migration('2011-03-26', '2011-02-01');
ROLLBACK TO refused;

-- The number of snapshots is a setting: 2 keeps 03-26 and 03-01.
INSERT INTO retail.settings VALUES ('segment_snapshots', '2');
CALL retail.refresh();
SELECT as_of, count(*) AS customers FROM gold.segment_history GROUP BY as_of ORDER BY as_of;
-- one snapshot would migrate nothing
UPDATE retail.settings SET value = '1' WHERE name = 'segment_snapshots';
ROLLBACK TO refused;

-- The refresh writes only the rows that change (step 100,
-- retail.maintain_customer_snapshots): a batch of lines on or after the latest
-- month start leaves every row of the month ends as it was (the same xmin),
-- and no row is rewritten with the values it had.  A late line before it
-- reaches the month ends after its date only.  Both equal a full rebuild
-- (test incremental compares them all).
CREATE TEMP VIEW snapshot_rows AS
SELECT snapshot, customer_id, xmin::text AS written_by,
	   ROW(first_purchase, last_purchase, frequency, monetary, r, f, m, segment, seed_segment)::text AS image
FROM gold_store.customer_snapshots;
CREATE TEMP TABLE rows_before AS SELECT * FROM snapshot_rows;
-- and the migration it keeps against the transition matrix computed from
-- the snapshots, pair by pair: no row differs (here every snapshot a batch
-- touches gets a new model; test incremental has pairs where only the
-- touched customers moved, whose moves are taken back and added)
CREATE TEMP VIEW migration_vs_snapshots AS
SELECT count(*) AS differing
FROM ((SELECT * FROM gold.segment_migration
	   EXCEPT ALL
	   SELECT m.* FROM (SELECT DISTINCT from_as_of, to_as_of FROM gold.segment_migration) p,
					   retail.segment_migration(p.from_as_of, p.to_as_of) m)
	  UNION ALL
	  (SELECT m.* FROM (SELECT DISTINCT from_as_of, to_as_of FROM gold.segment_migration) p,
					   retail.segment_migration(p.from_as_of, p.to_as_of) m
	   EXCEPT ALL
	   SELECT * FROM gold.segment_migration)) d;
CREATE TEMP VIEW rows_written AS
SELECT n.snapshot, count(*) AS customers, count(*) FILTER (WHERE b.customer_id IS NULL) AS added,
	   count(*) FILTER (WHERE b.written_by <> n.written_by) AS rewritten,
	   count(*) FILTER (WHERE b.image <> n.image) AS changed
FROM snapshot_rows n LEFT JOIN rows_before b USING (snapshot, customer_id)
GROUP BY n.snapshot ORDER BY n.snapshot;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('S6a', '10001', 'a', '1', '2011-03-26 10:00', '4', '6', 'UK');
CALL retail.refresh();
SELECT * FROM rows_written;
SELECT * FROM snapshots_vs_lines;
SELECT * FROM migration_vs_snapshots;
TRUNCATE rows_before;
INSERT INTO rows_before SELECT * FROM snapshot_rows;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('S7a', '10001', 'a', '1', '2011-02-15 10:00', '4', '7', 'UK');
CALL retail.refresh();
SELECT * FROM rows_written;
SELECT * FROM snapshots_vs_lines;
SELECT * FROM migration_vs_snapshots;

-- Whether the customers that moved leave a model's cutpoints where they
-- were: each measure unmoved, or strictly on one side of every cutpoint
-- before and after (a customer that comes or goes moves them).
SELECT retail.same_side_of_cuts(5, 5, '{3,5}') AS unmoved_on_a_cut,
	   retail.same_side_of_cuts(4, 4.5, '{3,5}') AS between_cuts,
	   retail.same_side_of_cuts(4, 5, '{3,5}') AS onto_a_cut,
	   retail.same_side_of_cuts(5, 6, '{3,5}') AS off_a_cut,
	   retail.same_side_of_cuts(2, 6, '{3,5}') AS across,
	   retail.same_side_of_cuts(NULL, 4, '{3,5}') AS new_customer;

-- The customer dimension: country of the first order (customer 1: UK,
-- though an order is from France), cohort month, orders, revenue, segment.
SELECT customer_id, country, first_purchase, last_purchase, orders, revenue, cohort_month, recency_days,
	   segment
FROM gold.dim_customers ORDER BY customer_id;
-- and the orders, by invoice
SELECT * FROM gold.orders ORDER BY invoice_no;
ROLLBACK;

-- What a refresh registers, and what a BI tool finds: no gold column without
-- a comment (the install checks this too).
SELECT step_order, view_name FROM retail.refresh_steps WHERE view_name IN ('customer_snapshots', 'dim_customers')
ORDER BY step_order;
SELECT count(*) AS undocumented
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace IN ('gold'::regnamespace, 'gold_store'::regnamespace) AND c.relkind IN ('r', 'v', 'm')
  AND col_description(c.oid, a.attnum) IS NULL;

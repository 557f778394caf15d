-- Cancellations netted against the lines they cancel (spec/metrics.md,
-- "Cancellations"): hand-made cases worked out in the comments, then random
-- lines and cancellations loaded in shuffled batches, checked against a
-- literal transcription of the rule (PL/pgSQL, one cancellation and one line
-- at a time), against plain SQL over the net lines for gold, and against a
-- full rebuild.  Last, the setting cancellations = 'ignore'.
SET client_min_messages = warning;
SET datestyle = 'ISO, YMD';
TRUNCATE bronze.transactions_raw;
CALL retail.refresh(full => true);
CREATE SCHEMA canc;

-- 1. By hand, loaded in two batches, the cancellations first where they can
-- be.  Customer 1, product A at 1.00: lines of 10 (Jan 1), 5 (Jan 2, 10:00)
-- and 4 (Jan 3); C3 cancels 7 on Jan 2 at 12:00: 5 from the Jan 2 line
-- (the latest), 2 from the Jan 1 line; C5 cancels 3 on Jan 4: 3 of the
-- Jan 3 line; C6 cancels 9 on Jan 4: the last 1 of the Jan 3 line, then the
-- 8 left of the Jan 1 line.  Every unit is cancelled, nothing unmatched.
-- Price '1' is the price 1.00.  Line 9 (price 2.00) is another group: kept.
-- C7 (POST) and C8 (B) are non-product codes: not netting cancellations.
-- Customer 2, product X: C10 cancels 5 before any line (5 unmatched); the
-- line of 3 on Jan 2 is then cancelled whole by C12 (4: 1 unmatched).
-- Customer 3, product Y: a line and a cancellation at the same minute: the
-- line is at or before it, so it is cancelled.
-- Customer 4, product Z: two lines of the same minute, C16 cancels 1: the
-- later load_ordinal first.
-- Customer 5: order 17 keeps one of its two lines (C19 cancels the other),
-- so it stays an order with 1 line.
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country) VALUES
	('C3', 'A', 'a', '-7', '2011-01-02 12:00', '1.00', '1', 'UK'),
	('C10', 'X', 'x', '-5', '2011-01-01 09:00', '3', '2', 'France'),
	('C16', 'Z', 'z', '-1', '2011-01-05 11:00', '1', '4', 'UK'),
	('1', 'A', 'a', '10', '2011-01-01 10:00', '1.00', '1', 'UK'),
	('2', 'A', 'a', '5', '2011-01-02 10:00', '1.00', '1', 'UK');
CALL retail.refresh();
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country) VALUES
	('4', 'A', 'a', '4', '2011-01-03 10:00', '1.00', '1', 'UK'),
	('C5', 'A', 'a', '-3', '2011-01-04 10:00', '1', '1', 'UK'),
	('C6', 'A', 'a', '-9', '2011-01-04 11:00', '1', '1', 'UK'),
	('C7', 'POST', 'a', '-9', '2011-01-04 11:00', '1', '1', 'UK'),
	('C8', 'B', 'b', '-2', '2011-01-04 11:00', '1', '1', 'UK'),
	('9', 'A', 'a', '3', '2011-01-02 10:00', '2.00', '1', 'UK'),
	('11', 'X', 'x', '3', '2011-01-02 09:00', '3', '2', 'France'),
	('C12', 'X', 'x', '-4', '2011-01-03 09:00', '3', '2', 'France'),
	('13', 'Y', 'y', '2', '2011-01-05 10:00', '1', '3', 'UK'),
	('C14', 'Y', 'y', '-2', '2011-01-05 10:00', '1', '3', 'UK'),
	('15a', 'Z', 'z', '1', '2011-01-05 10:00', '1', '4', 'UK'),
	('15b', 'Z', 'z', '1', '2011-01-05 10:00', '1', '4', 'UK'),
	('17', 'P', 'p', '2', '2011-01-06 10:00', '5', '5', 'Spain'),
	('17', 'Q', 'q', '1', '2011-01-06 10:00', '7', '5', 'Spain'),
	('C19', 'Q', 'q', '-1', '2011-01-07 10:00', '7', '5', 'Spain');
CALL retail.refresh();
SELECT invoice_no, stock_code, quantity, unit_price, cancelled_quantity
FROM silver.cleaned_transactions ORDER BY load_ordinal;
SELECT invoice_no, stock_code, quantity, unmatched_quantity
FROM silver.rejected_transactions ORDER BY load_ordinal;
-- Gold reads what is left: customer 1 has order 9 only (3 x 2.00), customer
-- 2 nothing, customer 3 nothing, customer 4 order 15a, customer 5 order 17
-- with 2 x 5 = 10.
SELECT customer_id, frequency, monetary, first_purchase, last_purchase FROM gold.mart_customer_segments
ORDER BY customer_id;
SELECT invoice_no, customer_id, lines, units, total FROM gold.orders ORDER BY invoice_no;
SELECT invoice_no, lines, units, total FROM silver.orders ORDER BY invoice_no;
SELECT stock_code, revenue FROM gold.mart_products_abc ORDER BY stock_code;
SELECT country, revenue FROM gold.mart_countries_abc ORDER BY country;
-- the same from one batch (a full rebuild)
\i test/snapshot.sql
SELECT snap.save();
CALL retail.refresh(full => true);
SELECT relation, rows, differing FROM snap.differences() WHERE differing > 0;

-- 2. The rule word for word (test/netting_oracle.sql) on random lines.
\i test/netting_oracle.sql

-- Random lines of 80 customers, 5 products and the prices 1.00, 2.5 and 2.50
-- (one price written two ways), and cancellations of the same shapes, some
-- before any line they could cancel, some at a line's very minute; loaded
-- in a shuffled order (a cancellation often comes before its lines) in
-- batches of uneven size, a refresh after each.
CREATE TABLE canc.lines AS
SELECT i,
	   CASE WHEN i % 3 = 0 THEN 'C' || i ELSE (100000 + i / 2)::text END AS invoice_no,
	   'P' || (hashint4(i * 7) & 65535) % 5 AS stock_code,
	   (ARRAY['1.00', '2.5', '2.50'])[1 + (hashint4(i * 11) & 65535) % 3] AS unit_price,
	   ((CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END) * (1 + (hashint4(i * 13) & 65535) % 9))::text AS quantity,
	   to_char(timestamp '2011-03-01' + ((hashint4(i * 17) & 65535) % 300) * interval '1 day'
			   + ((hashint4(i * 19) & 65535) % 4) * interval '1 hour', 'YYYY-MM-DD HH24:MI') AS invoice_date,
	   (1 + (hashint4(i * 23) & 65535) % 80)::text AS customer_id,
	   (ARRAY['UK', 'France', 'Spain'])[1 + (hashint4(i * 29) & 65535) % 3] AS country,
	   hashint4(i * 31) AS shuffle
FROM generate_series(1, 1500) i;
CREATE TABLE canc.earlier_lines_changed (batch integer, lines bigint);
DO $$
DECLARE
	loaded integer := 0;
	batch integer;
	k integer := 0;
BEGIN
	TRUNCATE bronze.transactions_raw;
	CALL retail.refresh(full => true);
	COMMIT;
	WHILE loaded < 1500 LOOP
		k := k + 1;
		batch := 20 + (hashint4(k) & 65535) % 300;
		INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
											 customer_id, country)
		SELECT l.invoice_no, l.stock_code, 'product ' || l.stock_code, l.quantity, l.invoice_date, l.unit_price,
			   l.customer_id, l.country
		FROM canc.lines l ORDER BY l.shuffle, l.i OFFSET loaded LIMIT batch;
		CALL retail.refresh();
		INSERT INTO canc.earlier_lines_changed SELECT k, count(*) FROM retail.netting_changes;
		COMMIT;
		loaded := loaded + batch;
	END LOOP;
END $$;
-- the data nets in every way: lines cancelled in part and whole,
-- cancellations matched in part, whole and not at all, over many batches
SELECT count(DISTINCT batch_id) > 5 AS many_batches,
	   count(*) FILTER (WHERE cancelled_quantity > 0 AND cancelled_quantity < quantity) > 10 AS partly_cancelled,
	   count(*) FILTER (WHERE cancelled_quantity = quantity) > 10 AS wholly_cancelled,
	   count(*) FILTER (WHERE unmatched_quantity = 0) > 10 AS wholly_matched,
	   count(*) FILTER (WHERE unmatched_quantity > 0 AND unmatched_quantity < -quantity) > 10 AS partly_matched,
	   count(*) FILTER (WHERE unmatched_quantity = -quantity) > 10 AS unmatched
FROM silver.transactions;
-- refreshes changed lines of earlier batches, and more than once
SELECT count(*) FILTER (WHERE lines > 0) > 3 AS refreshes_changed_earlier_lines FROM canc.earlier_lines_changed;
-- equal to the rule, line by line
SELECT count(*) AS lines_differing_from_the_rule
FROM pg_temp.netted_by_the_rule() o
	 FULL JOIN silver.transactions t ON t.load_ordinal = o.load_ordinal
WHERE (o.cancelled_quantity, o.unmatched_quantity) IS DISTINCT FROM (t.cancelled_quantity, t.unmatched_quantity);
-- raw = clean + rejected still
SELECT (SELECT count(*) FROM bronze.transactions_raw)
	   = (SELECT count(*) FROM silver.cleaned_transactions) + (SELECT count(*) FROM silver.rejected_transactions)
	   AS reconciles;

-- Gold against plain SQL over the net lines (quantity - cancelled_quantity
-- when above 0).
CREATE VIEW canc.net_lines AS
SELECT t.invoice_no, t.stock_code, t.customer_id, t.country, t.invoice_ts, t.load_ordinal,
	   t.quantity - t.cancelled_quantity AS quantity, (t.quantity - t.cancelled_quantity) * t.unit_price AS line_total
FROM silver.cleaned_transactions t
WHERE t.quantity > t.cancelled_quantity;
SELECT count(*) AS customers_differing
FROM (SELECT customer_id, count(DISTINCT invoice_no) AS frequency, sum(line_total) AS monetary,
			 min(invoice_ts) AS first_purchase, max(invoice_ts) AS last_purchase
	  FROM canc.net_lines GROUP BY customer_id) o
	 FULL JOIN gold.mart_customer_segments g USING (customer_id)
WHERE (o.frequency, o.monetary, o.first_purchase, o.last_purchase)
	  IS DISTINCT FROM (g.frequency, g.monetary, g.first_purchase, g.last_purchase);
SELECT count(*) AS orders_differing
FROM (SELECT DISTINCT ON (invoice_no) invoice_no, customer_id, country,
			 min(invoice_ts) OVER w AS invoice_ts, count(*) OVER w AS lines, sum(quantity) OVER w AS units,
			 sum(line_total) OVER w AS total
	  FROM canc.net_lines
	  WINDOW w AS (PARTITION BY invoice_no)
	  ORDER BY invoice_no, load_ordinal) o
	 FULL JOIN gold.orders g USING (invoice_no)
WHERE (o.customer_id, o.country, o.invoice_ts, o.lines, o.units, o.total)
	  IS DISTINCT FROM (g.customer_id, g.country, g.invoice_ts, g.lines, g.units, g.total);
SELECT count(*) AS products_differing
FROM (SELECT stock_code, sum(line_total) AS revenue FROM canc.net_lines GROUP BY stock_code) o
	 FULL JOIN gold.mart_products_abc g USING (stock_code)
WHERE o.revenue IS DISTINCT FROM g.revenue;
SELECT count(*) AS countries_differing
FROM (SELECT country, sum(line_total) AS revenue FROM canc.net_lines GROUP BY country) o
	 FULL JOIN gold.mart_countries_abc g USING (country)
WHERE o.revenue IS DISTINCT FROM g.revenue;
SELECT count(*) AS cohort_cells_differing
FROM (SELECT c.cohort, date_trunc('month', l.invoice_ts)::date AS month, count(DISTINCT l.customer_id) AS active
	  FROM canc.net_lines l
		   JOIN (SELECT customer_id, date_trunc('month', min(invoice_ts))::date AS cohort
				 FROM canc.net_lines GROUP BY customer_id) c USING (customer_id)
	  GROUP BY 1, 2) o
	 FULL JOIN (SELECT cohort_month AS cohort, (cohort_month + period * interval '1 month')::date AS month,
					   active_customers AS active
				FROM gold.mart_cohort_retention WHERE active_customers > 0) g USING (cohort, month)
WHERE o.active IS DISTINCT FROM g.active;
-- and equal to a full rebuild, silver and gold
SELECT snap.save();
CALL retail.refresh(full => true);
SELECT relation, rows, differing FROM snap.differences() WHERE differing > 0;

-- 3. cancellations = 'ignore': the next refresh rebuilds (logged so), silver
-- still shows the netting, gold counts the clean lines as they are.
SELECT sum(cancelled_quantity) AS cancelled_units FROM silver.cleaned_transactions \gset
SELECT retail.set_setting('cancellations', 'ignore');
CALL retail.refresh();
SELECT DISTINCT run_kind, reason FROM retail.refresh_log WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log);
SELECT sum(cancelled_quantity) = :cancelled_units AS silver_unchanged FROM silver.cleaned_transactions;
SELECT count(*) AS customers_differing
FROM (SELECT customer_id, count(DISTINCT invoice_no) AS frequency, sum(line_total) AS monetary
	  FROM silver.cleaned_transactions GROUP BY customer_id) o
	 FULL JOIN gold.mart_customer_segments g USING (customer_id)
WHERE (o.frequency, o.monetary) IS DISTINCT FROM (g.frequency, g.monetary);
SELECT (SELECT count(*) FROM gold.orders) = (SELECT count(*) FROM silver.orders) AS every_order;
-- appending under 'ignore' keeps the states gross
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country)
VALUES ('C900', 'P0', 'product P0', '-3', '2011-05-01 00:00', '1.00', '1', 'UK');
CALL retail.refresh();
SELECT snap.save();
CALL retail.refresh(full => true);
SELECT relation, rows, differing FROM snap.differences() WHERE differing > 0;
-- and back to 'net': a rebuild again, equal to what net gave
SELECT retail.reset_setting('cancellations');
CALL retail.refresh();
SELECT DISTINCT run_kind, reason FROM retail.refresh_log WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log);
SELECT count(*) AS customers_differing
FROM (SELECT customer_id, count(DISTINCT invoice_no) AS frequency, sum(line_total) AS monetary
	  FROM canc.net_lines GROUP BY customer_id) o
	 FULL JOIN gold.mart_customer_segments g USING (customer_id)
WHERE (o.frequency, o.monetary) IS DISTINCT FROM (g.frequency, g.monetary);

-- 4. A cancellation of the most units a line can hold (-2147483648, whose
-- negation is beyond an integer): 5 units of the line are cancelled, the
-- other 2147483643 are unmatched, and the refresh does not fail.
TRUNCATE bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
									 customer_id, country) VALUES
	('1', 'A', 'a', '5', '2011-01-01 10:00', '1', '1', 'UK'),
	('C2', 'A', 'a', '-2147483648', '2011-01-02 10:00', '1', '1', 'UK');
CALL retail.refresh();
SELECT invoice_no, quantity, cancelled_quantity FROM silver.cleaned_transactions;
SELECT invoice_no, quantity, unmatched_quantity FROM silver.rejected_transactions;
SELECT cancellation_lines, cancelled_units, matched_units, unmatched_units, matched_value, unmatched_value
FROM gold.cancellation_summary;
SELECT count(*) AS customers FROM gold.mart_customer_segments;

DROP SCHEMA snap CASCADE;
DROP SCHEMA canc CASCADE;
TRUNCATE bronze.transactions_raw;
CALL retail.refresh();
RESET client_min_messages;
RESET datestyle;

-- The real file in batches gives what it gives in one batch (spec: "Refresh:
-- incremental and full give the same marts").  The suite loaded it in one
-- batch and refreshed: every silver and gold relation is copied aside as
-- text, bronze is emptied and the same rows (same load_ordinal, batch_id and
-- loaded_at) go back in four batches with a refresh after each:
--   1. up to a line inside an invoice (the invoice spans batches 1 and 2);
--   2. up to a clean line whose duplicate comes later, in batch 3;
--   3. up to the last line before the last day;
--   4. the last day, 2011-12-09, alone.
-- Then every relation must equal its copy, before and after a full rebuild,
-- and the database is left as the suite made it.
SET client_min_messages = warning;
\set ECHO none
\i test/snapshot.sql
\set ECHO all

-- The boundaries, found in the one-batch silver.
SELECT max(load_ordinal) AS last_line FROM bronze.transactions_raw \gset
-- a clean line followed by a clean line of the same invoice, a third of the way in
SELECT t.load_ordinal AS b1, t.invoice_no AS split_invoice
FROM silver.transactions t JOIN silver.transactions u ON u.load_ordinal = t.load_ordinal + 1
WHERE t.load_ordinal >= :last_line / 3 AND t.reason IS NULL AND u.reason IS NULL
  AND t.invoice_no = u.invoice_no
ORDER BY t.load_ordinal LIMIT 1 \gset
-- the first duplicate two thirds of the way in whose earlier clean line is
-- more than one line before it, and that clean line (equal raw fields)
SELECT c.load_ordinal AS b2, d.load_ordinal AS later_duplicate
FROM silver.transactions d
	 JOIN bronze.transactions_raw db ON db.load_ordinal = d.load_ordinal
	 JOIN silver.transactions c ON c.reason IS NULL AND c.load_ordinal < d.load_ordinal - 1
		AND c.fingerprint = retail.line_fingerprint(db.invoice_no, db.stock_code, db.description, db.quantity,
													db.invoice_date, db.unit_price, db.customer_id, db.country)
	 JOIN bronze.transactions_raw cb ON cb.load_ordinal = c.load_ordinal
WHERE d.reason = 'duplicate' AND d.load_ordinal >= 2 * :last_line / 3
  AND ROW(btrim(cb.invoice_no), btrim(cb.stock_code), btrim(cb.description), btrim(cb.quantity),
		  btrim(cb.invoice_date), btrim(cb.unit_price), btrim(cb.customer_id), btrim(cb.country))
	  IS NOT DISTINCT FROM
	  ROW(btrim(db.invoice_no), btrim(db.stock_code), btrim(db.description), btrim(db.quantity),
		  btrim(db.invoice_date), btrim(db.unit_price), btrim(db.customer_id), btrim(db.country))
ORDER BY d.load_ordinal LIMIT 1 \gset
SELECT min(load_ordinal) - 1 AS b3 FROM silver.transactions WHERE invoice_ts::date = '2011-12-09' \gset
SELECT k AS batch, lines_after, lines_through, lines_through - lines_after AS lines
FROM (VALUES (1, 0, :b1), (2, :b1, :b2), (3, :b2, :b3), (4, :b3, :last_line)) b(k, lines_after, lines_through)
ORDER BY k;
-- the boundaries are what they claim
SELECT count(*) FILTER (WHERE load_ordinal <= :b1) AS split_invoice_lines_in_batch_1,
	   count(*) FILTER (WHERE load_ordinal > :b1) AS split_invoice_lines_in_batch_2
FROM silver.transactions WHERE invoice_no = :'split_invoice' AND reason IS NULL;
SELECT (SELECT reason FROM silver.transactions WHERE load_ordinal = :b2) IS NULL AS b2_is_clean,
	   (SELECT reason FROM silver.transactions WHERE load_ordinal = :later_duplicate) AS later_line,
	   :later_duplicate > :b2 + 1 AND :later_duplicate <= :b3 AS later_line_in_batch_3;
SELECT count(*) FILTER (WHERE load_ordinal > :b3) AS last_batch_lines,
	   bool_and(invoice_ts::date = '2011-12-09') FILTER (WHERE load_ordinal > :b3) AS all_on_2011_12_09,
	   count(*) FILTER (WHERE load_ordinal <= :b3 AND invoice_ts::date >= '2011-12-09') AS earlier_lines_on_it
FROM silver.transactions;

-- Copy the one-batch state aside, empty bronze; the refresh after emptying
-- is the one rebuild.
SELECT snap.save();
CREATE TEMP TABLE bronze_copy AS SELECT * FROM bronze.transactions_raw;
SELECT bronze_through AS through_before FROM retail.refresh_progress \gset
SELECT coalesce(max(run_id), 0) AS before_runs FROM retail.refresh_log \gset
TRUNCATE bronze.transactions_raw;
CALL retail.refresh(concurrently => false);
SELECT bool_and((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', r), false, true, '')))[1]::text = '0') AS all_empty
FROM snap.relations() r;

-- The four batches, a refresh after each.
INSERT INTO bronze.transactions_raw SELECT * FROM bronze_copy WHERE load_ordinal <= :b1 ORDER BY load_ordinal;
CALL retail.refresh();
INSERT INTO bronze.transactions_raw
SELECT * FROM bronze_copy WHERE load_ordinal > :b1 AND load_ordinal <= :b2 ORDER BY load_ordinal;
CALL retail.refresh();
INSERT INTO bronze.transactions_raw
SELECT * FROM bronze_copy WHERE load_ordinal > :b2 AND load_ordinal <= :b3 ORDER BY load_ordinal;
CALL retail.refresh();
INSERT INTO bronze.transactions_raw SELECT * FROM bronze_copy WHERE load_ordinal > :b3 ORDER BY load_ordinal;
CALL retail.refresh();

-- Each batch was appended (step 10 logged as an append, its lines alone
-- classified); only the refresh of the emptied bronze rebuilt.
SELECT row_number() OVER (ORDER BY run_id) AS run, rows AS lines_classified, run_kind = 'append' AS appended, status
FROM retail.refresh_log WHERE run_id > :before_runs AND step_order = 10 ORDER BY run_id;
-- The batch of the last day alone falls in the month of the line before it,
-- but its cancellation C581569 cancels lines of 2011-09-14 and 2011-11-01:
-- the month-end segment snapshots net them too and are refreshed (none
-- skipped).
SELECT count(DISTINCT run_id) AS runs,
	   count(DISTINCT run_id) FILTER (WHERE status NOT IN ('ok', 'unchanged')) AS not_ok,
	   string_agg(relation, ', ') FILTER (WHERE status = 'unchanged') AS skipped
FROM retail.refresh_log WHERE run_id > :before_runs;

-- Every relation equals the one-batch load, row by row.
SELECT * FROM snap.differences();
SELECT bronze_through = :through_before AS same_watermark, rebuild_needed, gold_stale
FROM retail.refresh_progress;
-- so do the split invoice and the later duplicate
SELECT lines, customer_id, country FROM silver.orders WHERE invoice_no = :'split_invoice';
SELECT reason FROM silver.transactions WHERE load_ordinal = :later_duplicate;

-- And equals a full rebuild of the same bronze.
CALL retail.refresh(full => true);
SELECT rows AS lines_classified, run_kind = 'append' AS appended FROM retail.last_refresh WHERE step_order = 10;
SELECT * FROM snap.differences() WHERE differing > 0;

-- Bronze is as the suite loaded it.
SELECT (SELECT count(*) FROM bronze.transactions_raw) AS bronze_lines,
	   (SELECT count(*) FROM ((SELECT b::text FROM bronze.transactions_raw b EXCEPT ALL SELECT c::text FROM bronze_copy c)
							  UNION ALL
							  (SELECT c::text FROM bronze_copy c EXCEPT ALL SELECT b::text FROM bronze.transactions_raw b)) d)
	   AS bronze_differing;
DROP TABLE bronze_copy;
DROP SCHEMA snap CASCADE;
RESET client_min_messages;

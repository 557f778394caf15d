-- Incremental refresh gives what a full rebuild gives (spec: "Refresh:
-- incremental and full give the same marts"): generated lines cut into
-- batches at arbitrary points (inside invoices, between a line and its later
-- duplicate), a refresh after each, then every silver and gold relation
-- compared, as text so that display scales count too, with the result of
-- CALL retail.refresh(full => true) over the same bronze.
SET client_min_messages = warning;
TRUNCATE bronze.transactions_raw;
CALL retail.refresh(full => true);
CREATE SCHEMA incr_snap;

-- Every relation that a refresh writes, with the rows of its text form
-- that the snapshot has and the relation lacks, and the reverse.
CREATE FUNCTION incr_snap.save() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	rel text;
BEGIN
	FOR rel IN SELECT unnest(incr_snap.relations()) LOOP
		EXECUTE format('DROP TABLE IF EXISTS incr_snap.%I', replace(rel, '.', '__'));
		EXECUTE format('CREATE TABLE incr_snap.%I AS SELECT t::text AS row FROM %s t',
					   replace(rel, '.', '__'), rel);
	END LOOP;
END $$;
-- every table of silver and every gold mart
CREATE FUNCTION incr_snap.relations() RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg(c.oid::regclass::text ORDER BY n.nspname DESC, c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE (n.nspname = 'silver' AND c.relkind = 'r') OR (n.nspname = 'gold_store' AND c.relkind IN ('m', 'r'))
$$;
CREATE FUNCTION incr_snap.differences() RETURNS TABLE (relation text, rows bigint, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
	rel text;
BEGIN
	FOR rel IN SELECT unnest(incr_snap.relations()) LOOP
		relation := rel;
		EXECUTE format('SELECT count(*) FROM %s', rel) INTO rows;
		EXECUTE format('SELECT count(*) FROM ((SELECT row FROM incr_snap.%1$I EXCEPT ALL SELECT t::text FROM %2$s t)
											 UNION ALL
											 (SELECT t::text FROM %2$s t EXCEPT ALL SELECT row FROM incr_snap.%1$I)) d',
					   replace(rel, '.', '__'), rel) INTO differing;
		RETURN NEXT;
	END LOOP;
END $$;

-- The stored marts emptied before the rebuild they are compared with: it
-- then writes every row anew, where a refresh writes only the rows that
-- differ (a row such a refresh failed to write would stay in both).
CREATE FUNCTION incr_snap.empty_gold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE (SELECT 'TRUNCATE ' || string_agg(c.oid::regclass::text, ', ')
			 FROM pg_class c
			 WHERE c.relnamespace = 'gold_store'::regnamespace AND c.relkind = 'r');
END $$;

-- Two seeds, each cut into batches of pseudo-random sizes (a refresh after
-- each): a batch boundary falls inside an invoice almost every time.
CREATE TEMP TABLE generated AS
SELECT s.seed, row_number() OVER (PARTITION BY s.seed) AS n, g.*
FROM (VALUES (7), (8)) s(seed), retail.generate_transactions(6000, seed => s.seed) g;
-- batch k of a seed ends after line cut_k: cuts at 1/7 .. 6/7 of the lines,
-- shifted by a seed-dependent odd amount
CREATE TEMP TABLE cuts AS
SELECT seed, k, CASE WHEN k = 7 THEN 6000 ELSE k * 857 + seed * 13 % 97 END AS through
FROM (VALUES (7), (8)) s(seed), generate_series(1, 7) k;
SELECT seed, array_agg(through ORDER BY k) AS batch_ends FROM cuts GROUP BY seed ORDER BY seed;
SELECT coalesce(max(run_id), 0) AS before_batches FROM retail.refresh_log \gset

DO $$
DECLARE
	cut record;
	previous bigint := 0;
BEGIN
	FOR cut IN SELECT * FROM cuts ORDER BY seed, k LOOP
		IF cut.k = 1 THEN
			previous := 0;
		END IF;
		INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
											 unit_price, customer_id, country)
		SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
		FROM generated g
		WHERE g.seed = cut.seed AND g.n > previous AND g.n <= cut.through
		ORDER BY g.n;
		CALL retail.refresh();
		COMMIT;					-- one batch, one transaction
		previous := cut.through;
	END LOOP;
END $$;
-- One more batch: copies of the first three clean lines (duplicates of
-- lines of an earlier batch), and a line of the first invoice with another
-- customer and country (the invoice keeps those of its first line).
SELECT invoice_no AS first_invoice, customer_id AS first_customer, country AS first_country
FROM silver.transactions WHERE reason IS NULL ORDER BY load_ordinal LIMIT 1 \gset
BEGIN;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
SELECT b.invoice_no, b.stock_code, b.description, b.quantity, b.invoice_date, b.unit_price, b.customer_id,
	   b.country
FROM bronze.transactions_raw b JOIN silver.transactions s ON s.load_ordinal = b.load_ordinal
WHERE s.reason IS NULL
ORDER BY b.load_ordinal
LIMIT 3;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
VALUES (:'first_invoice', '22139', 'X', '2', '2011-12-09 12:00', '1.00', '99999', 'Iceland');
COMMIT;
CALL retail.refresh();
SELECT reason, count(*) FROM silver.transactions
WHERE load_ordinal > (SELECT max(load_ordinal) - 4 FROM silver.transactions) GROUP BY 1 ORDER BY 1;
SELECT customer_id = :first_customer AS keeps_customer, country = :'first_country' AS keeps_country
FROM silver.orders WHERE invoice_no = :'first_invoice';

-- the refreshes were incremental: one run per batch, none rebuilt
SELECT count(*) AS runs, count(*) FILTER (WHERE run_kind = 'append') AS appended,
	   sum(rows) AS lines_classified, (SELECT count(*) FROM bronze.transactions_raw) AS bronze_lines
FROM retail.refresh_log
WHERE step_order = 10 AND run_id > :before_batches;
-- duplicates and invoices across batches happened (the two seeds share
-- invoice numbers, so their invoices count too)
SELECT count(*) FILTER (WHERE reason = 'duplicate') > 0 AS has_duplicates,
	   count(DISTINCT batch_id) AS batches
FROM silver.transactions;
SELECT count(*) AS invoices_across_batches
FROM (SELECT invoice_no FROM silver.transactions WHERE reason IS NULL
	  GROUP BY invoice_no HAVING count(DISTINCT batch_id) > 1) i;
SELECT count(*) AS duplicates_of_an_earlier_batch
FROM silver.transactions d
	 JOIN bronze.transactions_raw b ON b.load_ordinal = d.load_ordinal
WHERE d.reason = 'duplicate'
  AND EXISTS (SELECT FROM silver.transactions c JOIN bronze.transactions_raw e ON e.load_ordinal = c.load_ordinal
			  WHERE c.reason IS NULL AND c.fingerprint = retail.line_fingerprint(b.invoice_no, b.stock_code,
					b.description, b.quantity, b.invoice_date, b.unit_price, b.customer_id, b.country)
				AND c.batch_id < d.batch_id);

SELECT incr_snap.save();
SELECT incr_snap.empty_gold();
CALL retail.refresh(full => true);
SELECT * FROM incr_snap.differences();

-- Nothing new, nothing done, and logged as such (retail.last_refresh still
-- shows the full rebuild: test monitoring).
CALL retail.refresh();
SELECT step_order, layer, relation, rows, status, run_kind FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log);

-- A withdrawn batch and prices rewritten at another scale: the next refresh
-- rebuilds concurrently, changing only the rows that differ, equal to a
-- rebuild from empty tables of what remains.
DELETE FROM bronze.transactions_raw
WHERE batch_id = (SELECT batch_id FROM bronze.transactions_raw ORDER BY load_ordinal OFFSET 3000 LIMIT 1);
UPDATE bronze.transactions_raw SET unit_price = unit_price || '0'
WHERE load_ordinal % 97 = 0 AND unit_price LIKE '%.%';
CALL retail.refresh();
SELECT relation, run_kind, concurrent FROM retail.last_refresh WHERE step_order = 10;
SELECT incr_snap.save();
SELECT incr_snap.empty_gold();
CALL retail.refresh(full => true, concurrently => false);
SELECT * FROM incr_snap.differences() WHERE differing > 0;

-- A changed setting re-scores everything at the next refresh, though no
-- line is new: equal to a full rebuild with the new setting.
INSERT INTO retail.settings VALUES ('abc_a', '0.5'), ('audit_threshold', '2');
CALL retail.refresh();
SELECT relation, rows FROM retail.last_refresh WHERE step_order = 10;
SELECT abc_class, count(*) FROM gold.mart_countries_abc GROUP BY 1 ORDER BY 1;
SELECT incr_snap.save();
SELECT incr_snap.empty_gold();
CALL retail.refresh(full => true);
SELECT * FROM incr_snap.differences() WHERE differing > 0;
DELETE FROM retail.settings;

-- retail.sync_table by hand, on a table keyed by (id, part).  Before:
-- (1,a) 1.5 x; (2,a) 2.5 NULL; (3,a) 3.5 y; (4,b) NULL z; (5,a) 5.5 w.  The
-- query keeps (1,a) and (2,a) as they are (NULL and NULL: not distinct),
-- sets (3,a)'s note to NULL and (4,b)'s value to 4.5, lacks (5,a), and adds
-- (1,b) (a known id, a new key) and (6,a), NULLs only: 1 deleted + 2
-- updated + 2 inserted = 5 rows written.  The rows kept as they were keep
-- the xmin of their INSERT: they were not written again.
CREATE TABLE incr_snap.synced (id integer, part text, value numeric, note text, PRIMARY KEY (id, part));
INSERT INTO incr_snap.synced VALUES
	(1, 'a', 1.5, 'x'), (2, 'a', 2.5, NULL), (3, 'a', 3.5, 'y'), (4, 'b', NULL, 'z'), (5, 'a', 5.5, 'w');
CREATE TEMP TABLE synced_before AS SELECT id, part, xmin::text AS inserted_by FROM incr_snap.synced;
CREATE TABLE incr_snap.synced_query AS
SELECT * FROM (VALUES (1, 'a', 1.5, 'x'), (2, 'a', 2.5, NULL), (3, 'a', 3.5, NULL), (4, 'b', 4.5, 'z'),
					  (1, 'b', 1.5, 'x'), (6, 'a', NULL, NULL)) v(id, part, value, note);
SELECT retail.sync_table('incr_snap.synced', 'TABLE incr_snap.synced_query') AS written;
SELECT s.id, s.part, s.value, s.note, s.xmin::text = b.inserted_by AS not_written_again
FROM incr_snap.synced s LEFT JOIN synced_before b USING (id, part)
ORDER BY s.id, s.part;
-- the same query again: every row equal, none written
SELECT retail.sync_table('incr_snap.synced', 'TABLE incr_snap.synced_query') AS written;
-- the query's columns are the table's, in order: one too many (42601,
-- unequal number of entries in row expressions), one too few (42P10, WITH
-- query "source" has 3 columns available but 4 columns specified)
\set VERBOSITY sqlstate
SELECT retail.sync_table('incr_snap.synced', 'SELECT 7, ''a'', 7.5, ''x'', 0');
SELECT retail.sync_table('incr_snap.synced', 'SELECT 7, ''a'', 7.5');
\set VERBOSITY default
-- rows are matched by the primary key: a table without one is refused
CREATE TABLE incr_snap.unkeyed (id integer UNIQUE);
\set SHOW_CONTEXT never
SELECT retail.sync_table('incr_snap.unkeyed', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
\set SHOW_CONTEXT errors
DROP TABLE synced_before;

DROP SCHEMA incr_snap CASCADE;
TRUNCATE bronze.transactions_raw;
CALL retail.refresh();
RESET client_min_messages;

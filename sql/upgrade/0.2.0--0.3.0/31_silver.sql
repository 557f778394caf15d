-- Silver (sql/install/30_silver.sql): classification into silver.transactions
-- or, for a concurrent rebuild, a table beside it (reclassify_lines, which
-- replaces only the rows that change); the key by which Citus distributes
-- the lines (retail.distribute).

-- Rule 7 finds earlier lines by invoice (retail.classify_lines below).
DROP INDEX silver.transactions_clean_fingerprint;

-- Pages keep a tenth free for the netting's updates (see 30_silver.sql): the
-- pages written from now on, and all of them after a rebuild that truncates.
ALTER TABLE silver.transactions SET (fillfactor = 90);

-- The key Citus distributes the lines by, for the lines classified so far
-- as classify_lines gives it to new ones.
ALTER TABLE silver.transactions ADD COLUMN distribution_key bigint;
UPDATE silver.transactions SET distribution_key = coalesce(customer_id, -1 - load_ordinal % 1024);
ALTER TABLE silver.transactions ALTER COLUMN distribution_key SET NOT NULL;
COMMENT ON COLUMN silver.transactions.distribution_key IS
	'What Citus distributes the lines by (retail.distribute): the customer, or for a line without one a negative number, -1 - load_ordinal % 1024, that spreads such lines over the shards';

-- Classify the bronze lines with load_ordinal in (after, through] into
-- silver.transactions, or into a table like it (a rebuild's).  Rule 7
-- compares a passing line with the passing lines before it: the clean
-- lines of earlier batches (load_ordinal <= after) are
-- found by invoice (equal lines have one invoice_no; a batch's invoices are
-- new, or few, where an index on the fingerprint would take an insert at a
-- random place for every line), and only lines whose fingerprint recurs are
-- compared field by field.  What is kept aside for that is narrow (ordinal,
-- invoice, fingerprint of each passing line): the batch's text is read
-- again from bronze, and its rules and fingerprints computed again, rather
-- than held in a tuplestore that spills (on the real file the second
-- computation costs about 0.15 s, the spill cost about 0.8 s).  One
-- statement, run by EXECUTE with the bounds as parameters: Citus plans no
-- SQL function over a distributed table (doc/citus.md), and the rows go
-- straight into the table.
DROP FUNCTION retail.classify_lines(bigint, bigint);
CREATE FUNCTION retail.classify_lines(after bigint, through bigint,
									  target regclass DEFAULT 'silver.transactions') RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
BEGIN
	EXECUTE format($sql$
		INSERT INTO %1$s
		WITH passing AS MATERIALIZED (
			-- the batch's lines that break none of rules 1-6
			SELECT b.load_ordinal, retail.clean_code(b.invoice_no) AS invoice_no,
				   retail.line_fingerprint(b.invoice_no, b.stock_code, b.description, b.quantity,
										   b.invoice_date, b.unit_price, b.customer_id, b.country) AS fingerprint
			FROM bronze.transactions_raw b
			WHERE b.load_ordinal > $1 AND b.load_ordinal <= $2
			  AND retail.rule_reason(b.invoice_no, b.stock_code, b.quantity, b.invoice_date, b.unit_price,
									 b.customer_id, b.country) IS NULL
		),
		recurring AS MATERIALIZED (
			-- fingerprints of passing lines seen twice in the batch (found in
			-- order: the fingerprints of a big batch are too many to hash in
			-- work_mem) or before it
			SELECT f.fingerprint
			FROM (SELECT p.fingerprint, lag(p.fingerprint) OVER (ORDER BY p.fingerprint) AS previous
				  FROM passing p) f
			WHERE f.fingerprint = f.previous
			%2$s
		),
		candidates AS MATERIALIZED (
			SELECT p.load_ordinal, p.invoice_no
			FROM passing p
			WHERE p.fingerprint IN (SELECT r.fingerprint FROM recurring r)
		),
		duplicates AS (
			SELECT c.load_ordinal
			FROM (SELECT e.load_ordinal, e.in_batch,
						 row_number() OVER (
							 PARTITION BY coalesce(btrim(e.invoice_no), ''), coalesce(btrim(e.stock_code), ''),
								 coalesce(btrim(e.description), ''), coalesce(btrim(e.quantity), ''),
								 coalesce(btrim(e.invoice_date), ''), coalesce(btrim(e.unit_price), ''),
								 coalesce(btrim(e.customer_id), ''), coalesce(btrim(e.country), '')
							 ORDER BY e.load_ordinal) AS occurrence
				  FROM (SELECT b.*, true AS in_batch
						FROM candidates c
							 JOIN bronze.transactions_raw b ON b.load_ordinal = c.load_ordinal
						%3$s) e) c
			WHERE c.in_batch AND c.occurrence > 1
		),
		classified AS (
			SELECT b.*,
				   coalesce(r.rule, CASE WHEN d.load_ordinal IS NOT NULL THEN 'duplicate' END) AS reason,
				   retail.try_int4(b.quantity) AS typed_quantity,
				   retail.try_numeric(b.unit_price) AS typed_unit_price,
				   retail.try_customer_id(b.customer_id) AS typed_customer_id
			FROM bronze.transactions_raw b
				 CROSS JOIN LATERAL (SELECT retail.rule_reason(b.invoice_no, b.stock_code, b.quantity,
															   b.invoice_date, b.unit_price, b.customer_id,
															   b.country) AS rule) r
				 LEFT JOIN duplicates d ON d.load_ordinal = b.load_ordinal
			WHERE b.load_ordinal > $1 AND b.load_ordinal <= $2
			OFFSET 0				-- parse once per row, not once per reference
		)
		SELECT c.load_ordinal,
			   c.batch_id,
			   c.reason,
			   retail.clean_code(c.invoice_no),
			   retail.clean_code(c.stock_code),
			   NULLIF(btrim(c.description), ''),
			   c.typed_quantity,
			   retail.try_timestamp(c.invoice_date),
			   c.typed_unit_price,
			   c.typed_quantity * c.typed_unit_price,
			   c.typed_customer_id,
			   btrim(c.country),
			   -- the raw text is kept for rejected rows only
			   CASE WHEN c.reason IS NOT NULL THEN c.invoice_no END,
			   CASE WHEN c.reason IS NOT NULL THEN c.stock_code END,
			   CASE WHEN c.reason IS NOT NULL THEN c.description END,
			   CASE WHEN c.reason IS NOT NULL THEN c.quantity END,
			   CASE WHEN c.reason IS NOT NULL THEN c.invoice_date END,
			   CASE WHEN c.reason IS NOT NULL THEN c.unit_price END,
			   CASE WHEN c.reason IS NOT NULL THEN c.customer_id END,
			   CASE WHEN c.reason IS NOT NULL THEN c.country END,
			   CASE WHEN c.reason IS NULL
					THEN retail.line_fingerprint(c.invoice_no, c.stock_code, c.description, c.quantity,
												 c.invoice_date, c.unit_price, c.customer_id, c.country)
			   END,
			   -- until retail.net_cancellations sees the other lines: nothing
			   -- cancelled, nothing matched
			   CASE WHEN c.reason IS NULL THEN 0 END,
			   CASE WHEN c.reason = 'cancellation' AND c.typed_quantity < 0 AND c.typed_unit_price > 0
						 AND NOT retail.is_non_product(c.stock_code)
					THEN -c.typed_quantity::bigint END,
			   coalesce(c.typed_customer_id, -1 - c.load_ordinal %% 1024)
		FROM classified c
	$sql$, target,
		-- the earlier lines, read only when there are some: on Citus the
		-- batch's lines go to the shards to meet them (10M of them exceeded
		-- citus.max_intermediate_result_size); the raw text of the few that
		-- recur is read by their ordinals, found first (joined to bronze, a
		-- local table, Citus sent all of bronze to the shards)
		CASE WHEN after > 0 THEN $sql$
			UNION
			SELECT s.fingerprint
			FROM silver.transactions s
			WHERE s.reason IS NULL AND s.load_ordinal <= $1
			  AND s.invoice_no IN (SELECT p.invoice_no FROM passing p)
			  AND s.fingerprint IN (SELECT p.fingerprint FROM passing p)$sql$ END,
		CASE WHEN after > 0 THEN $sql$
			UNION ALL
			SELECT b.*, false
			FROM bronze.transactions_raw b
			WHERE b.load_ordinal IN (SELECT s.load_ordinal
									 FROM silver.transactions s
									 WHERE s.reason IS NULL AND s.load_ordinal <= $1
									   AND s.invoice_no IN (SELECT c.invoice_no FROM candidates c)
									   AND s.fingerprint IN (SELECT r.fingerprint FROM recurring r))$sql$ END)
		USING after, through;
	GET DIAGNOSTICS classified = ROW_COUNT;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.classify_lines(bigint, bigint, regclass) IS
	'Classify the bronze lines with load_ordinal in (after, through] into silver.transactions, or into target, a table like it (rules 1-7; rule 7 against every clean line of silver.transactions up to after); returns how many';

-- Classify every bronze line up to through anew without blocking readers of
-- silver.transactions: the new rows are built beside it, and only the rows
-- that differ (by image, so that 2.5 and 2.50 differ) are deleted and
-- inserted.  Deleting and inserting them all would rewrite every tuple and
-- index entry, and each insert would meet the deleted row of its key.  On
-- Citus the rows are built in a table on the same shards, where each shard
-- compares its own (a local table cannot be joined to the lines there).
CREATE FUNCTION retail.reclassify_lines(through bigint) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
	distributed constant boolean := retail.is_distributed('silver.transactions');
	beside regclass;
BEGIN
	IF distributed THEN
		CREATE TABLE retail.reclassified_lines (LIKE silver.transactions);
		beside := 'retail.reclassified_lines';
		EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''distribution_key'',
															 colocate_with => ''silver.transactions'')'
			USING beside;
	ELSE
		CREATE TEMPORARY TABLE reclassified_lines (LIKE silver.transactions);
		beside := 'pg_temp.reclassified_lines';
	END IF;
	classified := retail.classify_lines(0, through, beside);
	EXECUTE format($sql$
		DELETE FROM silver.transactions s
		WHERE NOT EXISTS (SELECT 1 FROM %1$s r
						  WHERE r.distribution_key = s.distribution_key AND r.load_ordinal = s.load_ordinal
							AND r *= s)
		$sql$, beside);
	EXECUTE format($sql$
		INSERT INTO silver.transactions
		SELECT * FROM %1$s r
		WHERE NOT EXISTS (SELECT 1 FROM silver.transactions s
						  WHERE s.distribution_key = r.distribution_key AND s.load_ordinal = r.load_ordinal)
		$sql$, beside);
	-- unqualified where temporary: Citus cannot look up the schema name
	-- pg_temp in a DROP
	EXECUTE 'DROP TABLE ' || CASE WHEN distributed THEN 'retail.reclassified_lines' ELSE 'reclassified_lines' END;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.reclassify_lines(bigint) IS
	'Classify every bronze line with load_ordinal up to through into silver.transactions anew, deleting and inserting only the rows that change (a concurrent rebuild); returns how many lines';

REVOKE EXECUTE ON FUNCTION retail.classify_lines(bigint, bigint, regclass), retail.reclassify_lines(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.classify_lines(bigint, bigint, regclass), retail.reclassify_lines(bigint) TO retail_bi;

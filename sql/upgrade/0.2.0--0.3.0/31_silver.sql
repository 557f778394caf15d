-- Silver (sql/install/30_silver.sql): classification as a function of its
-- own, inlined by classify_lines and, for a concurrent rebuild, by
-- reclassify_lines, which replaces only the rows that change.

-- Rule 7 finds earlier lines by invoice (retail.classified_lines below).
DROP INDEX silver.transactions_clean_fingerprint;

-- Pages keep a tenth free for the netting's updates (see 30_silver.sql): the
-- pages written from now on, and all of them after a rebuild that truncates.
ALTER TABLE silver.transactions SET (fillfactor = 90);

-- The rows of silver.transactions for the bronze lines with load_ordinal in
-- (after, through].  Rule 7 compares a passing line with the passing lines
-- before it: the clean lines of earlier batches (load_ordinal <= after) are
-- found by invoice (equal lines have one invoice_no; a batch's invoices are
-- new, or few, where an index on the fingerprint would take an insert at a
-- random place for every line), and only lines whose fingerprint recurs are
-- compared field by field.  What is kept aside for that is narrow (ordinal,
-- invoice, fingerprint of each passing line): the batch's text is read
-- again from bronze, and its rules and fingerprints computed again, rather
-- than held in a tuplestore that spills (on the real file the second
-- computation costs about 0.15 s, the spill cost about 0.8 s).  A plain SQL
-- body, so that the caller's statement inlines it rather than collecting its
-- rows first.
CREATE FUNCTION retail.classified_lines(after bigint, through bigint) RETURNS SETOF silver.transactions
LANGUAGE sql STABLE
BEGIN ATOMIC
	WITH passing AS MATERIALIZED (
		-- the batch's lines that break none of rules 1-6
		SELECT b.load_ordinal, retail.clean_code(b.invoice_no) AS invoice_no,
			   retail.line_fingerprint(b.invoice_no, b.stock_code, b.description, b.quantity,
									   b.invoice_date, b.unit_price, b.customer_id, b.country) AS fingerprint
		FROM bronze.transactions_raw b
		WHERE b.load_ordinal > after AND b.load_ordinal <= through
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
		UNION
		SELECT s.fingerprint
		FROM silver.transactions s
		WHERE after > 0 AND s.reason IS NULL AND s.load_ordinal <= after
		  AND s.invoice_no IN (SELECT p.invoice_no FROM passing p)
		  AND s.fingerprint IN (SELECT p.fingerprint FROM passing p)
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
					UNION ALL
					SELECT b.*, false
					FROM silver.transactions s
						 JOIN bronze.transactions_raw b ON b.load_ordinal = s.load_ordinal
					WHERE after > 0 AND s.reason IS NULL AND s.load_ordinal <= after
					  AND s.invoice_no IN (SELECT c.invoice_no FROM candidates c)
					  AND s.fingerprint IN (SELECT r.fingerprint FROM recurring r)) e) c
		WHERE c.in_batch AND c.occurrence > 1
	),
	classified AS (
		SELECT b.*,
			   coalesce(r.rule, CASE WHEN d.load_ordinal IS NOT NULL THEN 'duplicate' END) AS reason,
			   retail.try_int4(b.quantity) AS typed_quantity,
			   retail.try_numeric(b.unit_price) AS typed_unit_price
		FROM bronze.transactions_raw b
			 CROSS JOIN LATERAL (SELECT retail.rule_reason(b.invoice_no, b.stock_code, b.quantity,
														   b.invoice_date, b.unit_price, b.customer_id,
														   b.country) AS rule) r
			 LEFT JOIN duplicates d ON d.load_ordinal = b.load_ordinal
		WHERE b.load_ordinal > after AND b.load_ordinal <= through
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
		   retail.try_customer_id(c.customer_id),
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
				THEN -c.typed_quantity::bigint END
	FROM classified c;
END;
COMMENT ON FUNCTION retail.classified_lines(bigint, bigint) IS
	'The rows of silver.transactions for the bronze lines with load_ordinal in (after, through] (rules 1-7; rule 7 against every clean line up to after)';

-- Classify the bronze lines with load_ordinal in (after, through] into
-- silver.transactions.
CREATE OR REPLACE FUNCTION retail.classify_lines(after bigint, through bigint) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
BEGIN
	INSERT INTO silver.transactions SELECT * FROM retail.classified_lines(after, through);
	GET DIAGNOSTICS classified = ROW_COUNT;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.classify_lines(bigint, bigint) IS
	'Classify the bronze lines with load_ordinal in (after, through] into silver.transactions (rules 1-7; rule 7 against every earlier clean line); returns how many';

-- Classify every bronze line up to through anew without blocking readers of
-- silver.transactions: the new rows are built beside it, and only the rows
-- that differ (by image, so that 2.5 and 2.50 differ) are deleted and
-- inserted.  Deleting and inserting them all would rewrite every tuple and
-- index entry, and each insert would meet the deleted row of its key.
CREATE FUNCTION retail.reclassify_lines(through bigint) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
BEGIN
	CREATE TEMPORARY TABLE reclassified_lines AS
	SELECT * FROM retail.classified_lines(0, through);
	GET DIAGNOSTICS classified = ROW_COUNT;
	DELETE FROM silver.transactions s
	WHERE NOT EXISTS (SELECT FROM reclassified_lines r WHERE r.load_ordinal = s.load_ordinal AND r *= s);
	INSERT INTO silver.transactions
	SELECT * FROM reclassified_lines r
	WHERE NOT EXISTS (SELECT FROM silver.transactions s WHERE s.load_ordinal = r.load_ordinal);
	DROP TABLE reclassified_lines;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.reclassify_lines(bigint) IS
	'Classify every bronze line with load_ordinal up to through into silver.transactions anew, deleting and inserting only the rows that change (a concurrent rebuild); returns how many lines';

REVOKE EXECUTE ON FUNCTION retail.classified_lines(bigint, bigint), retail.reclassify_lines(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.classified_lines(bigint, bigint), retail.reclassify_lines(bigint) TO retail_bi;

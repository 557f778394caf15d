
-- Silver: every bronze row classified once.  The reason is the first rule of
-- spec/metrics.md that the row breaks, NULL for a clean row.  Typed columns
-- are kept for every row (NULL where the text does not parse), the raw text
-- for rejected rows only, which is all the quarantine needs.
CREATE MATERIALIZED VIEW silver.transactions AS
WITH repeated AS MATERIALIZED (
	-- fingerprints of lines that occur more than once, whatever their fate
	SELECT retail.line_fingerprint(b.invoice_no, b.stock_code, b.description, b.quantity,
								   b.invoice_date, b.unit_price, b.customer_id, b.country) AS fingerprint
	FROM bronze.transactions_raw b
	GROUP BY 1
	HAVING count(*) > 1
),
duplicates AS (
	-- Rule 7: a line passing rules 1-6 whose eight trimmed raw fields equal
	-- those of an earlier passing line; NULL and '' are the same empty
	-- field.  Only lines with a repeated fingerprint are compared.
	SELECT r.load_ordinal
	FROM (
		SELECT b.load_ordinal,
			   row_number() OVER (
				   PARTITION BY coalesce(btrim(b.invoice_no), ''), coalesce(btrim(b.stock_code), ''),
					   coalesce(btrim(b.description), ''), coalesce(btrim(b.quantity), ''),
					   coalesce(btrim(b.invoice_date), ''), coalesce(btrim(b.unit_price), ''),
					   coalesce(btrim(b.customer_id), ''), coalesce(btrim(b.country), '')
				   ORDER BY b.load_ordinal) AS occurrence
		FROM bronze.transactions_raw b
		WHERE retail.line_fingerprint(b.invoice_no, b.stock_code, b.description, b.quantity,
									  b.invoice_date, b.unit_price, b.customer_id, b.country)
			  IN (SELECT fingerprint FROM repeated)
		  AND retail.rule_reason(b.invoice_no, b.stock_code, b.quantity, b.invoice_date,
								 b.unit_price, b.customer_id, b.country) IS NULL
	) r
	WHERE r.occurrence > 1
),
classified AS (
	SELECT b.*,
		   coalesce(retail.rule_reason(b.invoice_no, b.stock_code, b.quantity, b.invoice_date,
									   b.unit_price, b.customer_id, b.country),
					CASE WHEN d.load_ordinal IS NOT NULL THEN 'duplicate' END) AS reason,
		   retail.try_int4(b.quantity) AS typed_quantity,
		   retail.try_numeric(b.unit_price) AS typed_unit_price
	FROM bronze.transactions_raw b
	LEFT JOIN duplicates d ON d.load_ordinal = b.load_ordinal
	OFFSET 0					-- parse once per row, not once per reference
)
SELECT c.load_ordinal,
	   c.batch_id,
	   c.reason,
	   retail.clean_code(c.invoice_no) AS invoice_no,
	   retail.clean_code(c.stock_code) AS stock_code,
	   NULLIF(btrim(c.description), '') AS description,
	   c.typed_quantity AS quantity,
	   retail.try_timestamp(c.invoice_date) AS invoice_ts,
	   c.typed_unit_price AS unit_price,
	   c.typed_quantity * c.typed_unit_price AS line_total,
	   retail.try_customer_id(c.customer_id) AS customer_id,
	   btrim(c.country) AS country,
	   -- the raw text is kept for rejected rows only
	   CASE WHEN c.reason IS NOT NULL THEN c.invoice_no END AS raw_invoice_no,
	   CASE WHEN c.reason IS NOT NULL THEN c.stock_code END AS raw_stock_code,
	   CASE WHEN c.reason IS NOT NULL THEN c.description END AS raw_description,
	   CASE WHEN c.reason IS NOT NULL THEN c.quantity END AS raw_quantity,
	   CASE WHEN c.reason IS NOT NULL THEN c.invoice_date END AS raw_invoice_date,
	   CASE WHEN c.reason IS NOT NULL THEN c.unit_price END AS raw_unit_price,
	   CASE WHEN c.reason IS NOT NULL THEN c.customer_id END AS raw_customer_id,
	   CASE WHEN c.reason IS NOT NULL THEN c.country END AS raw_country
FROM classified c
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW silver.transactions IS
	'Every bronze row once, typed, with the reason it was rejected (NULL when clean); read it through silver.cleaned_transactions and silver.rejected_transactions';
CREATE UNIQUE INDEX ON silver.transactions (load_ordinal);

CREATE VIEW silver.cleaned_transactions AS
SELECT invoice_no, stock_code, description, quantity, invoice_ts, unit_price,
	   line_total, customer_id, country, load_ordinal
FROM silver.transactions
WHERE reason IS NULL;
COMMENT ON VIEW silver.cleaned_transactions IS
	'Order lines that passed every cleaning rule, typed and trimmed';

CREATE VIEW silver.rejected_transactions AS
SELECT load_ordinal, batch_id, reason,
	   raw_invoice_no AS invoice_no, raw_stock_code AS stock_code,
	   raw_description AS description, raw_quantity AS quantity,
	   raw_invoice_date AS invoice_date, raw_unit_price AS unit_price,
	   raw_customer_id AS customer_id, raw_country AS country
FROM silver.transactions
WHERE reason IS NOT NULL;
COMMENT ON VIEW silver.rejected_transactions IS
	'Quarantined bronze rows, raw text as loaded, with the first rule each breaks';

-- One row per invoice of cleaned lines; customer and country of its first
-- line by load order.
CREATE MATERIALIZED VIEW silver.orders AS
SELECT DISTINCT ON (c.invoice_no)
	   c.invoice_no,
	   c.customer_id,
	   c.country,
	   min(c.invoice_ts) OVER invoice AS invoice_ts,
	   count(*) OVER invoice AS lines,
	   sum(c.quantity) OVER invoice AS units,
	   sum(c.line_total) OVER invoice AS total
FROM silver.cleaned_transactions c
WINDOW invoice AS (PARTITION BY c.invoice_no ORDER BY c.load_ordinal
				   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
ORDER BY c.invoice_no, c.load_ordinal
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW silver.orders IS
	'One row per invoice of cleaned lines: first line''s customer and country, earliest time, lines, units, total';
CREATE UNIQUE INDEX ON silver.orders (invoice_no);
CREATE INDEX ON silver.orders (customer_id);

INSERT INTO retail.refresh_steps VALUES
	(10, 'silver', 'silver', 'transactions'),
	(20, 'silver', 'silver', 'orders');


-- Silver: every bronze row classified once.  The reason is the first rule of
-- spec/metrics.md that the row breaks, NULL for a clean row.  Typed columns
-- are kept for every row (NULL where the text does not parse); the raw text
-- only for rejected rows, which is all the quarantine needs.
CREATE MATERIALIZED VIEW silver.transactions AS
WITH parsed AS (
	SELECT b.load_ordinal,
		   b.batch_id,
		   b.invoice_no AS raw_invoice_no,
		   b.stock_code AS raw_stock_code,
		   b.description AS raw_description,
		   b.quantity AS raw_quantity,
		   b.invoice_date AS raw_invoice_date,
		   b.unit_price AS raw_unit_price,
		   b.customer_id AS raw_customer_id,
		   b.country AS raw_country,
		   upper(btrim(b.invoice_no)) AS invoice_no,
		   upper(btrim(b.stock_code)) AS stock_code,
		   NULLIF(btrim(b.description), '') AS description,
		   retail.try_int4(b.quantity) AS quantity,
		   retail.try_timestamp(b.invoice_date) AS invoice_ts,
		   retail.try_numeric(b.unit_price) AS unit_price,
		   retail.try_customer_id(b.customer_id) AS customer_id,
		   btrim(b.country) AS country,
		   coalesce(btrim(b.customer_id), '') = '' AS customer_missing
	FROM bronze.transactions_raw b
	OFFSET 0					-- parse once per row, not once per reference
),
classified AS (
	SELECT p.*,
		   CASE
			   WHEN coalesce(p.invoice_no, '') = '' OR coalesce(p.stock_code, '') = ''
				   OR coalesce(p.country, '') = '' OR p.quantity IS NULL
				   OR p.unit_price IS NULL OR p.invoice_ts IS NULL
				   OR (p.customer_id IS NULL AND NOT p.customer_missing)
				   THEN 'malformed'
			   WHEN p.customer_missing THEN 'missing_customer'
			   WHEN p.invoice_no LIKE 'C%' THEN 'cancellation'
			   WHEN p.quantity <= 0 THEN 'non_positive_quantity'
			   WHEN p.unit_price <= 0 THEN 'non_positive_price'
			   WHEN p.stock_code IN ('POST', 'DOT', 'M', 'D', 'C2', 'CRUK', 'PADS', 'B', 'S',
									 'AMAZONFEE', 'BANK CHARGES')
				   OR p.stock_code LIKE 'GIFT\_%' THEN 'non_product'
		   END AS rule_reason
	FROM parsed p
),
deduplicated AS (
	-- A row passing rules 1-6 whose eight trimmed raw fields equal those of
	-- an earlier such row is a duplicate.  NULL and '' count as the same
	-- empty field; byte order ("C") is enough to group equal values.
	SELECT c.*,
		   CASE
			   WHEN c.rule_reason IS NOT NULL THEN c.rule_reason
			   WHEN row_number() OVER (
						PARTITION BY c.rule_reason IS NULL,
							coalesce(btrim(c.raw_invoice_no), '') COLLATE "C",
							coalesce(btrim(c.raw_stock_code), '') COLLATE "C",
							coalesce(btrim(c.raw_description), '') COLLATE "C",
							coalesce(btrim(c.raw_quantity), '') COLLATE "C",
							coalesce(btrim(c.raw_invoice_date), '') COLLATE "C",
							coalesce(btrim(c.raw_unit_price), '') COLLATE "C",
							coalesce(btrim(c.raw_customer_id), '') COLLATE "C",
							coalesce(btrim(c.raw_country), '') COLLATE "C"
						ORDER BY c.load_ordinal) > 1 THEN 'duplicate'
		   END AS reason
	FROM classified c
)
SELECT d.load_ordinal,
	   d.batch_id,
	   d.reason,
	   d.invoice_no,
	   d.stock_code,
	   d.description,
	   d.quantity,
	   d.invoice_ts,
	   d.unit_price,
	   d.quantity * d.unit_price AS line_total,
	   d.customer_id,
	   d.country,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_invoice_no END AS raw_invoice_no,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_stock_code END AS raw_stock_code,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_description END AS raw_description,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_quantity END AS raw_quantity,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_invoice_date END AS raw_invoice_date,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_unit_price END AS raw_unit_price,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_customer_id END AS raw_customer_id,
	   CASE WHEN d.reason IS NOT NULL THEN d.raw_country END AS raw_country
FROM deduplicated d
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW silver.transactions IS
	'Every bronze row once, typed, with the reason it was rejected (NULL when clean); read it through silver.cleaned_transactions and silver.rejected_transactions';
CREATE UNIQUE INDEX ON silver.transactions (load_ordinal);
CREATE INDEX ON silver.transactions (reason);
CREATE INDEX ON silver.transactions (customer_id) WHERE reason IS NULL;
CREATE INDEX ON silver.transactions (invoice_no) WHERE reason IS NULL;
CREATE INDEX ON silver.transactions (stock_code) WHERE reason IS NULL;

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

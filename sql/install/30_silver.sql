
-- Silver: tables that retail.refresh() appends to.  Each bronze line is
-- classified once, by the first refresh after its load (retail.classify_lines):
-- the reason is the first rule of spec/metrics.md that the line breaks, NULL
-- for a clean line.  Typed columns are kept for every line (NULL where the
-- text does not parse), the raw text for rejected lines only, which is all
-- the quarantine needs.
CREATE TABLE silver.transactions (
	load_ordinal bigint PRIMARY KEY,
	batch_id bigint NOT NULL,
	reason text,
	invoice_no text,
	stock_code text,
	description text,
	quantity integer,
	invoice_ts timestamp,
	unit_price numeric,
	line_total numeric,
	customer_id bigint,
	country text,
	raw_invoice_no text,
	raw_stock_code text,
	raw_description text,
	raw_quantity text,
	raw_invoice_date text,
	raw_unit_price text,
	raw_customer_id text,
	raw_country text,
	fingerprint bigint
);
COMMENT ON TABLE silver.transactions IS
	'Every bronze row once, typed, with the reason it was rejected (NULL when clean); read it through silver.cleaned_transactions and silver.rejected_transactions';
COMMENT ON COLUMN silver.transactions.fingerprint IS
	'retail.line_fingerprint of a clean line: rule 7 finds earlier equal lines by it';
-- rule 7 looks up the clean lines of earlier batches by fingerprint; the
-- audit looks up the lines of a product at a price
CREATE INDEX transactions_clean_fingerprint ON silver.transactions (fingerprint) WHERE reason IS NULL;
CREATE INDEX transactions_clean_product_price ON silver.transactions (stock_code, unit_price) WHERE reason IS NULL;

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
CREATE TABLE silver.orders (
	invoice_no text PRIMARY KEY,
	customer_id bigint,
	country text,
	invoice_ts timestamp,
	lines bigint NOT NULL,
	units bigint NOT NULL,
	total numeric NOT NULL,
	mixed_parties boolean NOT NULL
);
COMMENT ON TABLE silver.orders IS
	'One row per invoice of cleaned lines: first line''s customer and country, earliest time, lines, units, total';
COMMENT ON COLUMN silver.orders.mixed_parties IS
	'Some line of the invoice has another customer or country than its first line';
CREATE INDEX orders_customer_id ON silver.orders (customer_id, invoice_ts, invoice_no);

-- Mergeable states of the clean lines, one table per grain: a refresh adds
-- the lines of a batch into the keys they touch, and the gold marts are
-- computed from these, at a cost that follows customers, products,
-- countries and orders, not lines.
CREATE TABLE silver.customer_invoices (
	customer_id bigint,
	invoice_no text,
	PRIMARY KEY (customer_id, invoice_no)
);
COMMENT ON TABLE silver.customer_invoices IS
	'State: the distinct invoices of each customer''s clean lines (RFM frequency)';

CREATE TABLE silver.customer_invoice_days (
	customer_id bigint,
	invoice_no text,
	day date,
	first_ts timestamp NOT NULL,
	last_ts timestamp NOT NULL,
	revenue numeric NOT NULL,
	PRIMARY KEY (customer_id, invoice_no, day)
);
COMMENT ON TABLE silver.customer_invoice_days IS
	'State: per customer, invoice and day with a clean line, the first and last time and the sum of line_total (segments at any date, purchase days of the CLV models)';

CREATE TABLE silver.customer_state (
	customer_id bigint PRIMARY KEY,
	first_purchase timestamp NOT NULL,
	last_purchase timestamp NOT NULL,
	frequency bigint NOT NULL,
	monetary numeric NOT NULL,
	first_order_country text
);
COMMENT ON TABLE silver.customer_state IS
	'State: per customer, first and last line, distinct invoices, sum of line_total (what retail.rfm_customer gives)';
COMMENT ON COLUMN silver.customer_state.first_order_country IS
	'Country of the customer''s first order in silver.orders (earliest invoice_ts, then invoice_no); NULL when every line of the customer is in an order of another customer';

CREATE TABLE silver.customer_months (
	customer_id bigint,
	month date,
	revenue numeric NOT NULL,
	PRIMARY KEY (customer_id, month)
);
COMMENT ON TABLE silver.customer_months IS
	'State: per customer and calendar month with a clean line, the sum of line_total (cohort retention)';

CREATE TABLE silver.country_state (
	country text PRIMARY KEY,
	revenue numeric NOT NULL
);
COMMENT ON TABLE silver.country_state IS 'State: sum of line_total per country (countries ABC)';

CREATE TABLE silver.product_months (
	stock_code text,
	month date,
	units bigint NOT NULL,
	revenue numeric NOT NULL,
	PRIMARY KEY (stock_code, month)
);
COMMENT ON TABLE silver.product_months IS
	'State: per product and calendar month with a clean line, units and sum of line_total (products ABC/XYZ)';

CREATE TABLE silver.product_descriptions (
	stock_code text NOT NULL,
	description text NOT NULL,
	lines bigint NOT NULL
);
COMMENT ON TABLE silver.product_descriptions IS
	'State: per product, how many clean lines carry each non-NULL description (the most frequent names it)';
-- A description may be of any length, more than an index row holds: the
-- index keeps its hash, and the merge compares the text on a hash match.
CREATE INDEX product_descriptions_hash ON silver.product_descriptions (stock_code, hashtextextended(description, 0));

CREATE TABLE silver.product_prices (
	stock_code text,
	unit_price numeric,
	lines bigint NOT NULL,
	PRIMARY KEY (stock_code, unit_price)
);
COMMENT ON TABLE silver.product_prices IS
	'State: per product, how many clean lines have each unit price (the audit''s price centre)';

-- The rows of silver.transactions for the bronze lines with load_ordinal in
-- (after, through].  Rule 7 compares a passing line with the passing lines
-- before it: the clean lines of earlier batches (load_ordinal <= after) are
-- found by fingerprint, and only lines whose fingerprint recurs are compared
-- field by field.  A plain SQL body, so that the caller's statement inlines
-- it rather than collecting its rows first.
CREATE FUNCTION retail.classified_lines(after bigint, through bigint) RETURNS SETOF silver.transactions
LANGUAGE sql STABLE
BEGIN ATOMIC
	WITH batch AS MATERIALIZED (
		SELECT b.*, r.rule,
			   CASE WHEN r.rule IS NULL
					THEN retail.line_fingerprint(b.invoice_no, b.stock_code, b.description, b.quantity,
												 b.invoice_date, b.unit_price, b.customer_id, b.country)
			   END AS fingerprint
		FROM bronze.transactions_raw b
			 CROSS JOIN LATERAL (SELECT retail.rule_reason(b.invoice_no, b.stock_code, b.quantity,
														   b.invoice_date, b.unit_price, b.customer_id,
														   b.country) AS rule) r
		WHERE b.load_ordinal > after AND b.load_ordinal <= through
	),
	recurring AS MATERIALIZED (
		-- fingerprints of passing lines seen twice in the batch or before it
		SELECT fingerprint FROM batch WHERE rule IS NULL GROUP BY fingerprint HAVING count(*) > 1
		UNION
		SELECT s.fingerprint
		FROM silver.transactions s
		WHERE s.reason IS NULL AND s.load_ordinal <= after
		  AND s.fingerprint IN (SELECT fingerprint FROM batch WHERE rule IS NULL)
	),
	compared AS (
		SELECT c.load_ordinal, c.in_batch,
			   row_number() OVER (
				   PARTITION BY coalesce(btrim(c.invoice_no), ''), coalesce(btrim(c.stock_code), ''),
					   coalesce(btrim(c.description), ''), coalesce(btrim(c.quantity), ''),
					   coalesce(btrim(c.invoice_date), ''), coalesce(btrim(c.unit_price), ''),
					   coalesce(btrim(c.customer_id), ''), coalesce(btrim(c.country), '')
				   ORDER BY c.load_ordinal) AS occurrence
		FROM (SELECT b.load_ordinal, b.invoice_no, b.stock_code, b.description, b.quantity,
					 b.invoice_date, b.unit_price, b.customer_id, b.country, true AS in_batch
			  FROM batch b
			  WHERE b.rule IS NULL AND b.fingerprint IN (SELECT fingerprint FROM recurring)
			  UNION ALL
			  SELECT e.load_ordinal, e.invoice_no, e.stock_code, e.description, e.quantity,
					 e.invoice_date, e.unit_price, e.customer_id, e.country, false
			  FROM silver.transactions s
				   JOIN bronze.transactions_raw e ON e.load_ordinal = s.load_ordinal
			  WHERE s.reason IS NULL AND s.load_ordinal <= after
				AND s.fingerprint IN (SELECT fingerprint FROM recurring)) c
	),
	classified AS (
		SELECT b.*,
			   coalesce(b.rule, CASE WHEN d.load_ordinal IS NOT NULL THEN 'duplicate' END) AS reason,
			   retail.try_int4(b.quantity) AS typed_quantity,
			   retail.try_numeric(b.unit_price) AS typed_unit_price
		FROM batch b
			 LEFT JOIN compared d ON d.load_ordinal = b.load_ordinal AND d.in_batch AND d.occurrence > 1
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
		   CASE WHEN c.reason IS NULL THEN c.fingerprint END
	FROM classified c;
END;
COMMENT ON FUNCTION retail.classified_lines(bigint, bigint) IS
	'The rows of silver.transactions for the bronze lines with load_ordinal in (after, through] (rules 1-7; rule 7 against every clean line up to after)';

-- Classify the bronze lines with load_ordinal in (after, through] into
-- silver.transactions.
CREATE FUNCTION retail.classify_lines(after bigint, through bigint) RETURNS bigint
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

-- Merge the clean lines with load_ordinal in (after, through] into
-- silver.orders and the states.  Earlier batches hold earlier lines, so an
-- invoice already in silver.orders keeps its customer and country.
CREATE FUNCTION retail.merge_lines(after bigint, through bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- The batch mixes parties when its lines differ among themselves; the
	-- invoice does when they do or when the batch's first line differs from
	-- the invoice's first line of an earlier batch.
	INSERT INTO silver.orders AS o (invoice_no, customer_id, country, invoice_ts, lines, units, total,
									mixed_parties)
	SELECT DISTINCT ON (t.invoice_no)
		   t.invoice_no, t.customer_id, t.country,
		   min(t.invoice_ts) OVER invoice, count(*) OVER invoice,
		   sum(t.quantity) OVER invoice, sum(t.line_total) OVER invoice,
		   min(t.customer_id) OVER invoice <> max(t.customer_id) OVER invoice
		   OR min(t.country) OVER invoice <> max(t.country) OVER invoice
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	WINDOW invoice AS (PARTITION BY t.invoice_no ORDER BY t.load_ordinal
					   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
	ORDER BY t.invoice_no, t.load_ordinal
	ON CONFLICT (invoice_no) DO UPDATE
	SET invoice_ts = least(o.invoice_ts, excluded.invoice_ts),
		lines = o.lines + excluded.lines,
		units = o.units + excluded.units,
		total = o.total + excluded.total,
		mixed_parties = o.mixed_parties OR excluded.mixed_parties
			OR (o.customer_id, o.country) IS DISTINCT FROM (excluded.customer_id, excluded.country);

	WITH new_invoices AS (
		INSERT INTO silver.customer_invoices
		SELECT DISTINCT t.customer_id, t.invoice_no
		FROM silver.transactions t
		WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
		ON CONFLICT DO NOTHING
		RETURNING customer_id
	),
	new_frequency AS (
		SELECT customer_id, count(*) AS invoices FROM new_invoices GROUP BY customer_id
	),
	batch AS (
		SELECT t.customer_id, min(t.invoice_ts) AS first_purchase, max(t.invoice_ts) AS last_purchase,
			   sum(t.line_total) AS monetary
		FROM silver.transactions t
		WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
		GROUP BY t.customer_id
	)
	INSERT INTO silver.customer_state AS c (customer_id, first_purchase, last_purchase, frequency, monetary)
	SELECT b.customer_id, b.first_purchase, b.last_purchase, coalesce(f.invoices, 0), b.monetary
	FROM batch b LEFT JOIN new_frequency f ON f.customer_id = b.customer_id
	ON CONFLICT (customer_id) DO UPDATE
	SET first_purchase = least(c.first_purchase, excluded.first_purchase),
		last_purchase = greatest(c.last_purchase, excluded.last_purchase),
		frequency = c.frequency + excluded.frequency,
		monetary = c.monetary + excluded.monetary;

	INSERT INTO silver.customer_invoice_days AS c (customer_id, invoice_no, day, first_ts, last_ts, revenue)
	SELECT t.customer_id, t.invoice_no, t.invoice_ts::date, min(t.invoice_ts), max(t.invoice_ts),
		   sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2, 3
	ON CONFLICT (customer_id, invoice_no, day) DO UPDATE
	SET first_ts = least(c.first_ts, excluded.first_ts),
		last_ts = greatest(c.last_ts, excluded.last_ts),
		revenue = c.revenue + excluded.revenue;

	INSERT INTO silver.customer_months AS c (customer_id, month, revenue)
	SELECT t.customer_id, date_trunc('month', t.invoice_ts)::date, sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2
	ON CONFLICT (customer_id, month) DO UPDATE SET revenue = c.revenue + excluded.revenue;

	INSERT INTO silver.country_state AS c (country, revenue)
	SELECT t.country, sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1
	ON CONFLICT (country) DO UPDATE SET revenue = c.revenue + excluded.revenue;

	INSERT INTO silver.product_months AS p (stock_code, month, units, revenue)
	SELECT t.stock_code, date_trunc('month', t.invoice_ts)::date, sum(t.quantity), sum(t.line_total)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2
	ON CONFLICT (stock_code, month) DO UPDATE
	SET units = p.units + excluded.units, revenue = p.revenue + excluded.revenue;

	-- No unique key holds a description (see the table): count the known
	-- ones, add the others.
	WITH batch AS (
		SELECT t.stock_code, t.description, count(*) AS lines
		FROM silver.transactions t
		WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
		  AND t.description IS NOT NULL
		GROUP BY 1, 2
	),
	counted AS (
		UPDATE silver.product_descriptions p
		SET lines = p.lines + b.lines
		FROM batch b
		WHERE p.stock_code = b.stock_code
		  AND hashtextextended(p.description, 0) = hashtextextended(b.description, 0)
		  AND p.description = b.description
		RETURNING p.stock_code, p.description
	)
	INSERT INTO silver.product_descriptions (stock_code, description, lines)
	SELECT b.stock_code, b.description, b.lines
	FROM batch b
	WHERE NOT EXISTS (SELECT FROM counted c WHERE c.stock_code = b.stock_code AND c.description = b.description);

	INSERT INTO silver.product_prices AS p (stock_code, unit_price, lines)
	SELECT t.stock_code, t.unit_price, count(*)
	FROM silver.transactions t
	WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
	GROUP BY 1, 2
	ON CONFLICT (stock_code, unit_price) DO UPDATE SET lines = p.lines + excluded.lines;

	-- The first order can change for the customers of the orders the batch
	-- touched (a line may make an order earlier).
	UPDATE silver.customer_state c
	SET first_order_country = f.country
	FROM (SELECT DISTINCT ON (o.customer_id) o.customer_id, o.country
		  FROM silver.orders o
		  WHERE o.customer_id IN (SELECT t.customer_id FROM silver.transactions t
								  WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL
								  UNION
								  SELECT x.customer_id FROM silver.orders x
								  WHERE x.invoice_no IN (SELECT t.invoice_no FROM silver.transactions t
														 WHERE t.load_ordinal > after AND t.load_ordinal <= through
														   AND t.reason IS NULL))
		  ORDER BY o.customer_id, o.invoice_ts, o.invoice_no) f
	WHERE c.customer_id = f.customer_id AND c.first_order_country IS DISTINCT FROM f.country;
END
$$;
COMMENT ON FUNCTION retail.merge_lines(bigint, bigint) IS
	'Merge the clean lines with load_ordinal in (after, through] into silver.orders and the silver state tables';

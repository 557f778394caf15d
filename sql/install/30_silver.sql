
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
	fingerprint bigint,
	cancelled_quantity bigint,
	unmatched_quantity bigint,
	distribution_key bigint NOT NULL
) WITH (fillfactor = 90);
-- Pages keep a tenth free: the netting sets a line's cancelled_quantity after
-- its insert, and the new version then stays on the line's page (a HOT
-- update).  On full pages it went to another one, and once vacuumed the room
-- it left took a later batch's lines one or two to a page: 10M lines, a day's
-- 23,745 lines on 15,758 pages instead of 1,102, and steps 10 and 20 read
-- them there.
COMMENT ON TABLE silver.transactions IS
	'Every bronze row once, typed, with the reason it was rejected (NULL when clean); read it through silver.cleaned_transactions and silver.rejected_transactions';
COMMENT ON COLUMN silver.transactions.fingerprint IS
	'retail.line_fingerprint of a clean line: rule 7 finds earlier equal lines by it';
COMMENT ON COLUMN silver.transactions.cancelled_quantity IS
	'Clean line: the units that cancellation lines cancel (retail.net_cancellations); NULL for a rejected line';
COMMENT ON COLUMN silver.transactions.unmatched_quantity IS
	'Cancellation line that cancels units (rule 3 first broken, product, positive price, negative quantity): the units no clean line was left to cancel; NULL for every other line';
COMMENT ON COLUMN silver.transactions.distribution_key IS
	'What Citus distributes the lines by (retail.distribute): the customer, or for a line without one a negative number, -1 - load_ordinal % 1024, that spreads such lines over the shards';
-- Rule 7 looks up the clean lines of earlier batches by invoice, as do the
-- merges of the orders whose netting changed; the audit looks up the lines
-- of a product at a price, and the netting those of a customer among them
-- (one index for both: with a second one led by the customer the planner
-- may pick the one that reads every customer's lines of a popular
-- product); the netting looks up the cancellations of a group, and the
-- merges the lines of the customers whose netting changed.
CREATE INDEX transactions_clean_product_price ON silver.transactions (stock_code, unit_price, customer_id)
	WHERE reason IS NULL;
CREATE INDEX transactions_clean_customer ON silver.transactions (customer_id) WHERE reason IS NULL;
CREATE INDEX transactions_clean_invoice ON silver.transactions (invoice_no) WHERE reason IS NULL;
CREATE INDEX transactions_cancellation ON silver.transactions (customer_id, stock_code, unit_price)
	WHERE unmatched_quantity IS NOT NULL;

CREATE VIEW silver.cleaned_transactions AS
SELECT invoice_no, stock_code, description, quantity, invoice_ts, unit_price,
	   line_total, customer_id, country, load_ordinal, cancelled_quantity
FROM silver.transactions
WHERE reason IS NULL;
COMMENT ON VIEW silver.cleaned_transactions IS
	'Order lines that passed every cleaning rule, typed and trimmed, with the units later cancellations cancel';

-- The lines gold reads: under the setting cancellations = net each clean
-- line with the units its cancellations left (none left: no line); under
-- 'ignore' the clean lines as they are.  The setting is read once (OFFSET 0
-- keeps its subquery apart), and not inside the lateral subquery, which
-- Citus cannot plan there.
CREATE VIEW silver.net_transactions AS
SELECT t.invoice_no, t.stock_code, t.description, n.quantity, t.invoice_ts, t.unit_price,
	   n.quantity * t.unit_price AS line_total, t.customer_id, t.country, t.load_ordinal
FROM silver.transactions t
	 CROSS JOIN (SELECT retail.setting('cancellations') = 'net' OFFSET 0) s(net)
	 CROSS JOIN LATERAL (SELECT t.quantity - CASE WHEN s.net THEN t.cancelled_quantity ELSE 0 END) n(quantity)
WHERE t.reason IS NULL AND n.quantity > 0;
COMMENT ON VIEW silver.net_transactions IS
	'The lines gold reads: clean lines with the units left after their cancellations (setting cancellations = net; all clean lines as they are under ignore), line_total of those units';

CREATE VIEW silver.rejected_transactions AS
SELECT load_ordinal, batch_id, reason,
	   raw_invoice_no AS invoice_no, raw_stock_code AS stock_code,
	   raw_description AS description, raw_quantity AS quantity,
	   raw_invoice_date AS invoice_date, raw_unit_price AS unit_price,
	   raw_customer_id AS customer_id, raw_country AS country, unmatched_quantity
FROM silver.transactions
WHERE reason IS NOT NULL;
COMMENT ON VIEW silver.rejected_transactions IS
	'Quarantined bronze rows, raw text as loaded, with the first rule each breaks; a cancellation line that cancels units also says how many of them no clean line was left to cancel';

-- Cancellation lines cancel units of the clean lines they match
-- (retail.net_cancellations); the states, and gold, count what is left.
INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('cancellations', 'net', 'How gold reads cancellation lines: net (they cancel units of the customer''s lines of the product at the price, latest first) or ignore (the clean lines as they are)',
	 'cancellations', NULL, false, NULL, false);

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

-- What gold reads as orders: silver.orders' rule over the counted lines (a
-- clean line with units left after the cancellations, setting
-- cancellations; every clean line under 'ignore').  An invoice whose lines
-- are all cancelled is no order.
CREATE TABLE silver.net_orders (LIKE silver.orders INCLUDING ALL);
COMMENT ON TABLE silver.net_orders IS
	'State: one row per invoice with a counted line (units left after cancellations under the setting cancellations = net): first counted line''s customer and country, earliest time, counted lines, net units and net total';
COMMENT ON COLUMN silver.net_orders.mixed_parties IS
	'Some counted line of the invoice has another customer or country than its first one';

-- The earlier clean lines whose cancelled quantity the last merge changed:
-- the merge rebuilds their customers' and orders' states and corrects the
-- sums of their products and countries; the refresh's unchanged checks read
-- their times.
CREATE TABLE retail.netting_changes (
	load_ordinal bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	invoice_no text NOT NULL,
	invoice_ts timestamp NOT NULL,
	old_cancelled bigint NOT NULL,
	new_cancelled bigint NOT NULL
);
COMMENT ON TABLE retail.netting_changes IS
	'Clean lines of earlier batches whose cancelled_quantity the last refresh changed, with the old and new values (empty under cancellations = ignore)';

-- The customers whose counted lines the last merge changed, with the time of
-- the earliest: the keys the kept marts of gold rewrite
-- (retail.refresh_steps.maintain), listed by the merge from what it read.
CREATE TABLE retail.touched_customers (
	customer_id bigint PRIMARY KEY,
	since timestamp NOT NULL
);
COMMENT ON TABLE retail.touched_customers IS
	'Customers whose counted lines the last refresh merged or netted anew (all customers after a merge of every line), with the earliest time of those lines';

-- Mergeable states of the counted lines (see silver.net_orders), one table
-- per grain: a refresh adds the lines of a batch into the keys they touch, and the gold marts are
-- computed from these, at a cost that follows customers, products,
-- countries and orders, not lines.
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
	'State: per customer, invoice and day with a counted line, the first and last time and the sum of line_total (segments at any date, purchase days of the CLV models)';

CREATE TABLE silver.customer_state (
	customer_id bigint PRIMARY KEY,
	first_purchase timestamp NOT NULL,
	last_purchase timestamp NOT NULL,
	frequency bigint NOT NULL,
	monetary numeric NOT NULL,
	first_order_country text
);
COMMENT ON TABLE silver.customer_state IS
	'State: per customer, first and last line, distinct invoices, sum of line_total: retail.rfm_customer of the customer''s rows of silver.customer_invoice_days';
COMMENT ON COLUMN silver.customer_state.first_order_country IS
	'Country of the customer''s first order in silver.net_orders (earliest invoice_ts, then invoice_no); NULL when every counted line of the customer is in an order of another customer';

CREATE TABLE silver.customer_months (
	customer_id bigint,
	month date,
	revenue numeric NOT NULL,
	PRIMARY KEY (customer_id, month)
);
COMMENT ON TABLE silver.customer_months IS
	'State: per customer and calendar month with a counted line, the sum of line_total (cohort retention)';

CREATE TABLE silver.country_state (
	country text PRIMARY KEY,
	revenue numeric NOT NULL,
	lines bigint NOT NULL
);
COMMENT ON TABLE silver.country_state IS
	'State: counted lines and their sum of line_total per country (countries ABC)';

CREATE TABLE silver.product_months (
	stock_code text,
	month date,
	units bigint NOT NULL,
	revenue numeric NOT NULL,
	lines bigint NOT NULL,
	PRIMARY KEY (stock_code, month)
);
COMMENT ON TABLE silver.product_months IS
	'State: per product and calendar month with a counted line, the lines, units and sum of line_total (products ABC/XYZ)';

CREATE TABLE silver.product_descriptions (
	stock_code text NOT NULL,
	description text NOT NULL,
	lines bigint NOT NULL
);
COMMENT ON TABLE silver.product_descriptions IS
	'State: per product, how many counted lines carry each non-NULL description (the most frequent names it)';
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
	'State: per product, how many counted lines have each unit price (the audit''s price centre)';

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

-- Net the cancellations of the groups (customer, product, price) that the
-- lines with load_ordinal in (after, through] touch, as spec/metrics.md
-- says: cancellations in time order, each taking units from the latest line
-- at or before it first.  That is a stack: in time order (a line before a
-- cancellation of the same time, then by load order), a line pushes its
-- units and a cancellation pops them.  With g the running sum of -quantity
-- (a cancellation adds its units, a line takes away its own), a line loses
-- what g climbs above its own value later on, up to its quantity; a
-- cancellation leaves unmatched what it adds to the running maximum of g
-- above 0.  The clean lines of earlier batches whose cancelled quantity
-- changes are listed in retail.netting_changes.
CREATE FUNCTION retail.net_cancellations(after bigint, through bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM retail.netting_changes;
	-- The groups first, on their own: inside one statement the planner
	-- took a batch's few hundred groups for tens of thousands and sorted all
	-- of silver to join them.  A batch probes the cancellations' index once
	-- per clean line (LIMIT keeps it one); a rebuild takes the groups of
	-- every cancellation.
	IF after > 0 THEN
		CREATE TEMP TABLE netting_groups ON COMMIT DROP AS
		SELECT DISTINCT t.customer_id, t.stock_code, t.unit_price
		FROM silver.transactions t
			 LEFT JOIN LATERAL (SELECT true AS found
								FROM silver.transactions k
								WHERE k.unmatched_quantity IS NOT NULL AND k.distribution_key = t.distribution_key
								  AND k.customer_id = t.customer_id AND k.stock_code = t.stock_code
								  AND k.unit_price = t.unit_price
								LIMIT 1) c ON t.reason IS NULL
		WHERE t.load_ordinal > after AND t.load_ordinal <= through
		  AND (t.unmatched_quantity IS NOT NULL OR c.found);
	ELSE
		CREATE TEMP TABLE netting_groups ON COMMIT DROP AS
		SELECT DISTINCT k.customer_id, k.stock_code, k.unit_price
		FROM silver.transactions k
		WHERE k.unmatched_quantity IS NOT NULL AND k.load_ordinal <= through;
	END IF;
	ANALYZE netting_groups;
	-- Each group's lines in time (its customer named by the distribution
	-- key, which it is for these lines; its product compared byte by byte:
	-- the same groups as in the collation's order, without its slower
	-- comparisons), netted and written in one statement: on Citus each shard
	-- then nets its own groups.
	EXECUTE $netting$
	WITH changed AS (
		UPDATE silver.transactions t
		SET cancelled_quantity = n.cancelled, unmatched_quantity = n.unmatched
		FROM (SELECT e.distribution_key, e.load_ordinal, e.is_line, e.customer_id, e.invoice_no, e.invoice_ts,
					 e.cancelled_quantity AS old_cancelled, e.unmatched_quantity AS old_unmatched,
					 CASE WHEN e.is_line
						  THEN least(e.quantity, greatest(0, max(e.g) OVER later - e.g)) END AS cancelled,
					 CASE WHEN NOT e.is_line
						  THEN greatest(0, max(e.g) OVER so_far) - greatest(0, max(e.g) OVER before) END AS unmatched
			  FROM (SELECT e.*, sum(-e.quantity::bigint) OVER (in_time ROWS UNBOUNDED PRECEDING) AS g
					FROM (SELECT t.distribution_key, t.load_ordinal, true AS is_line, t.quantity, t.customer_id,
								 t.stock_code, t.unit_price, t.invoice_no, t.invoice_ts, t.cancelled_quantity,
								 t.unmatched_quantity
						  FROM netting_groups g
							   JOIN silver.transactions t
									ON t.customer_id = g.customer_id AND t.stock_code = g.stock_code
									   AND t.unit_price = g.unit_price AND t.reason IS NULL
						  WHERE t.load_ordinal <= $2
						  UNION ALL
						  SELECT t.distribution_key, t.load_ordinal, false, t.quantity, t.customer_id, t.stock_code,
								 t.unit_price, t.invoice_no, t.invoice_ts, t.cancelled_quantity, t.unmatched_quantity
						  FROM netting_groups g
							   JOIN silver.transactions t
									ON t.customer_id = g.customer_id AND t.stock_code = g.stock_code
									   AND t.unit_price = g.unit_price AND t.unmatched_quantity IS NOT NULL
						  WHERE t.load_ordinal <= $2) e
					WINDOW in_time AS (PARTITION BY e.distribution_key, e.stock_code COLLATE "C", e.unit_price
									   ORDER BY e.invoice_ts, NOT e.is_line, e.load_ordinal)) e
			  WINDOW in_time AS (PARTITION BY e.distribution_key, e.stock_code COLLATE "C", e.unit_price
								 ORDER BY e.invoice_ts, NOT e.is_line, e.load_ordinal),
					 later AS (in_time ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
					 so_far AS (in_time ROWS UNBOUNDED PRECEDING),
					 before AS (in_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) n
		WHERE t.distribution_key = n.distribution_key AND t.load_ordinal = n.load_ordinal
		  AND (n.old_cancelled, n.old_unmatched) IS DISTINCT FROM (n.cancelled, n.unmatched)
		RETURNING n.*
	)
	INSERT INTO retail.netting_changes
	SELECT c.load_ordinal, c.customer_id, c.invoice_no, c.invoice_ts, c.old_cancelled, c.cancelled
	FROM changed c
	WHERE c.is_line AND c.load_ordinal <= $1
	$netting$ USING after, through;
	DROP TABLE netting_groups;
END
$$;
COMMENT ON FUNCTION retail.net_cancellations(bigint, bigint) IS
	'Net the cancellation lines against the clean lines of the groups (customer, product, price) that the lines with load_ordinal in (after, through] touch: silver.transactions.cancelled_quantity and unmatched_quantity; earlier lines that change go to retail.netting_changes';

-- Merge the lines with load_ordinal in (after, through] into silver.orders
-- (the batch's clean lines as they are) and silver.net_orders (its counted
-- lines, and under net every counted line of the orders in
-- retail.netting_changes, whose rows the caller deleted to build them
-- again).  Both tables' sums come from one pass over the lines, and one
-- statement writes them.  Earlier batches hold earlier lines, so an
-- invoice already there keeps its customer and country; the batch mixes
-- parties when its lines differ among themselves, the invoice when they do
-- or when the batch's first line differs from its first line.  The lines
-- are summed by hashing, in byte order (the same groups as in the
-- collation's), per distribution key and invoice, then per invoice: on
-- Citus the first sums run on each shard, and only they travel.  Each
-- invoice's first line is then read by its ordinal: sorting every line by
-- invoice cost twice as much.  That read is kept a lookup (OFFSET 0), not a
-- join that the planner may make a hash of every line of
-- silver.transactions; on Citus, which cannot push such a lookup down to the
-- shards, it is a join.
CREATE FUNCTION retail.merge_orders(after bigint, through bigint, net boolean) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- an orders table's merge of its rows of sums
	merge constant text := $sql$
		INSERT INTO %s AS o (invoice_no, customer_id, country, invoice_ts, lines, units, total, mixed_parties)
		SELECT s.invoice_no, s.customer_id, s.country, s.invoice_ts, s.lines, s.units, s.total, s.mixed_parties
		FROM sums s
		WHERE s.counted = %L
		ON CONFLICT (invoice_no) DO UPDATE
		SET invoice_ts = least(o.invoice_ts, excluded.invoice_ts),
			lines = o.lines + excluded.lines,
			units = o.units + excluded.units,
			total = o.total + excluded.total,
			mixed_parties = o.mixed_parties OR excluded.mixed_parties
				OR (o.customer_id, o.country) IS DISTINCT FROM (excluded.customer_id, excluded.country)
		$sql$;
	first_line constant text := CASE WHEN retail.is_distributed('silver.transactions')
									 THEN 'JOIN silver.transactions f ON f.load_ordinal = s.first_line'
									 ELSE 'CROSS JOIN LATERAL (SELECT f.customer_id, f.country
															   FROM silver.transactions f
															   WHERE f.load_ordinal = s.first_line
															   OFFSET 0) f' END;
BEGIN
	-- one statement, both tables
	EXECUTE format($sql$
		WITH totals AS MATERIALIZED (
			SELECT g.invoice_no, s.*
			FROM (SELECT p.invoice_no,
						 min(p.first_line) AS first_line,
						 min(p.invoice_ts) AS invoice_ts,
						 sum(p.lines)::bigint AS lines,
						 sum(p.units) AS units,
						 sum(p.total) AS total,
						 min(p.min_customer) <> max(p.max_customer)
						 OR min(p.min_country) <> max(p.max_country) AS mixed_parties,
						 min(p.counted_first_line) AS counted_first_line,
						 min(p.counted_invoice_ts) AS counted_invoice_ts,
						 sum(p.counted_lines)::bigint AS counted_lines,
						 sum(p.counted_units) AS counted_units,
						 sum(p.counted_total) AS counted_total,
						 min(p.counted_min_customer) <> max(p.counted_max_customer)
						 OR min(p.counted_min_country) <> max(p.counted_max_country) AS counted_mixed_parties
				  FROM (SELECT t.distribution_key, t.invoice_no COLLATE "C" AS invoice_no,
							   min(t.load_ordinal) FILTER (WHERE t.in_batch) AS first_line,
							   min(t.invoice_ts) FILTER (WHERE t.in_batch) AS invoice_ts,
							   count(*) FILTER (WHERE t.in_batch) AS lines,
							   sum(t.quantity) FILTER (WHERE t.in_batch) AS units,
							   sum(t.line_total) FILTER (WHERE t.in_batch) AS total,
							   min(t.customer_id) FILTER (WHERE t.in_batch) AS min_customer,
							   max(t.customer_id) FILTER (WHERE t.in_batch) AS max_customer,
							   min(t.country COLLATE "C") FILTER (WHERE t.in_batch) AS min_country,
							   max(t.country COLLATE "C") FILTER (WHERE t.in_batch) AS max_country,
							   min(t.load_ordinal) FILTER (WHERE t.net_quantity > 0) AS counted_first_line,
							   min(t.invoice_ts) FILTER (WHERE t.net_quantity > 0) AS counted_invoice_ts,
							   count(*) FILTER (WHERE t.net_quantity > 0) AS counted_lines,
							   sum(t.net_quantity) FILTER (WHERE t.net_quantity > 0) AS counted_units,
							   sum(t.net_quantity * t.unit_price) FILTER (WHERE t.net_quantity > 0) AS counted_total,
							   min(t.customer_id) FILTER (WHERE t.net_quantity > 0) AS counted_min_customer,
							   max(t.customer_id) FILTER (WHERE t.net_quantity > 0) AS counted_max_customer,
							   min(t.country COLLATE "C") FILTER (WHERE t.net_quantity > 0) AS counted_min_country,
							   max(t.country COLLATE "C") FILTER (WHERE t.net_quantity > 0) AS counted_max_country
						FROM (SELECT t.distribution_key, t.load_ordinal, t.invoice_no, t.quantity,
									 t.quantity - CASE WHEN $3 THEN t.cancelled_quantity ELSE 0 END AS net_quantity,
									 t.invoice_ts, t.unit_price, t.line_total, t.customer_id, t.country,
									 true AS in_batch
							  FROM silver.transactions t
							  WHERE t.load_ordinal > $1 AND t.load_ordinal <= $2 AND t.reason IS NULL
							  UNION ALL
							  SELECT t.distribution_key, t.load_ordinal, t.invoice_no, t.quantity,
									 t.quantity - CASE WHEN $3 THEN t.cancelled_quantity ELSE 0 END,
									 t.invoice_ts, t.unit_price, t.line_total, t.customer_id, t.country, false
							  FROM silver.transactions t
							  WHERE $3 AND t.load_ordinal <= $1 AND t.reason IS NULL
								AND t.invoice_no IN (SELECT c.invoice_no FROM retail.netting_changes c)) t
						GROUP BY t.distribution_key, t.invoice_no COLLATE "C") p
				  GROUP BY p.invoice_no) g
				 CROSS JOIN LATERAL (VALUES (false, g.first_line, g.invoice_ts, g.lines, g.units, g.total,
											 g.mixed_parties),
											(true, g.counted_first_line, g.counted_invoice_ts, g.counted_lines,
											 g.counted_units, g.counted_total, g.counted_mixed_parties))
					 s(counted, first_line, invoice_ts, lines, units, total, mixed_parties)
			WHERE s.lines > 0
		),
		-- apart (MATERIALIZED): Citus joins the lines to the sums once they
		-- are summed, not to the subquery of sums run on the shards
		sums AS MATERIALIZED (
			SELECT s.*, f.customer_id, f.country
			FROM totals s
				 %s
		),
		clean AS (%s)
		%s
		$sql$, first_line, format(merge, 'silver.orders', false), format(merge, 'silver.net_orders', true))
		USING after, through, net;
END
$$;
COMMENT ON FUNCTION retail.merge_orders(bigint, bigint, boolean) IS
	'Merge the lines with load_ordinal in (after, through] into silver.orders (clean lines) and silver.net_orders (counted lines, and under net every counted line of the orders in retail.netting_changes)';

-- Merge the lines with load_ordinal in (after, through] into silver.orders,
-- silver.net_orders and the states, after netting their cancellations.  The
-- states count the counted lines; when the netting changed earlier lines,
-- their customers' and orders' states are built again from all their
-- counted lines (deleted here, then merged again), and their products' and
-- countries' sums corrected.  Each family of states is summed in one pass
-- over its lines, where they lie: on Citus the shards sum their lines, and
-- only the sums travel to the coordinator.
CREATE FUNCTION retail.merge_lines(after bigint, through bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	net boolean := retail.setting('cancellations') = 'net';
	netting_changed boolean;
	orders_dropped bigint[];
	-- The counted lines with load_ordinal in (%1, %2]: clean lines with the
	-- units left after their cancellations (%3 = net; all of them, as they
	-- are, otherwise), and a sign: -1 takes back an earlier count.  Statement
	-- text, not a SQL function: Citus refuses one over a distributed table,
	-- or, nested in another, lets PostgreSQL read the coordinator's empty
	-- shell of the table (doc/citus.md).
	counted constant text := $sql$
		SELECT 1 AS sign, t.distribution_key, t.load_ordinal, t.invoice_no, t.stock_code, t.description,
			   q.quantity, t.invoice_ts, t.unit_price, q.quantity * t.unit_price AS line_total, t.customer_id,
			   t.country
		FROM silver.transactions t
			 CROSS JOIN LATERAL (SELECT t.quantity - CASE WHEN %3$L THEN t.cancelled_quantity ELSE 0 END) q(quantity)
		WHERE t.load_ordinal > %1$s AND t.load_ordinal <= %2$s AND t.reason IS NULL AND q.quantity > 0$sql$;
	-- The sums of products and countries over lines shaped as the counted
	-- ones (%s): every family in one pass, each line counted once in each (a
	-- scan of the lines for each cost more than its sums), as rows of one
	-- hash table rather than grouping sets, which ran slower (10M lines: 31
	-- against 39-44 s) and which Citus cannot run on the shards.
	family_sums constant text := $sql$
		SELECT f.sums_of, f.country, f.stock_code, f.month, f.description, f.unit_price,
			   sum(t.sign * t.quantity) AS units, sum(t.sign * t.line_total) AS revenue, sum(t.sign) AS lines
		FROM (%s) t
			 CROSS JOIN LATERAL (VALUES ('country', t.country, NULL, NULL::date, NULL, NULL::numeric),
										('month', NULL, t.stock_code, date_trunc('month', t.invoice_ts)::date, NULL,
										 NULL),
										('description', NULL, t.stock_code, NULL, t.description, NULL),
										('price', NULL, t.stock_code, NULL, NULL, trim_scale(t.unit_price)))
				 f(sums_of, country, stock_code, month, description, unit_price)
		GROUP BY f.sums_of, f.country, f.stock_code, f.month, f.description, f.unit_price$sql$;
BEGIN
	PERFORM retail.net_cancellations(after, through);
	IF NOT net THEN
		-- silver shows the netting all the same; the states ignore it
		DELETE FROM retail.netting_changes;
	END IF;
	netting_changed := EXISTS (SELECT FROM retail.netting_changes);
	IF netting_changed THEN
		-- few rows: let the planner see so, and reach their lines by index
		ANALYZE retail.netting_changes;
	END IF;
	WITH dropped AS (
		DELETE FROM silver.net_orders o USING retail.netting_changes c
		WHERE o.invoice_no = c.invoice_no
		RETURNING o.customer_id
	)
	SELECT array_agg(DISTINCT d.customer_id) INTO orders_dropped FROM dropped d;
	PERFORM retail.merge_orders(after, through, net);

	IF netting_changed THEN
		DELETE FROM silver.customer_invoice_days s USING retail.netting_changes c
		WHERE s.customer_id = c.customer_id;
		DELETE FROM silver.customer_state s USING retail.netting_changes c WHERE s.customer_id = c.customer_id;
		DELETE FROM silver.customer_months s USING retail.netting_changes c WHERE s.customer_id = c.customer_id;
	END IF;

	-- What the merge adds to the customers' states: the batch's counted
	-- lines, except those of a customer whose earlier line's netting changed,
	-- whose states are built again from all their counted lines.  They are
	-- summed per customer, invoice and day, grouped by the distribution key
	-- (a clean line's customer), so that on Citus each shard sums its own
	-- customers' lines; the customers' months, and which customers and
	-- invoices the batch touched, come from these sums.
	EXECUTE format($sql$
		CREATE TEMP TABLE merge_customer_sums AS
		SELECT t.distribution_key AS customer_id, t.invoice_no, t.invoice_ts::date AS day,
			   min(t.invoice_ts) AS first_ts, max(t.invoice_ts) AS last_ts, sum(t.line_total) AS revenue,
			   min(t.invoice_ts) FILTER (WHERE t.load_ordinal > %s) AS batch_first_ts
		FROM (%s
				AND t.customer_id NOT IN (SELECT c.customer_id FROM retail.netting_changes c)
			  UNION ALL
			  %s
				AND t.customer_id IN (SELECT c.customer_id FROM retail.netting_changes c)) t
		GROUP BY t.distribution_key, t.invoice_no, t.invoice_ts::date
		$sql$, after, format(counted, after, through, net), format(counted, 0, through, net));

	INSERT INTO silver.customer_invoice_days AS c (customer_id, invoice_no, day, first_ts, last_ts, revenue)
	SELECT s.customer_id, s.invoice_no, s.day, s.first_ts, s.last_ts, s.revenue
	FROM pg_temp.merge_customer_sums s
	ON CONFLICT (customer_id, invoice_no, day) DO UPDATE
	SET first_ts = least(c.first_ts, excluded.first_ts),
		last_ts = greatest(c.last_ts, excluded.last_ts),
		revenue = c.revenue + excluded.revenue;

	-- A customer's state is retail.rfm_customer (the C of the ad-hoc marts)
	-- over the customer's invoice days, computed again for the customers of
	-- the lines merged (all after a merge of every line): a few days each,
	-- where adding the batch to the state would repeat the reduction in SQL
	-- (and keep every customer's invoices apart to count them).  The filter
	-- is left out rather than made a disjunction, which the planner cannot
	-- turn into a join.
	EXECUTE format($sql$
		INSERT INTO silver.customer_state AS c (customer_id, first_purchase, last_purchase, frequency, monetary)
		SELECT r.customer_id, (r.summary).*
		FROM (SELECT d.customer_id, retail.rfm_customer(d.invoice_no, d.first_ts, d.last_ts, d.revenue) AS summary
			  FROM silver.customer_invoice_days d
			  %s
			  GROUP BY d.customer_id) r
		ON CONFLICT (customer_id) DO UPDATE
		SET first_purchase = excluded.first_purchase, last_purchase = excluded.last_purchase,
			frequency = excluded.frequency, monetary = excluded.monetary
		$sql$,
		CASE WHEN after > 0 THEN 'WHERE d.customer_id IN (SELECT s.customer_id FROM pg_temp.merge_customer_sums s)' END);

	INSERT INTO silver.customer_months AS c (customer_id, month, revenue)
	SELECT s.customer_id, date_trunc('month', s.day::timestamp)::date, sum(s.revenue)
	FROM pg_temp.merge_customer_sums s
	GROUP BY s.customer_id, date_trunc('month', s.day::timestamp)::date
	ON CONFLICT (customer_id, month) DO UPDATE SET revenue = c.revenue + excluded.revenue;

	-- What it adds to the sums of products and countries: the batch's
	-- counted lines, and for each earlier line whose netting changed, its old
	-- count taken back and its new one added.  Each source is summed apart
	-- and the two sums added: on Citus each is then summed on the shards,
	-- where their union would bring every line to the coordinator.  Sums that
	-- counts are taken back from keep no trailing zeros: their scale would
	-- otherwise tell the order of the batches.  2.5 and 2.50 are one price.
	EXECUTE format($sql$
		CREATE TEMP TABLE merge_product_sums AS
		SELECT s.sums_of, s.country, s.stock_code, s.month, s.description, s.unit_price, sum(s.units) AS units,
			   trim_scale(sum(s.revenue)) AS revenue, sum(s.lines)::bigint AS lines
		FROM (%s
			  UNION ALL
			  %s) s
		GROUP BY s.sums_of, s.country, s.stock_code, s.month, s.description, s.unit_price
		$sql$,
		format(family_sums, format(counted, after, through, net)),
		format(family_sums, $sql$
			SELECT v.sign, t.distribution_key, t.load_ordinal, t.invoice_no, t.stock_code, t.description,
				   v.quantity, t.invoice_ts, t.unit_price, v.quantity * t.unit_price AS line_total, t.customer_id,
				   t.country
			FROM retail.netting_changes c
				 JOIN silver.transactions t ON t.distribution_key = c.customer_id AND t.load_ordinal = c.load_ordinal
				 CROSS JOIN LATERAL (VALUES (-1, t.quantity - c.old_cancelled), (1, t.quantity - c.new_cancelled))
					 v(sign, quantity)
			WHERE v.quantity > 0$sql$));

	INSERT INTO silver.country_state AS c (country, revenue, lines)
	SELECT s.country, s.revenue, s.lines
	FROM pg_temp.merge_product_sums s
	WHERE s.sums_of = 'country'
	ON CONFLICT (country) DO UPDATE
	SET revenue = trim_scale(c.revenue + excluded.revenue), lines = c.lines + excluded.lines;

	INSERT INTO silver.product_months AS p (stock_code, month, units, revenue, lines)
	SELECT s.stock_code, s.month, s.units, s.revenue, s.lines
	FROM pg_temp.merge_product_sums s
	WHERE s.sums_of = 'month'
	ON CONFLICT (stock_code, month) DO UPDATE
	SET units = p.units + excluded.units, revenue = trim_scale(p.revenue + excluded.revenue),
		lines = p.lines + excluded.lines;

	-- No unique key holds a description (see the table): count the known
	-- ones, add the others.
	WITH batch AS (
		SELECT s.stock_code, s.description, s.lines
		FROM pg_temp.merge_product_sums s
		WHERE s.sums_of = 'description' AND s.description IS NOT NULL
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
	SELECT s.stock_code, s.unit_price, s.lines
	FROM pg_temp.merge_product_sums s
	WHERE s.sums_of = 'price'
	ON CONFLICT (stock_code, unit_price) DO UPDATE SET lines = p.lines + excluded.lines;

	IF netting_changed THEN
		-- what no counted line is left in
		DELETE FROM silver.country_state WHERE lines = 0;
		DELETE FROM silver.product_months WHERE lines = 0;
		DELETE FROM silver.product_descriptions WHERE lines = 0;
		DELETE FROM silver.product_prices WHERE lines = 0;
	END IF;

	-- The first order can change for the customers of the lines and orders
	-- merged (the invoices of the batch's counted lines and of the lines
	-- whose netting changed), and of the orders the netting emptied: every
	-- customer after a merge of every line, found without reading the lines
	-- again.  The customers are found first: Citus refuses a statement that
	-- joins a distributed state directly to a local table.
	EXECUTE format($sql$
		WITH keys AS MATERIALIZED (%s)
		UPDATE silver.customer_state c
		SET first_order_country = f.country
		FROM (SELECT k.customer_id,
					 (SELECT o.country FROM silver.net_orders o
					  WHERE o.customer_id = k.customer_id
					  ORDER BY o.invoice_ts, o.invoice_no LIMIT 1) AS country
			  FROM keys k) f
		WHERE c.customer_id = f.customer_id AND c.first_order_country IS DISTINCT FROM f.country
		$sql$,
		CASE WHEN after = 0 THEN 'SELECT s.customer_id FROM silver.customer_state s'
			 ELSE 'SELECT s.customer_id FROM pg_temp.merge_customer_sums s
				   UNION
				   SELECT o.customer_id FROM silver.net_orders o
				   WHERE o.invoice_no IN (SELECT s.invoice_no FROM pg_temp.merge_customer_sums s
										  WHERE s.batch_first_ts IS NOT NULL
										  UNION ALL
										  SELECT c.invoice_no FROM retail.netting_changes c)
				   UNION
				   SELECT unnest($1)' END)
		USING orders_dropped;

	-- the customers whose measures the kept marts of gold compute again:
	-- those of the batch's counted lines (a line netted to nothing changes no
	-- measure) and of the lines netted anew; all after a merge of every line
	DELETE FROM retail.touched_customers;
	IF after > 0 THEN
		INSERT INTO retail.touched_customers
		SELECT t.customer_id, min(t.invoice_ts)
		FROM (SELECT s.customer_id, s.batch_first_ts FROM pg_temp.merge_customer_sums s
			  WHERE s.batch_first_ts IS NOT NULL
			  UNION ALL
			  SELECT c.customer_id, c.invoice_ts FROM retail.netting_changes c) t(customer_id, invoice_ts)
		GROUP BY t.customer_id;
	ELSE
		INSERT INTO retail.touched_customers SELECT c.customer_id, c.first_purchase FROM silver.customer_state c;
	END IF;
	-- unqualified (found in pg_temp by the search_path): Citus cannot look up
	-- the schema name pg_temp in a DROP
	DROP TABLE merge_customer_sums, merge_product_sums;
END
$$;
COMMENT ON FUNCTION retail.merge_lines(bigint, bigint) IS
	'Net the cancellations of the lines with load_ordinal in (after, through], then merge the lines into silver.orders, silver.net_orders and the silver state tables, and list their customers in retail.touched_customers';

-- The tables of silver that the extension made: every one is derived from
-- bronze, and a rebuild starts them over.
CREATE FUNCTION retail.silver_tables() RETURNS regclass[]
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT array_agg(c.oid::regclass ORDER BY c.relname)
	FROM pg_catalog.pg_class c
		 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
										AND d.deptype = 'e'
		 JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'retail_analytics'
	WHERE c.relnamespace = 'silver'::pg_catalog.regnamespace AND c.relkind = 'r';
END;
COMMENT ON FUNCTION retail.silver_tables() IS
	'The tables of silver that the extension made, all derived from bronze';

-- Step 10 of the refresh: the bronze lines with load_ordinal in (after,
-- through] classified into silver.transactions, or every line when
-- rebuilding.  A rebuild reclassifies the lines in place, and readers keep the
-- old rows until the commit.  An empty table (the first load, or a rebuild
-- that emptied it with a TRUNCATE) has no rows to show: readers wait for the
-- commit, and its indexes, the primary key's too, are built once, after the
-- rows, instead of row by row (3 to 4 times less work for a first load; the
-- primary key alone, about a second of the real file's 5).
CREATE FUNCTION retail.maintain_silver_lines(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	classified bigint;
	lookup_indexes regclass[];
	lookup_index regclass;
	definitions text[];
	definition text;
	primary_key name;
	primary_key_definition text;
BEGIN
	-- (SELECT 1: Citus fails on an empty select list; LIMIT 1, or it brings
	-- every line to the coordinator to see whether there is one)
	IF EXISTS (SELECT 1 FROM silver.transactions LIMIT 1) THEN
		IF rebuild THEN
			RETURN retail.reclassify_lines(through);
		END IF;
		RETURN retail.classify_lines(after, through);
	END IF;
	SELECT array_agg(i.indexrelid::regclass), array_agg(pg_get_indexdef(i.indexrelid))
	INTO lookup_indexes, definitions
	FROM pg_index i
	WHERE i.indrelid = 'silver.transactions'::regclass AND NOT i.indisprimary AND NOT i.indisunique;
	SELECT c.conname, pg_get_constraintdef(c.oid) INTO primary_key, primary_key_definition
	FROM pg_constraint c
	WHERE c.conrelid = 'silver.transactions'::regclass AND c.contype = 'p';
	-- one at a time: Citus drops one distributed index a statement
	FOREACH lookup_index IN ARRAY lookup_indexes LOOP
		EXECUTE 'DROP INDEX ' || lookup_index;
	END LOOP;
	EXECUTE format('ALTER TABLE silver.transactions DROP CONSTRAINT %I', primary_key);
	classified := retail.classify_lines(after, through);
	EXECUTE format('ALTER TABLE silver.transactions ADD CONSTRAINT %I %s', primary_key, primary_key_definition);
	FOREACH definition IN ARRAY definitions LOOP
		EXECUTE definition;
	END LOOP;
	RETURN classified;
END
$$;
COMMENT ON FUNCTION retail.maintain_silver_lines(bigint, bigint, boolean) IS
	'Step 10 of retail.refresh(): classify the bronze lines with load_ordinal in (after, through] into silver.transactions, or every line up to through when rebuild is true; returns how many lines';

-- Step 20: the lines merged into silver.orders, silver.net_orders and the
-- state tables.  The merges' plans need statistics of about the right size:
-- autovacuum cannot see inside the refresh, and statistics taken while
-- silver was small make joins of the whole tables quadratic.  Silver is
-- analyzed whenever it has doubled since it last was, and after a rebuild.
CREATE FUNCTION retail.maintain_silver_states(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	all_tables text;
BEGIN
	IF rebuild OR through > 2 * (SELECT p.analyzed_through FROM retail.refresh_progress p) + 100 THEN
		all_tables := array_to_string(retail.silver_tables(), ', ');
		ANALYZE silver.transactions;
		IF NOT rebuild THEN
			EXECUTE 'ANALYZE ' || all_tables;
		END IF;
		UPDATE retail.refresh_progress SET analyzed_through = through;
	END IF;
	PERFORM retail.merge_lines(after, through);
	IF rebuild THEN
		-- the silver tables, found above: a rebuild analyzes before the merge too
		EXECUTE 'ANALYZE ' || all_tables;
	END IF;
	RETURN (SELECT count(*) FROM silver.transactions t
			WHERE t.load_ordinal > after AND t.load_ordinal <= through AND t.reason IS NULL);
END
$$;
COMMENT ON FUNCTION retail.maintain_silver_states(bigint, bigint, boolean) IS
	'Step 20 of retail.refresh(): merge the lines with load_ordinal in (after, through] (every line when rebuild is true) into silver.orders, silver.net_orders and the state tables, analyzing silver as it grows; returns how many clean lines were merged';

INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(10, 'silver', 'silver', 'transactions', 'retail.maintain_silver_lines(bigint, bigint, boolean)'),
	(20, 'silver', 'silver', 'orders', 'retail.maintain_silver_states(bigint, bigint, boolean)');

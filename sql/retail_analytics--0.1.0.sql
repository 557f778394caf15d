-- retail_analytics install script, assembled by the Makefile from sql/install/*.sql
\echo Use "CREATE EXTENSION retail_analytics" to load this file. \quit

-- Schema retail (functions, settings) is created by CREATE EXTENSION from the
-- control file; the medallion layers get one schema each.
CREATE SCHEMA bronze;
COMMENT ON SCHEMA bronze IS 'Raw order lines exactly as loaded, every column text';
CREATE SCHEMA silver;
COMMENT ON SCHEMA silver IS 'Typed, cleaned order lines; rejected lines kept with their reason';
CREATE SCHEMA gold;
COMMENT ON SCHEMA gold IS 'Customer analytics marts built on silver';

-- What retail.refresh() refreshes, in this order.  Each feature area's
-- install part registers its materialized views here.
CREATE TABLE retail.refresh_steps (
	step_order integer PRIMARY KEY,
	layer text NOT NULL CHECK (layer IN ('silver', 'gold')),
	schema_name name NOT NULL,
	view_name name NOT NULL,
	UNIQUE (schema_name, view_name)
);
COMMENT ON TABLE retail.refresh_steps IS 'Materialized views refreshed by retail.refresh(), in step_order';

-- Settings of the marts.  retail.setting_defaults belongs to the extension;
-- retail.settings holds the values a user chose instead, and is dumped.
CREATE TABLE retail.setting_defaults (
	name text PRIMARY KEY,
	default_value text,
	description text NOT NULL
);
COMMENT ON TABLE retail.setting_defaults IS 'Every setting of the marts with its default value';

CREATE TABLE retail.settings (
	name text PRIMARY KEY REFERENCES retail.setting_defaults (name),
	value text
);
COMMENT ON TABLE retail.settings IS
	'Settings chosen by the user (INSERT or UPDATE here; the defaults are in retail.setting_defaults); read at the next refresh';
SELECT pg_catalog.pg_extension_config_dump('retail.settings', '');

CREATE VIEW retail.current_settings AS
SELECT d.name, coalesce(s.value, d.default_value) AS value, s.name IS NOT NULL AS overridden,
	   d.default_value, d.description
FROM retail.setting_defaults d
LEFT JOIN retail.settings s ON s.name = d.name;
COMMENT ON VIEW retail.current_settings IS 'Each setting with the value in force';

CREATE FUNCTION retail.setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result text;
BEGIN
	SELECT coalesce(s.value, d.default_value) INTO result
	FROM retail.setting_defaults d
	LEFT JOIN retail.settings s ON s.name = d.name
	WHERE d.name = setting_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown setting "%"', setting_name
			USING ERRCODE = 'undefined_object', HINT = 'The settings are listed in retail.current_settings.';
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION retail.setting(text) IS 'The value in force of a setting (the user''s, else the default)';

-- Parsers from bronze text to typed values: NULL instead of an error.
CREATE FUNCTION retail.try_int4(text) RETURNS integer
	AS 'MODULE_PATHNAME', 'ra_try_int4' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_int4(text) IS
	'Integer within the 32-bit range (optional sign, digits, surrounding spaces ignored), else NULL';

CREATE FUNCTION retail.try_customer_id(text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ra_try_customer_id' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_customer_id(text) IS
	'Non-negative integer within the 64-bit range, optionally followed by ".0", else NULL';

CREATE FUNCTION retail.try_numeric(text) RETURNS numeric
	AS 'MODULE_PATHNAME', 'ra_try_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_numeric(text) IS
	'Plain decimal (optional sign, digits, at most one point, no exponent, at most 1000 characters), else NULL';

CREATE FUNCTION retail.try_timestamp(text) RETURNS timestamp
	AS 'MODULE_PATHNAME', 'ra_try_timestamp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_timestamp(text) IS
	'Real date and time written YYYY-MM-DD HH:MI[:SS] (T allowed, one-digit hour allowed) or M/D/YYYY H:MI, else NULL';

CREATE FUNCTION retail.line_fingerprint(text, text, text, text, text, text, text, text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ra_line_fingerprint' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.line_fingerprint(text, text, text, text, text, text, text, text) IS
	'64-bit hash of a raw line''s eight fields, each trimmed, NULL equal to empty: equal lines hash equal';

CREATE FUNCTION retail.rule_reason(invoice_no text, stock_code text, quantity text,
								   invoice_date text, unit_price text, customer_id text,
								   country text) RETURNS text
	AS 'MODULE_PATHNAME', 'ra_rule_reason' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rule_reason(text, text, text, text, text, text, text) IS
	'First of the silver cleaning rules 1-6 (malformed ... non_product) that a raw line breaks, else NULL';

CREATE FUNCTION retail.clean_code(text) RETURNS text
	AS 'MODULE_PATHNAME', 'ra_clean_code' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.clean_code(text) IS
	'upper(btrim(code)), fast for ASCII codes: how silver writes invoice numbers and stock codes';

-- A deterministic, streaming generator of bronze-shaped order lines.
CREATE FUNCTION retail.generate_transactions_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_generate_transactions_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.generate_transactions_support(internal) IS
	'Planner support of retail.generate_transactions: the row estimate is its lines argument';

CREATE FUNCTION retail.generate_transactions(
	lines bigint,
	seed integer DEFAULT 42,
	customers bigint DEFAULT NULL,
	products integer DEFAULT 4000,
	dirty boolean DEFAULT true)
RETURNS TABLE (invoice_no text, stock_code text, description text, quantity text,
			   invoice_date text, unit_price text, customer_id text, country text)
	AS 'MODULE_PATHNAME', 'ra_generate_transactions' LANGUAGE C IMMUTABLE PARALLEL SAFE
	SUPPORT retail.generate_transactions_support;
COMMENT ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean) IS
	'Stream lines synthetic order lines shaped like bronze.transactions_raw (UCI Online Retail text, 2010-12-01 .. 2011-12-09), the same rows for the same arguments; customers defaults to lines/125, dirty = false leaves out every line silver would reject';

-- Bronze: order lines as loaded.  Its rows are user data, so pg_dump keeps them.
CREATE SEQUENCE bronze.transactions_raw_load_ordinal_seq;
CREATE TABLE bronze.transactions_raw (
	invoice_no text,
	stock_code text,
	description text,
	quantity text,
	invoice_date text,
	unit_price text,
	customer_id text,
	country text,
	load_ordinal bigint NOT NULL PRIMARY KEY
		DEFAULT nextval('bronze.transactions_raw_load_ordinal_seq'),
	batch_id bigint NOT NULL DEFAULT txid_current(),
	loaded_at timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE bronze.transactions_raw_load_ordinal_seq OWNED BY bronze.transactions_raw.load_ordinal;
COMMENT ON TABLE bronze.transactions_raw IS
	'Order lines of the UCI Online Retail shape exactly as loaded; load_ordinal keeps file order, batch_id is the loading transaction';
COMMENT ON COLUMN bronze.transactions_raw.load_ordinal IS 'Position in load order, unique';
COMMENT ON COLUMN bronze.transactions_raw.batch_id IS 'Id of the transaction that loaded the row: one \copy is one batch';
SELECT pg_catalog.pg_extension_config_dump('bronze.transactions_raw', '');
SELECT pg_catalog.pg_extension_config_dump('bronze.transactions_raw_load_ordinal_seq', '');

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

-- RFM segmentation (src/rfm.c).  Three blocks that compose in plain SQL:
-- retail.rfm_customer reduces order lines per customer, retail.rfm_model
-- fits the cutpoints over all customers, retail.rfm_score applies them;
-- retail.rfm_segment names a score cell with a preset of retail.segment_rules.
INSERT INTO retail.setting_defaults VALUES
	('rfm_bins', '5', 'Score bins of gold.mart_customer_segments (2 to 10)'),
	('rfm_as_of', NULL, 'As-of date of gold.mart_customer_segments; NULL: the day after the last silver line');

CREATE TYPE retail.customer_summary AS (
	first_purchase timestamp,
	last_purchase timestamp,
	frequency bigint,
	monetary numeric
);
COMMENT ON TYPE retail.customer_summary IS
	'What retail.rfm_customer gives for one customer: first and last purchase, distinct invoices, sum of amounts';

CREATE FUNCTION retail.rfm_customer_trans(internal, text, timestamp, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_trans(internal, text, timestamp, numeric) IS
	'Transition of retail.rfm_customer: adds one order line';
CREATE FUNCTION retail.rfm_customer_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_combine(internal, internal) IS
	'Combine function of retail.rfm_customer: unites the invoice sets, adds the sums';
CREATE FUNCTION retail.rfm_customer_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_serial(internal) IS 'Serialize a retail.rfm_customer state';
CREATE FUNCTION retail.rfm_customer_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_deserial(bytea, internal) IS
	'Deserialize and validate a retail.rfm_customer state';
CREATE FUNCTION retail.rfm_customer_final(internal) RETURNS retail.customer_summary
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_final(internal) IS 'Final function of retail.rfm_customer';

CREATE AGGREGATE retail.rfm_customer(invoice_no text, ts timestamp, amount numeric) (
	SFUNC = retail.rfm_customer_trans, STYPE = internal, SSPACE = 512,
	FINALFUNC = retail.rfm_customer_final, COMBINEFUNC = retail.rfm_customer_combine,
	SERIALFUNC = retail.rfm_customer_serial, DESERIALFUNC = retail.rfm_customer_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.rfm_customer(text, timestamp, numeric) IS
	'Per customer (GROUP BY customer): first and last purchase, number of distinct invoices, exact sum of amounts; NULLs are skipped field by field';

-- The same for every customer in one pass, without GROUP BY: an array of
-- rows by customer_id (unnest it).  The mart's path.
CREATE TYPE retail.customer_summary_row AS (
	customer_id bigint,
	first_purchase timestamp,
	last_purchase timestamp,
	frequency bigint,
	monetary numeric
);
COMMENT ON TYPE retail.customer_summary_row IS
	'Element of retail.rfm_customers: a customer and what retail.rfm_customer gives for it';

CREATE FUNCTION retail.rfm_customers_trans(internal, bigint, text, timestamp, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customers_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customers_trans(internal, bigint, text, timestamp, numeric) IS
	'Transition of retail.rfm_customers: adds one order line to its customer''s state';
CREATE FUNCTION retail.rfm_customers_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customers_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customers_combine(internal, internal) IS
	'Combine function of retail.rfm_customers: merges the customers of two partial states';
CREATE FUNCTION retail.rfm_customers_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_rfm_customers_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customers_serial(internal) IS 'Serialize a retail.rfm_customers state';
CREATE FUNCTION retail.rfm_customers_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customers_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customers_deserial(bytea, internal) IS
	'Deserialize and validate a retail.rfm_customers state';
CREATE FUNCTION retail.rfm_customers_final(internal) RETURNS retail.customer_summary_row[]
	AS 'MODULE_PATHNAME', 'ra_rfm_customers_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customers_final(internal) IS
	'Final function of retail.rfm_customers: one element per customer, by customer_id';

CREATE AGGREGATE retail.rfm_customers(customer_id bigint, invoice_no text, ts timestamp, amount numeric) (
	SFUNC = retail.rfm_customers_trans, STYPE = internal,
	FINALFUNC = retail.rfm_customers_final, COMBINEFUNC = retail.rfm_customers_combine,
	SERIALFUNC = retail.rfm_customers_serial, DESERIALFUNC = retail.rfm_customers_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.rfm_customers(bigint, text, timestamp, numeric) IS
	'retail.rfm_customer of every customer in one pass, without GROUP BY: an array by customer_id; lines without a customer are skipped';

CREATE TYPE retail.rfm_cutpoints AS (
	bins integer,
	customers bigint,
	recency_cuts integer[],
	frequency_cuts bigint[],
	monetary_cuts numeric[]
);
COMMENT ON TYPE retail.rfm_cutpoints IS
	'An RFM model: c_k = percentile_disc(k/bins), k = 1 .. bins-1, of recency_days, frequency and monetary over the customers';

CREATE FUNCTION retail.rfm_model_trans(internal, integer, bigint, numeric, integer) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_model_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_model_trans(internal, integer, bigint, numeric, integer) IS
	'Transition of retail.rfm_model: adds one customer''s measures';
CREATE FUNCTION retail.rfm_model_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_model_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_model_combine(internal, internal) IS 'Combine function of retail.rfm_model';
CREATE FUNCTION retail.rfm_model_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_rfm_model_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_model_serial(internal) IS 'Serialize a retail.rfm_model state';
CREATE FUNCTION retail.rfm_model_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_model_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_model_deserial(bytea, internal) IS
	'Deserialize and validate a retail.rfm_model state';
CREATE FUNCTION retail.rfm_model_final(internal) RETURNS retail.rfm_cutpoints
	AS 'MODULE_PATHNAME', 'ra_rfm_model_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_model_final(internal) IS
	'Final function of retail.rfm_model: sorts a copy of each measure and reads the cutpoints';

CREATE AGGREGATE retail.rfm_model(recency_days integer, frequency bigint, monetary numeric, bins integer) (
	SFUNC = retail.rfm_model_trans, STYPE = internal, SSPACE = 65536,
	FINALFUNC = retail.rfm_model_final, COMBINEFUNC = retail.rfm_model_combine,
	SERIALFUNC = retail.rfm_model_serial, DESERIALFUNC = retail.rfm_model_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.rfm_model(integer, bigint, numeric, integer) IS
	'Fits an RFM model over customers (one row each): exact percentile_disc cutpoints of each measure; bins 2 to 10';

CREATE TYPE retail.rfm_scores AS (r integer, f integer, m integer);
COMMENT ON TYPE retail.rfm_scores IS 'RFM scores, 1 .. bins each';

CREATE FUNCTION retail.rfm_score(model retail.rfm_cutpoints, recency_days integer, frequency bigint,
								 monetary numeric) RETURNS retail.rfm_scores
	AS 'MODULE_PATHNAME', 'ra_rfm_score' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_score(retail.rfm_cutpoints, integer, bigint, numeric) IS
	'Scores under a model: r = 1 + #{k : recency_days < c_k}, f = 1 + #{k : frequency > c_k}, m likewise; equal inputs, equal scores';

CREATE FUNCTION retail.rfm_recency_days(last_purchase timestamp, as_of date) RETURNS integer
	AS 'MODULE_PATHNAME', 'ra_rfm_recency_days' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_recency_days(timestamp, date) IS
	'Whole days from the date of the last purchase to as_of; an as_of before that date is an error';

-- Segment presets: the first rule (by priority) whose bounds hold names the
-- segment; a NULL bound is no condition.
CREATE TABLE retail.segment_rules (
	preset text NOT NULL,
	priority integer NOT NULL,
	segment text NOT NULL,
	r_min integer, r_max integer,
	f_min integer, f_max integer,
	m_min integer, m_max integer,
	recency_days_min integer, recency_days_max integer,
	PRIMARY KEY (preset, priority),
	CHECK (r_min <= r_max AND f_min <= f_max AND m_min <= m_max
		   AND recency_days_min <= recency_days_max)
);
COMMENT ON TABLE retail.segment_rules IS
	'Segment presets as data: per preset, rules tried in priority order; add your own preset with INSERTs';
INSERT INTO retail.segment_rules (preset, priority, segment, r_min, r_max, f_min, f_max,
								  m_min, m_max, recency_days_min, recency_days_max) VALUES
	('standard', 1, 'Hibernating', NULL, 2, NULL, 2, NULL, NULL, NULL, NULL),
	('standard', 2, 'At Risk', NULL, 2, NULL, 4, NULL, NULL, NULL, NULL),
	('standard', 3, 'Can''t Lose Them', NULL, 2, NULL, NULL, NULL, NULL, NULL, NULL),
	('standard', 4, 'About to Sleep', 3, 3, NULL, 2, NULL, NULL, NULL, NULL),
	('standard', 5, 'Need Attention', 3, 3, 3, 3, NULL, NULL, NULL, NULL),
	('standard', 6, 'Loyal Customers', 3, 4, 4, NULL, NULL, NULL, NULL, NULL),
	('standard', 7, 'Promising', 4, 4, 1, 1, NULL, NULL, NULL, NULL),
	('standard', 8, 'New Customers', 5, 5, 1, 1, NULL, NULL, NULL, NULL),
	('standard', 9, 'Potential Loyalists', NULL, NULL, 2, 3, NULL, NULL, NULL, NULL),
	('standard', 10, 'Champions', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	('seed', 1, 'At Risk', NULL, NULL, NULL, NULL, NULL, NULL, 91, NULL),
	('seed', 2, 'Champions', 4, NULL, 4, NULL, 4, NULL, NULL, NULL),
	('seed', 3, 'Lowspender', NULL, NULL, NULL, NULL, NULL, 2, NULL, NULL),
	('seed', 4, 'Regular', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- the presets above come with the extension; pg_dump keeps the user's own
SELECT pg_catalog.pg_extension_config_dump('retail.segment_rules', 'WHERE preset NOT IN (''standard'', ''seed'')');
-- so the shipped presets are read-only: an edit would be lost in a dump and
-- restore.  Copy one under another name to change it.
CREATE FUNCTION retail.segment_rules_protect() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'TRUNCATE'
		OR (TG_OP <> 'INSERT' AND OLD.preset IN ('standard', 'seed'))
		OR (TG_OP <> 'DELETE' AND NEW.preset IN ('standard', 'seed')) THEN
		RAISE EXCEPTION 'segment preset "%" comes with the extension and cannot be changed',
			CASE WHEN TG_OP = 'TRUNCATE' THEN 'standard'
				 WHEN TG_OP = 'INSERT' THEN NEW.preset ELSE OLD.preset END
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Copy it under a name of your own and change the copy.';
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION retail.segment_rules_protect() IS
	'Trigger of retail.segment_rules: the presets standard and seed are read-only';
CREATE TRIGGER protect_shipped_presets BEFORE INSERT OR UPDATE OR DELETE ON retail.segment_rules
	FOR EACH ROW EXECUTE FUNCTION retail.segment_rules_protect();
CREATE TRIGGER protect_shipped_presets_truncate BEFORE TRUNCATE ON retail.segment_rules
	FOR EACH STATEMENT EXECUTE FUNCTION retail.segment_rules_protect();

CREATE FUNCTION retail.rfm_segment(preset text, r integer, f integer, m integer, recency_days integer)
	RETURNS text
	AS 'MODULE_PATHNAME', 'ra_rfm_segment' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.rfm_segment(text, integer, integer, integer, integer) IS
	'Segment of a score cell under a preset of retail.segment_rules (first matching rule); a cell no rule covers is an error';

CREATE FUNCTION retail.check_segment_preset(preset text, bins integer DEFAULT 5)
	RETURNS TABLE (r integer, f integer, m integer, recency_days_from integer, recency_days_to integer)
	AS 'MODULE_PATHNAME', 'ra_check_segment_preset' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.check_segment_preset(text, integer) IS
	'Score cells (and recency_days ranges; NULL to = no end) that a preset leaves without a rule: none for a complete preset';

-- One call: the finished segments of any relation of order lines with the
-- silver column names (customer_id, invoice_no, invoice_ts, line_total).
CREATE FUNCTION retail.rfm_segments(lines regclass, as_of_date date DEFAULT NULL, bins integer DEFAULT 5,
									preset text DEFAULT 'standard', seed_preset text DEFAULT 'seed')
	RETURNS TABLE (customer_id bigint, recency_days integer, frequency bigint, monetary numeric,
				   r integer, f integer, m integer, rfm_cell text, segment text, seed_segment text,
				   first_purchase timestamp, last_purchase timestamp, as_of date)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
-- room for the customers' rows in the CTEs and the result
SET work_mem = '256MB'
AS $$
BEGIN
	IF NOT has_table_privilege(lines, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', lines
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	-- rows come out by customer_id, the order of rfm_customers
	RETURN QUERY EXECUTE format($query$
		WITH customers AS MATERIALIZED (
			SELECT c.*
			FROM unnest((SELECT retail.rfm_customers(l.customer_id::bigint, l.invoice_no::text,
													 l.invoice_ts::timestamp, l.line_total::numeric)
						 FROM %s l)) c
		),
		measured AS MATERIALIZED (
			SELECT c.*, retail.rfm_recency_days(c.last_purchase, d.as_of) AS recency_days, d.as_of
			FROM customers c,
				 (SELECT coalesce($1, max(last_purchase)::date + 1) AS as_of FROM customers) d
		),
		scored AS MATERIALIZED (
			SELECT m.*, retail.rfm_score(model.cuts, m.recency_days, m.frequency, m.monetary) AS s
			FROM measured m,
				 (SELECT retail.rfm_model(recency_days, frequency, monetary, $2) AS cuts
				  FROM measured) model
		)
		SELECT customer_id, recency_days, frequency, monetary, (s).r, (s).f, (s).m,
			   (s).r::text || (s).f::text || (s).m::text,
			   retail.rfm_segment($3, (s).r, (s).f, (s).m, recency_days),
			   retail.rfm_segment($4, (s).r, (s).f, (s).m, recency_days),
			   first_purchase, last_purchase, as_of
		FROM scored
	$query$, lines) USING as_of_date, bins, preset, seed_preset;
END
$$;
COMMENT ON FUNCTION retail.rfm_segments(regclass, date, integer, text, text) IS
	'RFM segments of the order lines in a relation (customer_id, invoice_no, invoice_ts, line_total): one row per customer';

CREATE MATERIALIZED VIEW gold.mart_customer_segments AS
SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment,
	   first_purchase, last_purchase, as_of
FROM retail.rfm_segments('silver.cleaned_transactions', (SELECT retail.setting('rfm_as_of'))::date,
						 (SELECT retail.setting('rfm_bins'))::integer)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_segments IS
	'One row per customer of silver: recency, frequency, monetary, RFM scores and cell, standard and seed segments';
CREATE UNIQUE INDEX ON gold.mart_customer_segments (customer_id);
CREATE INDEX ON gold.mart_customer_segments (segment);

CREATE VIEW gold.segment_summary AS
SELECT segment, count(*) AS customers,
	   round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct_customers,
	   sum(monetary) AS revenue,
	   round(100 * sum(monetary) / sum(sum(monetary)) OVER (), 2) AS pct_revenue,
	   round(avg(recency_days), 1) AS avg_recency_days,
	   round(avg(frequency), 2) AS avg_frequency,
	   round(avg(monetary), 2) AS avg_monetary
FROM gold.mart_customer_segments
GROUP BY segment;
COMMENT ON VIEW gold.segment_summary IS 'Segments of the standard preset: size and share of customers and of revenue';

INSERT INTO retail.refresh_steps VALUES (100, 'gold', 'gold', 'mart_customer_segments');

-- Cohort retention (src/cohort.c).  A customer's cohort is the period
-- (month, ISO week or day) of the customer's first line; the matrix is dense:
-- every cohort, every period from 0 to the last period present in the data.
CREATE TYPE retail.cohort_cell AS (
	cohort date,
	period integer,
	cohort_size bigint,
	active_customers bigint,
	retention numeric,
	revenue numeric
);
COMMENT ON TYPE retail.cohort_cell IS
	'One cell of a cohort matrix: cohort start, period number, cohort size, customers active in the period (or later, unbounded), their share, revenue of the period';

-- Support functions of the aggregates.  The state is internal: per customer,
-- the ascending periods with a line and the exact revenue of each.
CREATE FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric) IS
	'Transition of retail.cohort_matrix and retail.cohort_state: adds one order line (month granularity)';
CREATE FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text) IS
	'Transition of retail.cohort_matrix and retail.cohort_state: adds one order line at the given granularity';
CREATE FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text, boolean) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_trans(internal, bigint, timestamp, numeric, text, boolean) IS
	'Transition of retail.cohort_matrix: adds one order line at the given granularity and retention mode';
CREATE FUNCTION retail.cohort_merge_trans(internal, bytea) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_merge_trans(internal, bytea) IS
	'Transition of retail.cohort_merge: adds one serialized cohort state';
CREATE FUNCTION retail.cohort_merge_trans(internal, bytea, boolean) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_merge_trans(internal, bytea, boolean) IS
	'Transition of retail.cohort_merge: adds one serialized cohort state, with the retention mode';
CREATE FUNCTION retail.cohort_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_combine(internal, internal) IS
	'Combine function of the cohort aggregates: merges the customers and periods of two partial states exactly';
CREATE FUNCTION retail.cohort_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_cohort_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_serial(internal) IS
	'Serialize a cohort state (versioned binary format); also the final function of retail.cohort_state';
CREATE FUNCTION retail.cohort_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_cohort_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_deserial(bytea, internal) IS
	'Deserialize and validate a cohort state';
CREATE FUNCTION retail.cohort_final(internal) RETURNS retail.cohort_cell[]
	AS 'MODULE_PATHNAME', 'ra_cohort_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.cohort_final(internal) IS
	'Final function of the cohort aggregates: the dense matrix, ordered by cohort and period';

CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric) IS
	'Monthly cohort retention matrix (bounded) of order lines: customer, time, amount; expand with unnest()';
CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric, granularity text) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text) IS
	'Cohort retention matrix (bounded) at granularity month, week (ISO, from Monday) or day; expand with unnest()';
CREATE AGGREGATE retail.cohort_matrix(customer_id bigint, ts timestamp, amount numeric, granularity text,
									  unbounded boolean) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text, boolean) IS
	'Cohort retention matrix; unbounded counts a customer active in period p or later; expand with unnest()';

CREATE AGGREGATE retail.cohort_state(customer_id bigint, ts timestamp, amount numeric) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_serial, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_state(bigint, timestamp, numeric) IS
	'Per-customer monthly activity as a portable partial state (bytea), to merge with retail.cohort_merge';
CREATE AGGREGATE retail.cohort_state(customer_id bigint, ts timestamp, amount numeric, granularity text) (
	SFUNC = retail.cohort_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_serial, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_state(bigint, timestamp, numeric, text) IS
	'Per-customer activity at a granularity as a portable partial state (bytea), to merge with retail.cohort_merge';

CREATE AGGREGATE retail.cohort_merge(state bytea) (
	SFUNC = retail.cohort_merge_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_merge(bytea) IS
	'Cohort retention matrix (bounded) of partial states from retail.cohort_state, e.g. one per shard';
CREATE AGGREGATE retail.cohort_merge(state bytea, unbounded boolean) (
	SFUNC = retail.cohort_merge_trans, STYPE = internal, SSPACE = 16384,
	FINALFUNC = retail.cohort_final, COMBINEFUNC = retail.cohort_combine,
	SERIALFUNC = retail.cohort_serial, DESERIALFUNC = retail.cohort_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.cohort_merge(bytea, boolean) IS
	'Cohort retention matrix of partial states from retail.cohort_state, bounded or unbounded';

CREATE FUNCTION retail.cohort_retention(lines regclass, granularity text DEFAULT 'month',
										unbounded boolean DEFAULT false)
	RETURNS SETOF retail.cohort_cell
	AS 'MODULE_PATHNAME', 'ra_cohort_retention' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.cohort_retention(regclass, text, boolean) IS
	'Dense cohort retention matrix of a relation with columns customer_id, invoice_ts, line_total (SELECT privilege required)';

-- The mart: monthly cohorts of silver, bounded retention.
CREATE MATERIALIZED VIEW gold.mart_cohort_retention AS
SELECT c.cohort AS cohort_month,
	   c.period,
	   c.cohort_size,
	   c.active_customers,
	   c.retention,
	   c.revenue
FROM (SELECT retail.cohort_matrix(t.customer_id, t.invoice_ts, t.line_total) AS cells
	  FROM silver.cleaned_transactions t) m
	 CROSS JOIN LATERAL pg_catalog.unnest(m.cells) AS c
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_cohort_retention IS
	'Monthly cohorts of silver customers: for every cohort and period up to the last month of silver, cohort size, active customers, retention, revenue';
CREATE UNIQUE INDEX ON gold.mart_cohort_retention (cohort_month, period);
INSERT INTO retail.refresh_steps VALUES (200, 'gold', 'gold', 'mart_cohort_retention');

-- For people: the triangle in percent, and the average per period.
CREATE VIEW gold.cohort_triangle AS
SELECT r.cohort_month,
	   max(r.cohort_size) AS cohort_size,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 0), 1) AS p0,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 1), 1) AS p1,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 2), 1) AS p2,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 3), 1) AS p3,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 4), 1) AS p4,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 5), 1) AS p5,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 6), 1) AS p6,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 7), 1) AS p7,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 8), 1) AS p8,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 9), 1) AS p9,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 10), 1) AS p10,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 11), 1) AS p11,
	   round(100 * max(r.retention) FILTER (WHERE r.period = 12), 1) AS p12
FROM gold.mart_cohort_retention r
GROUP BY r.cohort_month
ORDER BY r.cohort_month;
COMMENT ON VIEW gold.cohort_triangle IS
	'Retention triangle in percent (1 decimal): one row per monthly cohort, columns p0 .. p12; NULL where the data ends';

CREATE VIEW gold.cohort_period_averages AS
SELECT r.period,
	   count(*) AS cohorts,
	   sum(r.cohort_size) AS customers,
	   sum(r.active_customers) AS active_customers,
	   round(100 * avg(r.retention), 1) AS avg_retention_pct,
	   round(100 * sum(r.active_customers) / sum(r.cohort_size), 1) AS weighted_retention_pct
FROM gold.mart_cohort_retention r
GROUP BY r.period
ORDER BY r.period;
COMMENT ON VIEW gold.cohort_period_averages IS
	'Per period: cohorts that reached it, their customers, average retention in percent, plain (mean over cohorts) and weighted by cohort size';
-- ABC (Pareto) and XYZ (demand variability) classification, in C (src/abc.c),
-- and the marts gold.mart_countries_abc and gold.mart_products_abc.

CREATE TYPE retail.abc_item AS (
	rank bigint,
	key text,
	value numeric,
	share numeric,
	cum_share_before numeric,
	abc_class text
);
COMMENT ON TYPE retail.abc_item IS
	'One classified item of retail.abc_classify: rank (value desc, key asc), key, summed value, share of the total, share of the items ranked before, class A/B/C';

-- abc_classify: support functions.  The transition function serves both
-- aggregates; with two arguments it uses the default thresholds.
CREATE FUNCTION retail.abc_classify_trans(internal, text, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_trans(internal, text, numeric) IS
	'Transition function of retail.abc_classify(text, numeric): sums the value of each key';

CREATE FUNCTION retail.abc_classify_trans(internal, text, numeric, numeric, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_trans(internal, text, numeric, numeric, numeric) IS
	'Transition function of retail.abc_classify(text, numeric, numeric, numeric): sums the value of each key';

CREATE FUNCTION retail.abc_classify_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_combine(internal, internal) IS
	'Combine function of retail.abc_classify: merges two partial states';

CREATE FUNCTION retail.abc_classify_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_abc_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_serial(internal) IS
	'Serialization function of retail.abc_classify';

CREATE FUNCTION retail.abc_classify_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_deserial(bytea, internal) IS
	'Deserialization function of retail.abc_classify; rejects malformed states';

CREATE FUNCTION retail.abc_classify_final(internal) RETURNS retail.abc_item[]
	AS 'MODULE_PATHNAME', 'ra_abc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_final(internal) IS
	'Final function of retail.abc_classify: ranks a copy of the items and classifies them';

CREATE AGGREGATE retail.abc_classify(key text, value numeric) (
	SFUNC = retail.abc_classify_trans,
	STYPE = internal,
	SSPACE = 8192,
	FINALFUNC = retail.abc_classify_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.abc_classify_combine,
	SERIALFUNC = retail.abc_classify_serial,
	DESERIALFUNC = retail.abc_classify_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.abc_classify(text, numeric) IS
	'ABC classification of (key, value) pairs with thresholds 0.80 and 0.95: an array of retail.abc_item in rank order (unnest it)';

CREATE AGGREGATE retail.abc_classify(key text, value numeric, a numeric, b numeric) (
	SFUNC = retail.abc_classify_trans,
	STYPE = internal,
	SSPACE = 8192,
	FINALFUNC = retail.abc_classify_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.abc_classify_combine,
	SERIALFUNC = retail.abc_classify_serial,
	DESERIALFUNC = retail.abc_classify_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.abc_classify(text, numeric, numeric, numeric) IS
	'ABC classification of (key, value) pairs: A while the share ranked before is < a, B while < b, else C (0 < a < b <= 1); an array of retail.abc_item';

-- most_frequent: the mode of a text column, ties to the first in collation order.
CREATE FUNCTION retail.most_frequent_trans(internal, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_trans(internal, text) IS
	'Transition function of retail.most_frequent: counts each distinct value';

CREATE FUNCTION retail.most_frequent_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_combine(internal, internal) IS
	'Combine function of retail.most_frequent: merges two partial states';

CREATE FUNCTION retail.most_frequent_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_most_frequent_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_serial(internal) IS
	'Serialization function of retail.most_frequent';

CREATE FUNCTION retail.most_frequent_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_deserial(bytea, internal) IS
	'Deserialization function of retail.most_frequent; rejects malformed states';

CREATE FUNCTION retail.most_frequent_final(internal) RETURNS text
	AS 'MODULE_PATHNAME', 'ra_most_frequent_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_final(internal) IS
	'Final function of retail.most_frequent';

CREATE AGGREGATE retail.most_frequent(text) (
	SFUNC = retail.most_frequent_trans,
	STYPE = internal,
	SSPACE = 256,
	FINALFUNC = retail.most_frequent_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.most_frequent_combine,
	SERIALFUNC = retail.most_frequent_serial,
	DESERIALFUNC = retail.most_frequent_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.most_frequent(text) IS
	'Most frequent non-NULL value; among equally frequent values the first in the collation''s order (NULL when there is none)';

-- xyz_cv: coefficient of variation of monthly units over the active span.
CREATE FUNCTION retail.xyz_cv_trans(internal, timestamp, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_xyz_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_trans(internal, timestamp, bigint) IS
	'Transition function of retail.xyz_cv: adds units to their calendar month';

CREATE FUNCTION retail.xyz_cv_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_xyz_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_combine(internal, internal) IS
	'Combine function of retail.xyz_cv: merges two partial states';

CREATE FUNCTION retail.xyz_cv_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_xyz_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_serial(internal) IS
	'Serialization function of retail.xyz_cv';

CREATE FUNCTION retail.xyz_cv_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_xyz_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_deserial(bytea, internal) IS
	'Deserialization function of retail.xyz_cv; rejects malformed states';

CREATE FUNCTION retail.xyz_cv_final(internal) RETURNS numeric
	AS 'MODULE_PATHNAME', 'ra_xyz_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_final(internal) IS
	'Final function of retail.xyz_cv';

CREATE AGGREGATE retail.xyz_cv(month timestamp, units bigint) (
	SFUNC = retail.xyz_cv_trans,
	STYPE = internal,
	SSPACE = 256,
	FINALFUNC = retail.xyz_cv_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.xyz_cv_combine,
	SERIALFUNC = retail.xyz_cv_serial,
	DESERIALFUNC = retail.xyz_cv_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.xyz_cv(timestamp, bigint) IS
	'Coefficient of variation (population stddev / mean) of units per calendar month from the first to the last month with a row, empty months counting 0';

CREATE FUNCTION retail.xyz_class(cv numeric, x numeric DEFAULT 0.5, y numeric DEFAULT 1.0) RETURNS text
	AS 'MODULE_PATHNAME', 'ra_xyz_class' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_class(numeric, numeric, numeric) IS
	'XYZ class of a coefficient of variation: X if cv < x, Y if cv < y, else Z (0 < x < y); NULL for a NULL cv';

-- The marts' queries, with their thresholds as arguments.
CREATE FUNCTION retail.countries_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95)
RETURNS TABLE (rank bigint, country text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
	FROM (SELECT retail.abc_classify(c.country, c.revenue, countries_abc.a, countries_abc.b) AS items
		  FROM (SELECT t.country, sum(t.line_total) AS revenue
				FROM silver.cleaned_transactions t
				GROUP BY t.country) c) s
		 CROSS JOIN LATERAL unnest(s.items) i
	ORDER BY i.rank;
END;
COMMENT ON FUNCTION retail.countries_abc(numeric, numeric) IS
	'ABC classification of countries by revenue (sum of silver line_total) with thresholds a and b: the query of gold.mart_countries_abc';

CREATE FUNCTION retail.products_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95,
									x numeric DEFAULT 0.5, y numeric DEFAULT 1.0)
RETURNS TABLE (rank bigint, stock_code text, description text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text, cv numeric, xyz_class text, abc_xyz text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH products AS (
		SELECT t.stock_code,
			   sum(t.line_total) AS revenue,
			   retail.most_frequent(t.description) AS description,
			   retail.xyz_cv(t.invoice_ts, t.quantity) AS cv
		FROM silver.cleaned_transactions t
		GROUP BY t.stock_code
	),
	ranked AS (
		SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
		FROM (SELECT retail.abc_classify(p.stock_code, p.revenue, products_abc.a, products_abc.b) AS items
			  FROM products p) s
			 CROSS JOIN LATERAL unnest(s.items) i
	)
	SELECT r.rank, r.key, p.description, r.value, r.share, r.cum_share_before, r.abc_class,
		   p.cv, k.xyz_class, r.abc_class || k.xyz_class
	FROM ranked r
		 JOIN products p ON p.stock_code = r.key
		 CROSS JOIN LATERAL (SELECT retail.xyz_class(p.cv, products_abc.x, products_abc.y)) k(xyz_class)
	ORDER BY r.rank;
END;
COMMENT ON FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) IS
	'ABC by revenue and XYZ by monthly demand variability of products (stock_code) with thresholds a, b, x, y: the query of gold.mart_products_abc';

INSERT INTO retail.setting_defaults VALUES
	('abc_a', '0.80', 'ABC marts: class A while the share ranked before is below this'),
	('abc_b', '0.95', 'ABC marts: class B while the share ranked before is below this'),
	('xyz_x', '0.5', 'gold.mart_products_abc: class X below this coefficient of variation'),
	('xyz_y', '1.0', 'gold.mart_products_abc: class Y below this coefficient of variation');

-- Settings as sub-selects: computed once per refresh, not once per line.
CREATE MATERIALIZED VIEW gold.mart_countries_abc AS
SELECT rank, country, revenue, share, cum_share_before, abc_class
FROM retail.countries_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_countries_abc IS
	'Countries ranked by revenue with share, share of the countries before, and ABC class (A < 80 %, B < 95 %, else C)';
CREATE UNIQUE INDEX ON gold.mart_countries_abc (country);

CREATE MATERIALIZED VIEW gold.mart_products_abc AS
SELECT rank, stock_code, description, revenue, share, cum_share_before, abc_class,
	   cv, xyz_class, abc_xyz
FROM retail.products_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric,
						 (SELECT retail.setting('xyz_x'))::numeric, (SELECT retail.setting('xyz_y'))::numeric)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_products_abc IS
	'Products (stock_code) ranked by revenue with ABC class, coefficient of variation of monthly units, XYZ class (X < 0.5, Y < 1.0, else Z) and the ABC-XYZ cell';
CREATE UNIQUE INDEX ON gold.mart_products_abc (stock_code);

INSERT INTO retail.refresh_steps VALUES
	(300, 'gold', 'gold', 'mart_countries_abc'),
	(310, 'gold', 'gold', 'mart_products_abc');
-- Order-anomaly audit: exact median and MAD in C (src/audit.c), modified
-- z-scores, and the mart gold.audit_order_anomalies.

CREATE TYPE retail.median_mad_result AS (
	median double precision,
	mad double precision
);
COMMENT ON TYPE retail.median_mad_result IS
	'Result of retail.median_mad: the median and the median absolute deviation';

CREATE FUNCTION retail.median_mad_trans(internal, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_trans(internal, double precision) IS
	'Transition function of retail.median_mad: collects the values';

CREATE FUNCTION retail.median_mad_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_combine(internal, internal) IS
	'Combine function of retail.median_mad: merges two partial states';

CREATE FUNCTION retail.median_mad_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_median_mad_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_serial(internal) IS
	'Serialization function of retail.median_mad';

CREATE FUNCTION retail.median_mad_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_deserial(bytea, internal) IS
	'Deserialization function of retail.median_mad; rejects malformed states';

CREATE FUNCTION retail.median_mad_final(internal) RETURNS retail.median_mad_result
	AS 'MODULE_PATHNAME', 'ra_median_mad_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_final(internal) IS
	'Final function of retail.median_mad: selects the median, then the median of the absolute deviations';

CREATE AGGREGATE retail.median_mad(double precision) (
	SFUNC = retail.median_mad_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = retail.median_mad_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.median_mad_combine,
	SERIALFUNC = retail.median_mad_serial,
	DESERIALFUNC = retail.median_mad_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.median_mad(double precision) IS
	'Exact median and median absolute deviation of the non-NULL values (even count: the mean of the two middle values, as percentile_cont(0.5)); NULL when there are none';

CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN (center).mad > 0
			THEN 0.6745::double precision * (value - (center).median) / (center).mad
	   END;
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result) IS
	'Modified z-score 0.6745 * (value - median) / MAD; NULL when the MAD is 0 (no score, never flagged)';

-- The audit's query, with its threshold as argument.  One row per (order,
-- reason): wholesale_total when the order's z of ln(total) exceeds the
-- threshold; unit_price_outlier when one of its lines has |z| of
-- ln(unit_price), against the lines of the same product, above it (z is then
-- that of the line with the largest |z|).
CREATE FUNCTION retail.order_anomalies(threshold double precision DEFAULT 3.5)
RETURNS TABLE (invoice_no text, customer_id bigint, country text, invoice_ts timestamp,
			   total numeric, z double precision, reason text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH order_center AS (
		SELECT retail.median_mad(ln(o.total::double precision)) AS center
		FROM silver.orders o
	),
	wholesale AS (
		SELECT o.invoice_no, retail.modified_z(ln(o.total::double precision), c.center) AS z
		FROM silver.orders o CROSS JOIN order_center c
	),
	product_center AS (
		SELECT t.stock_code, retail.median_mad(ln(t.unit_price::double precision)) AS center
		FROM silver.cleaned_transactions t
		GROUP BY t.stock_code
	),
	price_lines AS (
		SELECT t.invoice_no, retail.modified_z(ln(t.unit_price::double precision), p.center) AS z
		FROM silver.cleaned_transactions t
			 JOIN product_center p ON p.stock_code = t.stock_code
		WHERE (p.center).mad > 0
	),
	flags AS (
		SELECT w.invoice_no, w.z, 'wholesale_total' AS reason
		FROM wholesale w
		WHERE w.z > order_anomalies.threshold
		UNION ALL
		(SELECT DISTINCT ON (l.invoice_no) l.invoice_no, l.z, 'unit_price_outlier'
		 FROM price_lines l
		 WHERE abs(l.z) > order_anomalies.threshold
		 ORDER BY l.invoice_no, abs(l.z) DESC, l.z DESC)
	)
	SELECT o.invoice_no, o.customer_id, o.country, o.invoice_ts, o.total, f.z, f.reason
	FROM flags f
		 JOIN silver.orders o ON o.invoice_no = f.invoice_no
	ORDER BY o.invoice_no, f.reason;
END;
COMMENT ON FUNCTION retail.order_anomalies(double precision) IS
	'Orders with a modified z-score above threshold: wholesale_total (z of ln(total) among all orders) and unit_price_outlier (|z| of a line''s ln(unit_price) among its product''s lines); the query of gold.audit_order_anomalies';

INSERT INTO retail.setting_defaults VALUES
	('audit_threshold', '3.5', 'gold.audit_order_anomalies: flag a modified z-score above this');

CREATE MATERIALIZED VIEW gold.audit_order_anomalies AS
SELECT invoice_no, customer_id, country, invoice_ts, total, z, reason
FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.audit_order_anomalies IS
	'Orders flagged by a modified z-score above 3.5, one row per (order, reason): wholesale_total, unit_price_outlier';
CREATE UNIQUE INDEX ON gold.audit_order_anomalies (invoice_no, reason);

INSERT INTO retail.refresh_steps VALUES
	(400, 'gold', 'gold', 'audit_order_anomalies');

-- Refresh: every registered layer object, in step order, in one transaction.
CREATE SEQUENCE retail.refresh_run_seq;
CREATE TABLE retail.refresh_log (
	run_id bigint NOT NULL,
	step_order integer NOT NULL,
	layer text NOT NULL,
	relation text NOT NULL,
	rows bigint NOT NULL,
	seconds numeric NOT NULL,
	concurrent boolean NOT NULL,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (run_id, step_order)
);
COMMENT ON TABLE retail.refresh_log IS 'One row per object refreshed by retail.refresh(): rows and seconds';

CREATE PROCEDURE retail.refresh(concurrently boolean DEFAULT true)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	step record;
	run bigint := nextval('retail.refresh_run_seq');
	relation text;
	use_concurrently boolean;
	started timestamptz;
	seconds numeric;
	row_count bigint;
BEGIN
	-- One refresh at a time; a second caller waits for the first.
	PERFORM pg_advisory_xact_lock('retail.refresh_steps'::regclass::oid::bigint);

	FOR step IN
		SELECT s.step_order, s.layer, s.schema_name, s.view_name, m.ispopulated
		FROM retail.refresh_steps s
		JOIN pg_matviews m ON m.schemaname = s.schema_name AND m.matviewname = s.view_name
		ORDER BY s.step_order
	LOOP
		relation := format('%I.%I', step.schema_name, step.view_name);
		-- CONCURRENTLY keeps readers unblocked but needs a populated view.
		use_concurrently := refresh.concurrently AND step.ispopulated;
		started := clock_timestamp();
		EXECUTE format('REFRESH MATERIALIZED VIEW %s %s',
					   CASE WHEN use_concurrently THEN 'CONCURRENTLY' ELSE '' END, relation);
		seconds := round(extract(epoch FROM clock_timestamp() - started), 3);
		EXECUTE format('ANALYZE %s', relation);
		EXECUTE format('SELECT count(*) FROM %s', relation) INTO row_count;
		INSERT INTO retail.refresh_log (run_id, step_order, layer, relation, rows, seconds, concurrent)
		VALUES (run, step.step_order, step.layer, relation, row_count, seconds, use_concurrently);
		RAISE NOTICE '% %: % rows in % s', step.layer, relation, row_count, seconds;
	END LOOP;
END
$$;
COMMENT ON PROCEDURE retail.refresh(boolean) IS
	'Refresh silver then gold in dependency order; CONCURRENTLY (readers not blocked) once a view is populated';

CREATE VIEW retail.last_refresh AS
SELECT step_order, layer, relation, rows, seconds, concurrent, finished_at
FROM retail.refresh_log
WHERE run_id = (SELECT max(run_id) FROM retail.refresh_log)
ORDER BY step_order;
COMMENT ON VIEW retail.last_refresh IS 'Rows and seconds of each object in the latest retail.refresh()';

-- The functions of schema retail are for every analyst; its tables are not.
GRANT USAGE ON SCHEMA retail TO PUBLIC;

-- A read-only role for BI tools: gold only.  Grant it to login roles.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'retail_bi') THEN
		CREATE ROLE retail_bi NOLOGIN;
	END IF;
END
$$;
GRANT USAGE ON SCHEMA gold TO retail_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA gold TO retail_bi;


-- RFM segmentation (src/rfm_customer.c, rfm_model.c, rfm_segment.c).  Three
-- blocks that compose in plain SQL:
-- retail.rfm_customer reduces order lines per customer, retail.rfm_model
-- fits the cutpoints over all customers, retail.rfm_score applies them;
-- retail.rfm_segment names a score cell with a preset of retail.segment_rules.
INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('rfm_bins', '5', 'Score bins of gold.mart_customer_segments (2 to 10)',
	 'integer', 2, false, 10, false),
	('rfm_as_of', NULL, 'As-of date of gold.mart_customer_segments; NULL: the day after the last silver line',
	 'date', NULL, false, NULL, true),
	('rfm_preset', 'standard', 'Preset of retail.segment_rules that names gold.mart_customer_segments.segment',
	 'preset', NULL, false, NULL, false),
	('rfm_seed_preset', 'seed', 'Preset of retail.segment_rules that names gold.mart_customer_segments.seed_segment',
	 'preset', NULL, false, NULL, false);

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
	'Per customer (GROUP BY customer): first and last purchase, number of distinct invoices (told apart byte by byte, whatever their collation), exact sum of amounts; NULLs are skipped field by field';

-- The same reduction of spans of a customer's lines already summed (an
-- invoice, its first and last time, its amount): the silver state of each
-- customer is this over silver.customer_invoice_days.
CREATE FUNCTION retail.rfm_customer_span_trans(internal, text, timestamp, timestamp, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_rfm_customer_span_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.rfm_customer_span_trans(internal, text, timestamp, timestamp, numeric) IS
	'Transition of retail.rfm_customer(text, timestamp, timestamp, numeric): adds a span of lines of one invoice';
CREATE AGGREGATE retail.rfm_customer(invoice_no text, first_ts timestamp, last_ts timestamp, amount numeric) (
	SFUNC = retail.rfm_customer_span_trans, STYPE = internal, SSPACE = 512,
	FINALFUNC = retail.rfm_customer_final, COMBINEFUNC = retail.rfm_customer_combine,
	SERIALFUNC = retail.rfm_customer_serial, DESERIALFUNC = retail.rfm_customer_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.rfm_customer(text, timestamp, timestamp, numeric) IS
	'retail.rfm_customer of spans of a customer''s lines already summed, one invoice each (first and last time, sum of amounts): what the lines themselves give';

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
	'Segment of a score cell under a preset of retail.segment_rules (first matching rule); a cell no rule covers is an error; a NULL score gives NULL, a NULL recency_days gives NULL when a rule bounding it decides; scores outside 1 .. 10 and a negative recency_days are errors';

CREATE FUNCTION retail.check_segment_preset(preset text, bins integer DEFAULT 5)
	RETURNS TABLE (r integer, f integer, m integer, recency_days_from integer, recency_days_to integer,
				   unreachable_segment text)
	AS 'MODULE_PATHNAME', 'ra_check_segment_preset' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.check_segment_preset(text, integer) IS
	'What a preset leaves out at a number of bins: score cells (and recency_days ranges; NULL to = no end) without a rule, then one row (cell columns NULL) per segment that no cell can reach; no rows for a preset that is complete and fully used at those bins';



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

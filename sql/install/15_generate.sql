
-- A deterministic, streaming generator of bronze-shaped order lines.  OR
-- REPLACE: this part is also run by the upgrade from 0.1.0, whose
-- retail.generate_transactions was the C function itself (the same
-- signature, so its privileges and dependants are kept).
CREATE OR REPLACE FUNCTION retail.generate_transactions_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_generate_transactions_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.generate_transactions_support(internal) IS
	'Planner support of retail.generate_transactions: the row estimate is its lines argument';

-- The generator itself, value-per-call: it streams wherever PostgreSQL calls
-- it value-per-call (a select list), but a function scan in FROM would
-- materialize all of its rows first.  Users call the wrapper below.
CREATE OR REPLACE FUNCTION retail.generate_transaction_rows(
	lines bigint, seed integer, customers bigint, products integer, dirty boolean)
RETURNS TABLE (invoice_no text, stock_code text, description text, quantity text,
			   invoice_date text, unit_price text, customer_id text, country text)
	AS 'MODULE_PATHNAME', 'ra_generate_transactions' LANGUAGE C IMMUTABLE PARALLEL SAFE
	SUPPORT retail.generate_transactions_support;
COMMENT ON FUNCTION retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean) IS
	'The C generator behind retail.generate_transactions (call that instead): value-per-call, so it streams in a select list; in FROM it would be materialized whole';

-- What users call.  A set-returning SQL function with a SQL-standard body is
-- inlined into a query that calls it in FROM (alone, also LATERAL): the
-- generator then runs in the select list of the inlined subquery
-- (ProjectSet, one row per call) and LIMIT stops it.  In a select list the
-- function runs lazily, one row per call, and streams as well.  It has no SET
-- search_path on purpose: that would stop the inlining, and the body's names
-- are bound when it is created.
CREATE OR REPLACE FUNCTION retail.generate_transactions(
	lines bigint,
	seed integer DEFAULT 42,
	customers bigint DEFAULT NULL,
	products integer DEFAULT 4000,
	dirty boolean DEFAULT true)
RETURNS TABLE (invoice_no text, stock_code text, description text, quantity text,
			   invoice_date text, unit_price text, customer_id text, country text)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SUPPORT retail.generate_transactions_support
BEGIN ATOMIC
	SELECT (g.r).invoice_no, (g.r).stock_code, (g.r).description, (g.r).quantity,
		   (g.r).invoice_date, (g.r).unit_price, (g.r).customer_id, (g.r).country
	FROM (SELECT retail.generate_transaction_rows(lines, seed, customers, products, dirty) AS r) g;
END;
COMMENT ON FUNCTION retail.generate_transactions(bigint, integer, bigint, integer, boolean) IS
	'Stream lines synthetic order lines shaped like bronze.transactions_raw (UCI Online Retail text, 2010-12-01 .. 2011-12-09), the same rows for the same arguments; customers defaults to lines/125, dirty = false leaves out every line silver would reject.  Streams (LIMIT stops it) in a select list and alone in FROM; WITH ORDINALITY or ROWS FROM(...) make PostgreSQL materialize all its rows first';

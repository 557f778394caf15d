
-- Silver rule 1 bounds clean values (prices below 10^15 in steps of
-- 0.000001, dates 1900 .. 2099) and customer_id takes a point with any number
-- of zeros: the C parsers changed; their comments say so.
COMMENT ON FUNCTION retail.try_customer_id(text) IS
	'Non-negative integer within the 64-bit range, optionally followed by a point and one or more zeros ("17850.00" is 17850), else NULL';
COMMENT ON FUNCTION retail.try_numeric(text) IS
	'Unit price as silver rule 1 accepts it, else NULL: a plain decimal (optional sign, digits, at most one point, no exponent) of absolute value below 10^15 and a whole multiple of 0.000001, with at most 6 decimals kept (1.5000000 is 1.500000); the bound is applied here, not only in retail.rule_reason, so that the typed unit_price of silver never holds a value a mart cannot compute on';
COMMENT ON FUNCTION retail.try_timestamp(text) IS
	'Real date and time written YYYY-MM-DD HH:MI[:SS] (T allowed, one-digit hour allowed) or M/D/YYYY H:MI, within 1900-01-01 00:00 .. 2099-12-31 23:59:59 (silver rule 1), else NULL';

-- The generator streams in FROM: the C function gets its own name and
-- retail.generate_transactions becomes an inlinable SQL function around it
-- (same signature, so OR REPLACE keeps its privileges and dependants).
CREATE FUNCTION retail.generate_transaction_rows(
	lines bigint, seed integer, customers bigint, products integer, dirty boolean)
RETURNS TABLE (invoice_no text, stock_code text, description text, quantity text,
			   invoice_date text, unit_price text, customer_id text, country text)
	AS 'MODULE_PATHNAME', 'ra_generate_transactions' LANGUAGE C IMMUTABLE PARALLEL SAFE
	SUPPORT retail.generate_transactions_support;
COMMENT ON FUNCTION retail.generate_transaction_rows(bigint, integer, bigint, integer, boolean) IS
	'The C generator behind retail.generate_transactions (call that instead): value-per-call, so it streams in a select list; in FROM it would be materialized whole';

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

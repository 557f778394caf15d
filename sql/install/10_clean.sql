
-- Parsers from bronze text to typed values: NULL instead of an error.
CREATE FUNCTION retail.try_int4(text) RETURNS integer
	AS 'MODULE_PATHNAME', 'ra_try_int4' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_int4(text) IS
	'Integer within the 32-bit range (optional sign, digits, surrounding spaces ignored), else NULL';

CREATE FUNCTION retail.try_customer_id(text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ra_try_customer_id' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_customer_id(text) IS
	'Non-negative integer within the 64-bit range, optionally followed by a point and one or more zeros ("17850.00" is 17850), else NULL';

CREATE FUNCTION retail.try_numeric(text) RETURNS numeric
	AS 'MODULE_PATHNAME', 'ra_try_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_numeric(text) IS
	'Unit price as silver rule 1 accepts it, else NULL: a plain decimal (optional sign, digits, at most one point, no exponent) of absolute value below 10^15 and a whole multiple of 0.000001, with at most 6 decimals kept (1.5000000 is 1.500000); the bound is applied here, not only in retail.rule_reason, so that the typed unit_price of silver never holds a value a mart cannot compute on';

CREATE FUNCTION retail.try_timestamp(text) RETURNS timestamp
	AS 'MODULE_PATHNAME', 'ra_try_timestamp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.try_timestamp(text) IS
	'Real date and time written YYYY-MM-DD HH:MI[:SS] (T allowed, one-digit hour allowed) or M/D/YYYY H:MI, within 1900-01-01 00:00 .. 2099-12-31 23:59:59 (silver rule 1), else NULL';

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

CREATE FUNCTION retail.is_non_product(stock_code text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'ra_is_non_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.is_non_product(text) IS
	'Whether a stock code is one of silver rule 6''s non-product codes (POST, DOT, ..., GIFT_*), spaces and case ignored';

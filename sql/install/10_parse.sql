
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

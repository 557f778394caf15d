
-- Silver rule 1 bounds clean values (prices below 10^15 in steps of
-- 0.000001, dates 1900 .. 2099) and customer_id takes a point with any number
-- of zeros: the C parsers changed; their comments say so.
COMMENT ON FUNCTION retail.try_customer_id(text) IS
	'Non-negative integer within the 64-bit range, optionally followed by a point and one or more zeros ("17850.00" is 17850), else NULL';
COMMENT ON FUNCTION retail.try_numeric(text) IS
	'Unit price as silver rule 1 accepts it, else NULL: a plain decimal (optional sign, digits, at most one point, no exponent) of absolute value below 10^15 and a whole multiple of 0.000001, with at most 6 decimals kept (1.5000000 is 1.500000); the bound is applied here, not only in retail.rule_reason, so that the typed unit_price of silver never holds a value a mart cannot compute on';
COMMENT ON FUNCTION retail.try_timestamp(text) IS
	'Real date and time written YYYY-MM-DD HH:MI[:SS] (T allowed, one-digit hour allowed) or M/D/YYYY H:MI, within 1900-01-01 00:00 .. 2099-12-31 23:59:59 (silver rule 1), else NULL';

-- The lenient parsers behind silver: a value in an accepted form, else NULL,
-- and never an error.

-- Integers: optional sign, 32-bit range, surrounding spaces ignored.
SELECT v, retail.try_int4(v)
FROM unnest(ARRAY['42', '+5', '-7', ' 12 ', '0', '-0', '2147483647', '2147483648',
				  '-2147483648', '-2147483649', '99999999999999999999', '1e3', '1.0',
				  '', ' ', '+', '-', '1 2', '0x10', '５']) AS v;

-- Customer ids: non-negative 64-bit integer, optional trailing ".0".
SELECT v, retail.try_customer_id(v)
FROM unnest(ARRAY['17850', '17850.0', ' 17850.0 ', '17850.00', '17850.', '17850.5',
				  '-1', '+1', '0', '9223372036854775807', '9223372036854775808',
				  '', '.0', 'X123', '1e4']) AS v;

-- Decimals: optional sign, digits, at most one point, no exponent.
SELECT v, retail.try_numeric(v)
FROM unnest(ARRAY['2.55', '0.001', '-11062.06', '+3', '5.', '.5', '0', '-0.00',
				  '123456789012345678901234567890.123456789', '1e3', '1.2.3', '.',
				  '', '-', 'abc', '1,5', 'NaN', 'Infinity', ' 7.25 ']) AS v;
-- the length cap: 1000 characters parse, 1001 do not
SELECT retail.try_numeric(repeat('9', 1000)) = repeat('9', 1000)::numeric AS thousand_digits,
	   retail.try_numeric(repeat('9', 1001)) IS NULL AS longer_is_null;

-- Timestamps: ISO with space or T, one-digit hour, optional seconds; or M/D/YYYY H:MI.
SELECT v, retail.try_timestamp(v)
FROM unnest(ARRAY['2010-12-01 08:26', '2010-12-01T08:26', '2010-12-01 8:26',
				  '2010-12-01 08:26:59', ' 2011-12-09 12:50 ', '12/1/2010 8:26',
				  '1/15/2011 14:05', '02/29/2012 23:59', '2012-02-29 00:00',
				  '2011-02-29 10:00', '2011-02-31 10:00', '2011-04-31 10:00',
				  '2011-13-01 10:00', '2011-00-10 10:00', '2011-12-00 10:00',
				  '2011-12-09 24:00', '2011-12-09 23:60', '2011-12-09 23:59:60',
				  '2011-12-09', '2011-12-09 12', '2011-12-09 12:5', '2011-12-09 123:00',
				  '2011-12-09  12:00', '2011-12-09 12:00:00.5', '0000-01-01 00:00',
				  '1900-02-29 00:00', '2000-02-29 00:00', '13/1/2011 10:00',
				  '1/32/2011 10:00', '1/1/11 10:00', '1/1/2011 10:00:00',
				  '2011/12/09 10:00', 'yesterday', '', 'now']) AS v;

-- NULL in, NULL out (the functions are STRICT)
SELECT retail.try_int4(NULL), retail.try_numeric(NULL), retail.try_timestamp(NULL),
	   retail.try_customer_id(NULL);

-- Codes are trimmed and upper-cased.
SELECT v, retail.clean_code(v) FROM unnest(ARRAY[' 85123a ', 'c536379', 'gift_0001_20', '', '  ']) AS v;

-- Rules 1-6 directly: arguments are invoice_no, stock_code, quantity,
-- invoice_date, unit_price, customer_id, country.
SELECT retail.rule_reason('536365', '85123A', '6', '2010-12-01 08:26', '2.55', '17850', 'UK') AS clean,
	   retail.rule_reason(NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS all_null,
	   retail.rule_reason('536365', '85123A', '6', '2010-12-01 08:26', '2.55', NULL, 'UK') AS no_customer,
	   retail.rule_reason('c1', '85123A', '6', '2010-12-01 08:26', '2.55', '1', 'UK') AS lower_c,
	   retail.rule_reason('1', '85123A', '-0', '2010-12-01 08:26', '2.55', '1', 'UK') AS minus_zero_qty,
	   retail.rule_reason('1', '85123A', '1', '2010-12-01 08:26', '-0.00', '1', 'UK') AS minus_zero_price,
	   retail.rule_reason('1', '85123A', '1', '2010-12-01 08:26', '0.001', '1', 'UK') AS tiny_price,
	   retail.rule_reason('1', ' bank charges ', '1', '2010-12-01 08:26', '1', '1', 'UK') AS bank_charges,
	   retail.rule_reason('1', 'GIFT_', '1', '2010-12-01 08:26', '1', '1', 'UK') AS gift_prefix,
	   retail.rule_reason('1', 'GIFT', '1', '2010-12-01 08:26', '1', '1', 'UK') AS gift_alone,
	   retail.rule_reason('1', 'POSTAGE', '1', '2010-12-01 08:26', '1', '1', 'UK') AS postage_word;

-- Fingerprints ignore surrounding spaces and equate NULL with ''; field
-- boundaries matter.
SELECT retail.line_fingerprint('a', 'b', NULL, '1', 'd', 'p', 'c', 'x')
		   = retail.line_fingerprint(' a', 'b ', '', '1', 'd', 'p', 'c', 'x') AS trimmed_equal,
	   retail.line_fingerprint('ab', '', '', '', '', '', '', '')
		   = retail.line_fingerprint('a', 'b', '', '', '', '', '', '') AS boundary_equal;

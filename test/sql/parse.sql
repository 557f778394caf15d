-- The lenient parsers behind silver: a value in an accepted form, else NULL,
-- and never an error.

-- Integers: optional sign, 32-bit range, surrounding spaces ignored.
SELECT v, retail.try_int4(v)
FROM unnest(ARRAY['42', '+5', '-7', ' 12 ', '0', '-0', '2147483647', '2147483648',
				  '-2147483648', '-2147483649', '99999999999999999999', '1e3', '1.0',
				  '', ' ', '+', '-', '1 2', '0x10', '５']) AS v;

-- Customer ids: non-negative 64-bit integer, optionally followed by a point
-- and one or more zeros (spreadsheet exports: 17850.0, 17850.00, 17850.000 are
-- 17850); a bare point, other decimals or a space inside are malformed.
SELECT v, retail.try_customer_id(v)
FROM unnest(ARRAY['17850', '17850.0', ' 17850.0 ', '17850.00', '17850.000', '17850.', '17850.5',
				  '17850.01', '17850.0 0', '17850 .0', '17850.0.0', '-1', '-1.0', '+1', '0', '0.00',
				  '00017850', '9223372036854775807', '9223372036854775807.00',
				  '9223372036854775808', '9223372036854775808.0', '', '.0', 'X123', '1e4']) AS v;

-- Unit prices: optional sign, digits, at most one point, no exponent; below
-- 10^15 in absolute value and a whole multiple of 0.000001 (rule 1), else
-- NULL.  At most 6 decimals are kept (the rest are zeros), so 1.5000000 is
-- 1.500000; leading zeros go.
SELECT v, retail.try_numeric(v)
FROM unnest(ARRAY['2.55', '0.001', '-11062.06', '+3', '5.', '.5', '0', '-0.00',
				  '123456789012345678901234567890.123456789', '1e3', '1.2.3', '.',
				  '', '-', 'abc', '1,5', 'NaN', 'Infinity', ' 7.25 ',
				  -- the bounds, worked out by hand
				  '999999999999999.999999',		-- largest clean: 15 nines . 6 nines
				  '-999999999999999.999999',	-- its negative (rule 5 rejects it later)
				  '1000000000000000',			-- 10^15: not below the bound
				  '-1000000000000000',
				  '999999999999999.9999999',	-- a 7th decimal that is not 0
				  '0999999999999999.9999990',	-- leading and trailing zeros: clean
				  '1.5000000',					-- 7 decimals, the 7th is 0: 1.500000
				  '0.000001',					-- the step
				  '0.0000001',					-- a tenth of the step
				  '0.0000010',
				  '-0', '+.5', '-.5']) AS v;
-- any length of zeros, none of other digits past the bounds
SELECT retail.try_numeric(repeat('9', 310)) IS NULL AS digits_310_null,
	   retail.try_numeric(repeat('9', 16)) IS NULL AS digits_16_null,
	   retail.try_numeric(repeat('9', 15)) = 999999999999999 AS digits_15,
	   retail.try_numeric('0.' || repeat('0', 400) || '1') IS NULL AS tiny_400_zeros_null,
	   retail.try_numeric('0.' || repeat('0', 5) || '1' || repeat('0', 20000)) = 0.000001 AS step_then_zeros,
	   retail.try_numeric(repeat('0', 20000) || '7.25') = 7.25 AS leading_zeros,
	   scale(retail.try_numeric('1.' || repeat('0', 20000))) AS scale_of_many_zeros;	-- 6

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
				  '2011/12/09 10:00', 'yesterday', '', 'now',
				  -- rule 1: within 1900-01-01 00:00 .. 2099-12-31 23:59:59
				  '1900-01-01 00:00', '1899-12-31 23:59:59', '2099-12-31 23:59:59',
				  '2100-01-01 00:00', '1/1/1900 0:00', '12/31/2099 23:59', '12/31/1899 23:59',
				  '0001-01-01 00:00', '0045-06-30 12:00', '9999-12-31 23:59']) AS v;

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
-- the bounds of rule 1 make a line malformed before anything else
SELECT retail.rule_reason('1', 'A', '1', '2010-12-01 08:26', '999999999999999.999999', '1', 'UK') AS max_price,
	   retail.rule_reason('1', 'A', '1', '2010-12-01 08:26', '1000000000000000', '1', 'UK') AS price_1e15,
	   retail.rule_reason('1', 'A', '1', '2010-12-01 08:26', '0.0000001', '1', 'UK') AS price_below_step,
	   retail.rule_reason('1', 'A', '1', '2010-12-01 08:26', '-1000000000000000', NULL, 'UK') AS neg_1e15_no_customer,
	   retail.rule_reason('1', 'A', '1', '1899-12-31 23:59', '1', '1', 'UK') AS before_1900,
	   retail.rule_reason('C1', 'A', '-1', '2100-01-01 00:00', '1', '1', 'UK') AS cancelled_after_2099,
	   retail.rule_reason('1', 'A', '1', '2099-12-31 23:59:59', '1', '1.000', 'UK') AS last_second_customer_zeros,
	   retail.rule_reason('1', 'A', '1', '2099-12-31 23:59:59', '1', '1.', 'UK') AS customer_bare_point;
-- identifiers of at most 100 characters (not bytes) once trimmed; a longer
-- one is malformed even where a later rule would also reject the line
SELECT retail.rule_reason(repeat('1', 100), 'A', '1', '2010-12-01 08:26', '1', '1', 'UK') AS invoice_100,
	   retail.rule_reason(repeat('1', 101), 'A', '1', '2010-12-01 08:26', '1', '1', 'UK') AS invoice_101,
	   retail.rule_reason('C' || repeat('1', 100), 'A', '1', '2010-12-01 08:26', '1', NULL, 'UK') AS cancelled_101,
	   retail.rule_reason('1', '  ' || repeat('é', 100) || '  ', '1', '2010-12-01 08:26', '1', '1', 'UK') AS code_100_multibyte,
	   retail.rule_reason('1', repeat('é', 101), '1', '2010-12-01 08:26', '1', '1', 'UK') AS code_101_multibyte,
	   retail.rule_reason('1', 'A', '1', '2010-12-01 08:26', '1', '1', repeat('ab', 50)) AS country_100,
	   retail.rule_reason('1', 'A', '1', '2010-12-01 08:26', '1', '1', repeat('ab', 50) || 'a') AS country_101;

-- Fingerprints ignore surrounding spaces and equate NULL with ''; field
-- boundaries matter.
SELECT retail.line_fingerprint('a', 'b', NULL, '1', 'd', 'p', 'c', 'x')
		   = retail.line_fingerprint(' a', 'b ', '', '1', 'd', 'p', 'c', 'x') AS trimmed_equal,
	   retail.line_fingerprint('ab', '', '', '', '', '', '', '')
		   = retail.line_fingerprint('a', 'b', '', '', '', '', '', '') AS boundary_equal;

-- retail.is_non_product: rule 6's codes, spaces and case ignored; a prefix
-- GIFT_ only with its underscore; NULL in, NULL out; a code of any length or
-- any letters is just not one of them.
SELECT code, retail.is_non_product(code) AS non_product
FROM (VALUES (' post '), ('Bank Charges'), ('gift_0001_20'), ('GIFT'), ('POSTAGE'), ('M'), ('MM'),
			 ('85123A'), (''), (NULL), (repeat('x', 100000)), ('ÄMAZONFEE'), ('amazonfee')) t(code)
WHERE code IS NULL OR length(code) < 100
UNION ALL
SELECT 'x * 100000', retail.is_non_product(repeat('x', 100000));

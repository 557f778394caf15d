/*
 * clean.c
 *		What the silver layer needs to classify bronze rows: parsers that turn
 *		text into typed values without ever raising, and a fingerprint of a
 *		raw row for finding duplicates.
 *
 * The silver layer must classify every raw row, so a value that does not
 * parse yields NULL (the row is then quarantined as 'malformed') instead of
 * an error that would abort the whole refresh.  PostgreSQL 15 has no soft
 * input errors, hence these hand-written strict parsers.  Each one ignores
 * leading and trailing spaces, as the SQL trim() applied to the other
 * columns does, and accepts only the forms named in spec/metrics.md.
 */
#include "retail_analytics.h"

#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "catalog/pg_collation.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/numeric.h"

/*
 * Bounds of rule 1 on clean values, so that every mart can compute on every
 * clean line and every index and state of silver can hold it: invoice numbers,
 * stock codes and countries of at most 100 characters, unit prices below
 * 10^15 in steps of 10^-6, order times in the years 1900 to 2099.
 */
#define IDENTIFIER_MAX_CHARS 100
#define PRICE_MAX_INTEGER_DIGITS 15
#define PRICE_MAX_DECIMALS	6
/* sign, integer digits, point, decimals, terminator */
#define PRICE_TEXT_SIZE		(PRICE_MAX_INTEGER_DIGITS + PRICE_MAX_DECIMALS + 3)
#define MIN_YEAR			1900
#define MAX_YEAR			2099

/* The value between leading and trailing spaces */
typedef struct TrimmedText
{
	const char *start;
	const char *end;			/* one past the last character */
} TrimmedText;

static TrimmedText
trim_spaces(text *value)
{
	TrimmedText result;

	result.start = VARDATA_ANY(value);
	result.end = result.start + VARSIZE_ANY_EXHDR(value);
	while (result.start < result.end && *result.start == ' ')
		result.start++;
	while (result.end > result.start && result.end[-1] == ' ')
		result.end--;
	return result;
}

/*
 * Read an unsigned run of 1..max_digits ASCII digits at *pos, advancing *pos.
 * Returns false (leaving *pos alone) when fewer than min_digits are there.
 */
static bool
read_digits(const char **pos, const char *end, int min_digits, int max_digits,
			int *value)
{
	const char *p = *pos;
	int			result = 0;

	while (p < end && p - *pos < max_digits && *p >= '0' && *p <= '9')
		result = result * 10 + (*p++ - '0');
	if (p - *pos < min_digits)
		return false;
	*pos = p;
	*value = result;
	return true;
}

/* Consume the expected character at *pos */
static bool
read_char(const char **pos, const char *end, char expected)
{
	if (*pos >= end || **pos != expected)
		return false;
	(*pos)++;
	return true;
}

/*
 * Accumulate a run of digits at *pos into an unsigned 64-bit value no larger
 * than limit, advancing *pos.  Returns the number of digits read, or -1 when
 * the value would exceed limit.
 */
static int
read_uint64(const char **pos, const char *end, uint64 limit, uint64 *value)
{
	const char *p = *pos;
	uint64		result = 0;
	int			count;

	while (p < end && *p >= '0' && *p <= '9')
	{
		int			digit = *p++ - '0';

		if (result > (limit - digit) / 10)
			return -1;
		result = result * 10 + digit;
	}
	*value = result;
	count = (int) (p - *pos);
	*pos = p;
	return count;
}

/* An integer within the 32-bit range: optional sign, then digits */
static bool
parse_int4(TrimmedText t, int32 *result)
{
	const char *p = t.start;
	bool		negative = false;
	uint64		magnitude;

	if (p < t.end && (*p == '+' || *p == '-'))
		negative = (*p++ == '-');
	if (read_uint64(&p, t.end, (uint64) PG_INT32_MAX + 1, &magnitude) <= 0 ||
		p != t.end || (!negative && magnitude > PG_INT32_MAX))
		return false;
	*result = negative ? (int32) (-(int64) magnitude) : (int32) magnitude;
	return true;
}

/*
 * A customer number: a non-negative integer within the 64-bit range,
 * optionally followed by a point and one or more zeros as spreadsheet exports
 * write it ("17850.0", "17850.00").
 */
static bool
parse_customer_id(TrimmedText t, int64 *result)
{
	const char *p = t.start;
	uint64		value;

	if (read_uint64(&p, t.end, PG_INT64_MAX, &value) <= 0)
		return false;
	if (p < t.end && *p == '.')
	{
		const char *zeros = ++p;

		while (p < t.end && *p == '0')
			p++;
		if (p == zeros)
			return false;
	}
	if (p != t.end)
		return false;
	*result = (int64) value;
	return true;
}

/*
 * A unit price: a plain decimal (optional sign, digits with at most one
 * decimal point, at least one digit, no exponent) of absolute value below
 * 10^15 and a whole multiple of 10^-6.  Writes the value to out as numeric_in
 * reads it, leading zeros and the (zero) decimals past the sixth left out, so
 * that no input length reaches numeric's limits.  Tells whether the value is
 * above zero.
 */
static bool
parse_price(TrimmedText t, char out[PRICE_TEXT_SIZE], bool *positive)
{
	const char *p = t.start;
	char	   *o = out;
	bool		nonzero = false;
	int			digits = 0;
	int			integer_digits = 0;
	int			decimals = 0;

	if (p < t.end && (*p == '+' || *p == '-'))
	{
		if (*p == '-')
			*o++ = '-';
		p++;
	}
	for (; p < t.end && *p >= '0' && *p <= '9'; p++)
	{
		digits++;
		if (*p == '0' && integer_digits == 0)
			continue;
		if (++integer_digits > PRICE_MAX_INTEGER_DIGITS)
			return false;
		nonzero = true;
		*o++ = *p;
	}
	if (integer_digits == 0)
		*o++ = '0';
	if (p < t.end && *p == '.')
	{
		*o++ = '.';
		for (p++; p < t.end && *p >= '0' && *p <= '9'; p++)
		{
			digits++;
			if (decimals < PRICE_MAX_DECIMALS)
			{
				decimals++;
				nonzero |= (*p != '0');
				*o++ = *p;
			}
			else if (*p != '0')
				return false;
		}
	}
	if (p != t.end || digits == 0)
		return false;
	*o = '\0';
	*positive = nonzero && out[0] != '-';
	return true;
}

/*
 * An order timestamp in one of the two accepted forms:
 *	 YYYY-MM-DD HH:MI[:SS]	(a 'T' may replace the space, the hour may have
 *							 one digit)
 *	 M/D/YYYY H:MI			(the UCI spreadsheet export; one or two digits
 *							 for month, day and hour)
 * The date and time must exist (no 30 February, no hour 24) and lie in the
 * years MIN_YEAR to MAX_YEAR.
 */
static bool
parse_timestamp(TrimmedText t, Timestamp *result)
{
	const char *p = t.start;
	int			year,
				month,
				day,
				hour,
				minute,
				second = 0;

	if (read_digits(&p, t.end, 4, 4, &year) && read_char(&p, t.end, '-'))
	{
		if (!read_digits(&p, t.end, 2, 2, &month) ||
			!read_char(&p, t.end, '-') ||
			!read_digits(&p, t.end, 2, 2, &day) ||
			!(read_char(&p, t.end, ' ') || read_char(&p, t.end, 'T')) ||
			!read_digits(&p, t.end, 1, 2, &hour) ||
			!read_char(&p, t.end, ':') ||
			!read_digits(&p, t.end, 2, 2, &minute))
			return false;
		if (p < t.end &&
			(!read_char(&p, t.end, ':') ||
			 !read_digits(&p, t.end, 2, 2, &second)))
			return false;
	}
	else
	{
		p = t.start;
		if (!read_digits(&p, t.end, 1, 2, &month) ||
			!read_char(&p, t.end, '/') ||
			!read_digits(&p, t.end, 1, 2, &day) ||
			!read_char(&p, t.end, '/') ||
			!read_digits(&p, t.end, 4, 4, &year) ||
			!read_char(&p, t.end, ' ') ||
			!read_digits(&p, t.end, 1, 2, &hour) ||
			!read_char(&p, t.end, ':') ||
			!read_digits(&p, t.end, 2, 2, &minute))
			return false;
	}
	if (p != t.end)
		return false;

	if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1 ||
		day > day_tab[isleap(year)][month - 1] ||
		hour > 23 || minute > 59 || second > 59)
		return false;

	*result = (Timestamp) (date2j(year, month, day) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY +
		((hour * MINS_PER_HOUR + minute) * SECS_PER_MINUTE + second) * USECS_PER_SEC;
	return true;
}

/* Integer within the 32-bit range, else NULL */
PG_FUNCTION_INFO_V1(ra_try_int4);
Datum
ra_try_int4(PG_FUNCTION_ARGS)
{
	int32		result;

	if (!parse_int4(trim_spaces(PG_GETARG_TEXT_PP(0)), &result))
		PG_RETURN_NULL();
	PG_RETURN_INT32(result);
}

/* Customer number, else NULL */
PG_FUNCTION_INFO_V1(ra_try_customer_id);
Datum
ra_try_customer_id(PG_FUNCTION_ARGS)
{
	int64		result;

	if (!parse_customer_id(trim_spaces(PG_GETARG_TEXT_PP(0)), &result))
		PG_RETURN_NULL();
	PG_RETURN_INT64(result);
}

/*
 * Unit price within the bounds of rule 1, else NULL: the typed price of
 * silver never holds a value that rule 1 rejects.
 */
PG_FUNCTION_INFO_V1(ra_try_numeric);
Datum
ra_try_numeric(PG_FUNCTION_ARGS)
{
	char		price[PRICE_TEXT_SIZE];
	bool		positive;

	if (!parse_price(trim_spaces(PG_GETARG_TEXT_PP(0)), price, &positive))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in,
										CStringGetDatum(price),
										ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1)));
}

/* Order timestamp in an accepted form, else NULL */
PG_FUNCTION_INFO_V1(ra_try_timestamp);
Datum
ra_try_timestamp(PG_FUNCTION_ARGS)
{
	Timestamp	result;

	if (!parse_timestamp(trim_spaces(PG_GETARG_TEXT_PP(0)), &result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMP(result);
}

/* An invoice number, stock code or country: not empty, at most 100 characters */
static bool
is_identifier(TrimmedText t)
{
	int			len = (int) (t.end - t.start);

	/* a character takes at least one byte: count them only when it matters */
	return len > 0 &&
		(len <= IDENTIFIER_MAX_CHARS ||
		 pg_mbstrlen_with_len(t.start, len) <= IDENTIFIER_MAX_CHARS);
}

/* The trimmed value of argument n, empty for NULL */
static TrimmedText
trimmed_arg(FunctionCallInfo fcinfo, int n)
{
	TrimmedText empty = {"", ""};

	return PG_ARGISNULL(n) ? empty : trim_spaces(PG_GETARG_TEXT_PP(n));
}

/* upper(stock_code) is a code that is not a product: postage, fees, ... */
static bool
is_non_product_code(TrimmedText t)
{
	static const char *const codes[] = {
		"POST", "DOT", "M", "D", "C2", "CRUK", "PADS", "B", "S",
		"AMAZONFEE", "BANK CHARGES"
	};
	int			len = (int) (t.end - t.start);
	char		buffer[16];
	char	   *upper = buffer;
	bool		ascii = len < (int) sizeof(buffer);
	bool		result = false;

	for (int i = 0; i < len && ascii; i++)
		ascii = !IS_HIGHBIT_SET(t.start[i]);
	if (ascii)
	{
		for (int i = 0; i < len; i++)
			buffer[i] = pg_ascii_toupper((unsigned char) t.start[i]);
		buffer[len] = '\0';
	}
	else
	{
		/* upper() is locale-aware: some non-ASCII letters become ASCII ones */
		upper = str_toupper(t.start, len, DEFAULT_COLLATION_OID);
	}

	for (int i = 0; i < lengthof(codes) && !result; i++)
		result = (strcmp(upper, codes[i]) == 0);
	if (!result)
		result = (strncmp(upper, "GIFT_", 5) == 0);
	if (upper != buffer)
		pfree(upper);
	return result;
}

/*
 * The first of cleaning rules 1-6 of spec/metrics.md that a raw line breaks,
 * or NULL.  Rule 7 (duplicate) needs the other lines and is left to SQL.
 * Arguments: invoice_no, stock_code, quantity, invoice_date, unit_price,
 * customer_id, country, as loaded into bronze.
 */
PG_FUNCTION_INFO_V1(ra_rule_reason);
Datum
ra_rule_reason(PG_FUNCTION_ARGS)
{
	TrimmedText invoice_no = trimmed_arg(fcinfo, 0);
	TrimmedText stock_code = trimmed_arg(fcinfo, 1);
	TrimmedText country = trimmed_arg(fcinfo, 6);
	TrimmedText customer = trimmed_arg(fcinfo, 5);
	int32		quantity;
	char		price[PRICE_TEXT_SIZE];
	bool		price_positive;
	Timestamp	invoice_ts;
	int64		customer_id;
	const char *reason = NULL;

	if (!is_identifier(invoice_no) || !is_identifier(stock_code) || !is_identifier(country) ||
		!parse_int4(trimmed_arg(fcinfo, 2), &quantity) ||
		!parse_price(trimmed_arg(fcinfo, 4), price, &price_positive) ||
		!parse_timestamp(trimmed_arg(fcinfo, 3), &invoice_ts) ||
		(customer.start != customer.end && !parse_customer_id(customer, &customer_id)))
		reason = "malformed";
	else if (customer.start == customer.end)
		reason = "missing_customer";
	else if (*invoice_no.start == 'C' || *invoice_no.start == 'c')
		reason = "cancellation";
	else if (quantity <= 0)
		reason = "non_positive_quantity";
	else if (!price_positive)
		reason = "non_positive_price";
	else if (is_non_product_code(stock_code))
		reason = "non_product";

	if (reason == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(reason));
}

/*
 * Hash of a raw order line's eight fields, each trimmed of spaces, NULL and
 * '' alike.  Equal lines have equal fingerprints, so silver sorts and
 * compares the fields themselves only among lines sharing a fingerprint.
 */
PG_FUNCTION_INFO_V1(ra_line_fingerprint);
Datum
ra_line_fingerprint(PG_FUNCTION_ARGS)
{
	uint64		result = 0;

	for (int i = 0; i < PG_NARGS(); i++)
	{
		TrimmedText t = trimmed_arg(fcinfo, i);

		result = hash_combine64(result,
								hash_bytes_extended((const unsigned char *) t.start,
													(int) (t.end - t.start), i));
	}
	PG_RETURN_INT64((int64) result);
}

/*
 * upper(btrim(code)) for invoice numbers and stock codes: ASCII codes, all
 * the real ones, are upper-cased without a trip through the locale.
 */
PG_FUNCTION_INFO_V1(ra_clean_code);
Datum
ra_clean_code(PG_FUNCTION_ARGS)
{
	TrimmedText t = trim_spaces(PG_GETARG_TEXT_PP(0));
	int			len = (int) (t.end - t.start);
	text	   *result = (text *) palloc(VARHDRSZ + len);
	char	   *out = VARDATA(result);

	for (int i = 0; i < len; i++)
	{
		if (IS_HIGHBIT_SET(t.start[i]))
		{
			char	   *upper = str_toupper(t.start, len, DEFAULT_COLLATION_OID);

			pfree(result);
			PG_RETURN_TEXT_P(cstring_to_text(upper));
		}
		out[i] = pg_ascii_toupper((unsigned char) t.start[i]);
	}
	SET_VARSIZE(result, VARHDRSZ + len);
	PG_RETURN_TEXT_P(result);
}

/*
 * Whether a stock code is one of rule 6's non-product codes: a cancellation
 * of one cancels no product units (spec/metrics.md, "Cancellations").
 */
PG_FUNCTION_INFO_V1(ra_is_non_product);
Datum
ra_is_non_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_non_product_code(trim_spaces(PG_GETARG_TEXT_PP(0))));
}

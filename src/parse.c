/*
 * parse.c
 *		Parsers that turn bronze text into typed values without ever raising.
 *
 * The silver layer must classify every raw row, so a value that does not
 * parse yields NULL (the row is then quarantined as 'malformed') instead of
 * an error that would abort the whole refresh.  PostgreSQL 15 has no soft
 * input errors, hence these hand-written strict parsers.  Each one ignores
 * leading and trailing spaces, as the SQL trim() applied to the other
 * columns does, and accepts only the forms named in spec/metrics.md.
 */
#include "retail_analytics.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"

/* Longest decimal accepted; numeric itself would fail past its own limits */
#define MAX_DECIMAL_LENGTH 1000

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

/* Parse an integer within the 32-bit range: optional sign, then digits */
PG_FUNCTION_INFO_V1(ra_try_int4);
Datum
ra_try_int4(PG_FUNCTION_ARGS)
{
	TrimmedText t = trim_spaces(PG_GETARG_TEXT_PP(0));
	const char *p = t.start;
	bool		negative = false;
	uint64		magnitude;

	if (p < t.end && (*p == '+' || *p == '-'))
		negative = (*p++ == '-');
	if (read_uint64(&p, t.end, (uint64) PG_INT32_MAX + 1, &magnitude) <= 0 ||
		p != t.end)
		PG_RETURN_NULL();
	if (!negative && magnitude > PG_INT32_MAX)
		PG_RETURN_NULL();
	PG_RETURN_INT32(negative ? (int32) (-(int64) magnitude) : (int32) magnitude);
}

/*
 * Parse a customer number: a non-negative integer within the 64-bit range,
 * optionally followed by ".0" as spreadsheet exports write it.
 */
PG_FUNCTION_INFO_V1(ra_try_customer_id);
Datum
ra_try_customer_id(PG_FUNCTION_ARGS)
{
	TrimmedText t = trim_spaces(PG_GETARG_TEXT_PP(0));
	const char *p = t.start;
	uint64		value;

	if (read_uint64(&p, t.end, PG_INT64_MAX, &value) <= 0)
		PG_RETURN_NULL();
	if (t.end - p == 2 && p[0] == '.' && p[1] == '0')
		p += 2;
	if (p != t.end)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) value);
}

/*
 * Parse a plain decimal: optional sign, digits with at most one decimal
 * point, at least one digit, no exponent.
 */
PG_FUNCTION_INFO_V1(ra_try_numeric);
Datum
ra_try_numeric(PG_FUNCTION_ARGS)
{
	TrimmedText t = trim_spaces(PG_GETARG_TEXT_PP(0));
	const char *p = t.start;
	int			digits = 0;
	bool		seen_point = false;
	char	   *cstring;

	if (t.end - t.start > MAX_DECIMAL_LENGTH)
		PG_RETURN_NULL();
	if (p < t.end && (*p == '+' || *p == '-'))
		p++;
	for (; p < t.end; p++)
	{
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !seen_point)
			seen_point = true;
		else
			PG_RETURN_NULL();
	}
	if (digits == 0)
		PG_RETURN_NULL();

	/* The text is now known to be acceptable to numeric_in */
	cstring = pnstrdup(t.start, t.end - t.start);
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(cstring),
										ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1)));
}

/*
 * Parse an order timestamp in one of the two accepted forms:
 *	 YYYY-MM-DD HH:MI[:SS]	(a 'T' may replace the space, the hour may have
 *							 one digit)
 *	 M/D/YYYY H:MI			(the UCI spreadsheet export; one or two digits
 *							 for month, day and hour)
 * The date and time must exist: no 30 February, no hour 24.
 */
PG_FUNCTION_INFO_V1(ra_try_timestamp);
Datum
ra_try_timestamp(PG_FUNCTION_ARGS)
{
	TrimmedText t = trim_spaces(PG_GETARG_TEXT_PP(0));
	const char *p = t.start;
	int			year,
				month,
				day,
				hour,
				minute,
				second = 0;
	Timestamp	result;

	if (read_digits(&p, t.end, 4, 4, &year) && read_char(&p, t.end, '-'))
	{
		if (!read_digits(&p, t.end, 2, 2, &month) ||
			!read_char(&p, t.end, '-') ||
			!read_digits(&p, t.end, 2, 2, &day) ||
			!(read_char(&p, t.end, ' ') || read_char(&p, t.end, 'T')) ||
			!read_digits(&p, t.end, 1, 2, &hour) ||
			!read_char(&p, t.end, ':') ||
			!read_digits(&p, t.end, 2, 2, &minute))
			PG_RETURN_NULL();
		if (p < t.end &&
			(!read_char(&p, t.end, ':') ||
			 !read_digits(&p, t.end, 2, 2, &second)))
			PG_RETURN_NULL();
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
			PG_RETURN_NULL();
	}
	if (p != t.end)
		PG_RETURN_NULL();

	if (year < 1 || month < 1 || month > 12 || day < 1 ||
		day > day_tab[isleap(year)][month - 1] ||
		hour > 23 || minute > 59 || second > 59)
		PG_RETURN_NULL();

	result = (Timestamp) (date2j(year, month, day) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY +
		((hour * MINS_PER_HOUR + minute) * SECS_PER_MINUTE + second) * USECS_PER_SEC;
	PG_RETURN_TIMESTAMP(result);
}

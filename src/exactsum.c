/*
 * exactsum.c
 *		Exact sums of numeric values without an allocation per value.
 *
 * A sum is held as a 128-bit integer scaled by 10^dscale while the values
 * allow (ordinary money amounts always do), and as a numeric once a value is
 * NaN, infinite, has more than EXACT_SUM_MAX_DSCALE decimals or the integer
 * would overflow.  Either way the result equals sum(numeric), display scale
 * included.  Used by the RFM and cohort aggregates for revenue.
 */
#include "retail_analytics.h"

#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"

#define I128_MAX ((int128) (((uint128) 1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)

/*
 * On-disk numeric header (numeric.c): the two high bits of the first 16-bit
 * word say long positive (00), long negative (01), short (10) or special
 * (11, NaN and infinities).  A short header packs sign, display scale and
 * weight in that word; a long one keeps the scale there and the weight in a
 * second word.  Base-10000 digits follow.  The layout is part of the on-disk
 * format, which pg_upgrade keeps stable.
 */
#define NUMHDR_FLAG_MASK	0xC000
#define NUMHDR_LONG_NEG		0x4000
#define NUMHDR_SHORT		0x8000
#define NUMHDR_SPECIAL		0xC000
#define NUMHDR_SHORT_NEG	0x2000
#define NUMHDR_SHORT_DSCALE_MASK 0x1F80
#define NUMHDR_SHORT_DSCALE_SHIFT 7
#define NUMHDR_SHORT_WEIGHT_SIGN 0x0040
#define NUMHDR_SHORT_WEIGHT_MASK 0x003F
#define NUMHDR_DSCALE_MASK	0x3FFF
#define NUM_NBASE			10000
#define NUM_DEC_DIGITS		4

/* Powers of ten and the largest magnitude each can multiply safely */
static int128 pow10_i128[EXACT_SUM_MAX_DSCALE + 1];
static int128 pow10_limit[EXACT_SUM_MAX_DSCALE + 1];
static bool pow10_ready = false;

static void
init_pow10(void)
{
	int			i;

	pow10_i128[0] = 1;
	for (i = 1; i <= EXACT_SUM_MAX_DSCALE; i++)
		pow10_i128[i] = pow10_i128[i - 1] * 10;
	for (i = 0; i <= EXACT_SUM_MAX_DSCALE; i++)
		pow10_limit[i] = I128_MAX / pow10_i128[i];
	pow10_ready = true;
}

/* value * 10^k, false on overflow */
static inline bool
mul_pow10(int128 *value, int k)
{
	if (k == 0)
		return true;
	if (unlikely(!pow10_ready))
		init_pow10();
	if (k > EXACT_SUM_MAX_DSCALE ||
		*value > pow10_limit[k] || *value < -pow10_limit[k])
		return false;
	*value *= pow10_i128[k];
	return true;
}

/* a + b, false on overflow */
static inline bool
add_i128(int128 *a, int128 b)
{
	if ((b > 0 && *a > I128_MAX - b) || (b < 0 && *a < I128_MIN - b))
		return false;
	*a += b;
	return true;
}

/*
 * Decode a numeric datum into value * 10^dscale without allocating.  Returns
 * false for NaN, infinities and values beyond 128 bits or EXACT_SUM_MAX_DSCALE.
 */
static bool
numeric_to_scaled(Datum datum, int128 *result, int *result_dscale)
{
	struct varlena *packed = PG_DETOAST_DATUM_PACKED(datum);
	const char *p = VARDATA_ANY(packed);
	int			len = VARSIZE_ANY_EXHDR(packed);
	uint16		header;
	int16		weight;
	int			dscale;
	bool		negative;
	int			ndigits;
	int			exponent;
	int128		acc = 0;
	int			i;

	if (len < (int) sizeof(uint16))
		return false;
	memcpy(&header, p, sizeof(uint16));
	switch (header & NUMHDR_FLAG_MASK)
	{
		case NUMHDR_SPECIAL:
			return false;
		case NUMHDR_SHORT:
			negative = (header & NUMHDR_SHORT_NEG) != 0;
			dscale = (header & NUMHDR_SHORT_DSCALE_MASK) >> NUMHDR_SHORT_DSCALE_SHIFT;
			weight = (int16) ((header & NUMHDR_SHORT_WEIGHT_SIGN ?
							   ~NUMHDR_SHORT_WEIGHT_MASK : 0) |
							  (header & NUMHDR_SHORT_WEIGHT_MASK));
			p += sizeof(uint16);
			len -= sizeof(uint16);
			break;
		default:
			if (len < (int) (sizeof(uint16) + sizeof(int16)))
				return false;
			negative = (header & NUMHDR_FLAG_MASK) == NUMHDR_LONG_NEG;
			dscale = header & NUMHDR_DSCALE_MASK;
			memcpy(&weight, p + sizeof(uint16), sizeof(int16));
			p += sizeof(uint16) + sizeof(int16);
			len -= sizeof(uint16) + sizeof(int16);
			break;
	}
	ndigits = len / (int) sizeof(int16);
	if (dscale > EXACT_SUM_MAX_DSCALE || ndigits > 9)
		return false;
	if (ndigits == 0)
	{
		*result = 0;
		*result_dscale = dscale;
		return true;
	}

	/*
	 * The digits read as one integer acc stand for value * 10^-e with e = 4 *
	 * (ndigits - 1 - weight), so value * 10^dscale = acc * 10^(dscale - e).
	 * A negative exponent only drops the zeros that pad the last digit beyond
	 * dscale (at most 3); take them off that digit before it enters acc.
	 */
	exponent = dscale - NUM_DEC_DIGITS * (ndigits - 1 - weight);
	for (i = 0; i < ndigits; i++)
	{
		int16		digit;

		memcpy(&digit, p + i * sizeof(int16), sizeof(int16));
		if (digit < 0 || digit >= NUM_NBASE)
			return false;
		if (i < ndigits - 1 || exponent >= 0)
			acc = acc * NUM_NBASE + digit;
		else
		{
			int			drop = -exponent;
			int			divisor;

			if (drop > NUM_DEC_DIGITS - 1)
				return false;
			divisor = drop == 1 ? 10 : drop == 2 ? 100 : 1000;
			if (digit % divisor != 0)
				return false;
			acc = acc * (NUM_NBASE / divisor) + digit / divisor;
		}
	}
	if (exponent > 0 && !mul_pow10(&acc, exponent))
		return false;
	*result = negative ? -acc : acc;
	*result_dscale = dscale;
	return true;
}

/* The numeric equal to value / 10^dscale, in the current memory context */
static Numeric
scaled_to_numeric(int128 value, int dscale)
{
	char		digits[48];
	char		text[64];
	char	   *out = text;
	uint128		magnitude = value < 0 ? -(uint128) value : (uint128) value;
	int			n = 0;

	do
	{
		digits[n++] = '0' + (int) (magnitude % 10);
		magnitude /= 10;
	} while (magnitude > 0);
	while (n <= dscale)
		digits[n++] = '0';
	if (value < 0)
		*out++ = '-';
	while (n-- > 0)
	{
		*out++ = digits[n];
		if (n == dscale && dscale > 0)
			*out++ = '.';
	}
	*out = '\0';
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/* An empty sum: 0 */
void
exact_sum_init(ExactSum *sum)
{
	sum->value.scaled = 0;
	sum->dscale = 0;
}

/* Turn a scaled sum into a numeric one, allocated in context */
static void
exact_sum_make_numeric(ExactSum *sum, MemoryContext context)
{
	MemoryContext old;

	if (sum->dscale == EXACT_SUM_NUMERIC)
		return;
	old = MemoryContextSwitchTo(context);
	sum->value.num = scaled_to_numeric(sum->value.scaled, sum->dscale);
	MemoryContextSwitchTo(old);
	sum->dscale = EXACT_SUM_NUMERIC;
}

/* sum += addend with numeric arithmetic; the result lives in context */
static void
exact_sum_add_numeric(ExactSum *sum, Numeric addend, MemoryContext context)
{
	MemoryContext old;
	Numeric		result;

	exact_sum_make_numeric(sum, context);
	old = MemoryContextSwitchTo(context);
	result = numeric_add_opt_error(sum->value.num, addend, NULL);
	MemoryContextSwitchTo(old);
	pfree(sum->value.num);
	sum->value.num = result;
}

/* sum += value / 10^dscale, falling back to numeric on overflow */
static void
exact_sum_add_scaled(ExactSum *sum, int128 value, int dscale, MemoryContext context)
{
	if (sum->dscale != EXACT_SUM_NUMERIC)
	{
		int128		total = sum->value.scaled;
		int128		addend = value;
		int			scale = sum->dscale;

		/* Bring both to the larger scale; value stays as given for the fallback */
		if (dscale > scale ? mul_pow10(&total, dscale - scale) :
			mul_pow10(&addend, scale - dscale))
		{
			scale = Max(scale, dscale);
			if (add_i128(&total, addend))
			{
				sum->value.scaled = total;
				sum->dscale = scale;
				return;
			}
		}
	}
	{
		Numeric		addend = scaled_to_numeric(value, dscale);

		exact_sum_add_numeric(sum, addend, context);
		pfree(addend);
	}
}

/* sum += other */
void
exact_sum_add_sum(ExactSum *sum, const ExactSum *other, MemoryContext context)
{
	if (other->dscale == EXACT_SUM_NUMERIC)
		exact_sum_add_numeric(sum, other->value.num, context);
	else
		exact_sum_add_scaled(sum, other->value.scaled, other->dscale, context);
}

/* sum += a numeric argument */
void
exact_sum_add_datum(ExactSum *sum, Datum datum, MemoryContext context)
{
	int128		value;
	int			dscale;

	if (numeric_to_scaled(datum, &value, &dscale))
		exact_sum_add_scaled(sum, value, dscale, context);
	else
		exact_sum_add_numeric(sum, DatumGetNumeric(datum), context);
}

/* A copy of source whose numeric, if any, lives in context */
void
exact_sum_copy(ExactSum *target, const ExactSum *source, MemoryContext context)
{
	*target = *source;
	if (source->dscale == EXACT_SUM_NUMERIC)
	{
		MemoryContext old = MemoryContextSwitchTo(context);

		target->value.num = DatumGetNumeric(datumCopy(NumericGetDatum(source->value.num),
													  false, -1));
		MemoryContextSwitchTo(old);
	}
}

/*
 * The sum as a new numeric in the current memory context, never the state's
 * own: a caller may free it, and a final function may run again on the same
 * state (window aggregates).
 */
Numeric
exact_sum_result(const ExactSum *sum)
{
	if (sum->dscale == EXACT_SUM_NUMERIC)
		return DatumGetNumericCopy(NumericGetDatum(sum->value.num));
	return scaled_to_numeric(sum->value.scaled, sum->dscale);
}


/* Write a sum: its dscale, then the numeric or the 128-bit integer */
void
exact_sum_send(StringInfo buf, const ExactSum *sum)
{
	pq_sendint16(buf, sum->dscale);
	if (sum->dscale == EXACT_SUM_NUMERIC)
		state_send_numeric(buf, sum->value.num);
	else
	{
		pq_sendint64(buf, (int64) (sum->value.scaled >> 64));
		pq_sendint64(buf, (int64) (uint64) sum->value.scaled);
	}
}

/* Read what exact_sum_send wrote; a numeric lands in the current context */
void
exact_sum_recv(StringInfo buf, ExactSum *sum, const char *state_name)
{
	state_need_bytes(buf, sizeof(int16), state_name);
	sum->dscale = (int16) pq_getmsgint(buf, sizeof(int16));
	if (sum->dscale == EXACT_SUM_NUMERIC)
		sum->value.num = state_recv_numeric(buf, state_name);
	else if (sum->dscale >= 0 && sum->dscale <= EXACT_SUM_MAX_DSCALE)
	{
		uint64		high;
		uint64		low;

		state_need_bytes(buf, 2 * sizeof(int64), state_name);
		high = (uint64) pq_getmsgint64(buf);
		low = (uint64) pq_getmsgint64(buf);
		sum->value.scaled = (int128) (((uint128) high << 64) | low);
	}
	else
		state_corrupt(state_name, "Display scale %d is out of range.", sum->dscale);
}

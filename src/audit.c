/*
 * audit.c
 *		Exact median and median absolute deviation, the robust centre behind
 *		the order-anomaly audit (modified z-scores).
 *
 * retail.median_mad(float8) keeps every input value.  Its final function
 * copies them, finds the median by selection (linear time on average, with a
 * sort as the fallback against bad pivots), replaces the copy by the absolute
 * deviations from the median and selects again for the MAD.  For an even
 * count the median is lo + (hi - lo) * 0.5 of the two middle values, the
 * formula of percentile_cont(0.5), so both agree to the last bit.
 */
#include "retail_analytics.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

/* Format version word at the head of a serialized state */
#define MEDIAN_MAD_STATE_VERSION 1

/* Header of a serialized state: version and count */
#define MEDIAN_MAD_HEADER_SIZE (4 + 8)

/* Most values a state holds in memory, and in a serialized bytea */
#define MEDIAN_MAD_MAX_VALUES ((int64) (MaxAllocHugeSize / sizeof(float8)))
#define MEDIAN_MAD_MAX_SERIAL_VALUES \
	((int64) ((MaxAllocSize - VARHDRSZ - MEDIAN_MAD_HEADER_SIZE) / sizeof(float8)))

/* State of median_mad: the values seen so far */
typedef struct MedianMadState
{
	int64		n;
	int64		capacity;
	float8	   *values;
} MedianMadState;

static MedianMadState *
median_mad_state_create(MemoryContext context, int64 capacity)
{
	MedianMadState *state = MemoryContextAlloc(context, sizeof(MedianMadState));

	state->n = 0;
	state->capacity = Max(capacity, 8);
	state->values = MemoryContextAllocHuge(context, state->capacity * sizeof(float8));
	return state;
}

/* Make room for extra more values */
static void
median_mad_reserve(MedianMadState *state, int64 extra)
{
	int64		needed = state->n + extra;
	int64		capacity = state->capacity;

	if (needed <= capacity)
		return;
	if (needed > MEDIAN_MAD_MAX_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("median_mad supports at most %lld values per group",
						(long long) MEDIAN_MAD_MAX_VALUES)));
	while (capacity < needed)
		capacity = Min(capacity * 2, MEDIAN_MAD_MAX_VALUES);
	state->values = repalloc_huge(state->values, capacity * sizeof(float8));
	state->capacity = capacity;
}

/*
 * Rearrange v[0..n-1] so that v[k] holds the value of rank k (0-based), no
 * greater value before it and no smaller one after it.
 */
static void
select_rank(float8 *v, int64 n, int64 k)
{
	int64		lo = 0;
	int64		hi = n - 1;
	int			budget = 16;

	/* about 2 log2(n) partitions are plenty unless the pivots are bad */
	for (int64 m = n; m > 1; m >>= 1)
		budget += 2;

	while (hi > lo)
	{
		int64		mid = lo + (hi - lo) / 2;
		int64		i = lo;
		int64		j = hi;
		float8		pivot;
		float8		tmp;

		CHECK_FOR_INTERRUPTS();
		if (budget-- == 0)
		{
			sort_float8s(v + lo, hi - lo + 1);
			return;
		}

		/* median of three as pivot */
		if (v[mid] < v[lo])
		{
			tmp = v[mid], v[mid] = v[lo], v[lo] = tmp;
		}
		if (v[hi] < v[lo])
		{
			tmp = v[hi], v[hi] = v[lo], v[lo] = tmp;
		}
		if (v[hi] < v[mid])
		{
			tmp = v[hi], v[hi] = v[mid], v[mid] = tmp;
		}
		pivot = v[mid];

		/* afterwards v[lo..j] <= pivot, v[i..hi] >= pivot, v[j+1..i-1] = pivot */
		while (i <= j)
		{
			CHECK_FOR_INTERRUPTS();
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
			{
				tmp = v[i], v[i] = v[j], v[j] = tmp;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* Median of v[0..n-1], n > 0; reorders v */
static float8
median_of(float8 *v, int64 n)
{
	int64		k = n / 2;
	float8		hi;
	float8		lo;

	select_rank(v, n, k);
	hi = v[k];
	if (n % 2 == 1)
		return hi;

	/* the lower middle value is the largest of those before rank k */
	lo = v[0];
	for (int64 i = 1; i < k; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (v[i] > lo)
			lo = v[i];
	}
	return lo + (hi - lo) * 0.5;
}

/* Collect one value for median_mad; NULLs are ignored */
PG_FUNCTION_INFO_V1(ra_median_mad_trans);
Datum
ra_median_mad_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MedianMadState *state;
	float8		value;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_median_mad_trans called in non-aggregate context");

	if (PG_ARGISNULL(0))
		state = median_mad_state_create(aggcontext, 8);
	else
		state = (MedianMadState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);

	value = PG_GETARG_FLOAT8(1);
	if (!isfinite(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("median_mad input must be finite, not %s",
						float8out_internal(value))));
	if (state->n == state->capacity)
		median_mad_reserve(state, 1);	/* repalloc stays in aggcontext */
	state->values[state->n++] = value;
	PG_RETURN_POINTER(state);
}

/* Merge two median_mad states */
PG_FUNCTION_INFO_V1(ra_median_mad_combine);
Datum
ra_median_mad_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MedianMadState *state1 = PG_ARGISNULL(0) ? NULL : (MedianMadState *) PG_GETARG_POINTER(0);
	MedianMadState *state2 = PG_ARGISNULL(1) ? NULL : (MedianMadState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_median_mad_combine called in non-aggregate context");

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}
	if (state1 == NULL)
		state1 = median_mad_state_create(aggcontext, state2->n);
	else
		median_mad_reserve(state1, state2->n);
	memcpy(state1->values + state1->n, state2->values, state2->n * sizeof(float8));
	state1->n += state2->n;
	PG_RETURN_POINTER(state1);
}

/* Serialize a median_mad state */
PG_FUNCTION_INFO_V1(ra_median_mad_serial);
Datum
ra_median_mad_serial(PG_FUNCTION_ARGS)
{
	MedianMadState *state = (MedianMadState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	if (state->n > MEDIAN_MAD_MAX_SERIAL_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("median_mad state of %lld values is too large to pass between parallel processes",
						(long long) state->n),
				 errhint("Disable parallel query for this statement (max_parallel_workers_per_gather = 0).")));

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, MEDIAN_MAD_HEADER_SIZE + state->n * sizeof(float8));
	pq_sendint32(&buf, MEDIAN_MAD_STATE_VERSION);
	pq_sendint64(&buf, state->n);
	for (int64 i = 0; i < state->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendfloat8(&buf, state->values[i]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize a median_mad state, validating everything */
PG_FUNCTION_INFO_V1(ra_median_mad_deserial);
Datum
ra_median_mad_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	MedianMadState *state;
	int64		n;

	state_recv_begin(&buf, bytes, MEDIAN_MAD_STATE_VERSION, "median_mad");
	n = state_recv_int64(&buf, "median_mad");
	if (n < 0 || n > MEDIAN_MAD_MAX_SERIAL_VALUES
		|| n * (int64) sizeof(float8) != buf.len - buf.cursor)
		state_corrupt("median_mad", "Value count %lld does not match %d bytes.",
					  (long long) n, buf.len - buf.cursor);

	state = median_mad_state_create(CurrentMemoryContext, n);
	for (int64 i = 0; i < n; i++)
	{
		float8		value = pq_getmsgfloat8(&buf);

		CHECK_FOR_INTERRUPTS();
		if (!isfinite(value))
			state_corrupt("median_mad", "Value %s is not finite.", float8out_internal(value));
		state->values[i] = value;
	}
	state->n = n;
	state_recv_end(&buf, "median_mad");
	pfree(buf.data);
	PG_RETURN_POINTER(state);
}

/* Median and median absolute deviation of the collected values */
PG_FUNCTION_INFO_V1(ra_median_mad_final);
Datum
ra_median_mad_final(PG_FUNCTION_ARGS)
{
	MedianMadState *state;
	TupleDesc	tupdesc;
	float8	   *work;
	float8		median;
	float8		mad;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MedianMadState *) PG_GETARG_POINTER(0);
	if (state->n == 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ra_median_mad_final must return a composite type");

	/* select in a copy: the state may be finalized again */
	work = palloc_extended(state->n * sizeof(float8), MCXT_ALLOC_HUGE);
	memcpy(work, state->values, state->n * sizeof(float8));
	median = median_of(work, state->n);
	for (int64 i = 0; i < state->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		work[i] = fabs(work[i] - median);
	}
	mad = median_of(work, state->n);
	pfree(work);

	values[0] = Float8GetDatum(median);
	values[1] = Float8GetDatum(mad);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

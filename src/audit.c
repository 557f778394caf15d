/*
 * audit.c
 *		Exact median and median absolute deviation, the robust centre behind
 *		the order-anomaly audit (modified z-scores).
 *
 * retail.median_mad(float8) keeps every input value; its weighted form
 * retail.median_mad(float8, int8) keeps every value with its weight, the
 * number of times it occurs (one entry per input row, such as one per
 * distinct price with its count of lines, not one per occurrence).  Both
 * are one aggregate in C: a row of the unweighted form is a value of weight
 * 1, and the state carries no weights until a weight other than 1 arrives.
 * The final function copies the entries, finds the median by weighted
 * selection (linear time on average, with a sort as the fallback against bad
 * pivots), replaces the copied values by their absolute deviations from the
 * median and selects again for the MAD.  For an even total weight the median
 * is lo + (hi - lo) * 0.5 of the two middle values, the formula of
 * percentile_cont(0.5), so both agree to the last bit, and a weighted state
 * gives what the unweighted one gives on its rows repeated weight times.
 */
#include "retail_analytics.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/int.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

/*
 * Format versions of a serialized state: 1, the values only (every weight
 * 1); 2, the values, then their weights.  After the version: the count.
 */
#define MEDIAN_MAD_STATE_VALUES 1
#define MEDIAN_MAD_STATE_WEIGHTED 2

/* Header of a serialized state: version and count */
#define MEDIAN_MAD_HEADER_SIZE (4 + 8)

/* Most entries a state holds in memory, and in a serialized bytea */
#define MEDIAN_MAD_MAX_VALUES ((int64) (MaxAllocHugeSize / sizeof(float8)))
#define MEDIAN_MAD_MAX_SERIAL(entry_size) \
	((int64) ((MaxAllocSize - VARHDRSZ - MEDIAN_MAD_HEADER_SIZE) / (entry_size)))

/* Weight of entry i: 1 for every entry of an unweighted state */
#define ENTRY_WEIGHT(weights, i) ((weights) != NULL ? (weights)[i] : 1)

/*
 * State of median_mad: the values seen so far, each with its weight (> 0),
 * and the sum of the weights.
 */
typedef struct MedianMadState
{
	MemoryContext context;		/* where the arrays live */
	int64		n;				/* entries */
	int64		capacity;
	int64		total;			/* sum of the weights */
	float8	   *values;
	int64	   *weights;		/* NULL while every weight is 1 */
} MedianMadState;

/* A value and its weight, for the fallback sort of a weighted selection */
typedef struct WeightedValue
{
	float8		value;
	int64		weight;
} WeightedValue;

/* Callers pass no NaN, which the comparison would not order */
#define ST_SORT sort_weighted_values
#define ST_ELEMENT_TYPE WeightedValue
#define ST_COMPARE(a, b) (((a)->value > (b)->value) - ((a)->value < (b)->value))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

static MedianMadState *
median_mad_state_create(MemoryContext context, int64 capacity, bool weighted)
{
	MedianMadState *state = MemoryContextAlloc(context, sizeof(MedianMadState));

	state->context = context;
	state->n = 0;
	state->total = 0;
	state->capacity = Max(capacity, 8);
	state->values = MemoryContextAllocHuge(context, state->capacity * sizeof(float8));
	state->weights = NULL;
	if (weighted)
		state->weights = MemoryContextAllocHuge(context, state->capacity * sizeof(int64));
	return state;
}

/* Give an unweighted state its weights: 1 for every entry so far */
static void
median_mad_add_weights(MedianMadState *state)
{
	if (state->weights != NULL)
		return;
	state->weights = MemoryContextAllocHuge(state->context, state->capacity * sizeof(int64));
	for (int64 i = 0; i < state->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		state->weights[i] = 1;
	}
}

/* Make room for extra more entries */
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
	if (state->weights != NULL)
		state->weights = repalloc_huge(state->weights, capacity * sizeof(int64));
	state->capacity = capacity;
}

/* Add weight to the state's total, which must stay within int64 */
static void
median_mad_count(MedianMadState *state, int64 weight)
{
	if (pg_add_s64_overflow(state->total, weight, &state->total))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("median_mad total weight out of range"),
				 errdetail("The weights of a group must add up to at most %lld.",
						   (long long) PG_INT64_MAX)));
}

/* Append a value that occurs weight (> 0) times */
static void
median_mad_add(MedianMadState *state, float8 value, int64 weight)
{
	median_mad_count(state, weight);
	if (weight != 1)
		median_mad_add_weights(state);
	if (state->n == state->capacity)
		median_mad_reserve(state, 1);	/* repalloc stays in the state's context */
	state->values[state->n] = value;
	if (state->weights != NULL)
		state->weights[state->n] = weight;
	state->n++;
}

static inline void
swap_entries(float8 *v, int64 *w, int64 i, int64 j)
{
	float8		value = v[i];

	v[i] = v[j];
	v[j] = value;
	if (w != NULL)
	{
		int64		weight = w[i];

		w[i] = w[j];
		w[j] = weight;
	}
}

/*
 * The value of weighted rank k (0-based; 0 <= k < the sum of the weights) of
 * the entries v[0..n-1] with weights w (NULL: all 1): the value whose run of
 * occurrences, in ascending order, covers position k.  Reorders the entries
 * so that v[0..*below-1] are exactly those smaller than it, and sets
 * *below_weight to their weight.
 */
static float8
select_weighted_rank(float8 *v, int64 *w, int64 n, int64 k, int64 *below, int64 *below_weight)
{
	int64		lo = 0;
	int64		hi = n - 1;
	int64		base = 0;		/* weight of v[0..lo-1], all below v[lo..hi] */
	int			budget = 16;

	/* about 2 log2(n) partitions are plenty unless the pivots are bad */
	for (int64 m = n; m > 1; m >>= 1)
		budget += 2;

	for (;;)
	{
		int64		mid = lo + (hi - lo) / 2;
		int64		lt = lo;
		int64		i = lo;
		int64		gt = hi;
		int64		weight_lt = 0;
		int64		weight_eq = 0;
		float8		a = v[lo];
		float8		b = v[mid];
		float8		c = v[hi];
		float8		pivot;

		CHECK_FOR_INTERRUPTS();
		if (budget-- == 0)
			break;

		/* median of three as pivot */
		pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));

		/* afterwards v[lo..lt-1] < pivot, v[lt..gt] = pivot, v[gt+1..hi] > pivot */
		while (i <= gt)
		{
			CHECK_FOR_INTERRUPTS();
			if (v[i] < pivot)
			{
				weight_lt += ENTRY_WEIGHT(w, i);
				swap_entries(v, w, lt++, i++);
			}
			else if (v[i] > pivot)
				swap_entries(v, w, i, gt--);
			else
			{
				weight_eq += ENTRY_WEIGHT(w, i);
				i++;
			}
		}
		if (k < weight_lt)
			hi = lt - 1;
		else if (k < weight_lt + weight_eq)
		{
			*below = lt;
			*below_weight = base + weight_lt;
			return pivot;
		}
		else
		{
			k -= weight_lt + weight_eq;
			base += weight_lt + weight_eq;
			lo = gt + 1;
		}
	}

	/* bad pivots: sort v[lo..hi] and walk up to rank k */
	if (w == NULL)
		sort_float8s(v + lo, hi - lo + 1);
	else
	{
		WeightedValue *pairs = palloc_extended((hi - lo + 1) * sizeof(WeightedValue), MCXT_ALLOC_HUGE);

		for (int64 j = lo; j <= hi; j++)
		{
			CHECK_FOR_INTERRUPTS();
			pairs[j - lo].value = v[j];
			pairs[j - lo].weight = w[j];
		}
		sort_weighted_values(pairs, hi - lo + 1);
		for (int64 j = lo; j <= hi; j++)
		{
			CHECK_FOR_INTERRUPTS();
			v[j] = pairs[j - lo].value;
			w[j] = pairs[j - lo].weight;
		}
		pfree(pairs);
	}
	for (int64 j = lo;; j++)
	{
		CHECK_FOR_INTERRUPTS();
		if (k < ENTRY_WEIGHT(w, j))
		{
			/* the run of this value starts at first */
			int64		first = j;

			while (first > lo && v[first - 1] == v[j])
			{
				first--;
				base -= ENTRY_WEIGHT(w, first);
			}
			*below = first;
			*below_weight = base;
			return v[j];
		}
		k -= ENTRY_WEIGHT(w, j);
		base += ENTRY_WEIGHT(w, j);
	}
}

/*
 * Median of the entries v[0..n-1] with weights w (NULL: all 1) adding up to
 * total > 0; reorders them.  An even total takes lo + (hi - lo) * 0.5 of the
 * values of ranks total / 2 - 1 and total / 2.
 */
static float8
weighted_median(float8 *v, int64 *w, int64 n, int64 total)
{
	int64		k = total / 2;
	int64		below;
	int64		below_weight;
	float8		hi;
	float8		lo;

	hi = select_weighted_rank(v, w, n, k, &below, &below_weight);
	if (total % 2 == 1)
		return hi;

	/*
	 * The lower middle value: hi again when its run covers rank k - 1, else
	 * the largest of the values below hi.
	 */
	lo = hi;
	if (below_weight >= k)
	{
		lo = v[0];
		for (int64 i = 1; i < below; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (v[i] > lo)
				lo = v[i];
		}
	}
	return lo + (hi - lo) * 0.5;
}

/*
 * Collect one value for median_mad: median_mad(value) and, with its weight,
 * median_mad(value, weight).  A NULL value is skipped (whatever its weight);
 * a weight of 0 adds nothing.
 */
PG_FUNCTION_INFO_V1(ra_median_mad_trans);
Datum
ra_median_mad_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MedianMadState *state;
	float8		value;
	int64		weight = 1;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_median_mad_trans called in non-aggregate context");

	if (PG_ARGISNULL(0))
		state = median_mad_state_create(aggcontext, 8, false);
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
	if (PG_NARGS() > 2)
		weight = state_weight_arg(fcinfo, 2, "median_mad");
	if (weight > 0)
		median_mad_add(state, value, weight);
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
		state1 = median_mad_state_create(aggcontext, state2->n, state2->weights != NULL);
	else
	{
		median_mad_reserve(state1, state2->n);
		if (state2->weights != NULL)
			median_mad_add_weights(state1);
	}
	median_mad_count(state1, state2->total);
	memcpy(state1->values + state1->n, state2->values, state2->n * sizeof(float8));
	if (state1->weights != NULL)
	{
		for (int64 i = 0; i < state2->n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			state1->weights[state1->n + i] = ENTRY_WEIGHT(state2->weights, i);
		}
	}
	state1->n += state2->n;
	PG_RETURN_POINTER(state1);
}

/* Serialize a median_mad state: format 1 without weights, 2 with them */
PG_FUNCTION_INFO_V1(ra_median_mad_serial);
Datum
ra_median_mad_serial(PG_FUNCTION_ARGS)
{
	MedianMadState *state = (MedianMadState *) PG_GETARG_POINTER(0);
	bool		weighted = state->weights != NULL;
	int			entry_size = weighted ? sizeof(float8) + sizeof(int64) : sizeof(float8);
	StringInfoData buf;

	if (state->n > MEDIAN_MAD_MAX_SERIAL(entry_size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("median_mad state of %lld values is too large to pass between parallel processes",
						(long long) state->n),
				 errhint("Disable parallel query for this statement (max_parallel_workers_per_gather = 0).")));

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, MEDIAN_MAD_HEADER_SIZE + state->n * entry_size);
	pq_sendint32(&buf, weighted ? MEDIAN_MAD_STATE_WEIGHTED : MEDIAN_MAD_STATE_VALUES);
	pq_sendint64(&buf, state->n);
	for (int64 i = 0; i < state->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendfloat8(&buf, state->values[i]);
	}
	for (int64 i = 0; weighted && i < state->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendint64(&buf, state->weights[i]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize a median_mad state, validating everything */
PG_FUNCTION_INFO_V1(ra_median_mad_deserial);
Datum
ra_median_mad_deserial(PG_FUNCTION_ARGS)
{
	const char *what = "median_mad";
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	MedianMadState *state;
	bool		weighted;
	int			entry_size;
	int64		n;

	weighted = state_recv_begin_versions(&buf, bytes, MEDIAN_MAD_STATE_VALUES,
										 MEDIAN_MAD_STATE_WEIGHTED, what) == MEDIAN_MAD_STATE_WEIGHTED;
	entry_size = weighted ? sizeof(float8) + sizeof(int64) : sizeof(float8);
	n = state_recv_int64(&buf, what);
	if (n < 0 || n > MEDIAN_MAD_MAX_SERIAL(entry_size)
		|| n * entry_size != buf.len - buf.cursor)
		state_corrupt(what, "Value count %lld does not match %d bytes.",
					  (long long) n, buf.len - buf.cursor);

	state = median_mad_state_create(CurrentMemoryContext, n, weighted);
	for (int64 i = 0; i < n; i++)
	{
		float8		value = pq_getmsgfloat8(&buf);

		CHECK_FOR_INTERRUPTS();
		if (!isfinite(value))
			state_corrupt(what, "Value %s is not finite.", float8out_internal(value));
		state->values[i] = value;
	}
	for (int64 i = 0; i < n; i++)
	{
		int64		weight = weighted ? pq_getmsgint64(&buf) : 1;

		CHECK_FOR_INTERRUPTS();
		if (weight <= 0)
			state_corrupt(what, "Weight %lld is not positive.", (long long) weight);
		if (pg_add_s64_overflow(state->total, weight, &state->total))
			state_corrupt(what, "The weights add up to more than %lld.", (long long) PG_INT64_MAX);
		if (weighted)
			state->weights[i] = weight;
	}
	state->n = n;
	state_recv_end(&buf, what);
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
	int64	   *weights = NULL;
	float8		median;
	float8		mad;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MedianMadState *) PG_GETARG_POINTER(0);
	if (state->n == 0)
		PG_RETURN_NULL();
	/*
	 * Select in a copy: the state may be finalized again.  The weights move
	 * with their values, and then with their deviations.
	 */
	work = palloc_extended(state->n * sizeof(float8), MCXT_ALLOC_HUGE);
	memcpy(work, state->values, state->n * sizeof(float8));
	if (state->weights != NULL)
	{
		weights = palloc_extended(state->n * sizeof(int64), MCXT_ALLOC_HUGE);
		memcpy(weights, state->weights, state->n * sizeof(int64));
	}
	median = weighted_median(work, weights, state->n, state->total);
	for (int64 i = 0; i < state->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		work[i] = fabs(work[i] - median);
	}
	mad = weighted_median(work, weights, state->n, state->total);
	pfree(work);
	if (weights != NULL)
		pfree(weights);

	values[0] = Float8GetDatum(median);
	values[1] = Float8GetDatum(mad);
	tupdesc = cached_result_desc(fcinfo, (TupleDesc *) &fcinfo->flinfo->fn_extra);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

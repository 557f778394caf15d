/*
 * rfm_model.c
 *		retail.rfm_model(recency_days, frequency, monetary, bins), an
 *		aggregate over customers giving the cutpoints c_k = percentile_disc(k /
 *		bins) of each measure as a plain composite value, and
 *		retail.rfm_score(model, ...), which applies them with the contract's
 *		tie-consistent rule; retail.rfm_recency_days.
 */
#include "rfm.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

/* First word of a serialized state */
#define MODEL_STATE_VERSION 1

void
rfm_check_bins(int32 bins)
{
	if (bins < MIN_BINS || bins > MAX_BINS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be between %d and %d, not %d", MIN_BINS, MAX_BINS, bins)));
}

/*
 * retail.rfm_model: the values of each measure over all customers, and the
 * cutpoints computed from them.  Monetary values are copied into blocks
 * rather than allocated one by one.
 */
#define MODEL_STATE "rfm_model"
#define VALUE_BLOCK_SIZE 8192

typedef struct ModelState
{
	MemoryContext mcxt;
	int32		bins;
	int64		rows;
	int64		nrecency;
	int64		recency_size;
	int32	   *recency;
	int64		nfrequency;
	int64		frequency_size;
	int64	   *frequency;
	int64		nmonetary;
	int64		monetary_size;
	Numeric    *monetary;
	char	   *block;			/* space for monetary copies */
	Size		block_used;
	Size		block_size;
} ModelState;

/* Room for one more element in a growing array */
static void *
make_room(void *array, int64 count, int64 *size, Size element, MemoryContext mcxt)
{
	int64		new_size;

	if (count < *size)
		return array;
	new_size = Max(*size * 2, 64);
	if ((Size) new_size * element > MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers for rfm_model: %lld", (long long) count)));
	*size = new_size;
	if (array == NULL)
		return MemoryContextAllocHuge(mcxt, new_size * element);
	return repalloc_huge(array, new_size * element);
}

static ModelState *
model_state_create(int32 bins, MemoryContext mcxt)
{
	ModelState *state = MemoryContextAllocZero(mcxt, sizeof(ModelState));

	rfm_check_bins(bins);
	state->mcxt = mcxt;
	state->bins = bins;
	return state;
}

static void
model_add_recency(ModelState *state, int32 recency_days)
{
	if (recency_days < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency_days must not be negative: %d", recency_days)));
	state->recency = make_room(state->recency, state->nrecency, &state->recency_size,
							   sizeof(int32), state->mcxt);
	state->recency[state->nrecency++] = recency_days;
}

static void
model_add_frequency(ModelState *state, int64 frequency)
{
	if (frequency < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must not be negative: %lld", (long long) frequency)));
	state->frequency = make_room(state->frequency, state->nfrequency,
								 &state->frequency_size, sizeof(int64), state->mcxt);
	state->frequency[state->nfrequency++] = frequency;
}

static void
model_add_monetary(ModelState *state, Numeric monetary)
{
	Size		size = VARSIZE(monetary);
	Numeric		copy;

	if (state->block == NULL || state->block_used + size > state->block_size)
	{
		state->block_size = Max(VALUE_BLOCK_SIZE, size);
		state->block = MemoryContextAlloc(state->mcxt, state->block_size);
		state->block_used = 0;
	}
	copy = (Numeric) (state->block + state->block_used);
	memcpy(copy, monetary, size);
	state->block_used += MAXALIGN(size);
	state->monetary = make_room(state->monetary, state->nmonetary, &state->monetary_size,
								sizeof(Numeric), state->mcxt);
	state->monetary[state->nmonetary++] = copy;
}

static void
check_same_bins(int32 bins, int32 other)
{
	if (bins != other)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be the same for every row of rfm_model, not %d and %d",
						bins, other)));
}

/* Collect one customer's measures */
PG_FUNCTION_INFO_V1(ra_rfm_model_trans);
Datum
ra_rfm_model_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	ModelState *state;
	int32		bins;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_rfm_model_trans called in non-aggregate context");
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bins must not be NULL")));
	bins = PG_GETARG_INT32(4);
	if (PG_ARGISNULL(0))
		state = model_state_create(bins, aggcontext);
	else
	{
		state = (ModelState *) PG_GETARG_POINTER(0);
		check_same_bins(state->bins, bins);
	}

	state->rows++;
	if (!PG_ARGISNULL(1))
		model_add_recency(state, PG_GETARG_INT32(1));
	if (!PG_ARGISNULL(2))
		model_add_frequency(state, PG_GETARG_INT64(2));
	if (!PG_ARGISNULL(3))
		model_add_monetary(state, PG_GETARG_NUMERIC(3));
	PG_RETURN_POINTER(state);
}

/* Merge two partial model states */
PG_FUNCTION_INFO_V1(ra_rfm_model_combine);
Datum
ra_rfm_model_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	ModelState *into = PG_ARGISNULL(0) ? NULL : (ModelState *) PG_GETARG_POINTER(0);
	ModelState *from = PG_ARGISNULL(1) ? NULL : (ModelState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_rfm_model_combine called in non-aggregate context");
	if (from == NULL)
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	if (into == NULL)
		into = model_state_create(from->bins, aggcontext);
	else
		check_same_bins(into->bins, from->bins);

	into->rows += from->rows;
	for (int64 i = 0; i < from->nrecency; i++)
	{
		CHECK_FOR_INTERRUPTS();
		model_add_recency(into, from->recency[i]);
	}
	for (int64 i = 0; i < from->nfrequency; i++)
	{
		CHECK_FOR_INTERRUPTS();
		model_add_frequency(into, from->frequency[i]);
	}
	for (int64 i = 0; i < from->nmonetary; i++)
	{
		CHECK_FOR_INTERRUPTS();
		model_add_monetary(into, from->monetary[i]);
	}
	PG_RETURN_POINTER(into);
}

/* Serialize a model state */
PG_FUNCTION_INFO_V1(ra_rfm_model_serial);
Datum
ra_rfm_model_serial(PG_FUNCTION_ARGS)
{
	ModelState *state = (ModelState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, MODEL_STATE_VERSION);
	pq_sendint32(&buf, state->bins);
	pq_sendint64(&buf, state->rows);
	pq_sendint64(&buf, state->nrecency);
	for (int64 i = 0; i < state->nrecency; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendint32(&buf, state->recency[i]);
	}
	pq_sendint64(&buf, state->nfrequency);
	for (int64 i = 0; i < state->nfrequency; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendint64(&buf, state->frequency[i]);
	}
	pq_sendint64(&buf, state->nmonetary);
	for (int64 i = 0; i < state->nmonetary; i++)
	{
		CHECK_FOR_INTERRUPTS();
		state_send_numeric(&buf, state->monetary[i]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* A value count that the remaining bytes can hold and the row count allows */
static int64
read_count(StringInfo buf, int64 rows, int element_size)
{
	int64		count = state_recv_int64(buf, MODEL_STATE);

	if (count < 0 || count > rows || count > (buf->len - buf->cursor) / element_size)
		state_corrupt(MODEL_STATE, "Bad value count.");
	return count;
}

/* Rebuild a model state from its serialized form, checking every field */
PG_FUNCTION_INFO_V1(ra_rfm_model_deserial);
Datum
ra_rfm_model_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *serialized = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	ModelState *state;
	int32		bins;
	int64		count;

	state_recv_begin(&buf, serialized, MODEL_STATE_VERSION, MODEL_STATE);
	bins = state_recv_int32(&buf, MODEL_STATE);
	if (bins < MIN_BINS || bins > MAX_BINS)
		state_corrupt(MODEL_STATE, "Bad bins.");
	state = model_state_create(bins, CurrentMemoryContext);
	state->rows = state_recv_int64(&buf, MODEL_STATE);
	if (state->rows < 0)
		state_corrupt(MODEL_STATE, "Bad row count.");
	count = read_count(&buf, state->rows, sizeof(int32));
	for (int64 i = 0; i < count; i++)
	{
		int32		recency_days = state_recv_int32(&buf, MODEL_STATE);

		CHECK_FOR_INTERRUPTS();
		if (recency_days < 0)
			state_corrupt(MODEL_STATE, "Negative recency_days.");
		model_add_recency(state, recency_days);
	}
	count = read_count(&buf, state->rows, sizeof(int64));
	for (int64 i = 0; i < count; i++)
	{
		int64		frequency = state_recv_int64(&buf, MODEL_STATE);

		CHECK_FOR_INTERRUPTS();
		if (frequency < 0)
			state_corrupt(MODEL_STATE, "Negative frequency.");
		model_add_frequency(state, frequency);
	}
	count = read_count(&buf, state->rows, sizeof(int32));
	for (int64 i = 0; i < count; i++)
	{
		CHECK_FOR_INTERRUPTS();
		model_add_monetary(state, state_recv_numeric(&buf, MODEL_STATE));
	}
	state_recv_end(&buf, MODEL_STATE);
	PG_RETURN_POINTER(state);
}

static int
compare_numeric(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

/* An interruptible sort of the monetary values (int32 and int64: aggstate.c) */
#define ST_SORT sort_numerics
#define ST_ELEMENT_TYPE Numeric
#define ST_COMPARE(a, b) compare_numeric(*(a), *(b))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* A sorted copy of the monetary values */
static Numeric *
sorted_monetary(Numeric *values, int64 n)
{
	Numeric    *sorted = palloc_extended(n * sizeof(Numeric), MCXT_ALLOC_HUGE);

	memcpy(sorted, values, n * sizeof(Numeric));
	sort_numerics(sorted, n);
	return sorted;
}

/*
 * The array of cutpoints c_1..c_{bins-1} of n sorted values: c_k is the
 * value at position ceil(k * n / bins) (from 1), which is
 * percentile_disc(k / bins), in exact integer arithmetic.
 */
static Datum
cutpoints(const void *sorted, int64 n, int bins, Size element, Oid element_type)
{
	Datum		cuts[MAX_BINS - 1];
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int k = 1; k < bins; k++)
	{
		const char *cut = (const char *) sorted + ((k * n + bins - 1) / bins - 1) * element;

		if (element_type == INT4OID)
			cuts[k - 1] = Int32GetDatum(*(const int32 *) cut);
		else if (element_type == INT8OID)
			cuts[k - 1] = Int64GetDatum(*(const int64 *) cut);
		else
			cuts[k - 1] = NumericGetDatum(*(Numeric const *) cut);
	}
	get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(cuts, bins - 1, element_type, typlen,
										   typbyval, typalign));
}

/* Cutpoints of the recency values, from a sorted copy */
static Datum
recency_cutpoints(const ModelState *state)
{
	Size		size = state->nrecency * sizeof(int32);
	int32	   *sorted = palloc_extended(size, MCXT_ALLOC_HUGE);

	memcpy(sorted, state->recency, size);
	sort_int32s(sorted, state->nrecency);
	return cutpoints(sorted, state->nrecency, state->bins, sizeof(int32), INT4OID);
}

/* Cutpoints of the frequency values, from a sorted copy */
static Datum
frequency_cutpoints(const ModelState *state)
{
	Size		size = state->nfrequency * sizeof(int64);
	int64	   *sorted = palloc_extended(size, MCXT_ALLOC_HUGE);

	memcpy(sorted, state->frequency, size);
	sort_int64s(sorted, state->nfrequency);
	return cutpoints(sorted, state->nfrequency, state->bins, sizeof(int64), INT8OID);
}

/* The model: bins, customers and the cutpoints of each measure */
PG_FUNCTION_INFO_V1(ra_rfm_model_final);
Datum
ra_rfm_model_final(PG_FUNCTION_ARGS)
{
	ModelState *state;
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ra_rfm_model_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (ModelState *) PG_GETARG_POINTER(0);
	desc = cached_result_desc(fcinfo, (TupleDesc *) &fcinfo->flinfo->fn_extra);

	values[0] = Int32GetDatum(state->bins);
	values[1] = Int64GetDatum(state->rows);
	if (state->nrecency > 0)
		values[2] = recency_cutpoints(state);
	else
		nulls[2] = true;
	if (state->nfrequency > 0)
		values[3] = frequency_cutpoints(state);
	else
		nulls[3] = true;
	if (state->nmonetary > 0)
		values[4] = cutpoints(sorted_monetary(state->monetary, state->nmonetary),
							  state->nmonetary, state->bins, sizeof(Numeric), NUMERICOID);
	else
		nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}


/*
 * retail.rfm_score: a model's cutpoints, checked and unpacked once per model
 * value and kept for the following calls.
 */
typedef struct ScoreCache
{
	TupleDesc	result;			/* retail.rfm_scores */
	MemoryContext model_mcxt;	/* holds what follows; reset per model */
	char	   *model;			/* the model value the cutpoints come from */
	uint32		model_len;
	int			ncuts;
	bool		has_recency;
	bool		has_frequency;
	bool		has_monetary;
	int32		recency[MAX_BINS - 1];
	int64		frequency[MAX_BINS - 1];
	Numeric		monetary[MAX_BINS - 1];
} ScoreCache;

/* The elements of one cutpoint array of a model, checked */
static Datum *
model_cuts(Datum array, Oid element_type, int ncuts, const char *name)
{
	ArrayType  *cuts = DatumGetArrayTypeP(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elements;
	bool	   *elemnulls;
	int			n;

	if (ARR_ELEMTYPE(cuts) != element_type)
		elog(ERROR, "unexpected element type of %s", name);
	get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
	deconstruct_array(cuts, element_type, typlen, typbyval, typalign,
					  &elements, &elemnulls, &n);
	if (ARR_NDIM(cuts) > 1 || n != ncuts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of an rfm_model must have %d elements, not %d", name, ncuts, n)));
	for (int i = 0; i < n; i++)
		if (elemnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of an rfm_model must not contain NULL", name)));
	return elements;
}

static void
check_ascending(bool ascending, const char *name)
{
	if (!ascending)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of an rfm_model must be in ascending order", name)));
}

/* Unpack and check a model value into the cache */
static void
score_cache_load(ScoreCache *cache, HeapTupleHeader model)
{
	uint32		len = HeapTupleHeaderGetDatumLength(model);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(model),
											  HeapTupleHeaderGetTypMod(model));
	HeapTupleData tuple;
	Datum		values[5];
	bool		nulls[5];
	MemoryContext oldcontext;

	if (desc->natts != 5)
		elog(ERROR, "unexpected rfm_model row type");
	tuple.t_len = len;
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = model;
	heap_deform_tuple(&tuple, desc, values, nulls);
	ReleaseTupleDesc(desc);

	MemoryContextReset(cache->model_mcxt);
	cache->model = NULL;
	if (nulls[0])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bins of an rfm_model must not be NULL")));
	rfm_check_bins(DatumGetInt32(values[0]));
	cache->ncuts = DatumGetInt32(values[0]) - 1;

	cache->has_recency = !nulls[2];
	if (cache->has_recency)
	{
		Datum	   *cuts = model_cuts(values[2], INT4OID, cache->ncuts, "recency_cuts");

		for (int i = 0; i < cache->ncuts; i++)
		{
			cache->recency[i] = DatumGetInt32(cuts[i]);
			check_ascending(i == 0 || cache->recency[i - 1] <= cache->recency[i],
							"recency_cuts");
		}
	}
	cache->has_frequency = !nulls[3];
	if (cache->has_frequency)
	{
		Datum	   *cuts = model_cuts(values[3], INT8OID, cache->ncuts, "frequency_cuts");

		for (int i = 0; i < cache->ncuts; i++)
		{
			cache->frequency[i] = DatumGetInt64(cuts[i]);
			check_ascending(i == 0 || cache->frequency[i - 1] <= cache->frequency[i],
							"frequency_cuts");
		}
	}
	cache->has_monetary = !nulls[4];
	oldcontext = MemoryContextSwitchTo(cache->model_mcxt);
	if (cache->has_monetary)
	{
		Datum	   *cuts = model_cuts(values[4], NUMERICOID, cache->ncuts, "monetary_cuts");

		for (int i = 0; i < cache->ncuts; i++)
		{
			cache->monetary[i] = DatumGetNumericCopy(cuts[i]);
			check_ascending(i == 0 ||
							compare_numeric(cache->monetary[i - 1], cache->monetary[i]) <= 0,
							"monetary_cuts");
		}
	}
	cache->model = palloc(len);
	memcpy(cache->model, model, len);
	cache->model_len = len;
	MemoryContextSwitchTo(oldcontext);
}

/* Scores (r, f, m) of one customer under a model */
PG_FUNCTION_INFO_V1(ra_rfm_score);
Datum
ra_rfm_score(PG_FUNCTION_ARGS)
{
	ScoreCache *cache = (ScoreCache *) fcinfo->flinfo->fn_extra;
	HeapTupleHeader model;
	uint32		len;
	Datum		values[3];
	bool		nulls[3] = {true, true, true};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache));
		cache->model_mcxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
												  "rfm_score model",
												  ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	model = PG_GETARG_HEAPTUPLEHEADER(0);
	len = HeapTupleHeaderGetDatumLength(model);
	if (cache->model == NULL || cache->model_len != len ||
		memcmp(cache->model, model, len) != 0)
		score_cache_load(cache, model);

	if (!PG_ARGISNULL(1) && cache->has_recency)
	{
		int32		recency_days = PG_GETARG_INT32(1);
		int32		r = 1;

		for (int k = 0; k < cache->ncuts; k++)
			r += recency_days < cache->recency[k];
		values[0] = Int32GetDatum(r);
		nulls[0] = false;
	}
	if (!PG_ARGISNULL(2) && cache->has_frequency)
	{
		int64		frequency = PG_GETARG_INT64(2);
		int32		f = 1;

		for (int k = 0; k < cache->ncuts; k++)
			f += frequency > cache->frequency[k];
		values[1] = Int32GetDatum(f);
		nulls[1] = false;
	}
	if (!PG_ARGISNULL(3) && cache->has_monetary)
	{
		Numeric		monetary = PG_GETARG_NUMERIC(3);
		int32		m = 1;

		for (int k = 0; k < cache->ncuts; k++)
			m += compare_numeric(monetary, cache->monetary[k]) > 0;
		values[2] = Int32GetDatum(m);
		nulls[2] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cached_result_desc(fcinfo, &cache->result),
													  values, nulls)));
}

/* Whole days from the date of the last purchase to as_of */
PG_FUNCTION_INFO_V1(ra_rfm_recency_days);
Datum
ra_rfm_recency_days(PG_FUNCTION_ARGS)
{
	Timestamp	last_purchase = PG_GETARG_TIMESTAMP(0);
	DateADT		as_of = PG_GETARG_DATEADT(1);
	DateADT		last_date;

	if (TIMESTAMP_NOT_FINITE(last_purchase))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("last purchase must be finite, not %s",
						DatumGetCString(DirectFunctionCall1(timestamp_out,
															TimestampGetDatum(last_purchase))))));
	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be finite, not %s",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(as_of))))));
	last_date = DatumGetDateADT(DirectFunctionCall1(timestamp_date,
													TimestampGetDatum(last_purchase)));
	if (as_of < last_date)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of %s is before a last purchase on %s",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(as_of))),
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(last_date)))),
				 errhint("Choose an as_of on or after the date of the latest purchase.")));
	PG_RETURN_INT32(as_of - last_date);
}

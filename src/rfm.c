/*
 * rfm.c
 *		RFM segmentation: per-customer reduction, population scoring and
 *		segment lookup (spec/metrics.md, "Gold: gold.mart_customer_segments").
 *
 * The blocks compose in plain SQL (doc/rfm.md shows how):
 *
 * - retail.rfm_customer(invoice_no, ts, amount), an aggregate over order
 *   lines used with GROUP BY customer: first and last purchase, number of
 *   distinct invoices, exact sum of the amounts.  Its state keeps the set of
 *   invoice numbers, so an invoice whose lines reach different parallel
 *   workers still counts once.
 * - retail.rfm_model(recency_days, frequency, monetary, bins), an aggregate
 *   over customers giving the cutpoints c_k = percentile_disc(k/bins) of
 *   each measure as a plain composite value, and retail.rfm_score(model, ...)
 *   which applies them with the spec's tie-consistent rule.
 * - retail.rfm_segment(preset, r, f, m, recency_days): the first rule of a
 *   preset of retail.segment_rules that matches, and
 *   retail.check_segment_preset() listing the cells a preset leaves unmatched.
 */
#include "retail_analytics.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
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

/* First word of every serialized state */
#define STATE_FORMAT_VERSION 1

#define MIN_BINS 2
#define MAX_BINS 10


/* The result row type of the calling function, looked up once per call site */
static TupleDesc
result_desc(FunctionCallInfo fcinfo, TupleDesc *cache)
{
	if (*cache == NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		TupleDesc	desc;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("function returning record called in context that cannot accept type record")));
		*cache = BlessTupleDesc(desc);
		MemoryContextSwitchTo(oldcontext);
	}
	return *cache;
}

static void
check_bins(int32 bins)
{
	if (bins < MIN_BINS || bins > MAX_BINS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be between %d and %d, not %d", MIN_BINS, MAX_BINS, bins)));
}


/*
 * A set of invoice numbers: open addressing with linear probing over slots
 * that point into one byte buffer.  Consecutive lines of one invoice (the
 * usual order) are recognised without hashing.
 */
#define EMPTY_SLOT PG_UINT32_MAX
#define FIRST_SLOTS 8
#define FIRST_CHARS 64

typedef struct InvoiceSlot
{
	uint32		hash;
	uint32		len;			/* EMPTY_SLOT where unused */
	uint32		offset;			/* of the bytes in chars */
} InvoiceSlot;

typedef struct InvoiceSet
{
	uint32		count;
	uint32		nslots;			/* a power of 2; 0 before the first invoice */
	InvoiceSlot *slots;
	char	   *chars;
	Size		chars_used;
	Size		chars_size;
	uint32		last_len;		/* the invoice seen last, or EMPTY_SLOT */
	uint32		last_offset;
} InvoiceSet;

static void
invoice_set_grow(InvoiceSet *set, MemoryContext mcxt)
{
	uint32		nslots = set->nslots == 0 ? FIRST_SLOTS : set->nslots * 2;
	InvoiceSlot *slots;

	if ((Size) nslots * sizeof(InvoiceSlot) > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct invoices for one customer: %u", set->count)));
	slots = MemoryContextAlloc(mcxt, nslots * sizeof(InvoiceSlot));
	memset(slots, 0xFF, nslots * sizeof(InvoiceSlot));
	for (uint32 i = 0; i < set->nslots; i++)
	{
		uint32		j;

		CHECK_FOR_INTERRUPTS();
		if (set->slots[i].len == EMPTY_SLOT)
			continue;
		for (j = set->slots[i].hash & (nslots - 1); slots[j].len != EMPTY_SLOT;
			 j = (j + 1) & (nslots - 1))
			;
		slots[j] = set->slots[i];
	}
	if (set->slots != NULL)
		pfree(set->slots);
	else
	{
		set->chars = MemoryContextAlloc(mcxt, FIRST_CHARS);
		set->chars_size = FIRST_CHARS;
	}
	set->slots = slots;
	set->nslots = nslots;
}

/* Add an invoice number whose hash is known; true if it was not there yet */
static bool
invoice_set_insert(InvoiceSet *set, const char *key, uint32 len, uint32 hash,
				   MemoryContext mcxt)
{
	InvoiceSlot *slot;
	uint32		i;

	if (set->count >= set->nslots / 2)
		invoice_set_grow(set, mcxt);
	for (i = hash & (set->nslots - 1);; i = (i + 1) & (set->nslots - 1))
	{
		slot = &set->slots[i];
		if (slot->len == EMPTY_SLOT)
			break;
		if (slot->hash == hash && slot->len == len &&
			memcmp(set->chars + slot->offset, key, len) == 0)
		{
			set->last_len = len;
			set->last_offset = slot->offset;
			return false;
		}
	}
	if (set->chars_used + len > set->chars_size)
	{
		Size		size = Max(set->chars_size * 2, set->chars_used + len);

		if (size > MaxAllocSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("invoice numbers of one customer exceed %zu bytes",
							(Size) MaxAllocSize)));
		set->chars = repalloc(set->chars, size);
		set->chars_size = size;
	}
	memcpy(set->chars + set->chars_used, key, len);
	slot->hash = hash;
	slot->len = len;
	slot->offset = (uint32) set->chars_used;
	set->chars_used += len;
	set->count++;
	set->last_len = len;
	set->last_offset = slot->offset;
	return true;
}

static inline bool
invoice_set_add(InvoiceSet *set, const char *key, uint32 len, MemoryContext mcxt)
{
	if (set->last_len == len && memcmp(set->chars + set->last_offset, key, len) == 0)
		return false;
	return invoice_set_insert(set, key, len, hash_bytes((const unsigned char *) key, len),
							  mcxt);
}

static void
invoice_set_init(InvoiceSet *set)
{
	memset(set, 0, sizeof(InvoiceSet));
	set->last_len = EMPTY_SLOT;
}


/*
 * retail.rfm_customer: the per-customer state and its support functions.
 */
#define CUSTOMER_STATE "rfm_customer"
#define CUSTOMER_HAS_TS 0x1
#define CUSTOMER_HAS_AMOUNT 0x2

typedef struct CustomerState
{
	MemoryContext mcxt;			/* where the state and its buffers live */
	bool		has_ts;
	Timestamp	first;
	Timestamp	last;
	bool		has_amount;
	ExactSum	sum;
	InvoiceSet	invoices;
} CustomerState;

static CustomerState *
customer_state_create(MemoryContext mcxt)
{
	CustomerState *state = MemoryContextAllocZero(mcxt, sizeof(CustomerState));

	state->mcxt = mcxt;
	invoice_set_init(&state->invoices);
	return state;
}

static void
customer_add_ts(CustomerState *state, Timestamp ts)
{
	if (!state->has_ts)
	{
		state->first = state->last = ts;
		state->has_ts = true;
	}
	else if (ts < state->first)
		state->first = ts;
	else if (ts > state->last)
		state->last = ts;
}

/* Fold the state from into the state into */
static void
customer_state_merge(CustomerState *into, const CustomerState *from)
{
	if (from->has_ts)
	{
		customer_add_ts(into, from->first);
		customer_add_ts(into, from->last);
	}
	if (from->has_amount)
	{
		exact_sum_add_sum(&into->sum, &from->sum, into->mcxt);
		into->has_amount = true;
	}
	for (uint32 i = 0; i < from->invoices.nslots; i++)
	{
		const InvoiceSlot *slot = &from->invoices.slots[i];

		CHECK_FOR_INTERRUPTS();
		if (slot->len != EMPTY_SLOT)
			invoice_set_insert(&into->invoices, from->invoices.chars + slot->offset,
							   slot->len, slot->hash, into->mcxt);
	}
}

/* Fold the invoice, time and amount arguments of an order line into a state */
static inline void
customer_add_line(CustomerState *state, FunctionCallInfo fcinfo, int first_arg)
{
	if (!PG_ARGISNULL(first_arg))
	{
		text	   *invoice = PG_GETARG_TEXT_PP(first_arg);

		invoice_set_add(&state->invoices, VARDATA_ANY(invoice),
						VARSIZE_ANY_EXHDR(invoice), state->mcxt);
	}
	if (!PG_ARGISNULL(first_arg + 1))
		customer_add_ts(state, PG_GETARG_TIMESTAMP(first_arg + 1));
	if (!PG_ARGISNULL(first_arg + 2))
	{
		exact_sum_add_datum(&state->sum, PG_GETARG_DATUM(first_arg + 2), state->mcxt);
		state->has_amount = true;
	}
}

/* Fold an order line into the state of its customer */
PG_FUNCTION_INFO_V1(ra_rfm_customer_trans);
Datum
ra_rfm_customer_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	CustomerState *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_rfm_customer_trans called in non-aggregate context");
	if (PG_ARGISNULL(0))
		state = customer_state_create(aggcontext);
	else
		state = (CustomerState *) PG_GETARG_POINTER(0);
	customer_add_line(state, fcinfo, 1);
	PG_RETURN_POINTER(state);
}

/* Merge two partial per-customer states */
PG_FUNCTION_INFO_V1(ra_rfm_customer_combine);
Datum
ra_rfm_customer_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	CustomerState *into = PG_ARGISNULL(0) ? NULL : (CustomerState *) PG_GETARG_POINTER(0);
	CustomerState *from = PG_ARGISNULL(1) ? NULL : (CustomerState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_rfm_customer_combine called in non-aggregate context");
	if (from == NULL)
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	if (into == NULL)
		into = customer_state_create(aggcontext);
	customer_state_merge(into, from);
	PG_RETURN_POINTER(into);
}

/* Write a per-customer state (after the format version) */
static void
customer_state_send(StringInfo buf, const CustomerState *state)
{
	pq_sendint32(buf, (state->has_ts ? CUSTOMER_HAS_TS : 0) |
				 (state->has_amount ? CUSTOMER_HAS_AMOUNT : 0));
	if (state->has_ts)
	{
		pq_sendint64(buf, state->first);
		pq_sendint64(buf, state->last);
	}
	if (state->has_amount)
		state_send_numeric(buf, exact_sum_result(&state->sum));
	pq_sendint32(buf, state->invoices.count);
	for (uint32 i = 0; i < state->invoices.nslots; i++)
	{
		const InvoiceSlot *slot = &state->invoices.slots[i];

		CHECK_FOR_INTERRUPTS();
		if (slot->len == EMPTY_SLOT)
			continue;
		pq_sendint32(buf, slot->len);
		pq_sendbytes(buf, state->invoices.chars + slot->offset, slot->len);
	}
}

/* Serialize a per-customer state */
PG_FUNCTION_INFO_V1(ra_rfm_customer_serial);
Datum
ra_rfm_customer_serial(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, STATE_FORMAT_VERSION);
	customer_state_send(&buf, (CustomerState *) PG_GETARG_POINTER(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static bool
valid_timestamp(Timestamp ts)
{
	return TIMESTAMP_NOT_FINITE(ts) || IS_VALID_TIMESTAMP(ts);
}

/* Read what customer_state_send wrote into an empty state, checking every field */
static void
customer_state_recv(StringInfo buf, CustomerState *state, const char *state_name)
{
	int32		flags;
	int32		count;

	flags = state_recv_int32(buf, state_name);
	if ((flags & ~(CUSTOMER_HAS_TS | CUSTOMER_HAS_AMOUNT)) != 0)
		state_corrupt(state_name, "Unknown flags.");
	if (flags & CUSTOMER_HAS_TS)
	{
		state->has_ts = true;
		state->first = state_recv_int64(buf, state_name);
		state->last = state_recv_int64(buf, state_name);
		if (!valid_timestamp(state->first) || !valid_timestamp(state->last) ||
			state->first > state->last)
			state_corrupt(state_name, "Bad purchase times.");
	}
	if (flags & CUSTOMER_HAS_AMOUNT)
	{
		Numeric		total = state_recv_numeric(buf, state_name);

		exact_sum_add_datum(&state->sum, NumericGetDatum(total), state->mcxt);
		state->has_amount = true;
	}
	count = state_recv_int32(buf, state_name);
	/* each invoice takes at least its 4-byte length */
	if (count < 0 || count > (buf->len - buf->cursor) / (int) sizeof(int32))
		state_corrupt(state_name, "Bad invoice count.");
	for (int32 i = 0; i < count; i++)
	{
		int32		len = state_recv_int32(buf, state_name);

		CHECK_FOR_INTERRUPTS();
		state_need_bytes(buf, len, state_name);
		if (!invoice_set_add(&state->invoices, buf->data + buf->cursor, len, state->mcxt))
			state_corrupt(state_name, "Duplicate invoice.");
		buf->cursor += len;
	}
}

/* Rebuild a per-customer state from its serialized form */
PG_FUNCTION_INFO_V1(ra_rfm_customer_deserial);
Datum
ra_rfm_customer_deserial(PG_FUNCTION_ARGS)
{
	CustomerState *state = customer_state_create(CurrentMemoryContext);
	StringInfoData buf;

	state_recv_begin(&buf, PG_GETARG_BYTEA_PP(0), STATE_FORMAT_VERSION, CUSTOMER_STATE);
	customer_state_recv(&buf, state, CUSTOMER_STATE);
	state_recv_end(&buf, CUSTOMER_STATE);
	PG_RETURN_POINTER(state);
}

/*
 * first_purchase, last_purchase, frequency and monetary of a state (left
 * untouched) into values[0..3] and nulls[0..3]
 */
static void
customer_values(const CustomerState *state, Datum *values, bool *nulls)
{
	values[0] = TimestampGetDatum(state->first);
	values[1] = TimestampGetDatum(state->last);
	nulls[0] = nulls[1] = !state->has_ts;
	values[2] = Int64GetDatum((int64) state->invoices.count);
	nulls[2] = false;
	nulls[3] = !state->has_amount;
	values[3] = nulls[3] ? (Datum) 0 : NumericGetDatum(exact_sum_result(&state->sum));
}

/* The customer's summary; the state is left untouched */
PG_FUNCTION_INFO_V1(ra_rfm_customer_final);
Datum
ra_rfm_customer_final(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4];

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ra_rfm_customer_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	desc = result_desc(fcinfo, (TupleDesc *) &fcinfo->flinfo->fn_extra);
	customer_values((CustomerState *) PG_GETARG_POINTER(0), values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}


/*
 * retail.rfm_customers, removed in 0.3.0: nothing used it, and GROUP BY
 * customer with retail.rfm_customer gives the same.  The scripts of 0.1.0
 * and 0.2.0, which an update from them runs, still create its functions, so
 * their symbols stay, each raising an error.
 */
static void
rfm_customers_removed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("retail.rfm_customers was removed in retail_analytics 0.3.0"),
			 errhint("Use retail.rfm_customer with GROUP BY customer_id, after ALTER EXTENSION retail_analytics UPDATE.")));
}

#define RFM_CUSTOMERS_REMOVED(fn) \
PG_FUNCTION_INFO_V1(fn); \
Datum \
fn(PG_FUNCTION_ARGS) \
{ \
	rfm_customers_removed(); \
	PG_RETURN_NULL(); \
}

RFM_CUSTOMERS_REMOVED(ra_rfm_customers_trans)
RFM_CUSTOMERS_REMOVED(ra_rfm_customers_combine)
RFM_CUSTOMERS_REMOVED(ra_rfm_customers_serial)
RFM_CUSTOMERS_REMOVED(ra_rfm_customers_deserial)
RFM_CUSTOMERS_REMOVED(ra_rfm_customers_final)


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

	check_bins(bins);
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
	pq_sendint32(&buf, STATE_FORMAT_VERSION);
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

	state_recv_begin(&buf, serialized, STATE_FORMAT_VERSION, MODEL_STATE);
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
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static int
compare_numeric(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

/* Sorts specialized for the measures, interruptible (int32: aggstate.c) */
#define ST_SORT sort_int64s
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

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
	desc = result_desc(fcinfo, (TupleDesc *) &fcinfo->flinfo->fn_extra);

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
	check_bins(DatumGetInt32(values[0]));
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
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo, &cache->result),
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


/*
 * Segment presets: the rules of one preset of retail.segment_rules, in
 * priority order.  A rule bounds r, f, m and recency_days (in that order
 * below) from below and above; a missing bound is no condition, and a NULL
 * input fails any bound on it.
 */
#define RULE_MEASURES 4

typedef struct SegmentRule
{
	char	   *segment;
	bool		has_min[RULE_MEASURES];
	bool		has_max[RULE_MEASURES];
	int32		min[RULE_MEASURES];
	int32		max[RULE_MEASURES];
} SegmentRule;

typedef struct SegmentPreset
{
	char	   *name;
	int			nrules;
	SegmentRule *rules;
} SegmentPreset;

/* Read a preset's rules into mcxt; an unknown preset is an error */
static SegmentPreset *
load_preset(text *name, MemoryContext mcxt)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {PointerGetDatum(name)};
	SegmentPreset *preset;
	MemoryContext oldcontext;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT segment, r_min, r_max, f_min, f_max, m_min, m_max, "
								"recency_days_min, recency_days_max "
								"FROM retail.segment_rules "
								"WHERE preset OPERATOR(pg_catalog.=) $1 ORDER BY priority",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading retail.segment_rules failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("segment preset \"%s\" does not exist", text_to_cstring(name)),
				 errhint("Presets are the values of retail.segment_rules.preset.")));

	oldcontext = MemoryContextSwitchTo(mcxt);
	preset = palloc(sizeof(SegmentPreset));
	preset->name = text_to_cstring(name);
	preset->nrules = (int) SPI_processed;
	preset->rules = palloc(preset->nrules * sizeof(SegmentRule));
	for (int i = 0; i < preset->nrules; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		SegmentRule *rule = &preset->rules[i];
		bool		isnull;

		rule->segment = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
		for (int j = 0; j < RULE_MEASURES; j++)
		{
			Datum		min = SPI_getbinval(row, desc, 2 + 2 * j, &isnull);

			rule->has_min[j] = !isnull;
			rule->min[j] = isnull ? 0 : DatumGetInt32(min);
			rule->max[j] = DatumGetInt32(SPI_getbinval(row, desc, 3 + 2 * j, &isnull));
			rule->has_max[j] = !isnull;
		}
	}
	MemoryContextSwitchTo(oldcontext);
	SPI_finish();
	return preset;
}

/* What find_rule returns besides a rule's index */
#define NO_RULE (-1)
#define UNDECIDED_RULE (-2)

/*
 * The index of the first rule of the preset that the values match; NO_RULE
 * if none does; UNDECIDED_RULE if a NULL input decides it, because the first
 * rule that the other values do not rule out bounds a NULL input.
 */
static int
find_rule(const SegmentPreset *preset, const int32 *values, const bool *isnull)
{
	for (int i = 0; i < preset->nrules; i++)
	{
		const SegmentRule *rule = &preset->rules[i];
		bool		match = true;
		bool		undecided = false;

		for (int j = 0; j < RULE_MEASURES && match; j++)
		{
			if (!rule->has_min[j] && !rule->has_max[j])
				continue;
			if (isnull[j])
				undecided = true;
			else
				match = (!rule->has_min[j] || values[j] >= rule->min[j]) &&
					(!rule->has_max[j] || values[j] <= rule->max[j]);
		}
		if (match)
			return undecided ? UNDECIDED_RULE : i;
	}
	return NO_RULE;
}

typedef struct SegmentCache
{
	MemoryContext mcxt;			/* holds the preset; reset when it changes */
	SegmentPreset *preset;
} SegmentCache;

static const char *const score_names[] = {"r", "f", "m"};

/* The segment of a score cell under a preset: its first matching rule */
PG_FUNCTION_INFO_V1(ra_rfm_segment);
Datum
ra_rfm_segment(PG_FUNCTION_ARGS)
{
	SegmentCache *cache = (SegmentCache *) fcinfo->flinfo->fn_extra;
	text	   *name;
	int32		values[RULE_MEASURES];
	bool		isnull[RULE_MEASURES];
	int			rule;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	for (int j = 0; j < RULE_MEASURES; j++)
	{
		isnull[j] = PG_ARGISNULL(j + 1);
		values[j] = isnull[j] ? 0 : PG_GETARG_INT32(j + 1);
	}
	/* a NULL score gives NULL; a NULL recency_days only where a rule needs it */
	for (int j = 0; j < RULE_MEASURES - 1; j++)
	{
		if (isnull[j])
			PG_RETURN_NULL();
		if (values[j] < 1 || values[j] > MAX_BINS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("score %s must be between 1 and %d, not %d",
							score_names[j], MAX_BINS, values[j])));
	}
	if (!isnull[3] && values[3] < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency_days must not be negative, not %d", values[3])));

	name = PG_GETARG_TEXT_PP(0);
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(SegmentCache));
		cache->mcxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "rfm_segment preset",
											ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->preset == NULL ||
		strlen(cache->preset->name) != VARSIZE_ANY_EXHDR(name) ||
		memcmp(cache->preset->name, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) != 0)
	{
		MemoryContextReset(cache->mcxt);
		cache->preset = NULL;
		cache->preset = load_preset(name, cache->mcxt);
	}

	rule = find_rule(cache->preset, values, isnull);
	if (rule >= 0)
		PG_RETURN_TEXT_P(cstring_to_text(cache->preset->rules[rule].segment));
	/* no rule because of a NULL input is a NULL segment, not a gap */
	if (rule == UNDECIDED_RULE || isnull[3])
		PG_RETURN_NULL();
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("segment preset \"%s\" has no rule for r=%d f=%d m=%d recency_days=%d",
					cache->preset->name, values[0], values[1], values[2], values[3]),
			 errhint("retail.check_segment_preset('%s', bins) lists every unmatched cell.",
					 cache->preset->name)));
	PG_RETURN_NULL();			/* keep the compiler quiet */
}

/* A row of check_segment_preset */
static void
put_preset_row(ReturnSetInfo *rsinfo, const int32 *cell, int64 from, int64 to,
			   const char *segment)
{
	Datum		out[6];
	bool		outnulls[6] = {true, true, true, true, true, true};

	if (cell != NULL)
	{
		for (int j = 0; j < 3; j++)
		{
			out[j] = Int32GetDatum(cell[j]);
			outnulls[j] = false;
		}
		out[3] = Int32GetDatum((int32) from);
		outnulls[3] = false;
		out[4] = Int32GetDatum((int32) to);
		outnulls[4] = to < 0;
	}
	if (segment != NULL)
	{
		out[5] = CStringGetTextDatum(segment);
		outnulls[5] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
}

/*
 * What a preset leaves out at a number of bins: the (r, f, m) cells of
 * 1..bins and recency_days ranges without a rule, then the segments that no
 * cell and recency_days can reach (every rule of theirs is shadowed by
 * earlier rules or needs scores above bins).  Matching changes only where
 * recency_days crosses a bound of some rule, so testing the start of every
 * range between bounds suffices.
 */
PG_FUNCTION_INFO_V1(ra_check_segment_preset);
Datum
ra_check_segment_preset(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SegmentPreset *preset;
	int32		bins;
	int64	   *starts;
	int			nstarts = 0;
	bool	   *reached;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("preset and bins must not be NULL")));
	bins = PG_GETARG_INT32(1);
	check_bins(bins);
	preset = load_preset(PG_GETARG_TEXT_PP(0), CurrentMemoryContext);
	InitMaterializedSRF(fcinfo, 0);
	reached = palloc0(preset->nrules * sizeof(bool));

	/* where recency ranges start: 0 and every bound of every rule */
	starts = palloc((2 * preset->nrules + 1) * sizeof(int64));
	starts[nstarts++] = 0;
	for (int i = 0; i < preset->nrules; i++)
	{
		const SegmentRule *rule = &preset->rules[i];

		if (rule->has_min[3])
			starts[nstarts++] = rule->min[3];
		if (rule->has_max[3])
			starts[nstarts++] = (int64) rule->max[3] + 1;
	}
	qsort(starts, nstarts, sizeof(int64), compare_int64);

	for (int32 r = 1; r <= bins; r++)
		for (int32 f = 1; f <= bins; f++)
			for (int32 m = 1; m <= bins; m++)
			{
				int32		cell[3] = {r, f, m};
				int64		gap_from = -1;

				CHECK_FOR_INTERRUPTS();
				for (int i = 0; i <= nstarts; i++)
				{
					int32		values[RULE_MEASURES] = {r, f, m, 0};
					bool		isnull[RULE_MEASURES] = {false, false, false, false};
					bool		matched;

					/* recency_days is never negative */
					if (i < nstarts && ((i > 0 && starts[i] == starts[i - 1]) ||
										starts[i] < 0 || starts[i] > PG_INT32_MAX))
						continue;
					if (i < nstarts)
					{
						int			rule;

						values[3] = (int32) starts[i];
						rule = find_rule(preset, values, isnull);
						matched = rule >= 0;
						if (matched)
							reached[rule] = true;
						else if (gap_from < 0)
							gap_from = starts[i];
					}
					else
						matched = true; /* past the end: close any open gap */
					if (matched && gap_from >= 0)
					{
						put_preset_row(rsinfo, cell, gap_from,
									   i < nstarts ? starts[i] - 1 : -1, NULL);
						gap_from = -1;
					}
				}
			}

	/* a segment is reachable when one of its rules is; report each name once */
	for (int i = 0; i < preset->nrules; i++)
	{
		bool		reachable = false;
		bool		reported = false;

		for (int k = 0; k < preset->nrules; k++)
			if (strcmp(preset->rules[k].segment, preset->rules[i].segment) == 0)
			{
				reachable |= reached[k];
				reported |= k < i;
			}
		if (!reachable && !reported)
			put_preset_row(rsinfo, NULL, 0, -1, preset->rules[i].segment);
	}
	return (Datum) 0;
}

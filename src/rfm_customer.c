/*
 * rfm_customer.c
 *		retail.rfm_customer(invoice_no, ts, amount): an aggregate over order
 *		lines used with GROUP BY customer giving the first and last purchase,
 *		the number of distinct invoices and the exact sum of the amounts.  Its
 *		state keeps the set of invoice numbers, so an invoice whose lines
 *		reach different parallel workers still counts once.  Its form
 *		(invoice_no, first_ts, last_ts, amount) reduces spans of lines already
 *		summed (the rows of silver.customer_invoice_days) with the same state.
 */
#include "rfm.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* First word of a serialized state */
#define CUSTOMER_STATE_VERSION 1

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

/*
 * Fold the arguments of the aggregate into a state: an invoice, then ntimes
 * times (a line's, or a span's first and last), then an amount.
 */
static void
customer_add_args(CustomerState *state, FunctionCallInfo fcinfo, int ntimes)
{
	int			amount_arg = 2 + ntimes;

	if (!PG_ARGISNULL(1))
	{
		text	   *invoice = PG_GETARG_TEXT_PP(1);

		invoice_set_add(&state->invoices, VARDATA_ANY(invoice),
						VARSIZE_ANY_EXHDR(invoice), state->mcxt);
	}
	for (int arg = 2; arg < amount_arg; arg++)
		if (!PG_ARGISNULL(arg))
			customer_add_ts(state, PG_GETARG_TIMESTAMP(arg));
	if (!PG_ARGISNULL(amount_arg))
	{
		exact_sum_add_datum(&state->sum, PG_GETARG_DATUM(amount_arg), state->mcxt);
		state->has_amount = true;
	}
}

/* The transition of both forms (named fname): times follow the invoice */
static Datum
customer_trans(FunctionCallInfo fcinfo, int ntimes, const char *fname)
{
	MemoryContext aggcontext;
	CustomerState *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	if (PG_ARGISNULL(0))
		state = customer_state_create(aggcontext);
	else
		state = (CustomerState *) PG_GETARG_POINTER(0);
	customer_add_args(state, fcinfo, ntimes);
	PG_RETURN_POINTER(state);
}

/* Fold an order line into the state of its customer */
PG_FUNCTION_INFO_V1(ra_rfm_customer_trans);
Datum
ra_rfm_customer_trans(PG_FUNCTION_ARGS)
{
	return customer_trans(fcinfo, 1, "ra_rfm_customer_trans");
}

/*
 * Fold a span of a customer's lines into the state: their invoice, the
 * first and last time among them and the sum of their amounts
 */
PG_FUNCTION_INFO_V1(ra_rfm_customer_span_trans);
Datum
ra_rfm_customer_span_trans(PG_FUNCTION_ARGS)
{
	return customer_trans(fcinfo, 2, "ra_rfm_customer_span_trans");
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
	pq_sendint32(&buf, CUSTOMER_STATE_VERSION);
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

	state_recv_begin(&buf, PG_GETARG_BYTEA_PP(0), CUSTOMER_STATE_VERSION, CUSTOMER_STATE);
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
	desc = cached_result_desc(fcinfo, (TupleDesc *) &fcinfo->flinfo->fn_extra);
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

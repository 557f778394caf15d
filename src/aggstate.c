/*
 * aggstate.c
 *		The serialized form of the aggregates' states, shared by every
 *		aggregate with internal state.
 *
 * A state travels between parallel workers (and shards) as bytea: a format
 * version, then fields written with pq_send*.  Reading never trusts the
 * bytes: every read checks that they are there, and a bad state is an
 * ERRCODE_INVALID_BINARY_REPRESENTATION error naming the state, with what is
 * wrong in its detail (state_corrupt).
 *
 * Also the weight argument of the weighted aggregates, the interruptible
 * sorts that several functions share, and the first call of the
 * value-per-call functions that return rows.
 */
#include "retail_analytics.h"

#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

/*
 * Raise the error of a bad serialized state: the state in the message, what
 * is wrong with it in the detail.  Every deserializer reports through here, so
 * the message stays one; detail_fmt is printf-like and formatted here, hence
 * errdetail_internal.
 */
void
state_corrupt(const char *state_name, const char *detail_fmt,...)
{
	StringInfoData detail;

	initStringInfo(&detail);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, detail_fmt);
		needed = appendStringInfoVA(&detail, detail_fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&detail, needed);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid serialized %s state", state_name),
			 errdetail_internal("%s", detail.data)));
}

/* Fail unless at least bytes more can be read */
void
state_need_bytes(StringInfo buf, int64 bytes, const char *state_name)
{
	if (bytes < 0 || bytes > (int64) (buf->len - buf->cursor))
		state_corrupt(state_name, "Truncated or bad length.");
}

int32
state_recv_int32(StringInfo buf, const char *state_name)
{
	state_need_bytes(buf, sizeof(int32), state_name);
	return (int32) pq_getmsgint(buf, sizeof(int32));
}

int64
state_recv_int64(StringInfo buf, const char *state_name)
{
	state_need_bytes(buf, sizeof(int64), state_name);
	return pq_getmsgint64(buf);
}

/* Open a serialized state: a copy of its bytes in buf, version checked */
void
state_recv_begin(StringInfo buf, bytea *bytes, int32 version, const char *state_name)
{
	state_recv_begin_versions(buf, bytes, version, version, state_name);
}

/*
 * Open a serialized state written in one of the formats first .. last (a
 * state with more than one layout); returns its format version.
 */
int32
state_recv_begin_versions(StringInfo buf, bytea *bytes, int32 first, int32 last,
						  const char *state_name)
{
	int32		version;

	initStringInfo(buf);
	appendBinaryStringInfo(buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	version = state_recv_int32(buf, state_name);
	if (version < first || version > last)
		state_corrupt(state_name, "Unknown format version.");
	return version;
}

/* Close a serialized state: nothing may be left over */
void
state_recv_end(StringInfo buf, const char *state_name)
{
	if (buf->cursor != buf->len)
		state_corrupt(state_name, "Trailing bytes.");
	pq_getmsgend(buf);
}

/* A numeric in its binary send format, preceded by its length */
void
state_send_numeric(StringInfo buf, Numeric value)
{
	bytea	   *bytes = DatumGetByteaPP(DirectFunctionCall1(numeric_send,
															NumericGetDatum(value)));

	pq_sendint32(buf, VARSIZE_ANY_EXHDR(bytes));
	pq_sendbytes(buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	pfree(bytes);
}

/*
 * Read what state_send_numeric wrote.  The length must match the digit count
 * (numeric_recv would read past it otherwise); numeric_recv then validates
 * sign, digits and scale.
 */
Numeric
state_recv_numeric(StringInfo buf, const char *state_name)
{
	int32		len = state_recv_int32(buf, state_name);
	uint16		ndigits;
	StringInfoData part;
	Numeric		value;

	state_need_bytes(buf, len, state_name);
	/* ndigits, weight, sign, dscale, then the digits */
	if (len < 4 * (int32) sizeof(int16))
		state_corrupt(state_name, "Bad numeric.");
	memcpy(&ndigits, buf->data + buf->cursor, sizeof(ndigits));
	if (len != 4 * (int32) sizeof(int16) + (int32) pg_ntoh16(ndigits) * (int32) sizeof(int16))
		state_corrupt(state_name, "Bad numeric.");
	part.data = buf->data + buf->cursor;
	part.len = len;
	part.maxlen = len;
	part.cursor = 0;
	value = DatumGetNumeric(DirectFunctionCall3(numeric_recv, PointerGetDatum(&part),
												ObjectIdGetDatum(InvalidOid),
												Int32GetDatum(-1)));
	buf->cursor += len;
	return value;
}

/*
 * The weight of a row of a weighted aggregate (argument argno): how many
 * times its value occurs.  A NULL or negative weight is an error; 0 is a
 * value that does not occur (the caller skips the row).  The callers skip a
 * row whose value is NULL before they read its weight, as the unweighted
 * forms skip NULLs.
 */
int64
state_weight_arg(FunctionCallInfo fcinfo, int argno, const char *aggregate_name)
{
	int64		weight;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s weight must not be NULL", aggregate_name),
				 errhint("A weight is how many times the value occurs: 0 or more.")));
	weight = PG_GETARG_INT64(argno);
	if (weight < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s weight must not be negative, not %lld", aggregate_name, (long long) weight),
				 errhint("A weight is how many times the value occurs: 0 or more.")));
	return weight;
}

/* Interruptible sorts of int32, int64 and float8 values, for the final functions */
#define ST_SORT sort_int32s
#define ST_ELEMENT_TYPE int32
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE
#define ST_DEFINE
#include "lib/sort_template.h"

#define ST_SORT sort_int64s
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE
#define ST_DEFINE
#include "lib/sort_template.h"

/* Callers pass no NaN, which the comparison would not order */
#define ST_SORT sort_float8s
#define ST_ELEMENT_TYPE float8
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * The first call of a value-per-call function returning rows: its call
 * context, with the result's row type and the number of rows.  Returns in the
 * multi-call memory context, for the caller's state; *oldcontext is the one
 * to switch back to.
 */
FuncCallContext *
rows_srf_first_call(FunctionCallInfo fcinfo, uint64 max_calls, MemoryContext *oldcontext)
{
	FuncCallContext *funcctx = SRF_FIRSTCALL_INIT();
	TupleDesc	tupdesc;

	*oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	funcctx->tuple_desc = BlessTupleDesc(tupdesc);
	funcctx->max_calls = max_calls;
	return funcctx;
}

/*
 * The composite row type of the calling function, looked up once per call
 * site and kept in *cache (in the function's memory context)
 */
TupleDesc
cached_result_desc(FunctionCallInfo fcinfo, TupleDesc *cache)
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

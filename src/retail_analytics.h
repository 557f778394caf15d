/*
 * retail_analytics.h
 *		Declarations shared by the C files of the retail_analytics extension.
 */
#ifndef RETAIL_ANALYTICS_H
#define RETAIL_ANALYTICS_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/numeric.h"

/* Exact sums (ExactSum below) and several fast paths need a 128-bit integer */
#ifndef HAVE_INT128
#error "retail_analytics needs a compiler with a 128-bit integer type (int128, HAVE_INT128 in pg_config.h)"
#endif

/* PostgreSQL 16 moved the varlena macros out of postgres.h */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* PostgreSQL 15.0 called InitMaterializedSRF SetSingleFuncCall */
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF(fcinfo, flags) SetSingleFuncCall(fcinfo, flags)
#endif

/*
 * PostgreSQL 18 replaced pg_attribute_noreturn() by pg_noreturn (C11
 * _Noreturn), written before the declaration; gcc takes the attribute there too
 */
#if PG_VERSION_NUM < 180000
#define pg_noreturn pg_attribute_noreturn()
#endif

/* Serialized states of the aggregates (aggstate.c) */
extern pg_noreturn void state_corrupt(const char *state_name, const char *detail_fmt,...)
			pg_attribute_printf(2, 3);
extern void state_need_bytes(StringInfo buf, int64 bytes, const char *state_name);
extern int32 state_recv_int32(StringInfo buf, const char *state_name);
extern int64 state_recv_int64(StringInfo buf, const char *state_name);
extern void state_recv_begin(StringInfo buf, bytea *bytes, int32 version,
							 const char *state_name);
extern int32 state_recv_begin_versions(StringInfo buf, bytea *bytes, int32 first, int32 last,
									   const char *state_name);
extern void state_recv_end(StringInfo buf, const char *state_name);
extern void state_send_numeric(StringInfo buf, Numeric value);
extern Numeric state_recv_numeric(StringInfo buf, const char *state_name);
extern int64 state_weight_arg(FunctionCallInfo fcinfo, int argno, const char *aggregate_name);
extern void sort_int32s(int32 *data, size_t n);
extern void sort_int64s(int64 *data, size_t n);
extern void sort_float8s(float8 *data, size_t n);
extern TupleDesc cached_result_desc(FunctionCallInfo fcinfo, TupleDesc *cache);
extern FuncCallContext *rows_srf_first_call(FunctionCallInfo fcinfo, uint64 max_calls,
											 MemoryContext *oldcontext);

/*
 * An exact sum of numerics (exactsum.c): value.scaled / 10^dscale while it
 * fits 128 bits, else value.num (dscale EXACT_SUM_NUMERIC), allocated in the
 * context given to the functions that change it.  All zeros is 0.
 */
#define EXACT_SUM_MAX_DSCALE 38
#define EXACT_SUM_NUMERIC (-1)

typedef struct ExactSum
{
	union
	{
		int128		scaled;
		Numeric		num;
	}			value;
	int16		dscale;
} ExactSum;

extern void exact_sum_init(ExactSum *sum);
extern void exact_sum_add_datum(ExactSum *sum, Datum numeric, MemoryContext context);
extern void exact_sum_add_sum(ExactSum *sum, const ExactSum *other, MemoryContext context);
extern void exact_sum_copy(ExactSum *target, const ExactSum *source, MemoryContext context);
extern Numeric exact_sum_result(const ExactSum *sum);
extern void exact_sum_send(StringInfo buf, const ExactSum *sum);
extern void exact_sum_recv(StringInfo buf, ExactSum *sum, const char *state_name);

#endif							/* RETAIL_ANALYTICS_H */

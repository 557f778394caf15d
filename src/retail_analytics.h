/*
 * retail_analytics.h
 *		Declarations shared by the C files of the retail_analytics extension.
 */
#ifndef RETAIL_ANALYTICS_H
#define RETAIL_ANALYTICS_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/numeric.h"

/* PostgreSQL 16 moved the varlena macros out of postgres.h */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* PostgreSQL 15.0 called InitMaterializedSRF SetSingleFuncCall */
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF(fcinfo, flags) SetSingleFuncCall(fcinfo, flags)
#endif

/* Serialized states of the aggregates (aggstate.c) */
extern void state_corrupt(const char *state_name, const char *detail) pg_attribute_noreturn();
extern void state_need_bytes(StringInfo buf, int64 bytes, const char *state_name);
extern int32 state_recv_int32(StringInfo buf, const char *state_name);
extern int64 state_recv_int64(StringInfo buf, const char *state_name);
extern void state_recv_begin(StringInfo buf, bytea *bytes, int32 version,
							 const char *state_name);
extern void state_recv_end(StringInfo buf, const char *state_name);
extern void state_send_numeric(StringInfo buf, Numeric value);
extern Numeric state_recv_numeric(StringInfo buf, const char *state_name);

#endif							/* RETAIL_ANALYTICS_H */

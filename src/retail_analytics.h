/*
 * retail_analytics.h
 *		Declarations shared by the C files of the retail_analytics extension.
 */
#ifndef RETAIL_ANALYTICS_H
#define RETAIL_ANALYTICS_H

#include "postgres.h"

#include "fmgr.h"

/* PostgreSQL 16 moved the varlena macros out of postgres.h */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* PostgreSQL 15.0 called InitMaterializedSRF SetSingleFuncCall */
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF(fcinfo, flags) SetSingleFuncCall(fcinfo, flags)
#endif

#endif							/* RETAIL_ANALYTICS_H */

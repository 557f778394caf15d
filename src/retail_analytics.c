/*
 * retail_analytics.c
 *		Module entry point of the retail_analytics extension.
 *
 * The SQL-callable functions live in one file per feature area:
 *	clean.c		lenient parsers and row fingerprints for the silver layer
 *	generate.c	the synthetic order-line generator
 *	rfm.c		RFM: per-customer reduction, model, scores, segment presets
 *	cohort.c	cohort retention matrices
 *	abc.c		ABC classification, XYZ variability, most frequent value
 *	audit.c		exact median and MAD for the anomaly audit
 *	aggstate.c	the serialized form shared by the aggregates' states
 *	refresh.c	support of retail.refresh()
 */
#include "retail_analytics.h"

PG_MODULE_MAGIC;

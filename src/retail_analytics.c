/*
 * retail_analytics.c
 *		Module entry point of the retail_analytics extension.
 *
 * The SQL-callable functions live in one file per feature area:
 *	clean.c			lenient parsers and row fingerprints for the silver layer
 *	generate.c		the synthetic order-line generator
 *	rfm_customer.c	RFM: the per-customer reduction of order lines
 *	rfm_model.c		RFM: cutpoints over customers and scores
 *	rfm_segment.c	RFM: segment presets
 *	cohort.c		cohort retention matrices
 *	abc.c			ABC classification, XYZ variability, most frequent value
 *	audit.c			exact median and MAD for the anomaly audit
 *	btyd*.c, mbgnbd.c, paretonbd.c	the BTYD models of customer value
 *	refresh.c		support of retail.refresh()
 * and share aggstate.c (serialized states, sorts) and exactsum.c (exact sums).
 */
#include "retail_analytics.h"

PG_MODULE_MAGIC;

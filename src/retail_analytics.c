/*
 * retail_analytics.c
 *		Module entry point of the retail_analytics extension.
 *
 * The SQL-callable functions live in one file per feature area: clean.c
 * (lenient text parsers and row fingerprints for the silver layer) and generate.c (the synthetic
 * order-line generator), and the marts' aggregates beside them.
 */
#include "retail_analytics.h"

PG_MODULE_MAGIC;

/*
 * rfm.h
 *		What the parts of RFM segmentation share (spec/metrics.md, "Gold:
 *		gold.mart_customer_segments"; doc/rfm.md shows how they compose):
 *
 * - rfm_customer.c: retail.rfm_customer(invoice_no, ts, amount), the
 *   per-customer reduction of order lines;
 * - rfm_model.c: retail.rfm_model(recency_days, frequency, monetary, bins),
 *   the cutpoints over customers, and retail.rfm_score applying them;
 * - rfm_segment.c: retail.rfm_segment and retail.check_segment_preset, the
 *   presets of retail.segment_rules.
 */
#ifndef RFM_H
#define RFM_H

#include "retail_analytics.h"

/* Score bins of a model: scores run from 1 to bins */
#define MIN_BINS 2
#define MAX_BINS 10

extern void rfm_check_bins(int32 bins);

#endif							/* RFM_H */

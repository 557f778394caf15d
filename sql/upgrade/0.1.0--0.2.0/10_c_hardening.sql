-- C hardening (issue 8): window-safe finals, interruptible loops, NULL and
-- range checks of rfm_segment, rfm_segments(NULL) (45_rfm_segments.sql), check_segment_preset
-- reporting unreachable segments, byte-wise key comparison documented; (issue 16) the
-- cohort matrices' limit of 2400 periods documented.

COMMENT ON FUNCTION retail.rfm_segment(text, integer, integer, integer, integer) IS
	'Segment of a score cell under a preset of retail.segment_rules (first matching rule); a cell no rule covers is an error; a NULL score gives NULL, a NULL recency_days gives NULL when a rule bounding it decides; scores outside 1 .. 10 and a negative recency_days are errors';

-- a new result column: drop and create
DROP FUNCTION retail.check_segment_preset(text, integer);
CREATE FUNCTION retail.check_segment_preset(preset text, bins integer DEFAULT 5)
	RETURNS TABLE (r integer, f integer, m integer, recency_days_from integer, recency_days_to integer,
				   unreachable_segment text)
	AS 'MODULE_PATHNAME', 'ra_check_segment_preset' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION retail.check_segment_preset(text, integer) IS
	'What a preset leaves out at a number of bins: score cells (and recency_days ranges; NULL to = no end) without a rule, then one row (cell columns NULL) per segment that no cell can reach; no rows for a preset that is complete and fully used at those bins';

COMMENT ON AGGREGATE retail.rfm_customer(text, timestamp, numeric) IS
	'Per customer (GROUP BY customer): first and last purchase, number of distinct invoices (told apart byte by byte, whatever their collation), exact sum of amounts; NULLs are skipped field by field';
COMMENT ON AGGREGATE retail.rfm_customers(bigint, text, timestamp, numeric) IS
	'retail.rfm_customer of every customer in one pass, without GROUP BY: an array by customer_id; lines without a customer are skipped; invoices are told apart byte by byte, whatever their collation';
COMMENT ON AGGREGATE retail.abc_classify(text, numeric) IS
	'ABC classification of (key, value) pairs with thresholds 0.80 and 0.95: an array of retail.abc_item in rank order (unnest it); keys are told apart byte by byte whatever their collation (under a nondeterministic one ''a'' and ''A'' are two items), the collation only orders items of equal value';
COMMENT ON AGGREGATE retail.abc_classify(text, numeric, numeric, numeric) IS
	'ABC classification of (key, value) pairs: A while the share ranked before is < a, B while < b, else C (0 < a < b <= 1); an array of retail.abc_item; keys are told apart byte by byte whatever their collation, the collation only orders items of equal value';
COMMENT ON AGGREGATE retail.most_frequent(text) IS
	'Most frequent non-NULL value; among equally frequent values the first in the collation''s order (NULL when there is none); values are counted byte by byte whatever their collation (under a nondeterministic one ''a'' and ''A'' are two values)';

COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric) IS
	'Monthly cohort retention matrix (bounded) of order lines: customer, time, amount; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text) IS
	'Cohort retention matrix (bounded) at granularity month, week (ISO, from Monday) or day; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_matrix(bigint, timestamp, numeric, text, boolean) IS
	'Cohort retention matrix; unbounded counts a customer active in period p or later; expand with unnest(); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_merge(bytea) IS
	'Cohort retention matrix (bounded) of partial states from retail.cohort_state, e.g. one per shard; at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON AGGREGATE retail.cohort_merge(bytea, boolean) IS
	'Cohort retention matrix of partial states from retail.cohort_state, bounded or unbounded; at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';
COMMENT ON FUNCTION retail.cohort_retention(regclass, text, boolean) IS
	'Dense cohort retention matrix of a relation with columns customer_id, invoice_ts, line_total (SELECT privilege required); at most 2400 periods from the first cohort to the last period (the contract''s 1900-2099 in months), more is an error';

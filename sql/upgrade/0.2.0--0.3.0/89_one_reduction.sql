
-- Issue 17, "one kind of state" (continued from 30_one_reduction.sql, now
-- that the segment marts of 0.2.0 that read it are gone): retail.rfm_segments
-- groups, fits and scores in one statement (45_relation_columns.sql), so the
-- array it handed over and the function that unnested it go.
DROP FUNCTION retail.rfm_segments_of(retail.customer_summary_row[], date, integer, text, text);
DROP TYPE retail.customer_summary_row;

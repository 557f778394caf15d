
-- What every gold column means, for psql's \d+ and for BI tools (JDBC
-- REMARKS).  Each part comments the columns whose meaning is its own mart's;
-- a column named here means the same in every gold (and gold_store) relation
-- that has it and no comment of its own.  A gold view over a stored mart then
-- takes the mart's comments, so both say the same.  The checks at the end
-- fail the install when a gold column is left without a comment, or a gold
-- relation, or a mart is not shown in gold as a plain view.
DO $$
DECLARE
	described record;
	undocumented text;
	hidden text;
BEGIN
	FOR described IN
		SELECT c.oid::regclass AS relation, a.attname, d.comment
		FROM (VALUES
			('customer_id', 'Customer number (CustomerID of the source, as an integer)'),
			('invoice_no', 'Invoice number (InvoiceNo of the source)'),
			('invoice_ts', 'Time of the invoice''s earliest net line (a clean line with units left after its cancellations)'),
			('country', 'Country of the order (that of its first line by load order)'),
			('recency_days', 'Days from the date of the customer''s last purchase to as_of (1: bought on the day before as_of)'),
			('frequency', 'Distinct invoices of the customer'),
			('monetary', 'Revenue of the customer: sum of line_total (net quantity x unit_price: cancellations netted, setting cancellations)'),
			('r', 'Recency score, 1 (longest ago) .. bins (most recent): one more per cutpoint (percentile_disc(k/bins) of recency_days over customers) the customer''s recency_days is below'),
			('f', 'Frequency score, 1 .. bins: one more per cutpoint of frequency the customer exceeds'),
			('m', 'Monetary score, 1 .. bins: one more per cutpoint of monetary the customer exceeds'),
			('rfm_cell', 'r, f and m as text, e.g. 545'),
			('segment', 'Segment of the preset of the setting rfm_preset (standard: Champions, Loyal Customers, ..., Hibernating)'),
			('seed_segment', 'Segment of the preset of the setting rfm_seed_preset (seed: Champions, Regular, Lowspender, At Risk)'),
			('first_purchase', 'Time of the customer''s first net line'),
			('last_purchase', 'Time of the customer''s last net line'),
			('as_of', 'Date the scores are measured at: the lines before it count; default the day after the last line'),
			('customers', 'Number of customers'),
			('revenue', 'Revenue: sum of line_total (net quantity x unit_price: cancellations netted, setting cancellations)'),
			('cohort_month', 'Cohort: calendar month of the customer''s first net line'),
			('cohort_size', 'Customers of the cohort'),
			('period', 'Months since the cohort month (0: the cohort month itself)'),
			('active_customers', 'Customers of the cohort with a net line in the period''s month'),
			('rank', 'Rank by revenue, largest first; ties by key ascending'),
			('share', 'Share of total revenue, a fraction in [0, 1]'),
			('cum_share_before', 'Sum of the shares of the items ranked before, a fraction in [0, 1]'),
			('abc_class', 'A while cum_share_before < setting abc_a (0.80), B while < abc_b (0.95), else C'),
			('stock_code', 'Product code (StockCode of the source)'),
			('unit_price', 'Unit price of the line'),
			('p_alive', 'Probability that the customer is still active at the calibration end, under the purchase model of setting clv_model (BG/NBD: 1 for a customer without a repeat purchase, as the model has it)'),
			('expected_purchases_90d', 'Expected purchase days (a day''s invoices are one purchase) in the 90 days after the calibration end, under the purchase model of setting clv_model; NULL where double precision cannot give it'),
			('expected_value', 'Gamma-Gamma conditional expected value per purchase day; NULL where it is infinite (p frequency + q <= 1) or not below 1e32'),
			('clv', 'Customer lifetime value over setting clv_horizon_months months, discounted by clv_discount_rate a month (gold.mart_customer_value); NULL where expected_value or the expected purchases are'),
			('from_as_of', 'Earlier snapshot of gold.segment_history'),
			('to_as_of', 'Later snapshot of gold.segment_history'),
			('from_segment', 'Segment at from_as_of; NULL: no purchase before from_as_of (a new customer)'),
			('to_segment', 'Segment at to_as_of'))
			AS d(column_name, comment)
			 JOIN pg_catalog.pg_class c ON c.relnamespace IN ('gold'::regnamespace, 'gold_store'::regnamespace)
										AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
			 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = d.column_name
		WHERE pg_catalog.col_description(c.oid, a.attnum) IS NULL
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname, described.comment);
	END LOOP;
	-- the views of gold over the stored marts
	FOR described IN
		SELECT v.oid::regclass AS relation, a.attname, pg_catalog.col_description(m.oid, a.attnum) AS comment,
			   pg_catalog.obj_description(m.oid, 'pg_class') AS relation_comment
		FROM pg_catalog.pg_class v
			 JOIN pg_catalog.pg_class m ON m.relname = v.relname AND m.relnamespace = 'gold_store'::regnamespace
			 JOIN pg_catalog.pg_attribute a ON a.attrelid = m.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE v.relnamespace = 'gold'::regnamespace AND v.relkind = 'v'
	LOOP
		EXECUTE format('COMMENT ON VIEW %s IS %L', described.relation, described.relation_comment);
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname, described.comment);
	END LOOP;

	SELECT string_agg(format('%s.%I', c.oid::regclass, a.attname), ', ') INTO undocumented
	FROM pg_catalog.pg_class c
		 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace IN ('gold'::regnamespace, 'gold_store'::regnamespace)
	  AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
	  AND pg_catalog.col_description(c.oid, a.attnum) IS NULL;
	IF undocumented IS NOT NULL THEN
		RAISE EXCEPTION 'gold columns without a comment: %', undocumented;
	END IF;
	SELECT string_agg(c.oid::regclass::text, ', ') INTO undocumented
	FROM pg_catalog.pg_class c
	WHERE c.relnamespace IN ('gold'::regnamespace, 'gold_store'::regnamespace)
	  AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
	  AND pg_catalog.obj_description(c.oid, 'pg_class') IS NULL;
	IF undocumented IS NOT NULL THEN
		RAISE EXCEPTION 'gold relations without a comment: %', undocumented;
	END IF;
	-- information_schema, which many BI tools read, lists no materialized
	-- view: each stored mart is shown in gold by a plain view of its name
	SELECT string_agg(c.oid::regclass::text, ', ') INTO hidden
	FROM pg_catalog.pg_class c
	WHERE (c.relnamespace = 'gold'::regnamespace AND c.relkind = 'm')
	   OR (c.relnamespace = 'gold_store'::regnamespace AND c.relkind = 'm'
		   AND NOT EXISTS (SELECT FROM pg_catalog.pg_class v
						   WHERE v.relnamespace = 'gold'::regnamespace AND v.relname = c.relname AND v.relkind = 'v'));
	IF hidden IS NOT NULL THEN
		RAISE EXCEPTION 'gold marts that information_schema would not list: %', hidden;
	END IF;
END
$$;

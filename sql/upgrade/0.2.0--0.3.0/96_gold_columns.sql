
-- Gold column comments (sql/install/96_gold_columns.sql): the ones that said
-- "clean line" now say net line (issue 18, cancellations netted), where a
-- column still has the old text; then the install's block comments the
-- columns that have none (gold.cancellation_summary's).
DO $$
DECLARE
	changed record;
BEGIN
	FOR changed IN
		SELECT c.oid::regclass AS relation, a.attname, r.new_text
		FROM (VALUES
				('Time of the invoice''s earliest clean line',
				 'Time of the invoice''s earliest net line (a clean line with units left after its cancellations)'),
				('Revenue of the customer: sum of line_total (quantity x unit_price)',
				 'Revenue of the customer: sum of line_total (net quantity x unit_price: cancellations netted, setting cancellations)'),
				('Time of the customer''s first clean line', 'Time of the customer''s first net line'),
				('Time of the customer''s last clean line', 'Time of the customer''s last net line'),
				('Revenue: sum of line_total (quantity x unit_price)',
				 'Revenue: sum of line_total (net quantity x unit_price: cancellations netted, setting cancellations)'),
				('Cohort: calendar month of the customer''s first clean line',
				 'Cohort: calendar month of the customer''s first net line'),
				('Customers of the cohort with a clean line in the period''s month',
				 'Customers of the cohort with a net line in the period''s month'),
				('Clean lines of the order',
				 'Net lines of the order: clean lines with units left after their cancellations'),
				('Units ordered: sum of quantity', 'Units ordered: sum of net quantity'),
				('Order total: sum of line_total', 'Order total: sum of net line_total')) r(old_text, new_text)
			 JOIN pg_description d ON d.description = r.old_text AND d.classoid = 'pg_class'::regclass
			 JOIN pg_class c ON c.oid = d.objoid AND c.relnamespace IN ('gold'::regnamespace, 'gold_store'::regnamespace)
			 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', changed.relation, changed.attname, changed.new_text);
	END LOOP;
END
$$;

DO $$
DECLARE
	described record;
	undocumented text;
	hidden text;
BEGIN
	FOR described IN
		SELECT DISTINCT ON (c.oid, a.attname) c.oid::regclass AS relation, a.attname, d.comment
		FROM (VALUES
			('*', 'customer_id', 'Customer number (CustomerID of the source, as an integer)'),
			('*', 'invoice_no', 'Invoice number (InvoiceNo of the source)'),
			('*', 'invoice_ts', 'Time of the invoice''s earliest net line (a clean line with units left after its cancellations)'),
			('*', 'country', 'Country of the order (that of its first line by load order)'),
			('*', 'recency_days', 'Days from the date of the customer''s last purchase to as_of (1: bought on the day before as_of)'),
			('*', 'frequency', 'Distinct invoices of the customer'),
			('*', 'monetary', 'Revenue of the customer: sum of line_total (net quantity x unit_price: cancellations netted, setting cancellations)'),
			('*', 'r', 'Recency score, 1 (longest ago) .. bins (most recent): one more per cutpoint (percentile_disc(k/bins) of recency_days over customers) the customer''s recency_days is below'),
			('*', 'f', 'Frequency score, 1 .. bins: one more per cutpoint of frequency the customer exceeds'),
			('*', 'm', 'Monetary score, 1 .. bins: one more per cutpoint of monetary the customer exceeds'),
			('*', 'rfm_cell', 'r, f and m as text, e.g. 545'),
			('*', 'segment', 'Segment of the preset of the setting rfm_preset (standard: Champions, Loyal Customers, ..., Hibernating)'),
			('*', 'seed_segment', 'Segment of the preset of the setting rfm_seed_preset (seed: Champions, Regular, Lowspender, At Risk)'),
			('*', 'first_purchase', 'Time of the customer''s first net line'),
			('*', 'last_purchase', 'Time of the customer''s last net line'),
			('*', 'as_of', 'Date the scores are measured at: the lines before it count; default the day after the last line'),
			('*', 'customers', 'Number of customers'),
			('*', 'revenue', 'Revenue: sum of line_total (net quantity x unit_price: cancellations netted, setting cancellations)'),
			('*', 'cohort_month', 'Cohort: calendar month of the customer''s first net line'),
			('*', 'cohort_size', 'Customers of the cohort'),
			('*', 'period', 'Months since the cohort month (0: the cohort month itself)'),
			('*', 'active_customers', 'Customers of the cohort with a net line in the period''s month'),
			('*', 'rank', 'Rank by revenue, largest first; ties by key ascending'),
			('*', 'share', 'Share of total revenue, a fraction in [0, 1]'),
			('*', 'cum_share_before', 'Sum of the shares of the items ranked before, a fraction in [0, 1]'),
			('*', 'abc_class', 'A while cum_share_before < setting abc_a (0.80), B while < abc_b (0.95), else C'),
			('*', 'stock_code', 'Product code (StockCode of the source)'),
			('*', 'unit_price', 'Unit price of the line'),
			('*', 'p_alive', 'Probability that the customer is still active at the calibration end, under the purchase model of setting clv_model (BG/NBD: 1 for a customer without a repeat purchase, as the model has it)'),
			('*', 'expected_purchases_90d', 'Expected purchase days (a day''s invoices are one purchase) in the 90 days after the calibration end, under the purchase model of setting clv_model; NULL where double precision cannot give it'),
			('*', 'expected_value', 'Gamma-Gamma conditional expected value per purchase day; NULL where it is infinite (p frequency + q <= 1) or not below 1e32'),
			('*', 'clv', 'Customer lifetime value over setting clv_horizon_months months, discounted by clv_discount_rate a month (gold.mart_customer_value); NULL where expected_value or the expected purchases are'),
			('mart_customer_segments', 'monetary', 'Revenue of the customer: sum of line_total'),
			('dim_customers', 'country', 'Country of the customer''s first order'),
			('dim_customers', 'orders', 'Distinct invoices of the customer (RFM frequency)'),
			('dim_customers', 'revenue', 'Revenue of the customer: sum of line_total (RFM monetary)'),
			('dim_customers', 'cohort_month', 'Cohort: calendar month of the customer''s first purchase'),
			('segment_summary', 'segment', 'Segment of gold.mart_customer_segments'),
			('segment_summary', 'customers', 'Customers in the segment'),
			('segment_summary', 'customer_share', 'Share of all customers, a fraction in [0, 1]'),
			('segment_summary', 'revenue', 'Revenue of the segment''s customers'),
			('segment_summary', 'revenue_share', 'Share of all revenue, a fraction in [0, 1] (NULL when the total is 0)'),
			('segment_summary', 'avg_recency_days', 'Mean recency_days of the segment'),
			('segment_summary', 'avg_frequency', 'Mean invoices per customer of the segment'),
			('segment_summary', 'avg_monetary', 'Mean revenue per customer of the segment'),
			('segment_month_ends', 'as_of', 'Snapshot date: the first day of a month; only lines before it count'),
			('segment_month_ends', 'monetary', 'Revenue of the customer from the lines before as_of'),
			('segment_month_ends', 'frequency', 'Distinct invoices of the customer with a line before as_of'),
			('segment_history', 'as_of', 'Snapshot date: the current as-of date or the first day of a month; only lines before it count'),
			('segment_history', 'monetary', 'Revenue of the customer from the lines before as_of'),
			('segment_history', 'frequency', 'Distinct invoices of the customer with a line before as_of'),
			('*', 'from_as_of', 'Earlier snapshot of gold.segment_history'),
			('*', 'to_as_of', 'Later snapshot of gold.segment_history'),
			('*', 'from_segment', 'Segment at from_as_of; NULL: no purchase before from_as_of (a new customer)'),
			('*', 'to_segment', 'Segment at to_as_of'),
			('mart_segment_migration segment_migration', 'customers', 'Customers that were in from_segment at from_as_of and are in to_segment at to_as_of'),
			('mart_segment_migration segment_migration', 'revenue', 'Revenue of those customers up to to_as_of'),
			('mart_cohort_retention', 'retention', 'active_customers / cohort_size, a fraction in [0, 1]'),
			('mart_cohort_retention', 'revenue', 'Revenue of the cohort''s customers in the period''s month'),
			('mart_cohort_retention', 'complete', 'The period''s month had ended by the last day with a line; false for the running month'),
			('cohort_triangle', 'running_period', 'The period of this cohort that is still running (its month not ended), NULL if none'),
			('cohort_triangle_display', 'cohort_month', 'Cohort: calendar month of the customer''s first clean line'),
			('cohort_period_averages', 'cohorts', 'Cohorts with a complete cell at this period'),
			('cohort_period_averages', 'customers', 'Customers of those cohorts'),
			('cohort_period_averages', 'active_customers', 'Customers of those cohorts active in the period'),
			('cohort_period_averages', 'avg_retention', 'Mean retention over those cohorts, a fraction in [0, 1]'),
			('cohort_period_averages', 'weighted_retention', 'active_customers / customers, a fraction in [0, 1]'),
			('mart_countries_abc', 'country', 'Country'),
			('mart_countries_abc', 'revenue', 'Revenue of the country: sum of line_total'),
			('mart_products_abc', 'revenue', 'Revenue of the product: sum of line_total'),
			('mart_products_abc', 'description', 'The product''s most frequent description (ties: the first alphabetically)'),
			('mart_products_abc', 'cv', 'Coefficient of variation of monthly units over the product''s active span (months without a line count 0); NULL when the span is shorter than 3 calendar months'),
			('mart_products_abc', 'xyz_class', 'X if cv < setting xyz_x (0.5), Y if cv < xyz_y (1.0), else Z; N (new) when cv is NULL: an active span shorter than 3 calendar months has no demand pattern yet'),
			('mart_products_abc', 'abc_xyz', 'abc_class followed by xyz_class, e.g. AX, CN'),
			('audit_order_anomalies', 'total', 'Order total: sum of line_total'),
			('audit_order_anomalies', 'z', 'Modified z-score: 0.6745 (x - median) / MAD of ln(total) for wholesale_total; (x - median) / max(MAD / 0.6745, ln(1.25) / 3.5) of the named line''s ln(unit_price) among its product''s lines for unit_price_outlier (a price within a factor 1.25 of the median is never flagged); NULL for mixed_parties'),
			('audit_order_anomalies', 'reason', 'wholesale_total, unit_price_outlier or mixed_parties (lines with more than one customer or country)'),
			('audit_order_anomalies', 'stock_code', 'unit_price_outlier: the product of the line with the largest |z|'),
			('audit_order_anomalies', 'unit_price', 'unit_price_outlier: the unit price of that line'),
			('audit_order_anomalies', 'product_median_price', 'unit_price_outlier: the median unit price of the product over its clean lines'),
			('orders', 'lines', 'Net lines of the order: clean lines with units left after their cancellations'),
			('orders', 'units', 'Units ordered: sum of net quantity'),
			('orders', 'total', 'Order total: sum of net line_total'),
			('cancellation_summary', 'cancellations', 'The setting cancellations: net (gold nets them) or ignore'),
			('cancellation_summary', 'cancellation_lines', 'Cancellation lines that cancel product units (a customer, a product, a positive price, a negative quantity)'),
			('cancellation_summary', 'cancelled_units', 'Units those lines cancel'),
			('cancellation_summary', 'matched_units', 'Of those, the units matched to earlier lines of the same customer, product and price'),
			('cancellation_summary', 'unmatched_units', 'Of those, the units no earlier line was left to match (its order predates the data, or was at another price)'),
			('cancellation_summary', 'matched_value', 'matched_units x unit_price: the revenue netted from gold under cancellations = net'),
			('cancellation_summary', 'unmatched_value', 'unmatched_units x unit_price'))
			AS d(relation, column_name, comment)
			 JOIN pg_catalog.pg_class c ON c.relnamespace IN ('gold'::regnamespace, 'gold_store'::regnamespace)
										AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
										AND (d.relation = '*' OR c.relname = ANY (pg_catalog.string_to_array(d.relation, ' ')))
			 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = d.column_name
		WHERE d.relation <> '*' OR pg_catalog.col_description(c.oid, a.attnum) IS NULL
		ORDER BY c.oid, a.attname, d.relation = '*'
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname, described.comment);
	END LOOP;
	FOR described IN
		SELECT c.oid::regclass AS relation, a.attname, 'Retention (fraction in [0, 1]) in period ' || substr(a.attname, 2) AS comment
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		WHERE c.oid IN ('gold.cohort_triangle'::regclass, 'gold.cohort_triangle_display'::regclass)
		  AND a.attname ~ '^p[0-9]+$'
	LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', described.relation, described.attname,
					   CASE WHEN described.relation = 'gold.cohort_triangle'::regclass THEN described.comment
							ELSE replace(described.comment, 'fraction in [0, 1]', 'percent, * while running') END);
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


-- The segment mart names its segments with the presets of two new settings.
DROP MATERIALIZED VIEW gold.mart_customer_segments CASCADE;
CREATE MATERIALIZED VIEW gold.mart_customer_segments AS
SELECT customer_id, recency_days, frequency, monetary, r, f, m, rfm_cell, segment, seed_segment,
	   first_purchase, last_purchase, as_of
FROM retail.rfm_segments('silver.cleaned_transactions', (SELECT retail.setting('rfm_as_of'))::date,
						 (SELECT retail.setting('rfm_bins'))::integer, (SELECT retail.setting('rfm_preset')),
						 (SELECT retail.setting('rfm_seed_preset')))
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_segments IS
	'One row per customer of silver: recency, frequency, monetary, RFM scores and cell, segments of the presets of the settings rfm_preset and rfm_seed_preset';
CREATE UNIQUE INDEX ON gold.mart_customer_segments (customer_id);
CREATE INDEX ON gold.mart_customer_segments (segment);

CREATE VIEW gold.segment_summary AS
SELECT segment, count(*) AS customers,
	   round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct_customers,
	   sum(monetary) AS revenue,
	   round(100 * sum(monetary) / sum(sum(monetary)) OVER (), 2) AS pct_revenue,
	   round(avg(recency_days), 1) AS avg_recency_days,
	   round(avg(frequency), 2) AS avg_frequency,
	   round(avg(monetary), 2) AS avg_monetary
FROM gold.mart_customer_segments
GROUP BY segment;
COMMENT ON VIEW gold.segment_summary IS 'Segments of gold.mart_customer_segments: size and share of customers and of revenue';

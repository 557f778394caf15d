
-- Gold for BI beside the marts: the orders, and what the netting of the
-- cancellations did.  Each mart is in the part of its area (45 segments, 50
-- cohorts, 60 ABC/XYZ, 70 the audit, 82 customer value, 84 the customer
-- dimension), which registers its refresh step; readers see every mart as a
-- plain view in gold (information_schema lists no materialized view).

-- For BI: the orders (gold.dim_customers, one row per customer with what
-- describes it, is in 84_dim_customers.sql, after the customer value).
CREATE VIEW gold.orders AS
SELECT invoice_no, customer_id, country, invoice_ts, lines, units, total::numeric(38, 6) AS total
FROM silver.net_orders;
COMMENT ON VIEW gold.orders IS
	'One row per order (invoice) with lines left after the cancellations (setting cancellations): net lines, units and total';

-- What the netting did, for the report and for people: from the cancellation
-- lines alone (few, and indexed), not from every line.  The setting is read
-- above the sums: Citus cannot push a subquery beside them down.
CREATE VIEW gold.cancellation_summary AS
SELECT (SELECT retail.setting('cancellations')) AS cancellations, c.*
FROM (SELECT count(*) AS cancellation_lines,
			 coalesce(sum(-t.quantity::bigint), 0)::bigint AS cancelled_units,
			 coalesce(sum(-t.quantity::bigint - t.unmatched_quantity), 0)::bigint AS matched_units,
			 coalesce(sum(t.unmatched_quantity), 0)::bigint AS unmatched_units,
			 coalesce(sum((-t.quantity::bigint - t.unmatched_quantity) * t.unit_price), 0)::numeric(38, 6)
				 AS matched_value,
			 coalesce(sum(t.unmatched_quantity * t.unit_price), 0)::numeric(38, 6) AS unmatched_value
	  FROM silver.transactions t
	  WHERE t.unmatched_quantity IS NOT NULL) c;
COMMENT ON VIEW gold.cancellation_summary IS
	'One row: the cancellation lines that cancel product units, the units they cancel, how many matched earlier lines of the same customer, product and price (netted from gold under cancellations = net) and how many matched none, with their value';

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold.orders.lines IS
	'Net lines of the order: clean lines with units left after their cancellations';
COMMENT ON COLUMN gold.orders.units IS
	'Units ordered: sum of net quantity';
COMMENT ON COLUMN gold.orders.total IS
	'Order total: sum of net line_total';
COMMENT ON COLUMN gold.cancellation_summary.cancellations IS
	'The setting cancellations: net (gold nets them) or ignore';
COMMENT ON COLUMN gold.cancellation_summary.cancellation_lines IS
	'Cancellation lines that cancel product units (a customer, a product, a positive price, a negative quantity)';
COMMENT ON COLUMN gold.cancellation_summary.cancelled_units IS
	'Units those lines cancel';
COMMENT ON COLUMN gold.cancellation_summary.matched_units IS
	'Of those, the units matched to earlier lines of the same customer, product and price';
COMMENT ON COLUMN gold.cancellation_summary.unmatched_units IS
	'Of those, the units no earlier line was left to match (its order predates the data, or was at another price)';
COMMENT ON COLUMN gold.cancellation_summary.matched_value IS
	'matched_units x unit_price: the revenue netted from gold under cancellations = net';
COMMENT ON COLUMN gold.cancellation_summary.unmatched_value IS
	'unmatched_units x unit_price';

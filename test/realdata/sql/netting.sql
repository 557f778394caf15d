-- Cancellations netted on the real file (spec/metrics.md, "Cancellations"):
-- silver's cancelled and unmatched quantities against the rule written out
-- one cancellation at a time (test/netting_oracle.sql), what netting does to
-- the file, and the orders the issue named.
\i test/netting_oracle.sql
SELECT count(*) AS lines_differing_from_the_rule
FROM pg_temp.netted_by_the_rule() o
	 FULL JOIN silver.transactions t ON t.load_ordinal = o.load_ordinal
WHERE (o.cancelled_quantity, o.unmatched_quantity) IS DISTINCT FROM (t.cancelled_quantity, t.unmatched_quantity);

-- How much: cancellation lines that cancel units, units they cancel and
-- units left unmatched (their orders are before the file starts, or at
-- another price); clean lines touched, and those left with no unit.
SELECT count(*) FILTER (WHERE unmatched_quantity IS NOT NULL) AS cancellation_lines,
	   sum(-quantity) FILTER (WHERE unmatched_quantity IS NOT NULL) AS cancelled_units,
	   sum(unmatched_quantity) AS unmatched_units,
	   count(*) FILTER (WHERE cancelled_quantity > 0) AS lines_cancelled,
	   count(*) FILTER (WHERE cancelled_quantity > 0 AND cancelled_quantity = quantity) AS lines_cancelled_whole
FROM silver.transactions;
-- every unit is accounted for: cancelled from a line or unmatched
SELECT sum(-quantity) FILTER (WHERE unmatched_quantity IS NOT NULL)
	   = sum(cancelled_quantity) + sum(unmatched_quantity) AS units_balance
FROM silver.transactions;

-- Order 581483 (80,995 x 23843 at 2.08, cancelled by C581484 12 minutes
-- later) and 541431 (74,215 x 23166 at 1.04, cancelled by C541433): gone
-- from gold, and with them product 23843 and customer 12346.
SELECT invoice_no, stock_code, quantity, cancelled_quantity
FROM silver.cleaned_transactions WHERE invoice_no IN ('581483', '541431') ORDER BY invoice_no;
SELECT count(*) AS orders_left FROM gold.orders WHERE invoice_no IN ('581483', '541431');
SELECT count(*) AS product_23843 FROM gold.mart_products_abc WHERE stock_code = '23843';
SELECT count(*) AS customer_12346 FROM gold.mart_customer_segments WHERE customer_id = 12346;
-- customer 16446 keeps its one other order, 553573: two lines, 1.65 + 1.25
SELECT frequency, monetary FROM gold.mart_customer_segments WHERE customer_id = 16446;
-- the top products and customers by value are not cancelled orders
SELECT rank, stock_code, description, revenue FROM gold.mart_products_abc WHERE rank <= 3 ORDER BY rank;
SELECT customer_id, monetary FROM gold.mart_customer_segments ORDER BY monetary DESC, customer_id LIMIT 3;

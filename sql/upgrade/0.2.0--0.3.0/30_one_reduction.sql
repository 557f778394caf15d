
-- Issue 17, "one kind of state": what duplicates a reduction goes.
-- retail.rfm_customers was unused; retail.rfm_customer with GROUP BY gives
-- the same.  Its C symbols stay (the older scripts name them) and raise an
-- error.
DROP AGGREGATE retail.rfm_customers(bigint, text, timestamp, numeric);
DROP FUNCTION retail.rfm_customers_trans(internal, bigint, text, timestamp, numeric);
DROP FUNCTION retail.rfm_customers_combine(internal, internal);
DROP FUNCTION retail.rfm_customers_serial(internal);
DROP FUNCTION retail.rfm_customers_deserial(bytea, internal);
DROP FUNCTION retail.rfm_customers_final(internal);
COMMENT ON TYPE retail.customer_summary_row IS
	'A customer and what retail.rfm_customer gives for it';

-- Cancellations netted, the contract's rule word for word: cancellation
-- lines in time order (then load order), each taking units from the clean
-- lines of its customer, product and price at or before its time, the
-- latest first (then the later load order), each up to what it has left.
-- Non-product codes written out as the contract lists them.  The oracle of
-- test/sql/cancellations.sql and test/realdata/sql/netting.sql.
CREATE FUNCTION pg_temp.netted_by_the_rule()
	RETURNS TABLE (load_ordinal bigint, cancelled_quantity bigint, unmatched_quantity bigint)
LANGUAGE plpgsql AS $$
DECLARE
	k record;
	l record;
	wanted bigint;
	taken bigint;
BEGIN
	CREATE TEMP TABLE rule_lines ON COMMIT DROP AS
	SELECT t.load_ordinal, t.customer_id, t.stock_code, t.unit_price, t.invoice_ts, t.quantity::bigint AS remaining
	FROM silver.transactions t WHERE t.reason IS NULL;
	CREATE INDEX ON rule_lines (customer_id, stock_code, unit_price);
	CREATE INDEX ON rule_lines (load_ordinal);
	CREATE TEMP TABLE rule_unmatched (load_ordinal bigint, unmatched bigint) ON COMMIT DROP;
	FOR k IN
		SELECT t.* FROM silver.transactions t
		WHERE t.reason = 'cancellation' AND t.quantity < 0 AND t.unit_price > 0
		  AND upper(btrim(t.stock_code)) NOT IN ('POST', 'DOT', 'M', 'D', 'C2', 'CRUK', 'PADS', 'B', 'S',
												 'AMAZONFEE', 'BANK CHARGES')
		  AND upper(btrim(t.stock_code)) NOT LIKE 'GIFT\_%'
		ORDER BY t.invoice_ts, t.load_ordinal
	LOOP
		wanted := -k.quantity::bigint;
		FOR l IN
			SELECT r.* FROM rule_lines r
			WHERE r.customer_id = k.customer_id AND r.stock_code = k.stock_code AND r.unit_price = k.unit_price
			  AND r.invoice_ts <= k.invoice_ts AND r.remaining > 0
			ORDER BY r.invoice_ts DESC, r.load_ordinal DESC
		LOOP
			EXIT WHEN wanted = 0;
			taken := least(wanted, l.remaining);
			UPDATE rule_lines r SET remaining = r.remaining - taken WHERE r.load_ordinal = l.load_ordinal;
			wanted := wanted - taken;
		END LOOP;
		INSERT INTO rule_unmatched VALUES (k.load_ordinal, wanted);
	END LOOP;
	RETURN QUERY
	SELECT r.load_ordinal, t.quantity - r.remaining, NULL::bigint
	FROM rule_lines r JOIN silver.transactions t ON t.load_ordinal = r.load_ordinal
	UNION ALL
	SELECT u.load_ordinal, NULL, u.unmatched FROM rule_unmatched u;
END $$;

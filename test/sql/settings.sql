-- Settings of the marts: defaults, overrides read at the next refresh.
SELECT name, value, overridden FROM retail.current_settings ORDER BY name;
SELECT retail.setting('abc_a') AS abc_a;
SELECT retail.setting('no_such_setting');
INSERT INTO retail.settings VALUES ('no_such_setting', '1');

-- Two countries: United Kingdom 3 x 10.00 = 30.00, France 10.00; total 40.
-- Defaults (0.80, 0.95): UK has 0 before it -> A; France has 30/40 = 0.75
-- before it, < 0.80 -> A.  With abc_a 0.5 and abc_b 0.7: France's 0.75 is
-- not below 0.7 -> C.
BEGIN;
DELETE FROM bronze.transactions_raw;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country) VALUES
	('1001', '85123A', 'HEART', '3', '2011-12-01 10:00', '10.00', '10', 'United Kingdom'),
	('1002', '85123A', 'HEART', '1', '2011-12-02 10:00', '10.00', '20', 'France');
SET LOCAL client_min_messages = warning;
CALL retail.refresh(concurrently => false);
SELECT rank, country, revenue, share, cum_share_before, abc_class FROM gold.mart_countries_abc ORDER BY rank;
INSERT INTO retail.settings VALUES ('abc_a', '0.5'), ('abc_b', '0.7');
SELECT name, value, overridden FROM retail.current_settings WHERE name LIKE 'abc%' ORDER BY name;
CALL retail.refresh();
SELECT rank, country, abc_class FROM gold.mart_countries_abc ORDER BY rank;
ROLLBACK;

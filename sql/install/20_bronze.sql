
-- Bronze: order lines as loaded.  Its rows are user data, so pg_dump keeps them.
CREATE SEQUENCE bronze.transactions_raw_load_ordinal_seq;
CREATE TABLE bronze.transactions_raw (
	invoice_no text,
	stock_code text,
	description text,
	quantity text,
	invoice_date text,
	unit_price text,
	customer_id text,
	country text,
	-- above 0, where the refresh's watermark starts (see retail.refresh_run)
	load_ordinal bigint NOT NULL PRIMARY KEY
		DEFAULT nextval('bronze.transactions_raw_load_ordinal_seq') CHECK (load_ordinal > 0),
	batch_id bigint NOT NULL DEFAULT txid_current(),
	loaded_at timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE bronze.transactions_raw_load_ordinal_seq OWNED BY bronze.transactions_raw.load_ordinal;
COMMENT ON TABLE bronze.transactions_raw IS
	'Order lines of the UCI Online Retail shape exactly as loaded; load_ordinal keeps file order, batch_id is the loading transaction';
COMMENT ON COLUMN bronze.transactions_raw.load_ordinal IS
	'Position in load order, unique, above 0; given by the sequence (retail_loader cannot write it)';
COMMENT ON COLUMN bronze.transactions_raw.batch_id IS 'Id of the transaction that loaded the row: one \copy is one batch';
SELECT pg_catalog.pg_extension_config_dump('bronze.transactions_raw', '');
SELECT pg_catalog.pg_extension_config_dump('bronze.transactions_raw_load_ordinal_seq', '');

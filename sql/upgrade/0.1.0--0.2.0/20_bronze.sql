
-- Ordinals stay above 0, where the refresh's watermark starts (20_bronze.sql).
ALTER TABLE bronze.transactions_raw
	ADD CONSTRAINT transactions_raw_load_ordinal_check CHECK (load_ordinal > 0);
COMMENT ON COLUMN bronze.transactions_raw.load_ordinal IS
	'Position in load order, unique, above 0; given by the sequence (retail_loader cannot write it)';

-- retail.refresh() next to readers: a reader inside an open transaction
-- (another session, through dblink) does not block a concurrent refresh,
-- and still sees the old contents until it ends.  lock_timeout turns a
-- block into an error instead of a hang.
CREATE EXTENSION dblink;
TRUNCATE bronze.transactions_raw RESTART IDENTITY;
INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
VALUES ('536365', '85123A', 'HEART', '6', '2010-12-01 08:26', '2.55', '17850', 'United Kingdom');
SET client_min_messages = warning;
CALL retail.refresh(concurrently => false);

SELECT dblink_connect('reader', format('dbname=%s port=%s host=%s', current_database(),
									   current_setting('port'),
									   split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('reader', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('reader', 'SELECT count(*) FROM silver.cleaned_transactions') AS t(n bigint);

INSERT INTO bronze.transactions_raw (invoice_no, stock_code, description, quantity, invoice_date,
									 unit_price, customer_id, country)
VALUES ('536366', '22633', 'HAND WARMER', '6', '2010-12-01 08:28', '1.85', '17850', 'United Kingdom');
SET lock_timeout = '2s';
CALL retail.refresh();
SELECT count(*) AS lines_now FROM silver.cleaned_transactions;
SELECT * FROM dblink('reader', 'SELECT count(*) FROM silver.cleaned_transactions') AS t(reader_still_sees bigint);

-- a rebuild (not concurrent) has to wait for the reader: here it times out
\set VERBOSITY terse
CALL retail.refresh(concurrently => false, full => true);
\set VERBOSITY default

SELECT dblink_exec('reader', 'COMMIT');
SELECT * FROM dblink('reader', 'SELECT count(*) FROM silver.cleaned_transactions') AS t(reader_sees_after_commit bigint);
SELECT dblink_disconnect('reader');
RESET lock_timeout;
RESET client_min_messages;
TRUNCATE bronze.transactions_raw RESTART IDENTITY;
DROP EXTENSION dblink;

-- Distributed mode (retail.distribute) needs a Citus coordinator with
-- workers; test/citus/run checks it there.  On a plain server it refuses,
-- before any change, and a bad shard count is refused first.
SELECT * FROM retail.distribute(0);
SELECT * FROM retail.distribute(64001);
SELECT * FROM retail.distribute(NULL);
SELECT * FROM retail.distribute();

-- Included by the tests that compare serial and parallel plans: makes the
-- planner choose 2 workers even on small tables, and runs plans in workers.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- PostgreSQL 16 renamed force_parallel_mode debug_parallel_query
SELECT CASE WHEN current_setting('server_version_num')::int < 160000
	THEN 'force_parallel_mode' ELSE 'debug_parallel_query' END AS parallel_mode_setting \gset
SET :parallel_mode_setting = regress;

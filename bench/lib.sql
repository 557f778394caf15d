-- Shared by the bench/*.sql scripts: time a statement side by side with others.
-- pg_temp.bench(label, query, repeats) runs query repeats times in this
-- session and returns the median wall-clock seconds.  repeats defaults to
-- the setting bench.repeats (bench/run --repeats N), else 3.
CREATE FUNCTION pg_temp.bench(bench_label text, query text,
							  repeats int DEFAULT coalesce(nullif(current_setting('bench.repeats', true), '')::int, 3))
RETURNS TABLE (label text, seconds numeric)
LANGUAGE plpgsql AS $$
DECLARE
	timings numeric[] := '{}';
	started timestamptz;
BEGIN
	FOR i IN 1..repeats LOOP
		started := clock_timestamp();
		EXECUTE query;
		timings := timings || extract(epoch FROM clock_timestamp() - started);
	END LOOP;
	label := bench_label;
	seconds := round((SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(timings) t), 3);
	RETURN NEXT;
END
$$;

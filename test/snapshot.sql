-- Snapshots of every silver and gold relation as text, to compare a refresh
-- with an earlier state row by row (as text, so display scales count too).
-- Used by test/realdata/sql/incremental.sql and test/crash/run:
--   SELECT snap.save();               -- copy every relation aside
--   SELECT * FROM snap.differences(); -- rows now, rows differing from the copy
CREATE SCHEMA snap;

-- The tables of silver and the stored marts of gold (in gold_store), by name.
CREATE FUNCTION snap.relations() RETURNS SETOF text LANGUAGE sql AS $$
	SELECT format('%I.%I', n.nspname, c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE (n.nspname, c.relkind) IN (('silver', 'r'), ('gold_store', 'm'), ('gold_store', 'r'))
	ORDER BY n.nspname DESC, c.relname
$$;

CREATE FUNCTION snap.save() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	rel text;
BEGIN
	FOR rel IN SELECT snap.relations() LOOP
		EXECUTE format('DROP TABLE IF EXISTS snap.%I', rel);
		EXECUTE format('CREATE TABLE snap.%I AS SELECT t::text AS row FROM %s t', rel, rel);
	END LOOP;
END $$;

-- Each relation with its rows now and how many rows of the text form the
-- copy has and the relation lacks, plus the reverse.
CREATE FUNCTION snap.differences() RETURNS TABLE (relation text, rows bigint, differing bigint)
LANGUAGE plpgsql AS $$
BEGIN
	FOR relation IN SELECT snap.relations() LOOP
		EXECUTE format('SELECT count(*) FROM %s', relation) INTO rows;
		EXECUTE format('SELECT count(*) FROM ((SELECT row FROM snap.%1$I EXCEPT ALL SELECT t::text FROM %2$s t)
											 UNION ALL
											 (SELECT t::text FROM %2$s t EXCEPT ALL SELECT row FROM snap.%1$I)) d',
					   relation, relation) INTO differing;
		RETURN NEXT;
	END LOOP;
END $$;

-- Prints doc/reference.md from a fresh install (scripts/reference): the
-- settings, every gold relation with its columns, and the functions, each
-- with the comment the install gives it.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
\pset footer off
SET search_path = pg_catalog;

CREATE FUNCTION pg_temp.cell(value text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN replace(replace(coalesce(value, ''), '|', '\|'), E'\n', ' ');

SELECT '# Reference

Generated from a fresh install by `scripts/reference` (from `doc/reference.sql`); `scripts/test` fails when it
differs, so it is what the extension says of itself. Guides: [refresh and operation](refresh.md),
[settings](settings.md), [bronze and silver](silver.md), [RFM](rfm.md), [cohorts](cohort.md), [ABC/XYZ](abc.md),
[gold for BI](gold.md), [customer value](btyd.md), [the report](report.md), [the generator](generate.md).

## Settings

`SELECT retail.set_setting(name, value)`, `retail.reset_setting(name)`; `retail.current_settings` shows the values
in force. A value is checked when written and again when read.

| setting | default | allowed | what it sets |
| --- | --- | --- | --- |';
SELECT format('| `%s` | %s | %s | %s |', d.name, coalesce('`' || d.default_value || '`', 'none'),
			  pg_temp.cell(retail.setting_allowed(d)), pg_temp.cell(d.description))
FROM retail.setting_defaults d
ORDER BY d.name COLLATE "C";

SELECT '
## Gold

What BI tools and `retail_bi` read: plain views (and tables), each column described.';
SELECT format(E'\n### `%s`\n\n%s\n\n| column | type | meaning |\n| --- | --- | --- |\n%s',
			  c.oid::regclass, pg_temp.cell(obj_description(c.oid, 'pg_class')),
			  string_agg(format('| `%s` | %s | %s |', a.attname, format_type(a.atttypid, a.atttypmod),
								pg_temp.cell(col_description(c.oid, a.attnum))), E'\n' ORDER BY a.attnum))
FROM pg_class c
	 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'gold'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
GROUP BY c.oid
ORDER BY c.oid::regclass::text COLLATE "C";

SELECT '
## Functions

Schema `retail`. BI: whether `retail_bi` may run it. The support functions of the aggregates and the trigger
functions are left out.';
SELECT format(E'\n### %s\n\n| %s | returns | BI | what it does |\n| --- | --- | --- | --- |\n%s',
			  k.title, k.noun,
			  string_agg(format('| `%s(%s)` | %s | %s | %s |', p.proname, pg_get_function_arguments(p.oid),
								CASE WHEN p.prokind = 'p' THEN '' ELSE pg_temp.cell(pg_get_function_result(p.oid)) END,
								CASE WHEN has_function_privilege('retail_bi', p.oid, 'EXECUTE') THEN 'yes' ELSE 'no' END,
								pg_temp.cell(obj_description(p.oid, 'pg_proc'))),
						 E'\n' ORDER BY p.proname COLLATE "C", pg_get_function_arguments(p.oid) COLLATE "C"))
FROM pg_proc p
	 JOIN (VALUES ('a', 1, 'Aggregates', 'aggregate'), ('f', 2, 'Functions', 'function'),
				  ('p', 3, 'Procedures', 'procedure'), ('w', 4, 'Window functions', 'function'))
		  AS k(kind, position, title, noun) ON k.kind = p.prokind
WHERE p.pronamespace = 'retail'::regnamespace
  AND p.prorettype <> 'trigger'::regtype
  AND NOT EXISTS (SELECT FROM pg_aggregate g
				  WHERE p.oid IN (g.aggtransfn, g.aggfinalfn, g.aggcombinefn, g.aggserialfn, g.aggdeserialfn,
								  g.aggmtransfn, g.aggminvtransfn, g.aggmfinalfn))
GROUP BY k.position, k.title, k.noun
ORDER BY k.position;

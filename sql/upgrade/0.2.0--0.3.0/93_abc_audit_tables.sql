
-- The ABC marts and the audit are tables that steps 300, 310 and 400 bring
-- to the rows of their queries through retail.sync_table, writing only the
-- rows that change, in place of materialized views refreshed CONCURRENTLY
-- (sql/install/90_refresh.sql, 60_abc.sql, 70_audit.sql).  The gold views
-- are made again over the tables, the audit's in its order; the first
-- refresh after the update (a rebuild, see 29_cancellations.sql) fills the
-- tables.  Column comments: 96_gold_columns.sql, as for every gold relation.
COMMENT ON SCHEMA gold_store IS
	'The stored rows of the gold marts (tables and materialized views that retail.refresh() keeps); read them through the views of gold';

-- The ABC marts and the audit, computed whole at each refresh, are tables
-- that their steps bring to the rows of their queries, matched by primary
-- key: only the rows gone, changed or new are written, under row locks, so
-- readers are never blocked and see the change at the commit (REFRESH
-- MATERIALIZED VIEW CONCURRENTLY compared whole rows, and deleted and
-- inserted every changed one).  The query runs once (MATERIALIZED); a row
-- whose values are all equal, NULL to NULL, is not written again.
CREATE FUNCTION retail.sync_table(target regclass, query text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	columns text;
	assignments text;
	same_key text;
	written bigint;
BEGIN
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
		   string_agg(format('%1$I = s.%1$I', a.attname), ', ' ORDER BY a.attnum)
	INTO columns, assignments
	FROM pg_attribute a
	WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped;
	SELECT string_agg(format('t.%1$I = s.%1$I', a.attname), ' AND ')
	INTO same_key
	FROM pg_index i
		 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
	WHERE i.indrelid = target AND i.indisprimary;
	IF same_key IS NULL THEN
		RAISE EXCEPTION 'table % has no primary key', target
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'retail.sync_table matches the rows of the query with the table''s by its primary key.';
	END IF;
	-- the query's columns take the table's names, in order: one too many or
	-- too few is an error
	EXECUTE format($sync$
		WITH source (%2$s) AS MATERIALIZED (
			%3$s
		),
		gone AS (
			DELETE FROM %1$s t
			WHERE NOT EXISTS (SELECT FROM source s WHERE %4$s)
			RETURNING 1
		),
		changed AS (
			UPDATE %1$s t SET %5$s
			FROM source s
			WHERE %4$s AND ROW(t.*) IS DISTINCT FROM ROW(s.*)
			RETURNING 1
		),
		added AS (
			INSERT INTO %1$s
			SELECT s.* FROM source s
			WHERE NOT EXISTS (SELECT FROM %1$s t WHERE %4$s)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
	$sync$, target, columns, query, same_key, assignments) INTO written;
	RETURN written;
END
$$;
COMMENT ON FUNCTION retail.sync_table(regclass, text) IS
	'Bring a table to exactly the rows of a query (its columns, in order), matched by the table''s primary key: delete the keys the query lacks, update the rows whose values differ (IS DISTINCT FROM), insert the new keys; returns the rows written. Row-level writes only: readers are not blocked and see the change at the commit';

DROP VIEW gold.mart_countries_abc, gold.mart_products_abc, gold.audit_order_anomalies;
DROP MATERIALIZED VIEW gold_store.mart_countries_abc, gold_store.mart_products_abc,
	gold_store.audit_order_anomalies;

CREATE TABLE gold_store.mart_countries_abc (
	rank bigint,
	country text PRIMARY KEY,
	revenue numeric(38, 6),
	share double precision,
	cum_share_before double precision,
	abc_class text
);
COMMENT ON TABLE gold_store.mart_countries_abc IS
	'Countries ranked by revenue with share, share of the countries before, and ABC class (A < 80 %, B < 95 %, else C)';
CREATE VIEW gold.mart_countries_abc AS SELECT * FROM gold_store.mart_countries_abc;

CREATE TABLE gold_store.mart_products_abc (
	rank bigint,
	stock_code text PRIMARY KEY,
	description text,
	revenue numeric(38, 6),
	share double precision,
	cum_share_before double precision,
	abc_class text,
	cv double precision,
	xyz_class text,
	abc_xyz text
);
COMMENT ON TABLE gold_store.mart_products_abc IS
	'Products (stock_code) ranked by revenue with ABC class, coefficient of variation of monthly units, XYZ class (X < 0.5, Y < 1.0, else Z; N when the active span is shorter than 3 months) and the ABC-XYZ cell';
CREATE VIEW gold.mart_products_abc AS SELECT * FROM gold_store.mart_products_abc;

CREATE TABLE gold_store.audit_order_anomalies (
	invoice_no text,
	customer_id bigint,
	country text,
	invoice_ts timestamp,
	total numeric(38, 6),
	z double precision,
	reason text,
	stock_code text,
	unit_price numeric(38, 6),
	product_median_price numeric(38, 6),
	PRIMARY KEY (invoice_no, reason)
);
COMMENT ON TABLE gold_store.audit_order_anomalies IS
	'Orders flagged by a modified z-score above the setting audit_threshold (3.5), or mixing customers or countries: one row per (order, reason), strongest |z| first';
CREATE VIEW gold.audit_order_anomalies AS
SELECT * FROM gold_store.audit_order_anomalies ORDER BY abs(z) DESC NULLS LAST, invoice_no, reason;

CREATE FUNCTION retail.maintain_countries_abc(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN retail.sync_table('gold_store.mart_countries_abc', $query$
		SELECT rank, country, revenue::numeric(38, 6) AS revenue,
			   retail.fraction(revenue, sum(revenue) OVER ()) AS share,
			   retail.fraction(coalesce(sum(revenue) OVER preceding, 0), sum(revenue) OVER ()) AS cum_share_before,
			   abc_class
		FROM retail.countries_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric)
		WINDOW preceding AS (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
	$query$);
END
$$;
COMMENT ON FUNCTION retail.maintain_countries_abc(bigint, bigint, boolean) IS
	'Step 300 of retail.refresh(): brings gold_store.mart_countries_abc to retail.countries_abc() at the settings abc_a and abc_b, from all of silver whatever the lines (after, through], writing only the rows that change; returns how many rows it wrote';

CREATE FUNCTION retail.maintain_products_abc(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN retail.sync_table('gold_store.mart_products_abc', $query$
		SELECT rank, stock_code, description, revenue::numeric(38, 6) AS revenue,
			   retail.fraction(revenue, sum(revenue) OVER ()) AS share,
			   retail.fraction(coalesce(sum(revenue) OVER preceding, 0), sum(revenue) OVER ()) AS cum_share_before,
			   abc_class, cv::double precision AS cv, xyz_class, abc_xyz
		FROM retail.products_abc((SELECT retail.setting('abc_a'))::numeric, (SELECT retail.setting('abc_b'))::numeric,
								 (SELECT retail.setting('xyz_x'))::numeric, (SELECT retail.setting('xyz_y'))::numeric)
		WINDOW preceding AS (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
	$query$);
END
$$;
COMMENT ON FUNCTION retail.maintain_products_abc(bigint, bigint, boolean) IS
	'Step 310 of retail.refresh(): brings gold_store.mart_products_abc to retail.products_abc() at the settings abc_a, abc_b, xyz_x and xyz_y, from all of silver whatever the lines (after, through], writing only the rows that change; returns how many rows it wrote';

CREATE FUNCTION retail.maintain_order_anomalies(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN retail.sync_table('gold_store.audit_order_anomalies', $query$
		SELECT invoice_no, customer_id, country, invoice_ts, total::numeric(38, 6) AS total, z, reason, stock_code,
			   unit_price::numeric(38, 6) AS unit_price, product_median_price::numeric(38, 6) AS product_median_price
		FROM retail.order_anomalies((SELECT retail.setting('audit_threshold'))::double precision)
	$query$);
END
$$;
COMMENT ON FUNCTION retail.maintain_order_anomalies(bigint, bigint, boolean) IS
	'Step 400 of retail.refresh(): brings gold_store.audit_order_anomalies to retail.order_anomalies() at the setting audit_threshold, from all of silver whatever the lines (after, through], writing only the rows that change; returns how many rows it wrote';

UPDATE retail.refresh_steps s
SET maintain = m.maintain
FROM (VALUES ('mart_countries_abc', 'retail.maintain_countries_abc(bigint, bigint, boolean)'::regprocedure),
			 ('mart_products_abc', 'retail.maintain_products_abc(bigint, bigint, boolean)'),
			 ('audit_order_anomalies', 'retail.maintain_order_anomalies(bigint, bigint, boolean)')) m(view_name, maintain)
WHERE s.schema_name = 'gold_store' AND s.view_name = m.view_name;
REVOKE EXECUTE ON FUNCTION retail.sync_table(regclass, text), retail.maintain_countries_abc(bigint, bigint, boolean),
	retail.maintain_products_abc(bigint, bigint, boolean), retail.maintain_order_anomalies(bigint, bigint, boolean)
	FROM PUBLIC;
REVOKE ALL ON gold_store.mart_countries_abc, gold_store.mart_products_abc, gold_store.audit_order_anomalies
	FROM retail_bi;
GRANT SELECT ON gold.mart_countries_abc, gold.mart_products_abc, gold.audit_order_anomalies TO retail_bi;

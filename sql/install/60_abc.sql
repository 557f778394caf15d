-- ABC (Pareto) and XYZ (demand variability) classification, one unit: the
-- aggregates (src/abc.c), the ad-hoc forms, the marts gold.mart_countries_abc
-- and gold.mart_products_abc (steps 300 and 310) with their settings and
-- column comments; its test is test/sql/abc.sql.

CREATE TYPE retail.abc_item AS (
	rank bigint,
	key text,
	value numeric,
	share numeric,
	cum_share_before numeric,
	abc_class text
);
COMMENT ON TYPE retail.abc_item IS
	'One classified item of retail.abc_classify: rank (value desc, key asc), key, summed value, share of the total, share of the items ranked before, class A/B/C';

-- abc_classify: support functions.  The transition function serves both
-- aggregates; with two arguments it uses the default thresholds.
CREATE FUNCTION retail.abc_classify_trans(internal, text, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_trans(internal, text, numeric) IS
	'Transition function of retail.abc_classify(text, numeric): sums the value of each key';

CREATE FUNCTION retail.abc_classify_trans(internal, text, numeric, numeric, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_trans(internal, text, numeric, numeric, numeric) IS
	'Transition function of retail.abc_classify(text, numeric, numeric, numeric): sums the value of each key';

CREATE FUNCTION retail.abc_classify_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_combine(internal, internal) IS
	'Combine function of retail.abc_classify: merges two partial states';

CREATE FUNCTION retail.abc_classify_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_abc_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_serial(internal) IS
	'Serialization function of retail.abc_classify';

CREATE FUNCTION retail.abc_classify_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_abc_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_deserial(bytea, internal) IS
	'Deserialization function of retail.abc_classify; rejects malformed states';

CREATE FUNCTION retail.abc_classify_final(internal) RETURNS retail.abc_item[]
	AS 'MODULE_PATHNAME', 'ra_abc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.abc_classify_final(internal) IS
	'Final function of retail.abc_classify: ranks a copy of the items and classifies them';

CREATE AGGREGATE retail.abc_classify(key text, value numeric) (
	SFUNC = retail.abc_classify_trans,
	STYPE = internal,
	SSPACE = 8192,
	FINALFUNC = retail.abc_classify_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.abc_classify_combine,
	SERIALFUNC = retail.abc_classify_serial,
	DESERIALFUNC = retail.abc_classify_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.abc_classify(text, numeric) IS
	'ABC classification of (key, value) pairs with thresholds 0.80 and 0.95: an array of retail.abc_item in rank order (unnest it); keys are told apart byte by byte whatever their collation (under a nondeterministic one ''a'' and ''A'' are two items), the collation only orders items of equal value';

CREATE AGGREGATE retail.abc_classify(key text, value numeric, a numeric, b numeric) (
	SFUNC = retail.abc_classify_trans,
	STYPE = internal,
	SSPACE = 8192,
	FINALFUNC = retail.abc_classify_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.abc_classify_combine,
	SERIALFUNC = retail.abc_classify_serial,
	DESERIALFUNC = retail.abc_classify_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.abc_classify(text, numeric, numeric, numeric) IS
	'ABC classification of (key, value) pairs: A while the share ranked before is < a, B while < b, else C (0 < a < b <= 1); an array of retail.abc_item; keys are told apart byte by byte whatever their collation, the collation only orders items of equal value';

-- most_frequent: the mode of a text column, ties to the first in collation order.
CREATE FUNCTION retail.most_frequent_trans(internal, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_trans(internal, text) IS
	'Transition function of retail.most_frequent: counts each distinct value';

CREATE FUNCTION retail.most_frequent_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_combine(internal, internal) IS
	'Combine function of retail.most_frequent: merges two partial states';

CREATE FUNCTION retail.most_frequent_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_most_frequent_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_serial(internal) IS
	'Serialization function of retail.most_frequent';

CREATE FUNCTION retail.most_frequent_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_deserial(bytea, internal) IS
	'Deserialization function of retail.most_frequent; rejects malformed states';

CREATE FUNCTION retail.most_frequent_final(internal) RETURNS text
	AS 'MODULE_PATHNAME', 'ra_most_frequent_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_final(internal) IS
	'Final function of retail.most_frequent';

CREATE AGGREGATE retail.most_frequent(text) (
	SFUNC = retail.most_frequent_trans,
	STYPE = internal,
	SSPACE = 256,
	FINALFUNC = retail.most_frequent_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.most_frequent_combine,
	SERIALFUNC = retail.most_frequent_serial,
	DESERIALFUNC = retail.most_frequent_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.most_frequent(text) IS
	'Most frequent non-NULL value; among equally frequent values the first in the collation''s order (NULL when there is none); values are counted byte by byte whatever their collation (under a nondeterministic one ''a'' and ''A'' are two values)';

-- The weighted form: each value counts weight times, as from a table of
-- counts.  The same C and support functions as the unweighted form.
CREATE FUNCTION retail.most_frequent_trans(internal, text, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_most_frequent_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.most_frequent_trans(internal, text, bigint) IS
	'Transition function of retail.most_frequent(text, bigint): adds each value''s weight to its count';

CREATE AGGREGATE retail.most_frequent(value text, weight bigint) (
	SFUNC = retail.most_frequent_trans,
	STYPE = internal,
	SSPACE = 256,
	FINALFUNC = retail.most_frequent_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.most_frequent_combine,
	SERIALFUNC = retail.most_frequent_serial,
	DESERIALFUNC = retail.most_frequent_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.most_frequent(text, bigint) IS
	'Non-NULL value with the largest sum of weights, each row counting weight times (what retail.most_frequent(value) gives on the rows repeated weight times); ties as there; a weight of 0 adds nothing, a NULL or negative weight of a non-NULL value is an error; NULL when no value has weight';

-- xyz_cv: coefficient of variation of monthly units over the active span
-- (NULL under 3 months: class N).
CREATE FUNCTION retail.xyz_cv_trans(internal, timestamp, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_xyz_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_trans(internal, timestamp, bigint) IS
	'Transition function of retail.xyz_cv: adds units to their calendar month';

CREATE FUNCTION retail.xyz_cv_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_xyz_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_combine(internal, internal) IS
	'Combine function of retail.xyz_cv: merges two partial states';

CREATE FUNCTION retail.xyz_cv_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_xyz_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_serial(internal) IS
	'Serialization function of retail.xyz_cv';

CREATE FUNCTION retail.xyz_cv_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_xyz_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_deserial(bytea, internal) IS
	'Deserialization function of retail.xyz_cv; rejects malformed states';

CREATE FUNCTION retail.xyz_cv_final(internal) RETURNS numeric
	AS 'MODULE_PATHNAME', 'ra_xyz_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_cv_final(internal) IS
	'Final function of retail.xyz_cv';

CREATE AGGREGATE retail.xyz_cv(month timestamp, units bigint) (
	SFUNC = retail.xyz_cv_trans,
	STYPE = internal,
	SSPACE = 256,
	FINALFUNC = retail.xyz_cv_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.xyz_cv_combine,
	SERIALFUNC = retail.xyz_cv_serial,
	DESERIALFUNC = retail.xyz_cv_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.xyz_cv(timestamp, bigint) IS
	'Coefficient of variation (population stddev / mean) of units per calendar month from the first to the last month with a row, empty months counting 0; NULL when that span is shorter than 3 months (no demand pattern yet) or has no units';

CREATE FUNCTION retail.xyz_class(cv numeric, x numeric DEFAULT 0.5, y numeric DEFAULT 1.0) RETURNS text
	AS 'MODULE_PATHNAME', 'ra_xyz_class' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.xyz_class(numeric, numeric, numeric) IS
	'XYZ class of a coefficient of variation: X if cv < x, Y if cv < y, else Z (0 < x < y); N (new, no demand pattern yet) for a NULL cv';

INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('abc_a', '0.80', 'ABC marts: class A while the share ranked before is below this',
	 'number', 0, true, 1, false),
	('abc_b', '0.95', 'ABC marts: class B while the share ranked before is below this',
	 'number', 0, true, 1, false),
	('xyz_x', '0.5', 'gold.mart_products_abc: class X below this coefficient of variation',
	 'number', 0, true, NULL, false),
	('xyz_y', '1.0', 'gold.mart_products_abc: class Y below this coefficient of variation',
	 'number', 0, true, NULL, false);

-- The marts' queries, with their thresholds as arguments.
-- Shares as the marts give them: doubles through retail.fraction().
CREATE FUNCTION retail.countries_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95)
RETURNS TABLE (rank bigint, country text, revenue numeric, share double precision,
			   cum_share_before double precision, abc_class text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT i.rank, i.key, i.value, retail.fraction(i.value, sum(i.value) OVER ()),
		   retail.fraction(coalesce(sum(i.value) OVER (ORDER BY i.rank ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
						   sum(i.value) OVER ()),
		   i.abc_class
	FROM (SELECT retail.abc_classify(c.country, c.revenue, countries_abc.a, countries_abc.b) AS items
		  FROM silver.country_state c) s
		 CROSS JOIN LATERAL unnest(s.items) i
	ORDER BY i.rank;
END;
COMMENT ON FUNCTION retail.countries_abc(numeric, numeric) IS
	'ABC classification of countries by revenue (sum of silver line_total) with thresholds a and b: the query of gold.mart_countries_abc';

CREATE FUNCTION retail.products_abc(a numeric DEFAULT 0.80, b numeric DEFAULT 0.95,
									x numeric DEFAULT 0.5, y numeric DEFAULT 1.0)
RETURNS TABLE (rank bigint, stock_code text, description text, revenue numeric, share numeric,
			   cum_share_before numeric, abc_class text, cv numeric, xyz_class text, abc_xyz text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH products AS (
		SELECT s.stock_code, sum(s.revenue) AS revenue, retail.xyz_cv(s.month::timestamp, s.units) AS cv
		FROM silver.product_months s
		GROUP BY s.stock_code
	),
	descriptions AS (
		-- the most frequent, ties to the first in collation order
		SELECT d.stock_code, retail.most_frequent(d.description, d.lines) AS description
		FROM silver.product_descriptions d
		GROUP BY d.stock_code
	),
	ranked AS (
		SELECT i.rank, i.key, i.value, i.share, i.cum_share_before, i.abc_class
		FROM (SELECT retail.abc_classify(p.stock_code, p.revenue, products_abc.a, products_abc.b) AS items
			  FROM products p) s
			 CROSS JOIN LATERAL unnest(s.items) i
	)
	SELECT r.rank, r.key, d.description, r.value, r.share, r.cum_share_before, r.abc_class,
		   p.cv, k.xyz_class, r.abc_class || k.xyz_class
	FROM ranked r
		 JOIN products p ON p.stock_code = r.key
		 LEFT JOIN descriptions d ON d.stock_code = r.key
		 CROSS JOIN LATERAL (SELECT retail.xyz_class(p.cv, products_abc.x, products_abc.y)) k(xyz_class)
	ORDER BY r.rank;
END;
COMMENT ON FUNCTION retail.products_abc(numeric, numeric, numeric, numeric) IS
	'ABC by revenue and XYZ by monthly demand variability of products (stock_code) with thresholds a, b, x, y (N: an active span under 3 months): the query of gold.mart_products_abc';

-- The marts are tables that steps 300 and 310 bring to the rows of their
-- query (retail.sync_table), writing only the rows that change.
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

-- What the columns mean where their names alone do not say
-- (96_gold_columns.sql gives the names common to the marts theirs).
COMMENT ON COLUMN gold_store.mart_countries_abc.country IS
	'Country';
COMMENT ON COLUMN gold_store.mart_countries_abc.revenue IS
	'Revenue of the country: sum of line_total';
COMMENT ON COLUMN gold_store.mart_products_abc.revenue IS
	'Revenue of the product: sum of line_total';
COMMENT ON COLUMN gold_store.mart_products_abc.description IS
	'The product''s most frequent description (ties: the first alphabetically)';
COMMENT ON COLUMN gold_store.mart_products_abc.cv IS
	'Coefficient of variation of monthly units over the product''s active span (months without a line count 0); NULL when the span is shorter than 3 calendar months';
COMMENT ON COLUMN gold_store.mart_products_abc.xyz_class IS
	'X if cv < setting xyz_x (0.5), Y if cv < xyz_y (1.0), else Z; N (new) when cv is NULL: an active span shorter than 3 calendar months has no demand pattern yet';
COMMENT ON COLUMN gold_store.mart_products_abc.abc_xyz IS
	'abc_class followed by xyz_class, e.g. AX, CN';

-- Steps 300 and 310 of the refresh.  A share moves with every key's
-- revenue, so the marts are computed whole whatever the batch touched; the
-- settings are sub-selects, read once a refresh, not once a line.
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

INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(300, 'gold', 'gold_store', 'mart_countries_abc', 'retail.maintain_countries_abc(bigint, bigint, boolean)'),
	(310, 'gold', 'gold_store', 'mart_products_abc', 'retail.maintain_products_abc(bigint, bigint, boolean)');

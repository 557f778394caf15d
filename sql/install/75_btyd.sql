
-- Customer lifetime value (src/btyd.c): the BG/NBD and Gamma-Gamma models of
-- spec/metrics.md, "Gold: customer lifetime value (BTYD)".  The summary per
-- customer (retail.btyd_summary), two fitting aggregates over customers, the
-- predictions under a fitted model, a holdout check and a simulator.  This
-- part is also run by the upgrade scripts.

CREATE TYPE retail.bgnbd_model AS (
	r double precision,
	alpha double precision,
	a double precision,
	b double precision,
	log_likelihood double precision,
	customers bigint,
	converged boolean
);
COMMENT ON TYPE retail.bgnbd_model IS
	'A fitted BG/NBD model: purchase rates Gamma(r, alpha) (alpha in the unit of the times), dropout probabilities Beta(a, b); the maximum log-likelihood, the customers it was fitted on, and whether the fit converged inside the parameter space';

CREATE TYPE retail.gamma_gamma_model AS (
	p double precision,
	q double precision,
	gamma double precision,
	log_likelihood double precision,
	customers bigint,
	converged boolean
);
COMMENT ON TYPE retail.gamma_gamma_model IS
	'A fitted Gamma-Gamma model of the value per purchase: values Gamma(p, nu), nu ~ Gamma(q, gamma); the maximum log-likelihood, the repeat buyers it was fitted on, and whether the fit converged inside the parameter space';

-- Both aggregates keep the customers per distinct point in one state type.
CREATE FUNCTION retail.bgnbd_fit_trans(internal, integer, double precision, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_fit_trans(internal, integer, double precision, double precision) IS
	'Transition of retail.bgnbd_fit: counts a customer at its (frequency, recency, age)';
CREATE FUNCTION retail.gamma_gamma_fit_trans(internal, integer, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_fit_trans(internal, integer, double precision) IS
	'Transition of retail.gamma_gamma_fit: counts a repeat buyer at its (frequency, monetary_value)';
CREATE FUNCTION retail.btyd_points_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_btyd_points_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_points_combine(internal, internal) IS
	'Combine function of retail.bgnbd_fit and retail.gamma_gamma_fit: adds the counts of each point';
CREATE FUNCTION retail.btyd_points_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_btyd_points_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_points_serial(internal) IS
	'Serialize a state of retail.bgnbd_fit or retail.gamma_gamma_fit';
CREATE FUNCTION retail.btyd_points_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_btyd_points_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_points_deserial(bytea, internal) IS
	'Deserialize and validate a state of retail.bgnbd_fit or retail.gamma_gamma_fit';
CREATE FUNCTION retail.bgnbd_fit_final(internal) RETURNS retail.bgnbd_model
	AS 'MODULE_PATHNAME', 'ra_bgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_fit_final(internal) IS
	'Final function of retail.bgnbd_fit: maximum likelihood (Nelder-Mead, then BFGS)';
CREATE FUNCTION retail.gamma_gamma_fit_final(internal) RETURNS retail.gamma_gamma_model
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_fit_final(internal) IS
	'Final function of retail.gamma_gamma_fit: maximum likelihood (Nelder-Mead, then BFGS)';

CREATE AGGREGATE retail.bgnbd_fit(frequency integer, recency double precision, age double precision) (
	SFUNC = retail.bgnbd_fit_trans, STYPE = internal,
	FINALFUNC = retail.bgnbd_fit_final, COMBINEFUNC = retail.btyd_points_combine,
	SERIALFUNC = retail.btyd_points_serial, DESERIALFUNC = retail.btyd_points_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.bgnbd_fit(integer, double precision, double precision) IS
	'Fits a BG/NBD model by maximum likelihood over customers (one row each, as retail.btyd_summary gives them); rows with a NULL are skipped; no customer, or no repeat buyer, is an error; a maximum at the edge of the parameter space gives converged = false and a NOTICE naming the parameter';

CREATE AGGREGATE retail.gamma_gamma_fit(frequency integer, monetary_value double precision) (
	SFUNC = retail.gamma_gamma_fit_trans, STYPE = internal,
	FINALFUNC = retail.gamma_gamma_fit_final, COMBINEFUNC = retail.btyd_points_combine,
	SERIALFUNC = retail.btyd_points_serial, DESERIALFUNC = retail.btyd_points_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.gamma_gamma_fit(integer, double precision) IS
	'Fits a Gamma-Gamma model by maximum likelihood over the customers with frequency above 0 (monetary_value must be positive there); no such customer is an error; a maximum at the edge of the parameter space gives converged = false and a NOTICE naming the parameter';

-- Both models at once, from customers given as summaries: the marts' path.
CREATE TYPE retail.btyd_customer AS (
	customer_id bigint,
	frequency integer,
	recency double precision,
	age double precision,
	monetary_value double precision
);
COMMENT ON TYPE retail.btyd_customer IS 'A customer as retail.btyd_summary gives it';

-- retail.btyd_models, the marts' path, is in 76_btyd_models.sql, with the other purchase models.

CREATE FUNCTION retail.bgnbd_expected_purchases(model retail.bgnbd_model, t double precision, frequency integer,
												recency double precision, age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_bgnbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_expected_purchases(retail.bgnbd_model, double precision, integer, double precision,
													double precision) IS
	'Expected repeat purchases of a customer in the next t units after the calibration end (Fader, Hardie & Lee 2005, eq. 10); NULL, with a NOTICE for the first of a query, where double precision cannot give it to 1e-8 (at extreme parameters, such as r far above a + b) or it is not below 1e32';

CREATE FUNCTION retail.bgnbd_p_alive(model retail.bgnbd_model, frequency integer, recency double precision,
									 age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_bgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_p_alive(retail.bgnbd_model, integer, double precision, double precision) IS
	'Probability that a customer is still alive at the calibration end; 1 for frequency 0';

CREATE FUNCTION retail.gamma_gamma_expected_value(model retail.gamma_gamma_model, frequency integer,
												  monetary_value double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_expected_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_expected_value(retail.gamma_gamma_model, integer, double precision) IS
	'Conditional expected value per purchase, p (gamma + frequency monetary_value) / (p frequency + q - 1), the population mean p gamma / (q - 1) for frequency 0; NULL, with a NOTICE for the first of a query, where p frequency + q <= 1 (the expectation is infinite) or the value is not below 1e32';

CREATE FUNCTION retail.bgnbd_log_likelihood(model retail.bgnbd_model, frequency integer, recency double precision,
											age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_bgnbd_log_likelihood' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.bgnbd_log_likelihood(retail.bgnbd_model, integer, double precision, double precision) IS
	'Log-likelihood of one customer under a BG/NBD model (Fader, Hardie & Lee 2005, eq. 6): what retail.bgnbd_fit maximizes the sum of';

CREATE FUNCTION retail.gamma_gamma_log_likelihood(model retail.gamma_gamma_model, frequency integer,
												  monetary_value double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_gamma_gamma_log_likelihood' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.gamma_gamma_log_likelihood(retail.gamma_gamma_model, integer, double precision) IS
	'Log-likelihood of the mean value of one repeat buyer under a Gamma-Gamma model: what retail.gamma_gamma_fit maximizes the sum of; NULL for frequency 0 (not in the likelihood)';

CREATE FUNCTION retail.clv(bgnbd retail.bgnbd_model, gamma_gamma retail.gamma_gamma_model, frequency integer,
						   recency double precision, age double precision, monetary_value double precision,
						   months integer DEFAULT 12, discount_rate double precision DEFAULT 0.01,
						   unit text DEFAULT 'day')
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	-- a series per month of the horizon: the planner must know it is dear
	COST 2000;
COMMENT ON FUNCTION retail.clv(retail.bgnbd_model, retail.gamma_gamma_model, integer, double precision,
							   double precision, double precision, integer, double precision, text) IS
	'Customer lifetime value as lifetimes computes it: over months of 30 days (in the unit of the models, day or week), the expected purchases of each month times the expected value, divided by (1 + discount_rate)^month; months from 0 to 1200, discount_rate 0 or more; NULL, with a NOTICE for the first of a query, where the expected value or purchases are, or the sum is not below 1e32';

CREATE FUNCTION retail.btyd_unit_days(unit text) RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_btyd_unit_days' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.btyd_unit_days(text) IS
	'Days in a unit of time of the BTYD models: day 1, week 7; anything else is an error';

-- The summary per customer, from any relation of transactions: a purchase is
-- a calendar day of a customer's lines (spec/metrics.md).
CREATE FUNCTION retail.btyd_summary(transactions regclass, calibration_end date DEFAULT NULL,
									unit text DEFAULT 'day', customer_column name DEFAULT 'customer_id',
									time_column name DEFAULT 'invoice_ts',
									value_column name DEFAULT 'line_total')
	RETURNS TABLE (customer_id bigint, frequency integer, recency double precision, age double precision,
				   monetary_value double precision)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	days double precision := retail.btyd_unit_days(unit);
BEGIN
	IF transactions IS NULL OR customer_column IS NULL OR time_column IS NULL OR value_column IS NULL THEN
		RAISE EXCEPTION 'transactions and the column names must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass a relation of transactions, such as ''silver.cleaned_transactions''.';
	END IF;
	IF NOT has_table_privilege(transactions, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', transactions
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN QUERY EXECUTE format($query$
		WITH purchases AS (
			SELECT l.%1$I::bigint AS customer_id, l.%2$I::date AS day, sum(l.%3$I::numeric) AS value
			FROM %4$s l
			WHERE l.%1$I IS NOT NULL AND l.%2$I IS NOT NULL
			GROUP BY 1, 2
		),
		calibration AS (
			SELECT coalesce($1, max(p.day)) AS end_day FROM purchases p
		),
		numbered AS (
			SELECT p.customer_id, p.day, p.value, c.end_day,
				   row_number() OVER (PARTITION BY p.customer_id ORDER BY p.day) AS n
			FROM purchases p, calibration c
			WHERE p.day <= c.end_day
		)
		SELECT n.customer_id, (count(*) - 1)::integer,
			   (max(n.day) - min(n.day)) / $2, (max(n.end_day) - min(n.day)) / $2,
			   coalesce((sum(n.value) FILTER (WHERE n.n > 1) / nullif(count(*) - 1, 0))::double precision, 0)
		FROM numbered n
		GROUP BY n.customer_id
		ORDER BY n.customer_id
	$query$, customer_column, time_column, value_column, transactions)
	USING calibration_end, days;
END
$$;
COMMENT ON FUNCTION retail.btyd_summary(regclass, date, text, name, name, name) IS
	'Per customer, from the transactions up to calibration_end (NULL: the last date in the data): frequency (purchase days - 1), recency (last - first purchase day) and age (calibration_end - first purchase day) in the unit (day or week), monetary_value (mean value of the repeat purchase days, 0 without); needs SELECT on the relation';

-- The check every BTYD user makes before trusting a model, for the models
-- named, side by side.
CREATE FUNCTION retail.btyd_holdout(transactions regclass, calibration_end date, holdout_end date,
									unit text DEFAULT 'day', customer_column name DEFAULT 'customer_id',
									time_column name DEFAULT 'invoice_ts',
									value_column name DEFAULT 'line_total',
									models text[] DEFAULT ARRAY['bgnbd', 'mbgnbd', 'paretonbd'])
	RETURNS TABLE (model text, frequency text, customers bigint, mean_actual double precision,
				   mean_predicted double precision, mean_abs_error double precision)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF transactions IS NULL OR customer_column IS NULL OR time_column IS NULL OR value_column IS NULL THEN
		RAISE EXCEPTION 'transactions and the column names must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass a relation of transactions, such as ''silver.cleaned_transactions''.';
	END IF;
	IF calibration_end IS NULL OR holdout_end IS NULL OR holdout_end <= calibration_end THEN
		RAISE EXCEPTION 'invalid holdout period: % to %', calibration_end, holdout_end
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Both dates are required, and holdout_end must come after calibration_end.';
	END IF;
	IF models IS NULL OR cardinality(models) = 0
	   OR EXISTS (SELECT FROM unnest(models) m WHERE m IS NULL OR m NOT IN ('bgnbd', 'mbgnbd', 'paretonbd')) THEN
		RAISE EXCEPTION 'invalid models: %', coalesce(models::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The models must be some of bgnbd, mbgnbd and paretonbd.';
	END IF;
	-- the query checks the privilege on the relation; btyd_summary the unit
	RETURN QUERY EXECUTE format($query$
		WITH summary AS MATERIALIZED (
			SELECT * FROM retail.btyd_summary($3, $1, $4, $5, $6, $7)
		),
		fitted AS MATERIALIZED (
			-- a subquery in CASE runs only where its model is asked for
			SELECT CASE WHEN 'bgnbd' = ANY ($8) THEN
						(SELECT retail.bgnbd_fit(s.frequency, s.recency, s.age) FROM summary s) END AS bgnbd,
				   CASE WHEN 'mbgnbd' = ANY ($8) THEN
						(SELECT retail.mbgnbd_fit(s.frequency, s.recency, s.age) FROM summary s) END AS mbgnbd,
				   CASE WHEN 'paretonbd' = ANY ($8) THEN
						(SELECT retail.paretonbd_fit(s.frequency, s.recency, s.age) FROM summary s) END AS paretonbd
		),
		actual AS (
			SELECT l.%1$I::bigint AS customer_id, count(DISTINCT l.%2$I::date) AS purchases
			FROM %3$s l
			WHERE l.%1$I IS NOT NULL AND l.%2$I::date > $1 AND l.%2$I::date <= $2
			GROUP BY 1
		),
		customers AS (
			SELECT m.model, m.ord, least(s.frequency, 7) AS frequency_group, coalesce(a.purchases, 0) AS actual,
				   CASE m.model
					   WHEN 'bgnbd' THEN retail.bgnbd_expected_purchases(f.bgnbd, t.t, s.frequency, s.recency, s.age)
					   WHEN 'mbgnbd' THEN retail.mbgnbd_expected_purchases(f.mbgnbd, t.t, s.frequency, s.recency, s.age)
					   ELSE retail.paretonbd_expected_purchases(f.paretonbd, t.t, s.frequency, s.recency, s.age)
				   END AS predicted
			FROM unnest($8) WITH ORDINALITY m(model, ord)
				 CROSS JOIN summary s
				 CROSS JOIN fitted f
				 CROSS JOIN (SELECT ($2 - $1) / retail.btyd_unit_days($4) AS t) t
				 LEFT JOIN actual a ON a.customer_id = s.customer_id
		)
		SELECT c.model,
			   CASE WHEN GROUPING(c.frequency_group) = 1 THEN 'total'
					WHEN c.frequency_group = 7 THEN '7+'
					ELSE c.frequency_group::text END,
			   count(*), avg(c.actual)::double precision, avg(c.predicted), avg(abs(c.predicted - c.actual))
		FROM customers c
		GROUP BY c.ord, c.model, ROLLUP (c.frequency_group)
		ORDER BY c.ord, GROUPING(c.frequency_group), c.frequency_group
	$query$, customer_column, time_column, transactions)
	USING calibration_end, holdout_end, transactions, unit, customer_column, time_column, value_column, models;
END
$$;
COMMENT ON FUNCTION retail.btyd_holdout(regclass, date, date, text, name, name, name, text[]) IS
	'Holdout check of purchase models (default all three: bgnbd, mbgnbd, paretonbd, in that order): each fitted on the transactions up to calibration_end; per model, the customers of each calibration frequency (0 .. 6, 7+, then total) with their mean actual and mean predicted purchase days in (calibration_end, holdout_end], and the mean absolute error of the prediction per customer; needs SELECT on the relation';

CREATE FUNCTION retail.simulate_bgnbd_customers(customers bigint, r double precision, alpha double precision,
												a double precision, b double precision,
												max_age double precision, seed integer DEFAULT 42,
												whole_units boolean DEFAULT false)
	RETURNS TABLE (customer_id bigint, frequency integer, recency double precision, age double precision)
	AS 'MODULE_PATHNAME', 'ra_simulate_bgnbd_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 1000;
COMMENT ON FUNCTION retail.simulate_bgnbd_customers(bigint, double precision, double precision, double precision,
													 double precision, double precision, integer, boolean) IS
	'Customers 1 .. customers drawn from a BG/NBD process with the given parameters (times in any unit), ages uniform in [0, max_age], as retail.btyd_summary gives them; the same rows for the same arguments; whole_units truncates the times to whole units and counts purchases in one unit once, as btyd_summary counts days; at most 10 million customers (in FROM all rows are stored before the first is read), and a customer with more than a million purchase events is an error';

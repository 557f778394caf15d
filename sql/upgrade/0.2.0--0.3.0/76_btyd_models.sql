
-- Issue 18, item 4: the modified BG/NBD and the Pareto/NBD beside BG/NBD
-- (a copy of sql/install/76_btyd_models.sql as it was added, then the
-- privileges 99_privileges.sql gives them).
-- Two more purchase models beside BG/NBD (src/mbgnbd.c, src/paretonbd.c),
-- fitted and applied the same way: the modified BG/NBD (Batislam, Denizel &
-- Filiztekin 2007), whose customers may drop out right after their first
-- purchase, and the Pareto/NBD (Schmittlein, Morrison & Colombo 1987), whose
-- customers may drop out at any time.  Their aggregates keep BG/NBD's state
-- (retail.btyd_points_*).  gold.clv_model applies the one of setting
-- clv_model.

CREATE TYPE retail.mbgnbd_model AS (
	r double precision,
	alpha double precision,
	a double precision,
	b double precision,
	log_likelihood double precision,
	customers bigint,
	converged boolean
);
COMMENT ON TYPE retail.mbgnbd_model IS
	'A fitted modified BG/NBD model: purchase rates Gamma(r, alpha) (alpha in the unit of the times), dropout probabilities Beta(a, b), a dropout possible at every purchase including the first; the maximum log-likelihood, the customers it was fitted on, and whether the fit converged inside the parameter space';

CREATE TYPE retail.paretonbd_model AS (
	r double precision,
	alpha double precision,
	s double precision,
	beta double precision,
	log_likelihood double precision,
	customers bigint,
	converged boolean
);
COMMENT ON TYPE retail.paretonbd_model IS
	'A fitted Pareto/NBD model: purchase rates Gamma(r, alpha), dropout rates Gamma(s, beta) (alpha and beta in the unit of the times); the maximum log-likelihood, the customers it was fitted on, and whether the fit converged inside the parameter space';

CREATE FUNCTION retail.mbgnbd_fit_trans(internal, integer, double precision, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.mbgnbd_fit_trans(internal, integer, double precision, double precision) IS
	'Transition of retail.mbgnbd_fit: counts a customer at its (frequency, recency, age)';
CREATE FUNCTION retail.mbgnbd_fit_final(internal) RETURNS retail.mbgnbd_model
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.mbgnbd_fit_final(internal) IS
	'Final function of retail.mbgnbd_fit: maximum likelihood (Nelder-Mead, then BFGS)';
CREATE AGGREGATE retail.mbgnbd_fit(frequency integer, recency double precision, age double precision) (
	SFUNC = retail.mbgnbd_fit_trans, STYPE = internal,
	FINALFUNC = retail.mbgnbd_fit_final, COMBINEFUNC = retail.btyd_points_combine,
	SERIALFUNC = retail.btyd_points_serial, DESERIALFUNC = retail.btyd_points_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.mbgnbd_fit(integer, double precision, double precision) IS
	'Fits a modified BG/NBD model by maximum likelihood over customers (one row each, as retail.btyd_summary gives them); rows with a NULL are skipped; no customer, or no repeat buyer, is an error; a maximum at the edge of the parameter space gives converged = false and a NOTICE naming the parameter';

CREATE FUNCTION retail.paretonbd_fit_trans(internal, integer, double precision, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_paretonbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.paretonbd_fit_trans(internal, integer, double precision, double precision) IS
	'Transition of retail.paretonbd_fit: counts a customer at its (frequency, recency, age)';
CREATE FUNCTION retail.paretonbd_fit_final(internal) RETURNS retail.paretonbd_model
	AS 'MODULE_PATHNAME', 'ra_paretonbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.paretonbd_fit_final(internal) IS
	'Final function of retail.paretonbd_fit: maximum likelihood (Nelder-Mead, then BFGS on central differences)';
CREATE AGGREGATE retail.paretonbd_fit(frequency integer, recency double precision, age double precision) (
	SFUNC = retail.paretonbd_fit_trans, STYPE = internal,
	FINALFUNC = retail.paretonbd_fit_final, COMBINEFUNC = retail.btyd_points_combine,
	SERIALFUNC = retail.btyd_points_serial, DESERIALFUNC = retail.btyd_points_deserial,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retail.paretonbd_fit(integer, double precision, double precision) IS
	'Fits a Pareto/NBD model by maximum likelihood over customers (one row each, as retail.btyd_summary gives them); rows with a NULL are skipped; no customer, or no repeat buyer, is an error; a maximum at the edge of the parameter space gives converged = false and a NOTICE naming the parameter';

CREATE FUNCTION retail.mbgnbd_expected_purchases(model retail.mbgnbd_model, t double precision, frequency integer,
												 recency double precision, age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.mbgnbd_expected_purchases(retail.mbgnbd_model, double precision, integer,
													 double precision, double precision) IS
	'Expected repeat purchases of a customer in the next t units after the calibration end under a modified BG/NBD model; NULL, with a NOTICE for the first of a query, where double precision cannot give it to 1e-8 or it is not below 1e32';

CREATE FUNCTION retail.mbgnbd_p_alive(model retail.mbgnbd_model, frequency integer, recency double precision,
									  age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.mbgnbd_p_alive(retail.mbgnbd_model, integer, double precision, double precision) IS
	'Probability that a customer is still alive at the calibration end under a modified BG/NBD model; below 1 also for frequency 0';

CREATE FUNCTION retail.mbgnbd_log_likelihood(model retail.mbgnbd_model, frequency integer,
											 recency double precision, age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_log_likelihood' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.mbgnbd_log_likelihood(retail.mbgnbd_model, integer, double precision, double precision) IS
	'Log-likelihood of one customer under a modified BG/NBD model: what retail.mbgnbd_fit maximizes the sum of';

CREATE FUNCTION retail.paretonbd_expected_purchases(model retail.paretonbd_model, t double precision,
													frequency integer, recency double precision,
													age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_paretonbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.paretonbd_expected_purchases(retail.paretonbd_model, double precision, integer,
														double precision, double precision) IS
	'Expected repeat purchases of a customer in the next t units after the calibration end under a Pareto/NBD model; NULL, with a NOTICE for the first of a query, where P(alive) cannot be computed (its 2F1 series would need more than 10 million terms) or the value is not below 1e32';

CREATE FUNCTION retail.paretonbd_p_alive(model retail.paretonbd_model, frequency integer, recency double precision,
										 age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_paretonbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.paretonbd_p_alive(retail.paretonbd_model, integer, double precision, double precision) IS
	'Probability that a customer is still alive at the calibration end under a Pareto/NBD model; 1 where recency = age; NULL, with a NOTICE for the first of a query, where its 2F1 series would need more than 10 million terms';

CREATE FUNCTION retail.paretonbd_log_likelihood(model retail.paretonbd_model, frequency integer,
												recency double precision, age double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_paretonbd_log_likelihood' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.paretonbd_log_likelihood(retail.paretonbd_model, integer, double precision,
													double precision) IS
	'Log-likelihood of one customer under a Pareto/NBD model (Fader & Hardie 2005, as lifetimes computes it): what retail.paretonbd_fit maximizes the sum of; NULL where its 2F1 series would need more than 10 million terms';

CREATE FUNCTION retail.mbgnbd_clv(model retail.mbgnbd_model, gamma_gamma retail.gamma_gamma_model, frequency integer,
						   recency double precision, age double precision, monetary_value double precision,
						   months integer DEFAULT 12, discount_rate double precision DEFAULT 0.01,
						   unit text DEFAULT 'day')
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.mbgnbd_clv(retail.mbgnbd_model, retail.gamma_gamma_model, integer, double precision,
							   double precision, double precision, integer, double precision, text) IS
	'Customer lifetime value under a modified BG/NBD model, as retail.clv computes it under BG/NBD (a name of its own: an overload of retail.clv would make calls with untyped rows ambiguous)';

CREATE FUNCTION retail.paretonbd_clv(model retail.paretonbd_model, gamma_gamma retail.gamma_gamma_model,
						   frequency integer, recency double precision, age double precision,
						   monetary_value double precision, months integer DEFAULT 12,
						   discount_rate double precision DEFAULT 0.01, unit text DEFAULT 'day')
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_paretonbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.paretonbd_clv(retail.paretonbd_model, retail.gamma_gamma_model, integer, double precision,
							   double precision, double precision, integer, double precision, text) IS
	'Customer lifetime value under a Pareto/NBD model, as retail.clv computes it under BG/NBD (a name of its own: an overload of retail.clv would make calls with untyped rows ambiguous)';

CREATE FUNCTION retail.simulate_btyd_customers(customers bigint, r double precision, alpha double precision,
											   a double precision, b double precision, max_age double precision,
											   seed integer DEFAULT 42, whole_units boolean DEFAULT false,
											   model text DEFAULT 'bgnbd')
	RETURNS TABLE (customer_id bigint, frequency integer, recency double precision, age double precision)
	AS 'MODULE_PATHNAME', 'ra_simulate_bgnbd_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 1000;
COMMENT ON FUNCTION retail.simulate_btyd_customers(bigint, double precision, double precision, double precision,
													double precision, double precision, integer, boolean, text) IS
	'Customers drawn as retail.simulate_bgnbd_customers draws them, from the process of model: bgnbd, mbgnbd (a dropout also right after the first purchase) or paretonbd (a and b are then s and beta: lifetimes exponential of rate Gamma(s, beta), no dropout at purchases)';

-- as 99_privileges.sql gives them: to retail_bi, but the simulator, which
-- makes data, to retail_loader
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'retail'::regnamespace
		  AND p.proname IN ('mbgnbd_fit', 'paretonbd_fit', 'mbgnbd_fit_trans', 'mbgnbd_fit_final',
							'paretonbd_fit_trans', 'paretonbd_fit_final', 'mbgnbd_expected_purchases',
							'mbgnbd_p_alive', 'mbgnbd_log_likelihood', 'paretonbd_expected_purchases',
							'paretonbd_p_alive', 'paretonbd_log_likelihood', 'mbgnbd_clv', 'paretonbd_clv',
							'simulate_btyd_customers')
	LOOP
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f,
					   CASE WHEN f::text LIKE '%simulate_btyd_customers%' THEN 'retail_loader' ELSE 'retail_bi' END);
	END LOOP;
END
$$;

-- Issue 18, item 4: setting clv_model picks the purchase model of
-- gold.clv_model and gold.mart_customer_value (columns model, s and beta are
-- new), and setting currency names the report's currency.  The rules and
-- checks of settings that know the two new kinds of value are in
-- 05_settings.sql and 29_cancellations.sql.
INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound, lower_exclusive,
									 upper_bound, nullable) VALUES
	('clv_model', 'bgnbd', 'Purchase model of gold.clv_model and gold.mart_customer_value: bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)',
	 'model', NULL, false, NULL, false),
	('currency', NULL, 'Currency of the amounts of retail.report_html(), such as GBP or EUR; none: amounts are plain numbers',
	 'text', NULL, false, 16, true);

-- The views and the functions they are bound to are renamed, the new ones
-- made, gold.dim_customers and retail.customer_value_warning() bound to the
-- new mart, then the old ones dropped.
ALTER MATERIALIZED VIEW gold.mart_customer_value RENAME TO mart_customer_value_old;
ALTER INDEX gold.mart_customer_value_customer_id_idx RENAME TO mart_customer_value_old_customer_id_idx;
ALTER MATERIALIZED VIEW gold.clv_model RENAME TO clv_model_old;
ALTER INDEX gold.clv_model_unit_idx RENAME TO clv_model_old_unit_idx;
ALTER FUNCTION retail.btyd_models(retail.btyd_customer[]) RENAME TO btyd_models_old;
ALTER FUNCTION retail.clv_settings() RENAME TO clv_settings_old;
ALTER FUNCTION retail.clv_models() RENAME TO clv_models_old;

CREATE FUNCTION retail.btyd_models(customers retail.btyd_customer[], model text DEFAULT 'bgnbd',
								   OUT bgnbd retail.bgnbd_model, OUT gamma_gamma retail.gamma_gamma_model,
								   OUT mbgnbd retail.mbgnbd_model, OUT paretonbd retail.paretonbd_model)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF model IS NULL OR model NOT IN ('bgnbd', 'mbgnbd', 'paretonbd') THEN
		RAISE EXCEPTION 'invalid model: %', coalesce('"' || model || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The model must be bgnbd, mbgnbd or paretonbd.';
	END IF;
	-- without a repeat buyer the fits are errors; here the models stay NULL
	IF EXISTS (SELECT FROM unnest(customers) c WHERE c.frequency > 0) THEN
		CASE model
			WHEN 'bgnbd' THEN
				bgnbd := (SELECT retail.bgnbd_fit(c.frequency, c.recency, c.age) FROM unnest(customers) c);
			WHEN 'mbgnbd' THEN
				mbgnbd := (SELECT retail.mbgnbd_fit(c.frequency, c.recency, c.age) FROM unnest(customers) c);
			ELSE
				paretonbd := (SELECT retail.paretonbd_fit(c.frequency, c.recency, c.age) FROM unnest(customers) c);
		END CASE;
		gamma_gamma := (SELECT retail.gamma_gamma_fit(c.frequency, c.monetary_value) FROM unnest(customers) c);
	END IF;
END
$$;
COMMENT ON FUNCTION retail.btyd_models(retail.btyd_customer[], text) IS
	'The purchase model named (bgnbd, the default, mbgnbd or paretonbd; the others NULL) and the Gamma-Gamma model of customers given as summaries; all NULL while no customer bought again';

CREATE FUNCTION retail.clv_settings(OUT unit text, OUT horizon_months integer, OUT discount_rate double precision,
								   OUT model text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT retail.setting('clv_unit'), retail.setting('clv_horizon_months')::integer,
		   retail.setting('clv_discount_rate')::double precision, retail.setting('clv_model');
END;
COMMENT ON FUNCTION retail.clv_settings() IS
	'The settings of gold.mart_customer_value in force: unit, horizon in months, monthly discount rate, purchase model';

CREATE MATERIALIZED VIEW gold.clv_model AS
WITH settings AS MATERIALIZED (
	SELECT * FROM retail.clv_settings()
),
summary AS MATERIALIZED (
	SELECT s.* FROM settings x, retail.clv_summary(x.unit) s
),
fitted AS MATERIALIZED (
	SELECT m.* FROM settings x, retail.btyd_models((SELECT array_agg(s::retail.btyd_customer) FROM summary s), x.model) m
),
-- the purchase model's parameters, whichever it is
purchase AS MATERIALIZED (
	SELECT coalesce((f.bgnbd).r, (f.mbgnbd).r, (f.paretonbd).r) AS r,
		   coalesce((f.bgnbd).alpha, (f.mbgnbd).alpha, (f.paretonbd).alpha) AS alpha,
		   coalesce((f.bgnbd).a, (f.mbgnbd).a) AS a, coalesce((f.bgnbd).b, (f.mbgnbd).b) AS b,
		   (f.paretonbd).s, (f.paretonbd).beta,
		   coalesce((f.bgnbd).log_likelihood, (f.mbgnbd).log_likelihood, (f.paretonbd).log_likelihood)
			   AS log_likelihood,
		   coalesce((f.bgnbd).converged, (f.mbgnbd).converged, (f.paretonbd).converged) AS converged
	FROM fitted f
)
SELECT (SELECT max(c.last_purchase)::date FROM silver.customer_state c) AS calibration_end,
	   x.unit, x.horizon_months, x.discount_rate,
	   (SELECT count(*) FROM summary) AS customers,
	   (SELECT count(*) FROM summary s WHERE s.frequency > 0) AS repeat_customers,
	   m.r, m.alpha, m.a, m.b, m.log_likelihood AS bgnbd_log_likelihood, m.converged AS bgnbd_converged,
	   (f.gamma_gamma).p, (f.gamma_gamma).q, (f.gamma_gamma).gamma,
	   (f.gamma_gamma).log_likelihood AS gamma_gamma_log_likelihood,
	   (f.gamma_gamma).converged AS gamma_gamma_converged,
	   -- in a fixed order: a float sum depends on it
	   (SELECT corr(s.frequency, s.monetary_value ORDER BY s.customer_id) FROM summary s WHERE s.frequency > 0)
		   AS frequency_monetary_correlation,
	   x.model, m.s, m.beta
FROM settings x, fitted f, purchase m
WHERE EXISTS (SELECT FROM summary)
WITH NO DATA;
-- one row; REFRESH ... CONCURRENTLY needs a unique index
CREATE UNIQUE INDEX ON gold.clv_model (unit);
COMMENT ON MATERIALIZED VIEW gold.clv_model IS
	'The purchase model (setting clv_model: BG/NBD, modified BG/NBD or Pareto/NBD) and the Gamma-Gamma model that gold.mart_customer_value applies (one row, none without customers; parameters NULL while no customer bought twice) and the settings it applies them with; refresh it before the mart';
COMMENT ON COLUMN gold.clv_model.calibration_end IS 'Last date of the silver lines with a customer: the end of the calibration period';
COMMENT ON COLUMN gold.clv_model.unit IS 'Unit of time of the models (setting clv_unit): day or week';
COMMENT ON COLUMN gold.clv_model.horizon_months IS 'Horizon of gold.mart_customer_value.clv in months of 30 days (setting clv_horizon_months)';
COMMENT ON COLUMN gold.clv_model.discount_rate IS 'Monthly discount rate of gold.mart_customer_value.clv (setting clv_discount_rate)';
COMMENT ON COLUMN gold.clv_model.customers IS 'Customers the purchase model is fitted on';
COMMENT ON COLUMN gold.clv_model.repeat_customers IS 'Customers with frequency above 0, those the Gamma-Gamma model is fitted on';
COMMENT ON COLUMN gold.clv_model.r IS 'Purchase model (column model): shape of the Gamma distribution of purchase rates';
COMMENT ON COLUMN gold.clv_model.alpha IS 'Purchase model (column model): scale of the Gamma distribution of purchase rates, in the unit';
COMMENT ON COLUMN gold.clv_model.a IS 'BG/NBD and modified BG/NBD: first shape of the Beta distribution of dropout probabilities; NULL under Pareto/NBD';
COMMENT ON COLUMN gold.clv_model.b IS 'BG/NBD and modified BG/NBD: second shape of the Beta distribution of dropout probabilities; NULL under Pareto/NBD';
COMMENT ON COLUMN gold.clv_model.bgnbd_log_likelihood IS 'Purchase model (column model; the name is from when it was always BG/NBD): maximum log-likelihood';
COMMENT ON COLUMN gold.clv_model.bgnbd_converged IS 'Purchase model (column model; the name is from when it was always BG/NBD): false if the fit did not converge or its maximum is at the edge of the parameter space (a parameter at e^30 or e^-30)';
COMMENT ON COLUMN gold.clv_model.p IS 'Gamma-Gamma: shape of the Gamma distribution of a customer''s purchase values';
COMMENT ON COLUMN gold.clv_model.q IS 'Gamma-Gamma: shape of the Gamma distribution of the customers'' rate parameters nu';
COMMENT ON COLUMN gold.clv_model.gamma IS 'Gamma-Gamma: scale of the Gamma distribution of nu';
COMMENT ON COLUMN gold.clv_model.gamma_gamma_log_likelihood IS 'Gamma-Gamma: maximum log-likelihood';
COMMENT ON COLUMN gold.clv_model.gamma_gamma_converged IS 'Gamma-Gamma: false if the fit did not converge or its maximum is at the edge of the parameter space (a parameter at e^30 or e^-30)';
COMMENT ON COLUMN gold.clv_model.frequency_monetary_correlation IS 'Pearson correlation of frequency and monetary_value over the repeat customers: the Gamma-Gamma model assumes none';
COMMENT ON COLUMN gold.clv_model.model IS 'Purchase model (setting clv_model): bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)';
COMMENT ON COLUMN gold.clv_model.s IS 'Pareto/NBD: shape of the Gamma distribution of dropout rates; NULL under the other models';
COMMENT ON COLUMN gold.clv_model.beta IS 'Pareto/NBD: scale of the Gamma distribution of dropout rates, in the unit; NULL under the other models';

CREATE FUNCTION retail.clv_models(OUT bgnbd retail.bgnbd_model, OUT gamma_gamma retail.gamma_gamma_model,
								 OUT mbgnbd retail.mbgnbd_model, OUT paretonbd retail.paretonbd_model)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT CASE WHEN m.r IS NOT NULL AND m.model = 'bgnbd' THEN
				ROW(m.r, m.alpha, m.a, m.b, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.bgnbd_model END,
		   CASE WHEN m.p IS NOT NULL THEN
				ROW(m.p, m.q, m.gamma, m.gamma_gamma_log_likelihood, m.repeat_customers,
					m.gamma_gamma_converged)::retail.gamma_gamma_model END,
		   CASE WHEN m.r IS NOT NULL AND m.model = 'mbgnbd' THEN
				ROW(m.r, m.alpha, m.a, m.b, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.mbgnbd_model END,
		   CASE WHEN m.r IS NOT NULL AND m.model = 'paretonbd' THEN
				ROW(m.r, m.alpha, m.s, m.beta, m.bgnbd_log_likelihood, m.customers,
					m.bgnbd_converged)::retail.paretonbd_model END
	FROM gold.clv_model m;
END;
COMMENT ON FUNCTION retail.clv_models() IS
	'The models of gold.clv_model as values: the purchase model of its column model (the other two NULL) and Gamma-Gamma, NULL while no customer bought twice; for the prediction functions of each model and retail.gamma_gamma_expected_value';

CREATE MATERIALIZED VIEW gold.mart_customer_value AS
WITH model AS MATERIALIZED (
	SELECT m.unit, m.horizon_months, m.discount_rate, m.model, f.bgnbd, f.gamma_gamma, f.mbgnbd, f.paretonbd,
		   90 / retail.btyd_unit_days(m.unit) AS t_90
	FROM gold.clv_model m, retail.clv_models() f
),
summary AS MATERIALIZED (
	SELECT s.* FROM model x, retail.clv_summary(x.unit) s
)
SELECT s.customer_id, s.frequency, s.recency, s.age,
	   s.monetary_value::numeric(38, 6) AS monetary_value,
	   CASE x.model
		   WHEN 'mbgnbd' THEN retail.mbgnbd_p_alive(x.mbgnbd, s.frequency, s.recency, s.age)
		   WHEN 'paretonbd' THEN retail.paretonbd_p_alive(x.paretonbd, s.frequency, s.recency, s.age)
		   ELSE retail.bgnbd_p_alive(x.bgnbd, s.frequency, s.recency, s.age)
	   END AS p_alive,
	   CASE x.model
		   WHEN 'mbgnbd' THEN retail.mbgnbd_expected_purchases(x.mbgnbd, x.t_90, s.frequency, s.recency, s.age)
		   WHEN 'paretonbd' THEN retail.paretonbd_expected_purchases(x.paretonbd, x.t_90, s.frequency, s.recency,
																	 s.age)
		   ELSE retail.bgnbd_expected_purchases(x.bgnbd, x.t_90, s.frequency, s.recency, s.age)
	   END AS expected_purchases_90d,
	   retail.gamma_gamma_expected_value(x.gamma_gamma, s.frequency, s.monetary_value)::numeric(38, 6)
		   AS expected_value,
	   CASE x.model
		   WHEN 'mbgnbd' THEN retail.mbgnbd_clv(x.mbgnbd, x.gamma_gamma, s.frequency, s.recency, s.age,
												s.monetary_value, x.horizon_months, x.discount_rate, x.unit)
		   WHEN 'paretonbd' THEN retail.paretonbd_clv(x.paretonbd, x.gamma_gamma, s.frequency, s.recency, s.age,
													  s.monetary_value, x.horizon_months, x.discount_rate, x.unit)
		   ELSE retail.clv(x.bgnbd, x.gamma_gamma, s.frequency, s.recency, s.age, s.monetary_value,
						   x.horizon_months, x.discount_rate, x.unit)
	   END::numeric(38, 6) AS clv,
	   x.model
FROM model x, summary s
WITH NO DATA;
COMMENT ON MATERIALIZED VIEW gold.mart_customer_value IS
	'One row per customer of silver: the BTYD summary (to the last date of the lines, in the unit of setting clv_unit) and what the purchase model (setting clv_model) and Gamma-Gamma model of gold.clv_model, fitted on it, predict (NULL while no customer bought twice)';
CREATE UNIQUE INDEX ON gold.mart_customer_value (customer_id);
COMMENT ON COLUMN gold.mart_customer_value.customer_id IS 'Customer';
COMMENT ON COLUMN gold.mart_customer_value.frequency IS 'Repeat purchases: purchase days - 1';
COMMENT ON COLUMN gold.mart_customer_value.recency IS 'Last purchase day - first purchase day, in the unit of setting clv_unit';
COMMENT ON COLUMN gold.mart_customer_value.age IS 'Last date of the lines - first purchase day, in the unit of setting clv_unit';
COMMENT ON COLUMN gold.mart_customer_value.monetary_value IS 'Mean value of the repeat purchase days (the first excluded), to 6 decimals; 0 without';
COMMENT ON COLUMN gold.mart_customer_value.p_alive IS 'Probability that the customer is still active at the calibration end, under the purchase model (column model); NULL where it cannot be computed (Pareto/NBD, see retail.paretonbd_p_alive)';
COMMENT ON COLUMN gold.mart_customer_value.expected_purchases_90d IS 'Expected purchase days (not orders: a day''s invoices are one purchase) in the 90 days after the calibration end, under the purchase model (column model); NULL where double precision cannot give it (see retail.bgnbd_expected_purchases)';
COMMENT ON COLUMN gold.mart_customer_value.expected_value IS 'Gamma-Gamma conditional expected value per purchase day (the population mean for frequency 0); NULL where it is infinite (p frequency + q <= 1) or not below 1e32';
COMMENT ON COLUMN gold.mart_customer_value.clv IS 'Customer lifetime value over clv_horizon_months months of 30 days, discounted by clv_discount_rate a month, as lifetimes computes it, under the purchase model (column model); NULL where expected_value or the expected purchases are, or not below 1e32';
COMMENT ON COLUMN gold.mart_customer_value.model IS 'Purchase model of the predictions (setting clv_model): bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)';

-- the same definitions as before, bound to the new mart
CREATE OR REPLACE VIEW gold.dim_customers AS
SELECT s.customer_id, c.first_order_country AS country, s.first_purchase, s.last_purchase, s.frequency AS orders,
	   s.monetary AS revenue, date_trunc('month', s.first_purchase)::date AS cohort_month,
	   s.recency_days, s.r, s.f, s.m, s.rfm_cell, s.segment, s.seed_segment,
	   v.p_alive, v.expected_purchases_90d, v.expected_value, v.clv
FROM gold.mart_customer_segments s
	 LEFT JOIN silver.customer_state c ON c.customer_id = s.customer_id
	 LEFT JOIN gold.mart_customer_value v ON v.customer_id = s.customer_id
ORDER BY s.customer_id;
CREATE OR REPLACE FUNCTION retail.customer_value_warning() RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT format('%s of %s customers have no prediction (p_alive, expected_purchases_90d, expected_value or clv NULL): the fitted models could not be evaluated for them',
				  n.unpredicted, n.customers)
	FROM (SELECT count(*) AS customers, bool_or(v.frequency > 0) AS fitted,
				 count(*) FILTER (WHERE v.p_alive IS NULL OR v.expected_purchases_90d IS NULL
								  OR v.expected_value IS NULL OR v.clv IS NULL) AS unpredicted
		  FROM gold.mart_customer_value v) n
	WHERE n.fitted AND n.unpredicted > 0;
END;
COMMENT ON COLUMN gold.dim_customers.p_alive IS
	'Probability that the customer is still active at the calibration end, under the purchase model of setting clv_model (BG/NBD: 1 for a customer without a repeat purchase, as the model has it)';
COMMENT ON COLUMN gold.dim_customers.expected_purchases_90d IS
	'Expected purchase days (a day''s invoices are one purchase) in the 90 days after the calibration end, under the purchase model of setting clv_model; NULL where double precision cannot give it';
DROP MATERIALIZED VIEW gold.mart_customer_value_old;
DROP FUNCTION retail.clv_models_old();
DROP MATERIALIZED VIEW gold.clv_model_old;
DROP FUNCTION retail.btyd_models_old(retail.btyd_customer[]), retail.clv_settings_old();
GRANT SELECT ON gold.clv_model, gold.mart_customer_value TO retail_bi;
REVOKE EXECUTE ON FUNCTION retail.btyd_models(retail.btyd_customer[], text), retail.clv_settings(),
	retail.clv_models() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.btyd_models(retail.btyd_customer[], text), retail.clv_settings(),
	retail.clv_models() TO retail_bi;

-- retail.btyd_holdout compares the three models side by side (columns model
-- and mean_abs_error are new, and the argument models).
DROP FUNCTION retail.btyd_holdout(regclass, date, date, text, name, name, name);
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
REVOKE EXECUTE ON FUNCTION retail.btyd_holdout(regclass, date, date, text, name, name, name, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.btyd_holdout(regclass, date, date, text, name, name, name, text[]) TO retail_bi;

-- The report as sql/install/87_report.sql makes it (one copy for the whole
-- update): the ABC-XYZ matrix's N column, the footer on cancellations, and a
-- CLV section that names the model, the horizon, the discount, the unit and
-- the currency (setting currency), labels the expected purchases as purchase
-- days, and gives P(alive)'s quartiles by segment.
CREATE OR REPLACE FUNCTION retail.report_html(top_anomalies integer DEFAULT 20) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $report$
DECLARE
	-- counts: 'FM' drops padding; ',' and '.' are fixed, not the locale's
	count_format CONSTANT text := 'FM999,999,999,999,990';
	money_format CONSTANT text := 'FM999,999,999,999,990.00';
	currency CONSTANT text := retail.setting('currency');
	assumptions text;
	-- what the page draws at most, whatever the data: a page of a few
	-- hundred kB, which says what it leaves out
	grid_size CONSTANT integer := 24;		-- cohorts and months of the heatmap
	top_countries CONSTANT integer := 40;	-- the real file has 38
	max_anomalies CONSTANT integer := 1000;
	style CONSTANT text := $css$
:root{--ink:#1d2733;--muted:#5b6776;--line:#dde2e8;--navy:#1f4e79;--pale:#9fb7cf;--bg:#f4f5f7}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
h1{font-size:24px;margin:0 0 2px}
h2{font-size:17px;margin:0 0 2px}
.sub,.lead,.left-out,footer{color:var(--muted)}
.sub{margin:0}
.lead,.left-out{margin:0 0 14px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:18px 20px;margin-top:18px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:12px;background:none;border:0;padding:0}
.kpi{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 14px}
.kpi .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.kpi .value{font-size:23px;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpi .note{font-size:12px;color:var(--muted)}
.notice{border-color:#e3b755;background:#fff8e5}
.empty{text-align:center;padding:48px 20px}
.split{display:grid;grid-template-columns:auto minmax(0,1fr);gap:24px;align-items:start}
@media (max-width:860px){.split{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
td:first-child{white-space:nowrap}
small{color:var(--muted)}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
.num{text-align:right;white-space:nowrap}
svg{display:block;max-width:100%;height:auto;font-variant-numeric:tabular-nums}
svg text{fill:var(--ink);font-size:11px}
svg text.muted{fill:var(--muted)}
svg text.on-dark{fill:#fff}
svg text.strong{font-weight:600;font-size:12px}
footer{font-size:12px;margin-top:18px}
$css$;
	body text := '';
	netting text;
	part text;
	freshness text;
	age text;
	last_ok timestamptz;
	last_at timestamptz;
	last_status text;
	last_error text;
	version text;
	populated boolean;
	customers bigint;
	orders bigint;
	revenue numeric;
	first_ts timestamp;
	last_ts timestamp;
	as_of date;
	month1 numeric;
	-- chart geometry
	cohorts integer;
	periods integer;
	shown_cohorts integer;
	first_shown date;
	shown_periods integer;
	countries integer;
	shown_countries integer;
	bar numeric;
	chart_width numeric;
	tick numeric;
	anomalies bigint;
	migration_to date;
	migration_from date;
BEGIN
	IF top_anomalies IS NULL OR top_anomalies < 0 THEN
		RAISE EXCEPTION 'top_anomalies % is not a row count', coalesce(top_anomalies::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Give 0 or more: the number of anomalous orders listed.';
	END IF;
	IF top_anomalies > max_anomalies THEN
		RAISE EXCEPTION 'top_anomalies % is more than the limit of %', top_anomalies, max_anomalies
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = format('The page lists at most %s anomalous orders; gold.audit_order_anomalies has them all.',
								max_anomalies);
	END IF;

	-- Freshness: the end of the last refresh that did not fail, and the
	-- latest run when it failed (its marts are then the earlier run's).
	SELECT max(l.finished_at) INTO last_ok FROM retail.refresh_log l WHERE l.status <> 'failed';
	SELECT l.finished_at, l.status, l.error INTO last_at, last_status, last_error
	FROM retail.refresh_log l
	ORDER BY l.run_id DESC, l.step_order DESC
	LIMIT 1;
	age := CASE
		WHEN pg_catalog.now() - last_ok < interval '1 hour'
			THEN floor(extract(epoch FROM pg_catalog.now() - last_ok) / 60)::text || ' min ago'
		WHEN pg_catalog.now() - last_ok < interval '2 days'
			THEN floor(extract(epoch FROM pg_catalog.now() - last_ok) / 3600)::text || ' h ago'
		ELSE floor(extract(epoch FROM pg_catalog.now() - last_ok) / 86400)::text || ' days ago'
	END;
	freshness := CASE WHEN last_ok IS NULL THEN 'never refreshed'
					 ELSE format('%s (%s)', to_char(last_ok, 'YYYY-MM-DD HH24:MI TZ'), age) END;
	IF last_status = 'failed' THEN
		body := body || format('<section class="notice" id="refresh-failed"><strong>The latest refresh failed</strong> '
							   '(%s): %s. The figures below are those of the last refresh that succeeded.</section>',
							   to_char(last_at, 'YYYY-MM-DD HH24:MI TZ'), retail.html_escape(last_error));
	END IF;
	SELECT e.extversion INTO version FROM pg_catalog.pg_extension e WHERE e.extname = 'retail_analytics';
	-- what the figures net (setting cancellations), in the footer
	SELECT CASE WHEN c.cancellations = 'net'
				THEN format('<span id="netting">Cancellations are netted against the orders they cancel: '
							'%s units (%s) taken off the lines they cancel; %s cancelled units (%s) matched no '
							'earlier line and change nothing.</span>',
							to_char(c.matched_units, 'FM999,999,999,990'), to_char(c.matched_value, 'FM999,999,999,990.00'),
							to_char(c.unmatched_units, 'FM999,999,999,990'),
							to_char(c.unmatched_value, 'FM999,999,999,990.00'))
				ELSE '<span id="netting">Cancellations are not netted (setting cancellations = ignore): '
					 'cancelled orders count in full.</span>' END
	INTO netting
	FROM gold.cancellation_summary c;

	-- The marts are filled by retail.refresh(); before that there is no data.
	-- The cohorts' is a materialized view, unreadable until populated (the
	-- other marts are tables, empty until then), stored in gold_store, which
	-- a reader cannot name: pg_matviews says whether it is.
	SELECT m.ispopulated INTO populated
	FROM pg_catalog.pg_matviews m
	WHERE m.schemaname = 'gold_store' AND m.matviewname = 'mart_cohort_retention';
	IF populated THEN
		SELECT count(*), sum(s.monetary), min(s.first_purchase), max(s.last_purchase), max(s.as_of)
		INTO customers, revenue, first_ts, last_ts, as_of
		FROM gold.mart_customer_segments s;
	END IF;
	IF coalesce(customers, 0) = 0 THEN
		body := body || format('<section class="empty" id="no-data"><h2>No data yet</h2><p class="lead">There are no '
							   'customers in the gold marts (last refresh: %s). Load order lines into '
							   '<code>bronze.transactions_raw</code> and run <code>CALL retail.refresh()</code>; this '
							   'page then shows customers, retention, segments, countries, products and anomalous '
							   'orders.</p></section>', freshness);
	ELSE
		SELECT count(*) INTO orders FROM gold.orders;
		-- month-1 retention over the cohorts whose month 1 has ended
		SELECT a.weighted_retention INTO month1 FROM gold.cohort_period_averages a WHERE a.period = 1;

		body := body || format(
			'<section class="kpis" id="headline">'
			'<div class="kpi"><div class="label">Revenue</div><div class="value">%s</div><div class="note">net quantity × unit price of clean lines</div></div>'
			'<div class="kpi"><div class="label">Orders</div><div class="value">%s</div><div class="note">average %s</div></div>'
			'<div class="kpi"><div class="label">Customers</div><div class="value">%s</div><div class="note">%s orders each on average</div></div>'
			'<div class="kpi"><div class="label">Month-1 retention</div><div class="value">%s</div><div class="note">of new customers buy again the next month</div></div>'
			'<div class="kpi"><div class="label">Data</div><div class="value">%s days</div><div class="note">%s to %s, as of %s</div></div>'
			'<div class="kpi%s"><div class="label">Last refresh</div><div class="value">%s</div><div class="note">%s</div></div>'
			'</section>',
			to_char(round(revenue), count_format),
			to_char(orders, count_format), to_char(revenue / nullif(orders, 0), money_format),
			to_char(customers, count_format), to_char(orders::numeric / customers, 'FM999,990.0'),
			coalesce(to_char(100 * month1, 'FM990.0') || ' %', '–'),
			to_char(last_ts::date - first_ts::date + 1, count_format),
			to_char(first_ts, 'YYYY-MM-DD'), to_char(last_ts, 'YYYY-MM-DD'), to_char(as_of, 'YYYY-MM-DD'),
			CASE WHEN last_status = 'failed' THEN ' notice' ELSE '' END,
			coalesce(age, 'never'),
			coalesce(to_char(last_ok, 'YYYY-MM-DD HH24:MI TZ'), 'no refresh succeeded yet')
			|| CASE WHEN last_status = 'failed' THEN '; the latest failed' ELSE '' END);

		-- Cohort heatmap: the most recent cohorts in their first months (a
		-- mart of 200 years has 2,400 of each), shaded by retention against
		-- the best retention after month 0 (month 0 is always 100 %).
		SELECT count(*) FILTER (WHERE r.period = 0), max(r.period) + 1 INTO cohorts, periods
		FROM gold.mart_cohort_retention r;
		SELECT min(k.cohort_month) INTO first_shown
		FROM (SELECT r.cohort_month FROM gold.mart_cohort_retention r WHERE r.period = 0
			  ORDER BY r.cohort_month DESC LIMIT grid_size) k;
		shown_cohorts := least(cohorts, grid_size);
		shown_periods := least(periods, grid_size);
		chart_width := 170 + 56 * shown_periods;
		WITH cells AS (
			SELECT r.cohort_month, r.period, r.cohort_size, r.active_customers, r.retention::numeric AS retention,
				   r.complete, dense_rank() OVER (ORDER BY r.cohort_month) - 1 AS row_no
			FROM gold.mart_cohort_retention r
			WHERE r.cohort_month >= first_shown AND r.period < grid_size
		),
		shaded AS (
			SELECT c.*, 0.06 + 0.94 * least(1, c.retention / coalesce(nullif(t.top, 0), 1)) AS shade
			FROM cells c,
				 (SELECT max(x.retention) FILTER (WHERE x.period > 0) AS top FROM cells x) t
		),
		averages AS (
			-- the size-weighted retention per period over the ended cells of
			-- every cohort, shown or not
			SELECT r.period, sum(r.active_customers)::numeric / nullif(sum(r.cohort_size), 0) AS retention
			FROM gold.mart_cohort_retention r
			WHERE r.complete AND r.period < grid_size
			GROUP BY r.period
		)
		SELECT format('<svg width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="Cohort retention heatmap">'
					  '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
					  'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff" fill-opacity="0.55"/>'
					  '<line x1="0" y1="0" x2="0" y2="6" stroke="#5b6776" stroke-width="1.6"/></pattern></defs>'
					  '<text x="8" y="16" class="muted">Cohort</text>'
					  '<text x="158" y="16" class="muted" text-anchor="end">Customers</text>'
					  '<text x="170" y="16" class="muted">Months since first purchase →</text>%s%s%s%s</svg>',
					  chart_width, 58 + 26 * (shown_cohorts + 1), chart_width, 58 + 26 * (shown_cohorts + 1),
					  -- column heads
					  (SELECT string_agg(format('<text x="%s" y="40" text-anchor="middle" class="strong">%s</text>',
												170 + 56 * p + 27, p), '' ORDER BY p)
					   FROM generate_series(0, shown_periods - 1) p),
					  -- row heads
					  (SELECT string_agg(format('<text x="8" y="%s" class="strong">%s</text>'
												'<text x="158" y="%s" text-anchor="end" class="muted">%s</text>',
												48 + 26 * c.row_no + 17, to_char(c.cohort_month, 'Mon YYYY'),
												48 + 26 * c.row_no + 17, to_char(c.cohort_size, count_format)),
										 '' ORDER BY c.row_no)
					   FROM cells c WHERE c.period = 0),
					  -- the cells
					  (SELECT string_agg(format('<g class="heat-cell%s" data-cohort="%s" data-period="%s" '
												'data-retention="%s" data-complete="%s"><title>%s cohort, month %s: '
												'%s of %s customers active (%s)%s</title>'
												'<rect x="%s" y="%s" width="54" height="24" rx="2" fill="#1f4e79" '
												'fill-opacity="%s"/>%s<text x="%s" y="%s" text-anchor="middle"%s>%s%s</text></g>',
												CASE WHEN s.complete THEN '' ELSE ' incomplete' END,
												to_char(s.cohort_month, 'YYYY-MM-DD'), s.period, s.retention, s.complete,
												to_char(s.cohort_month, 'Mon YYYY'), s.period,
												to_char(s.active_customers, count_format),
												to_char(s.cohort_size, count_format),
												to_char(100 * s.retention, 'FM990.0') || ' %',
												CASE WHEN s.complete THEN '' ELSE ', month still running' END,
												170 + 56 * s.period, 48 + 26 * s.row_no, round(s.shade, 3),
												CASE WHEN s.complete THEN ''
													 ELSE format('<rect x="%s" y="%s" width="54" height="24" rx="2" '
																 'fill="url(#hatch)"/>',
																 170 + 56 * s.period, 48 + 26 * s.row_no) END,
												170 + 56 * s.period + 27, 48 + 26 * s.row_no + 16,
												CASE WHEN s.shade > 0.55 AND s.complete THEN ' class="on-dark"' ELSE '' END,
												to_char(100 * s.retention, 'FM990.0') || '%',
												CASE WHEN s.complete THEN '' ELSE '*' END),
										 '' ORDER BY s.row_no, s.period)
					   FROM shaded s),
					  -- the average row
					  (SELECT format('<text x="8" y="%s" class="strong">Weighted average</text>', 54 + 26 * shown_cohorts + 17)
							  || coalesce(string_agg(format('<text x="%s" y="%s" text-anchor="middle" class="strong">%s</text>',
															170 + 56 * a.period + 27, 54 + 26 * shown_cohorts + 17,
															to_char(100 * a.retention, 'FM990.0') || '%'),
													 '' ORDER BY a.period), '')
					   FROM averages a))
		INTO part;
		body := body || format('<section id="cohorts"><h2>How well do we keep new customers?</h2>'
							   '<p class="lead">Share of each monthly cohort (customers by month of first purchase) '
							   'buying again in the months after; darker is better.%s The last row weights each '
							   'cohort by its size.</p>%s%s</section>',
							   CASE WHEN EXISTS (SELECT FROM gold.mart_cohort_retention r
												 WHERE r.cohort_month >= first_shown AND r.period < grid_size
												   AND NOT r.complete)
									THEN ' Hatched cells marked * are months that had not ended when the data stops: '
										 'their figure can still grow.'
									ELSE '' END,
							   CASE WHEN cohorts > shown_cohorts OR periods > shown_periods
									THEN format('<p class="left-out" id="cohorts-left-out">Showing %s; the last row '
												'weights every cohort.</p>',
												concat_ws(' and ',
														  CASE WHEN cohorts > shown_cohorts
															   THEN format('the %s most recent cohorts of %s',
																		   shown_cohorts, to_char(cohorts, count_format))
														  END,
														  CASE WHEN periods > shown_periods
															   THEN format('the first %s months of %s', shown_periods,
																		   to_char(periods, count_format))
														  END))
									ELSE '' END,
							   part);

		-- Segments: share of customers next to share of revenue.
		WITH segments AS (
			SELECT s.segment, s.customers, s.revenue, s.avg_recency_days, s.avg_frequency, s.avg_monetary,
				   s.customer_share::numeric AS customer_share, s.revenue_share::numeric AS revenue_share,
				   row_number() OVER (ORDER BY s.revenue DESC, s.segment) - 1 AS row_no
			FROM gold.segment_summary s
		),
		scale AS (
			SELECT greatest(max(x.customer_share), max(coalesce(x.revenue_share, 0))) AS top, count(*) AS n
			FROM segments x
		)
		SELECT format('<div class="split"><svg width="500" height="%s" viewBox="0 0 500 %s" role="img" '
					  'aria-label="Customers and revenue by segment">'
					  '<rect x="158" y="6" width="12" height="10" fill="#9fb7cf"/><text x="176" y="15">customers</text>'
					  '<rect x="258" y="6" width="12" height="10" fill="#1f4e79"/><text x="276" y="15">revenue</text>'
					  '%s</svg><table><thead><tr><th>Segment</th><th class="num">Customers</th>'
					  '<th class="num">Revenue</th><th class="num">Recency</th>'
					  '<th class="num">Orders</th><th class="num">Spend</th></tr></thead><tbody>%s</tbody></table></div>',
					  30 + 40 * k.n, 30 + 40 * k.n,
					  string_agg(format('<g class="segment" data-segment="%s"><text x="150" y="%s" text-anchor="end" '
										'class="strong">%s</text><rect x="158" y="%s" width="%s" height="15" fill="#9fb7cf">'
										'<title>%s: %s customers</title></rect><text x="%s" y="%s" class="muted">%s</text>'
										'<rect x="158" y="%s" width="%s" height="15" fill="#1f4e79"><title>%s: revenue %s'
										'</title></rect><text x="%s" y="%s" class="muted">%s</text></g>',
										retail.html_escape(g.segment), 30 + 40 * g.row_no + 18,
										retail.html_escape(g.segment),
										30 + 40 * g.row_no, round(260 * g.customer_share / k.top, 1),
										retail.html_escape(g.segment), to_char(g.customers, count_format),
										164 + round(260 * g.customer_share / k.top, 1), 30 + 40 * g.row_no + 12,
										to_char(100 * g.customer_share, 'FM990.0') || ' %',
										30 + 40 * g.row_no + 16, round(260 * coalesce(g.revenue_share, 0) / k.top, 1),
										retail.html_escape(g.segment), to_char(round(g.revenue), count_format),
										164 + round(260 * coalesce(g.revenue_share, 0) / k.top, 1), 30 + 40 * g.row_no + 28,
										coalesce(to_char(100 * g.revenue_share, 'FM990.0') || ' %', '–')),
								 '' ORDER BY g.row_no),
					  string_agg(format('<tr><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
										'<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>',
										retail.html_escape(g.segment), to_char(g.customers, count_format),
										to_char(round(g.revenue), count_format),
										to_char(g.avg_recency_days, 'FM999,990'), to_char(g.avg_frequency, 'FM999,990.0'),
										to_char(round(g.avg_monetary), count_format)),
								 '' ORDER BY g.row_no))
		INTO part
		FROM segments g, scale k
		GROUP BY k.n;
		body := body || format('<section id="segments"><h2>Who are our best customers?</h2>'
							   '<p class="lead">RFM segments (recency, frequency, monetary value) as of %s: their share '
							   'of customers and of revenue. The table gives their averages per customer: days since '
							   'the last order (recency), orders and spend.</p>%s</section>',
							   to_char(as_of, 'YYYY-MM-DD'), part);

		-- Pareto of countries: bars by revenue, the cumulative share on the
		-- right axis, the A/B/C classes as bands behind.
		SELECT count(*), max(m.revenue) INTO countries, tick FROM gold.mart_countries_abc m;
		shown_countries := least(countries, top_countries);
		bar := greatest(12, least(40, round(880.0 / greatest(shown_countries, 1))));
		chart_width := 80 + bar * shown_countries + 50;
		-- four ticks of a round step (1, 2, 2.5 or 5 times a power of ten)
		-- up to the largest revenue or above
		IF tick > 0 THEN
			SELECT min(x.magnitude * k) INTO tick
			FROM (SELECT power(10::numeric, floor(log(tick / 4))) AS magnitude) x,
				 unnest(ARRAY[1, 2, 2.5, 5, 10]) k
			WHERE x.magnitude * k >= tick / 4;
		END IF;
		WITH c AS (
			SELECT m.country, m.revenue, m.share, m.abc_class,
				   (m.cum_share_before + m.share)::numeric AS cum_share,
				   row_number() OVER (ORDER BY m.rank) - 1 AS i,
				   m.revenue / nullif(4 * tick, 0) AS height
			FROM gold.mart_countries_abc m
			ORDER BY m.rank
			LIMIT top_countries
		)
		SELECT format('<svg width="%s" height="380" viewBox="0 0 %s 380" role="img" '
					  'aria-label="Revenue by country with cumulative share">%s%s%s'
					  '<polyline class="pareto-line" fill="none" stroke="#c0504d" stroke-width="2" points="%s"/>%s</svg>',
					  chart_width, chart_width,
					  -- the class bands, behind
					  (SELECT string_agg(format('<rect class="abc-band" data-class="%s" x="%s" y="20" width="%s" height="260" '
												'fill="%s"/><text x="%s" y="14" text-anchor="middle" class="strong">%s</text>',
												b.abc_class, 80 + bar * b.first_i, bar * b.n,
												CASE b.abc_class WHEN 'A' THEN '#e6eef6' WHEN 'B' THEN '#eff2f5' ELSE '#f8f9fa' END,
												80 + bar * b.first_i + bar * b.n / 2, b.abc_class),
										 '' ORDER BY b.abc_class)
					   FROM (SELECT x.abc_class, min(x.i) AS first_i, count(*) AS n FROM c x GROUP BY x.abc_class) b),
					  -- axes: revenue on the left, cumulative share on the right
					  (SELECT string_agg(format('<line x1="80" x2="%s" y1="%s" y2="%s" stroke="#dde2e8"/>'
												'<text x="74" y="%s" text-anchor="end" class="muted">%s</text>'
												'<text x="%s" y="%s" class="muted">%s %%</text>',
												80 + bar * shown_countries, 280 - 65 * q, 280 - 65 * q, 284 - 65 * q,
												-- FM drops the trailing zeros of the decimals, not the point
												CASE WHEN tick * q >= 1e6 THEN rtrim(to_char(tick * q / 1e6, 'FM999,990.99'), '.') || ' M'
													 WHEN tick * q >= 1e3 THEN rtrim(to_char(tick * q / 1e3, 'FM990.99'), '.') || ' k'
													 ELSE rtrim(to_char(tick * q, 'FM990.99'), '.') END,
												86 + bar * shown_countries, 284 - 65 * q, 25 * q),
										 '' ORDER BY q)
					   FROM generate_series(0, 4) q),
					  -- the bars, with the country below
					  string_agg(format('<g class="pareto-bar" data-country="%s" data-class="%s"><title>%s: %s (%s, '
										'cumulative %s)</title><rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>'
										'<text transform="translate(%s 292) rotate(-45)" text-anchor="end">%s</text></g>',
										retail.html_escape(c.country), c.abc_class, retail.html_escape(c.country),
										to_char(round(c.revenue), count_format), to_char(100 * c.share, 'FM990.0') || ' %',
										to_char(100 * c.cum_share, 'FM990.0') || ' %',
										80 + bar * c.i + 2, 280 - round(260 * coalesce(c.height, 0), 1), bar - 4,
										round(260 * coalesce(c.height, 0), 1),
										CASE c.abc_class WHEN 'A' THEN '#1f4e79' WHEN 'B' THEN '#5b84ad' ELSE '#9fb7cf' END,
										80 + bar * c.i + bar / 2 + 4,
										retail.html_escape(CASE WHEN length(c.country) > 24
																THEN left(c.country, 23) || '…' ELSE c.country END)),
								 '' ORDER BY c.i),
					  string_agg(format('%s,%s', 80 + bar * c.i + bar / 2, 20 + round(260 * (1 - c.cum_share), 1)), ' '
								 ORDER BY c.i),
					  string_agg(format('<circle cx="%s" cy="%s" r="2.5" fill="#c0504d"/>',
										80 + bar * c.i + bar / 2, 20 + round(260 * (1 - c.cum_share), 1)), '' ORDER BY c.i))
		INTO part
		FROM c;
		body := body || format('<section id="countries"><h2>Where does revenue come from?</h2>'
							   '<p class="lead">Revenue by country, largest first; the red line is the cumulative share '
							   '(right axis). Class A brings the first 80 %% of revenue, B the next 15 %%, C the rest; '
							   'here %s.</p>%s%s</section>',
							   (SELECT string_agg(format('%s: %s %s, %s', b.abc_class, b.n,
														 CASE WHEN b.n = 1 THEN 'country' ELSE 'countries' END,
														 to_char(100 * b.share, 'FM990.0') || ' %'),
												  '; ' ORDER BY b.abc_class)
								FROM (SELECT m.abc_class, count(*) AS n, sum(m.share) AS share
									  FROM gold.mart_countries_abc m GROUP BY m.abc_class) b),
							   CASE WHEN countries > shown_countries
									THEN format('<p class="left-out" id="countries-left-out">Showing the %s largest '
												'countries of %s; the classes count all of them.</p>',
												shown_countries, to_char(countries, count_format))
									ELSE '' END,
							   part);

		-- Products: the ABC-XYZ matrix and the best sellers.
		WITH cells AS (
			SELECT a.abc, x.xyz, a.i, x.j
			FROM unnest(ARRAY['A', 'B', 'C']) WITH ORDINALITY a(abc, i),
				 unnest(ARRAY['X', 'Y', 'Z', 'N']) WITH ORDINALITY x(xyz, j)
		),
		products AS (
			SELECT p.abc_class, p.xyz_class, count(*) AS n, sum(p.revenue) AS revenue
			FROM gold.mart_products_abc p
			GROUP BY p.abc_class, p.xyz_class
		),
		filled AS (
			SELECT c.abc, c.xyz, c.i, c.j, coalesce(p.n, 0) AS n, coalesce(p.revenue, 0) AS revenue,
				   coalesce(p.revenue / nullif(sum(p.revenue) OVER (), 0), 0) AS share
			FROM cells c LEFT JOIN products p ON p.abc_class = c.abc AND p.xyz_class = c.xyz
		)
		SELECT format('<svg width="590" height="300" viewBox="0 0 590 300" role="img" aria-label="ABC-XYZ matrix of products">'
					  '<text x="110" y="16" class="strong">X steady</text><text x="230" y="16" class="strong">Y variable</text>'
					  '<text x="350" y="16" class="strong">Z erratic</text><text x="470" y="16" class="strong">N new</text>'
					  '<text x="8" y="70" class="strong">A</text><text x="8" y="86" class="muted">top 80 %%</text>'
					  '<text x="8" y="160" class="strong">B</text><text x="8" y="176" class="muted">next 15 %%</text>'
					  '<text x="8" y="250" class="strong">C</text><text x="8" y="266" class="muted">last 5 %%</text>%s</svg>',
					  string_agg(format('<g class="abcxyz-cell" data-cell="%s%s" data-products="%s"><title>%s%s: %s %s, '
										'revenue %s</title><rect x="%s" y="%s" width="116" height="86" rx="3" fill="#1f4e79" '
										'fill-opacity="%s"/><text x="%s" y="%s" text-anchor="middle" class="strong%s">%s</text>'
										'<text x="%s" y="%s" text-anchor="middle"%s>%s %s</text>'
										'<text x="%s" y="%s" text-anchor="middle"%s>%s revenue</text></g>',
										f.abc, f.xyz, f.n, f.abc, f.xyz, to_char(f.n, count_format),
										CASE WHEN f.n = 1 THEN 'product' ELSE 'products' END,
										to_char(round(f.revenue), count_format),
										90 + 120 * (f.j - 1), 26 + 90 * (f.i - 1), round(0.06 + 0.94 * f.share / t.top, 3),
										148 + 120 * (f.j - 1), 26 + 90 * (f.i - 1) + 24,
										CASE WHEN f.share / t.top > 0.5 THEN ' on-dark' ELSE '' END, f.abc || f.xyz,
										148 + 120 * (f.j - 1), 26 + 90 * (f.i - 1) + 46,
										CASE WHEN f.share / t.top > 0.5 THEN ' class="on-dark"' ELSE '' END,
										to_char(f.n, count_format), CASE WHEN f.n = 1 THEN 'product' ELSE 'products' END,
										148 + 120 * (f.j - 1), 26 + 90 * (f.i - 1) + 64,
										CASE WHEN f.share / t.top > 0.5 THEN ' class="on-dark"' ELSE '' END,
										to_char(100 * f.share, 'FM990.0') || ' %'),
								 '' ORDER BY f.i, f.j))
		INTO part
		FROM filled f, (SELECT coalesce(nullif(max(x.share), 0), 1) AS top FROM filled x) t;
		body := body || format('<section id="products"><h2>Which products matter?</h2>'
							   '<p class="lead">Products by share of revenue (ABC) and by how steady their monthly '
							   'demand is (XYZ: coefficient of variation below 0.5, below 1, above; N: sold for less than '
							   '3 months, no pattern yet). AX products are the steady sellers never to run out of; CZ the '
							   'candidates to drop; N products are too new to tell.</p><div class="split">%s'
							   '<table><thead><tr><th>#</th><th>Product</th><th class="num">Revenue</th>'
							   '<th class="num">Share</th><th>Class</th></tr></thead><tbody>%s</tbody></table></div></section>',
							   part,
							   (SELECT string_agg(format('<tr class="product"><td class="num">%s</td><td>%s <small>%s</small></td>'
														 '<td class="num">%s</td><td class="num">%s</td><td>%s</td></tr>',
														 p.rank, retail.html_escape(coalesce(p.description, '(no description)')),
														 retail.html_escape(p.stock_code),
														 to_char(round(p.revenue), count_format),
														 to_char(100 * p.share, 'FM990.0') || ' %',
														 retail.html_escape(p.abc_xyz)),
										  '' ORDER BY p.rank)
								FROM (SELECT * FROM gold.mart_products_abc x ORDER BY x.rank LIMIT 10) p));

		-- Anomalous orders, strongest first.
		SELECT count(*) INTO anomalies FROM gold.audit_order_anomalies;
		SELECT string_agg(format('<tr class="anomaly"><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
								 '<td class="num">%s</td><td class="num">%s</td><td>%s</td></tr>',
								 retail.html_escape(a.invoice_no), to_char(a.invoice_ts, 'YYYY-MM-DD HH24:MI'),
								 coalesce(a.customer_id::text, '–'), retail.html_escape(a.country),
								 to_char(a.total, money_format), coalesce(to_char(a.z, 'FM999,990.0'), '–'),
								 CASE a.reason
									 WHEN 'wholesale_total' THEN 'Total far above the usual order'
									 WHEN 'unit_price_outlier' THEN
										 'A unit price far from the product''s usual'
										 || CASE WHEN a.stock_code IS NOT NULL
												 THEN format(': %s at %s (usual %s)',
															 retail.html_escape(coalesce(p.description, a.stock_code)),
															 to_char(a.unit_price, money_format),
															 to_char(a.product_median_price, money_format))
												 ELSE '' END
									 WHEN 'mixed_parties' THEN 'Lines of several customers or countries'
									 ELSE retail.html_escape(a.reason)
								 END),
						  '' ORDER BY a.strength)
		INTO part
		FROM (SELECT x.*, row_number() OVER (ORDER BY abs(x.z) DESC NULLS LAST, x.invoice_no, x.reason) AS strength
			  FROM gold.audit_order_anomalies x
			  ORDER BY strength
			  LIMIT top_anomalies) a
			 LEFT JOIN gold.mart_products_abc p ON p.stock_code = a.stock_code;
		body := body || format('<section id="anomalies"><h2>Which orders need a look?</h2><p class="lead">%s</p>%s</section>',
							   CASE
								   WHEN anomalies = 0 THEN 'No order stands out.'
								   ELSE format('%s flagged %s%s', to_char(anomalies, count_format),
											   CASE WHEN anomalies = 1 THEN 'order' ELSE 'orders' END,
											   CASE
												   WHEN top_anomalies = 0 THEN '.'
												   WHEN anomalies <= top_anomalies
													   THEN ', strongest first (z: robust z-score).'
												   ELSE format('; the %s strongest (z: robust z-score).',
															   to_char(top_anomalies, count_format))
											   END)
							   END,
							   CASE WHEN part IS NULL THEN ''
									ELSE '<table><thead><tr><th>Invoice</th><th>Date</th><th>Customer</th><th>Country</th>'
										 '<th class="num">Total</th><th class="num">z</th><th>Why</th></tr></thead><tbody>'
										 || part || '</tbody></table>' END);

		-- Customer value by segment, with what the model assumes and the spread
		-- of P(alive) in each segment.
		WITH v AS (
			SELECT s.segment, count(*) AS n, sum(v.clv)::numeric AS clv, avg(v.clv)::numeric AS avg_clv,
				   avg(v.p_alive) AS p_alive,
				   percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY v.p_alive) AS p_alive_q,
				   sum(v.expected_purchases_90d) AS purchases_90d,
				   row_number() OVER (ORDER BY sum(v.clv) DESC NULLS LAST, s.segment) - 1 AS row_no
			FROM gold.mart_customer_value v
				 JOIN gold.mart_customer_segments s ON s.customer_id = v.customer_id
			GROUP BY s.segment
		)
		SELECT format('<div class="split"><svg width="480" height="%s" viewBox="0 0 480 %s" role="img" '
					  'aria-label="Customer lifetime value by segment">%s</svg><table><thead><tr><th>Segment</th>'
					  '<th class="num">Customers</th><th class="num">CLV%s</th><th class="num">Per customer</th>'
					  '<th class="num">P(alive), mean</th><th class="num">P(alive), quartiles</th>'
					  '<th class="num">Purchase days, 90 days</th></tr></thead>'
					  '<tbody>%s</tbody></table></div>',
					  10 + 26 * count(*), 10 + 26 * count(*),
					  string_agg(format('<g class="clv-segment" data-segment="%s"><text x="162" y="%s" '
										'text-anchor="end" class="strong">%s</text><rect x="170" y="%s" width="%s" '
										'height="18" fill="#1f4e79"/><text x="%s" y="%s" class="muted">%s</text></g>',
										retail.html_escape(v.segment), 10 + 26 * v.row_no + 13,
										retail.html_escape(v.segment), 10 + 26 * v.row_no,
										round(230 * greatest(coalesce(v.clv, 0), 0) / t.top, 1),
										176 + round(230 * greatest(coalesce(v.clv, 0), 0) / t.top, 1),
										10 + 26 * v.row_no + 13, to_char(round(v.clv), count_format)),
								 '' ORDER BY v.row_no),
					  CASE WHEN currency IS NOT NULL THEN ' (' || retail.html_escape(currency) || ')' ELSE '' END,
					  string_agg(format('<tr><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
										'<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
										'<td class="num">%s</td></tr>',
										retail.html_escape(v.segment), to_char(v.n, count_format),
										to_char(round(v.clv), count_format), to_char(v.avg_clv, money_format),
										to_char(100 * v.p_alive, 'FM990.0') || ' %',
										coalesce(array_to_string(ARRAY(SELECT to_char(100 * q, 'FM990.0')
																	  FROM unnest(v.p_alive_q) q), ' / ')
												 || ' %', ''),
										to_char(v.purchases_90d, 'FM999,999,990.0')),
								 '' ORDER BY v.row_no))
		INTO part
		FROM v, (SELECT coalesce(nullif(max(x.clv), 0), 1) AS top FROM v x) t
		GROUP BY t.top;
		SELECT format('%s and Gamma-Gamma models, over %s months of 30 days, discounted by %s a month, fitted in %ss; '
					  '%s', CASE m.model WHEN 'mbgnbd' THEN 'Modified BG/NBD' WHEN 'paretonbd' THEN 'Pareto/NBD'
										ELSE 'BG/NBD' END,
					  m.horizon_months, rtrim(to_char(100 * m.discount_rate, 'FM990.9999'), '.') || ' %', m.unit,
					  CASE WHEN currency IS NULL THEN 'amounts without a currency (setting currency)'
						   ELSE 'amounts in ' || retail.html_escape(currency) END)
		INTO assumptions
		FROM gold.clv_model m;
		body := body || format('<section id="clv"><h2>What are customers worth?</h2><p class="lead">Customer '
							   'lifetime value by segment: the expected value of future purchases, the chance the '
							   'customer is still active (its mean and quartiles: 25 %% / median / 75 %%), and the '
							   'purchase days (a day''s invoices are one purchase) expected in the next 90 days.</p>'
							   '<p class="muted" id="clv-assumptions">%s.</p>%s</section>',
							   coalesce(assumptions, 'No model fitted yet'), part);

		-- Segment migration between the two latest snapshots, where there are two.
		SELECT max(h.as_of) INTO migration_to FROM gold.segment_history h;
		SELECT max(h.as_of) INTO migration_from FROM gold.segment_history h WHERE h.as_of < migration_to;
		IF migration_from IS NOT NULL THEN
			WITH flows AS (
				SELECT m.from_segment, m.to_segment, m.customers AS n
				FROM retail.segment_migration(migration_from, migration_to) m
			),
			known AS (
				SELECT s.segment, s.revenue FROM gold.segment_summary s
			),
			-- segments in the order of the segments section, new customers first
			axis AS (
				SELECT x.segment, row_number() OVER (ORDER BY x.segment IS NOT NULL, k.revenue DESC NULLS LAST, x.segment)
									  - 1 AS pos
				FROM (SELECT f.from_segment AS segment FROM flows f
					  UNION SELECT f.to_segment FROM flows f) x
					 LEFT JOIN known k ON k.segment = x.segment
			),
			rows_ AS (
				SELECT f.from_segment, sum(f.n) AS total FROM flows f GROUP BY f.from_segment
			),
			placed AS (
				SELECT f.*, r.pos AS row_pos, c.pos - (SELECT count(*) FROM axis WHERE segment IS NULL) AS col_pos,
					   f.n::numeric / nullif(t.total, 0) AS share
				FROM flows f
					 JOIN axis r ON r.segment IS NOT DISTINCT FROM f.from_segment
					 JOIN axis c ON c.segment = f.to_segment
					 JOIN rows_ t ON t.from_segment IS NOT DISTINCT FROM f.from_segment
			)
			SELECT format('<svg width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="Segment migration">'
						  '<text x="8" y="16" class="muted">From ↓  to →</text>%s%s%s</svg>',
						  250 + 74 * (SELECT count(*) FROM axis WHERE segment IS NOT NULL),
						  120 + 30 * (SELECT count(*) FROM axis),
						  250 + 74 * (SELECT count(*) FROM axis WHERE segment IS NOT NULL),
						  120 + 30 * (SELECT count(*) FROM axis),
						  (SELECT string_agg(format('<text transform="translate(%s 104) rotate(-40)" class="strong">%s</text>',
													170 + 74 * (a.pos - (SELECT count(*) FROM axis WHERE segment IS NULL)) + 30,
													retail.html_escape(a.segment)), '' ORDER BY a.pos)
						   FROM axis a WHERE a.segment IS NOT NULL),
						  (SELECT string_agg(format('<text x="162" y="%s" text-anchor="end" class="strong">%s</text>',
													112 + 30 * a.pos + 19,
													retail.html_escape(coalesce(a.segment, 'Not yet customers'))),
											 '' ORDER BY a.pos)
						   FROM axis a),
						  string_agg(format('<g class="migration-cell" data-from="%s" data-to="%s"><title>%s → %s: %s '
											'customers (%s of the row)</title><rect x="%s" y="%s" width="72" height="28" '
											'rx="2" fill="#1f4e79" fill-opacity="%s"%s/><text x="%s" y="%s" '
											'text-anchor="middle"%s>%s</text></g>',
											retail.html_escape(coalesce(p.from_segment, '(new)')), retail.html_escape(p.to_segment),
											retail.html_escape(coalesce(p.from_segment, 'Not yet customers')),
											retail.html_escape(p.to_segment),
											to_char(p.n, count_format), to_char(100 * p.share, 'FM990.0') || ' %',
											170 + 74 * p.col_pos, 112 + 30 * p.row_pos,
											round(0.06 + 0.94 * coalesce(p.share, 0), 3),
											CASE WHEN p.from_segment = p.to_segment THEN ' stroke="#c0504d" stroke-width="2"'
												 ELSE '' END,
											170 + 74 * p.col_pos + 36, 112 + 30 * p.row_pos + 19,
											CASE WHEN p.share > 0.55 THEN ' class="on-dark"' ELSE '' END,
											to_char(p.n, count_format)),
									 '' ORDER BY p.row_pos, p.col_pos))
			INTO part
			FROM placed p;
			IF part IS NOT NULL THEN
				body := body || format('<section id="migration"><h2>How did customers move?</h2><p class="lead">'
									   'Customers by segment on %s (rows) and on %s (columns); a red frame marks '
									   'those who stayed, the shade the share of the row.</p>%s</section>',
									   to_char(migration_from, 'YYYY-MM-DD'), to_char(migration_to, 'YYYY-MM-DD'), part);
			END IF;
		END IF;
	END IF;

	RETURN '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
		-- nothing may run or load, whatever the data holds
		|| '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">'
		|| '<meta name="viewport" content="width=device-width, initial-scale=1">'
		|| '<title>Retail analytics report</title><style>' || style || '</style></head><body><main>'
		|| format('<header><h1>Retail analytics</h1><p class="sub">%s</p></header>',
				  CASE WHEN coalesce(customers, 0) = 0 THEN 'No data yet'
					   ELSE format('Order lines from %s to %s · customers scored as of %s',
								   to_char(first_ts, 'DD Mon YYYY'), to_char(last_ts, 'DD Mon YYYY'),
								   to_char(as_of, 'DD Mon YYYY')) END)
		|| body
		|| format('<footer>Made by retail_analytics %s from the gold marts on %s. Revenue is quantity × unit price of '
				  'the clean order lines (no returns or non-product lines). %s</footer>',
				  retail.html_escape(version), to_char(pg_catalog.now(), 'YYYY-MM-DD HH24:MI TZ'), netting)
		|| '</main></body></html>';
END
$report$;
COMMENT ON FUNCTION retail.report_html(integer) IS
	'The report of the gold marts as one self-contained HTML page (inline SVG and CSS, no script): headline figures and freshness, cohort retention heatmap (the 24 most recent cohorts, months 0 to 23), RFM segments, Pareto of the 40 largest countries, ABC-XYZ matrix (N: products too new for a demand pattern) and the 10 best-selling products, the top_anomalies (at most 1000) strongest anomalous orders, and customer value and segment migration where those marts exist; the page says what it leaves out';

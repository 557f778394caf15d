
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
-- checks of settings know the two new kinds of value.
ALTER TABLE retail.setting_defaults DROP CONSTRAINT setting_defaults_value_type_check,
	ADD CONSTRAINT setting_defaults_value_type_check
		CHECK (value_type IN ('integer', 'number', 'date', 'preset', 'unit', 'model', 'text'));
CREATE OR REPLACE FUNCTION retail.setting_allowed(rule retail.setting_defaults) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE rule.value_type
		   WHEN 'preset' THEN 'the name of a preset in retail.segment_rules'
		   WHEN 'date' THEN 'a date written YYYY-MM-DD'
		   WHEN 'unit' THEN 'day or week'
		   WHEN 'model' THEN 'bgnbd, mbgnbd or paretonbd'
		   WHEN 'text' THEN 'text of at most ' || rule.upper_bound || ' characters, none of them control characters'
		   ELSE CASE rule.value_type WHEN 'integer' THEN 'an integer' ELSE 'a number' END
				|| CASE WHEN rule.lower_bound IS NULL THEN ''
						WHEN rule.lower_exclusive THEN ' above ' || rule.lower_bound
						ELSE ' from ' || rule.lower_bound END
				|| CASE WHEN rule.upper_bound IS NULL THEN ''
						WHEN rule.lower_bound IS NULL OR rule.lower_exclusive THEN ' and at most ' || rule.upper_bound
						ELSE ' to ' || rule.upper_bound END
	   END
	   || CASE WHEN rule.nullable THEN ', or NULL' ELSE '' END;
COMMENT ON FUNCTION retail.setting_allowed(retail.setting_defaults) IS
	'The values a setting allows, in words';
CREATE OR REPLACE FUNCTION retail.checked_setting(setting_name text, value text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rule retail.setting_defaults;
	trimmed text := btrim(value);
	number numeric;
	valid boolean;
BEGIN
	SELECT * INTO rule FROM retail.setting_defaults d WHERE d.name = setting_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown setting "%"', setting_name
			USING ERRCODE = 'undefined_object', HINT = format('The settings are %s (retail.current_settings lists them with their values).', (SELECT string_agg(d.name, ', ' ORDER BY d.name) FROM retail.setting_defaults d));
	END IF;
	IF trimmed IS NULL OR trimmed = '' THEN
		valid := rule.nullable;
		trimmed := NULL;
	ELSIF rule.value_type = 'preset' THEN
		valid := EXISTS (SELECT FROM retail.segment_rules r WHERE r.preset = trimmed);
	ELSIF rule.value_type = 'unit' THEN
		valid := trimmed IN ('day', 'week');
	ELSIF rule.value_type = 'model' THEN
		valid := trimmed IN ('bgnbd', 'mbgnbd', 'paretonbd');
	ELSIF rule.value_type = 'text' THEN
		valid := length(trimmed) <= rule.upper_bound AND trimmed !~ '[[:cntrl:]]';
	ELSIF rule.value_type = 'date' THEN
		valid := trimmed ~ '^\d{4}-\d{2}-\d{2}$'
			AND retail.try_timestamp(trimmed || ' 00:00') IS NOT NULL;
	ELSE
		valid := trimmed ~ CASE rule.value_type WHEN 'integer' THEN '^[+-]?\d{1,9}$'
							   ELSE '^[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})$' END;
		IF valid THEN
			number := trimmed::numeric;
			valid := (rule.lower_bound IS NULL OR number > rule.lower_bound
					  OR (number = rule.lower_bound AND NOT rule.lower_exclusive))
				AND (rule.upper_bound IS NULL OR number <= rule.upper_bound);
		END IF;
	END IF;
	IF NOT valid THEN
		RAISE EXCEPTION 'invalid value for setting "%": %', setting_name,
			coalesce('"' || value || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Setting "%s" allows %s.', setting_name, retail.setting_allowed(rule)),
				  SCHEMA = 'retail', TABLE = 'settings', COLUMN = setting_name;
	END IF;
	RETURN trimmed;
END
$$;
COMMENT ON FUNCTION retail.checked_setting(text, text) IS
	'A setting''s value, trimmed, if its rule in retail.setting_defaults allows it; else an error naming the setting and the values allowed';
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


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

-- The purchase model named (bgnbd, mbgnbd or paretonbd; the others stay
-- NULL) and Gamma-Gamma, from customers given as summaries: the marts' path.
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
	AS 'MODULE_PATHNAME', 'ra_mbgnbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	-- a series per month of the horizon: the planner must know it is dear
	COST 2000;
COMMENT ON FUNCTION retail.mbgnbd_clv(retail.mbgnbd_model, retail.gamma_gamma_model, integer, double precision,
							   double precision, double precision, integer, double precision, text) IS
	'Customer lifetime value under a modified BG/NBD model, as retail.clv computes it under BG/NBD (a name of its own: an overload of retail.clv would make calls with untyped rows ambiguous)';

CREATE FUNCTION retail.paretonbd_clv(model retail.paretonbd_model, gamma_gamma retail.gamma_gamma_model,
						   frequency integer, recency double precision, age double precision,
						   monetary_value double precision, months integer DEFAULT 12,
						   discount_rate double precision DEFAULT 0.01, unit text DEFAULT 'day')
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'ra_paretonbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	-- a series per month of the horizon: the planner must know it is dear
	COST 2000;
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

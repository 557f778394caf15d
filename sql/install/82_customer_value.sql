
-- Gold: customer lifetime value (src/btyd.c, 75_btyd.sql).
-- gold.clv_model fits both models on silver, once a refresh, and
-- gold.mart_customer_value applies them to each customer, so retail.refresh()
-- refreshes the model first.
INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('clv_horizon_months', '12', 'Horizon of gold.mart_customer_value.clv, in months of 30 days',
	 'integer', 0, false, 120, false),
	('clv_unit', 'day', 'Unit of time of the CLV models and of gold.mart_customer_value (day or week)',
	 'unit', NULL, false, NULL, false),
	('clv_discount_rate', '0.01', 'Monthly discount rate of gold.mart_customer_value.clv',
	 'number', 0, false, 1, false),
	('clv_model', 'bgnbd', 'Purchase model of gold.clv_model and gold.mart_customer_value: bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)',
	 'model', NULL, false, NULL, false);

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

-- The summary per customer that the models are fitted on and applied to,
-- from the per-invoice-day state (a purchase day's value is the sum of its
-- rows), monetary_value rounded to the mart's 6 decimals.
CREATE FUNCTION retail.clv_summary(unit text) RETURNS SETOF retail.btyd_customer
LANGUAGE sql STABLE PARALLEL RESTRICTED
BEGIN ATOMIC
	SELECT s.customer_id, s.frequency, s.recency, s.age,
		   round(s.monetary_value::numeric, 6)::double precision AS monetary_value
	FROM retail.btyd_summary('silver.customer_invoice_days', NULL, unit, 'customer_id', 'first_ts', 'revenue') s;
END;
COMMENT ON FUNCTION retail.clv_summary(text) IS
	'The BTYD summary of silver in a unit (day or week), monetary_value to 6 decimals: what gold.clv_model is fitted on and gold.mart_customer_value applies it to';

-- Step 500 keeps each customer's purchase days (gold_store.clv_customers)
-- by the keys a batch touches, fits the models on them once a refresh
-- (gold_store.clv_model), and gold.mart_customer_value applies the models
-- when it is read: age, P(alive), expected purchases and CLV move with the
-- calibration end, and would otherwise rewrite every customer every day.
CREATE TABLE gold_store.clv_customers (
	customer_id bigint PRIMARY KEY,
	frequency integer NOT NULL,
	first_day date NOT NULL,
	last_day date NOT NULL,
	monetary_value double precision NOT NULL
);
COMMENT ON TABLE gold_store.clv_customers IS
	'Per customer of silver, what retail.clv_summary gives in days and without the calibration end: what gold_store.clv_model is fitted on and gold.mart_customer_value applies it to';
COMMENT ON COLUMN gold_store.clv_customers.frequency IS 'Repeat purchases: purchase days - 1';
COMMENT ON COLUMN gold_store.clv_customers.first_day IS 'First purchase day';
COMMENT ON COLUMN gold_store.clv_customers.last_day IS 'Last purchase day';
COMMENT ON COLUMN gold_store.clv_customers.monetary_value IS 'Mean value of the repeat purchase days (the first excluded), to 6 decimals; 0 without';
-- Reading gold.mart_customer_value applies the models to every row (tens of
-- microseconds each): let a parallel plan share it however small the table.
ALTER TABLE gold_store.clv_customers SET (parallel_workers = 8);

-- The rows of gold_store.clv_customers for the customers listed (all for
-- NULL), from the per-invoice-day state as retail.btyd_summary reads it.  A
-- statement of PL/pgSQL planned for its argument: Citus cannot plan a SQL
-- function with parameters over distributed tables (doc/citus.md).
CREATE FUNCTION retail.clv_customer_rows(customers bigint[]) RETURNS SETOF gold_store.clv_customers
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE $rows$
		SELECT p.customer_id, (count(*) - 1)::integer, min(p.day), max(p.day),
			   round(coalesce((sum(p.value) FILTER (WHERE p.n > 1) / nullif(count(*) - 1, 0))::double precision,
							  0)::numeric, 6)::double precision
		FROM (SELECT d.customer_id, d.day, sum(d.revenue) AS value,
					 row_number() OVER (PARTITION BY d.customer_id ORDER BY d.day) AS n
			  FROM silver.customer_invoice_days d
			  WHERE $1 IS NULL OR d.customer_id = ANY ($1)
			  GROUP BY d.customer_id, d.day) p
		GROUP BY p.customer_id
	$rows$ USING customers;
END
$$;
COMMENT ON FUNCTION retail.clv_customer_rows(bigint[]) IS
	'Per customer listed (all for NULL): repeat purchase days, first and last purchase day, mean value of the repeat days to 6 decimals, from silver.customer_invoice_days';

CREATE TABLE gold_store.clv_model (
	calibration_end date,
	unit text,
	horizon_months integer,
	discount_rate double precision,
	customers bigint,
	repeat_customers bigint,
	r double precision,
	alpha double precision,
	a double precision,
	b double precision,
	bgnbd_log_likelihood double precision,
	bgnbd_converged boolean,
	p double precision,
	q double precision,
	gamma double precision,
	gamma_gamma_log_likelihood double precision,
	gamma_gamma_converged boolean,
	frequency_monetary_correlation double precision,
	model text,
	s double precision,
	beta double precision
);

-- The models, fitted on the stored customers with the settings in force;
-- no row without customers.
CREATE FUNCTION retail.clv_fit() RETURNS SETOF gold_store.clv_model
LANGUAGE sql STABLE
BEGIN ATOMIC
	WITH settings AS MATERIALIZED (
		SELECT * FROM retail.clv_settings()
	),
	calibration AS MATERIALIZED (
		SELECT max(c.last_day) AS end_day FROM gold_store.clv_customers c
	),
	summary AS MATERIALIZED (
		SELECT c.customer_id, c.frequency, (c.last_day - c.first_day) / retail.btyd_unit_days(x.unit) AS recency,
			   (k.end_day - c.first_day) / retail.btyd_unit_days(x.unit) AS age, c.monetary_value
		FROM gold_store.clv_customers c, settings x, calibration k
	),
	fitted AS MATERIALIZED (
		SELECT m.*
		FROM settings x,
			 retail.btyd_models((SELECT array_agg(s::retail.btyd_customer ORDER BY s.customer_id) FROM summary s),
								x.model) m
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
	SELECT k.end_day, x.unit, x.horizon_months, x.discount_rate,
		   (SELECT count(*) FROM summary), (SELECT count(*) FROM summary s WHERE s.frequency > 0),
		   m.r, m.alpha, m.a, m.b, m.log_likelihood, m.converged,
		   (f.gamma_gamma).p, (f.gamma_gamma).q, (f.gamma_gamma).gamma, (f.gamma_gamma).log_likelihood,
		   (f.gamma_gamma).converged,
		   -- in a fixed order: a float sum depends on it
		   (SELECT corr(s.frequency, s.monetary_value ORDER BY s.customer_id) FROM summary s WHERE s.frequency > 0),
		   x.model, m.s, m.beta
	FROM settings x, calibration k, fitted f, purchase m
	WHERE EXISTS (SELECT FROM summary);
END;
COMMENT ON FUNCTION retail.clv_fit() IS
	'The row of gold_store.clv_model: the models fitted on gold_store.clv_customers with the settings in force; none without customers';

CREATE VIEW gold.clv_model AS SELECT * FROM gold_store.clv_model;
COMMENT ON TABLE gold_store.clv_model IS
	'The purchase model (setting clv_model: BG/NBD, modified BG/NBD or Pareto/NBD) and the Gamma-Gamma model that gold.mart_customer_value applies (one row, none without customers; parameters NULL while no customer bought twice) and the settings it applies them with; written by step 500 with gold_store.clv_customers';
COMMENT ON COLUMN gold_store.clv_model.calibration_end IS 'Last date of the silver lines with a customer: the end of the calibration period';
COMMENT ON COLUMN gold_store.clv_model.unit IS 'Unit of time of the models (setting clv_unit): day or week';
COMMENT ON COLUMN gold_store.clv_model.horizon_months IS 'Horizon of gold.mart_customer_value.clv in months of 30 days (setting clv_horizon_months)';
COMMENT ON COLUMN gold_store.clv_model.discount_rate IS 'Monthly discount rate of gold.mart_customer_value.clv (setting clv_discount_rate)';
COMMENT ON COLUMN gold_store.clv_model.customers IS 'Customers the purchase model is fitted on';
COMMENT ON COLUMN gold_store.clv_model.repeat_customers IS 'Customers with frequency above 0, those the Gamma-Gamma model is fitted on';
COMMENT ON COLUMN gold_store.clv_model.r IS 'Purchase model (column model): shape of the Gamma distribution of purchase rates';
COMMENT ON COLUMN gold_store.clv_model.alpha IS 'Purchase model (column model): scale of the Gamma distribution of purchase rates, in the unit';
COMMENT ON COLUMN gold_store.clv_model.a IS 'BG/NBD and modified BG/NBD: first shape of the Beta distribution of dropout probabilities; NULL under Pareto/NBD';
COMMENT ON COLUMN gold_store.clv_model.b IS 'BG/NBD and modified BG/NBD: second shape of the Beta distribution of dropout probabilities; NULL under Pareto/NBD';
COMMENT ON COLUMN gold_store.clv_model.bgnbd_log_likelihood IS 'Purchase model (column model; the name is from when it was always BG/NBD): maximum log-likelihood';
COMMENT ON COLUMN gold_store.clv_model.bgnbd_converged IS 'Purchase model (column model; the name is from when it was always BG/NBD): false if the fit did not converge or its maximum is at the edge of the parameter space (a parameter at e^30 or e^-30)';
COMMENT ON COLUMN gold_store.clv_model.p IS 'Gamma-Gamma: shape of the Gamma distribution of a customer''s purchase values';
COMMENT ON COLUMN gold_store.clv_model.q IS 'Gamma-Gamma: shape of the Gamma distribution of the customers'' rate parameters nu';
COMMENT ON COLUMN gold_store.clv_model.gamma IS 'Gamma-Gamma: scale of the Gamma distribution of nu';
COMMENT ON COLUMN gold_store.clv_model.gamma_gamma_log_likelihood IS 'Gamma-Gamma: maximum log-likelihood';
COMMENT ON COLUMN gold_store.clv_model.gamma_gamma_converged IS 'Gamma-Gamma: false if the fit did not converge or its maximum is at the edge of the parameter space (a parameter at e^30 or e^-30)';
COMMENT ON COLUMN gold_store.clv_model.frequency_monetary_correlation IS 'Pearson correlation of frequency and monetary_value over the repeat customers: the Gamma-Gamma model assumes none';
COMMENT ON COLUMN gold_store.clv_model.model IS 'Purchase model (setting clv_model): bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)';
COMMENT ON COLUMN gold_store.clv_model.s IS 'Pareto/NBD: shape of the Gamma distribution of dropout rates; NULL under the other models';
COMMENT ON COLUMN gold_store.clv_model.beta IS 'Pareto/NBD: scale of the Gamma distribution of dropout rates, in the unit; NULL under the other models';

-- The models as values, for the prediction functions (gold itself keeps to
-- types a BI tool reads); NULL while no customer bought twice.
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

-- What gold.mart_customer_value applies, in one row (all NULL without a
-- model): a function in FROM, which a parallel plan runs in each worker, where
-- a join with the one-row table made the planner keep the whole read in one
-- process.
CREATE FUNCTION retail.clv_model_in_force(OUT calibration_end date, OUT unit text, OUT horizon_months integer,
										  OUT discount_rate double precision, OUT model text,
										  OUT bgnbd retail.bgnbd_model, OUT gamma_gamma retail.gamma_gamma_model,
										  OUT mbgnbd retail.mbgnbd_model, OUT paretonbd retail.paretonbd_model,
										  OUT unit_days double precision, OUT t_90 double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT m.calibration_end, m.unit, m.horizon_months, m.discount_rate, m.model, f.bgnbd, f.gamma_gamma,
		   f.mbgnbd, f.paretonbd, retail.btyd_unit_days(m.unit), 90 / retail.btyd_unit_days(m.unit)
	FROM gold.clv_model m, retail.clv_models() f;
END;
COMMENT ON FUNCTION retail.clv_model_in_force() IS
	'The row of gold.clv_model with its models as values and the unit in days: what gold.mart_customer_value applies; NULLs without a model';

-- Each customer under the models of gold.clv_model, in its unit and with its
-- settings, as of its calibration end: the fits are not made again.
CREATE VIEW gold.mart_customer_value AS
SELECT s.customer_id, s.frequency, t.recency, t.age, s.monetary_value::numeric(38, 6) AS monetary_value,
	   CASE x.model
		   WHEN 'mbgnbd' THEN retail.mbgnbd_p_alive(x.mbgnbd, s.frequency, t.recency, t.age)
		   WHEN 'paretonbd' THEN retail.paretonbd_p_alive(x.paretonbd, s.frequency, t.recency, t.age)
		   ELSE retail.bgnbd_p_alive(x.bgnbd, s.frequency, t.recency, t.age)
	   END AS p_alive,
	   CASE x.model
		   WHEN 'mbgnbd' THEN retail.mbgnbd_expected_purchases(x.mbgnbd, x.t_90, s.frequency, t.recency, t.age)
		   WHEN 'paretonbd' THEN retail.paretonbd_expected_purchases(x.paretonbd, x.t_90, s.frequency, t.recency,
																	 t.age)
		   ELSE retail.bgnbd_expected_purchases(x.bgnbd, x.t_90, s.frequency, t.recency, t.age)
	   END AS expected_purchases_90d,
	   retail.gamma_gamma_expected_value(x.gamma_gamma, s.frequency, s.monetary_value)::numeric(38, 6)
		   AS expected_value,
	   CASE x.model
		   WHEN 'mbgnbd' THEN retail.mbgnbd_clv(x.mbgnbd, x.gamma_gamma, s.frequency, t.recency, t.age,
												s.monetary_value, x.horizon_months, x.discount_rate, x.unit)
		   WHEN 'paretonbd' THEN retail.paretonbd_clv(x.paretonbd, x.gamma_gamma, s.frequency, t.recency, t.age,
													  s.monetary_value, x.horizon_months, x.discount_rate, x.unit)
		   ELSE retail.clv(x.bgnbd, x.gamma_gamma, s.frequency, t.recency, t.age, s.monetary_value,
						   x.horizon_months, x.discount_rate, x.unit)
	   END::numeric(38, 6) AS clv,
	   x.model
FROM retail.clv_model_in_force() x
	 CROSS JOIN gold_store.clv_customers s
	 CROSS JOIN LATERAL (SELECT (s.last_day - s.first_day) / x.unit_days AS recency,
								(x.calibration_end - s.first_day) / x.unit_days AS age) t
WHERE x.calibration_end IS NOT NULL;
COMMENT ON VIEW gold.mart_customer_value IS
	'One row per customer of silver: the BTYD summary (to the last date of the lines, in the unit of setting clv_unit) and what the purchase model (setting clv_model) and Gamma-Gamma model of gold.clv_model, fitted on it, predict (NULL while no customer bought twice)';
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

-- Step 500 of the refresh: the customers whose lines changed (all when
-- rebuilding) get their row of gold_store.clv_customers again, written only
-- where it changes; then the models are fitted again, on every customer.
CREATE FUNCTION retail.maintain_customer_value(after bigint, through bigint, rebuild boolean) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	keys bigint[];
	written bigint;
BEGIN
	IF NOT rebuild THEN
		SELECT array_agg(t.customer_id) INTO keys FROM retail.touched_customers t;
		IF keys IS NULL THEN
			RETURN 0;
		END IF;
	END IF;
	EXECUTE $measures$
		WITH measured AS MATERIALIZED (
			SELECT * FROM retail.clv_customer_rows($1)
		),
		gone AS (
			DELETE FROM gold_store.clv_customers s
			WHERE ($1 IS NULL OR s.customer_id = ANY ($1))
			  AND NOT EXISTS (SELECT FROM measured n WHERE n.customer_id = s.customer_id)
			RETURNING 1
		),
		changed AS (
			UPDATE gold_store.clv_customers s
			SET frequency = n.frequency, first_day = n.first_day, last_day = n.last_day,
				monetary_value = n.monetary_value
			FROM measured n
			WHERE s.customer_id = n.customer_id
			  AND (s.frequency, s.first_day, s.last_day, s.monetary_value)
				  IS DISTINCT FROM (n.frequency, n.first_day, n.last_day, n.monetary_value)
			RETURNING 1
		),
		added AS (
			INSERT INTO gold_store.clv_customers
			SELECT n.* FROM measured n
			WHERE NOT EXISTS (SELECT FROM gold_store.clv_customers s WHERE s.customer_id = n.customer_id)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
	$measures$ INTO written USING keys;
	DELETE FROM gold_store.clv_model;
	INSERT INTO gold_store.clv_model SELECT * FROM retail.clv_fit();
	RETURN written + 1;
END
$$;
COMMENT ON FUNCTION retail.maintain_customer_value(bigint, bigint, boolean) IS
	'Step 500 of retail.refresh(): brings gold_store.clv_customers up to silver after the lines with load_ordinal in (after, through] were merged (all of them when rebuild), writing only the rows that change, and fits gold_store.clv_model again; returns the rows it wrote';

INSERT INTO retail.refresh_steps (step_order, layer, schema_name, view_name, maintain) VALUES
	(500, 'gold', 'gold_store', 'clv_customers', 'retail.maintain_customer_value(bigint, bigint, boolean)');

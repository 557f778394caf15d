
-- Gold: customer lifetime value (src/btyd.c, 75_btyd.sql).
-- gold.clv_model fits both models on silver, once a refresh, and
-- gold.mart_customer_value applies them to each customer, so retail.refresh()
-- refreshes the model first.
INSERT INTO retail.setting_defaults VALUES
	('clv_horizon_months', '12', 'Horizon of gold.mart_customer_value.clv, in months of 30 days'),
	('clv_unit', 'day', 'Unit of time of the CLV models and of gold.mart_customer_value (day or week)'),
	('clv_discount_rate', '0.01', 'Monthly discount rate of gold.mart_customer_value.clv'),
	('clv_model', 'bgnbd', 'Purchase model of gold.clv_model and gold.mart_customer_value: bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)'),
	-- the report's (87_report.sql), here so that 85_setting_rules.sql finds it
	('currency', NULL, 'Currency of the amounts of retail.report_html(), such as GBP or EUR; none: amounts are plain numbers');

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

-- The models, fitted on the summary with the settings in force; no row
-- without customers.
CREATE MATERIALIZED VIEW gold_store.clv_model AS
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
CREATE UNIQUE INDEX ON gold_store.clv_model (unit);
CREATE VIEW gold.clv_model AS SELECT * FROM gold_store.clv_model;
COMMENT ON MATERIALIZED VIEW gold_store.clv_model IS
	'The purchase model (setting clv_model: BG/NBD, modified BG/NBD or Pareto/NBD) and the Gamma-Gamma model that gold.mart_customer_value applies (one row, none without customers; parameters NULL while no customer bought twice) and the settings it applies them with; refresh it before the mart';
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

-- Each customer's summary under the models of gold.clv_model, in its unit and
-- with its settings: the fits are not made again.  A stored mart reads the
-- stored model, as the refresh keeps both.
CREATE MATERIALIZED VIEW gold_store.mart_customer_value AS
WITH model AS MATERIALIZED (
	SELECT m.unit, m.horizon_months, m.discount_rate, m.model, f.bgnbd, f.gamma_gamma, f.mbgnbd, f.paretonbd,
		   90 / retail.btyd_unit_days(m.unit) AS t_90
	FROM gold_store.clv_model m, retail.clv_models() f
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
COMMENT ON MATERIALIZED VIEW gold_store.mart_customer_value IS
	'One row per customer of silver: the BTYD summary (to the last date of the lines, in the unit of setting clv_unit) and what the purchase model (setting clv_model) and Gamma-Gamma model of gold.clv_model, fitted on it, predict (NULL while no customer bought twice)';
CREATE UNIQUE INDEX ON gold_store.mart_customer_value (customer_id);
CREATE VIEW gold.mart_customer_value AS SELECT * FROM gold_store.mart_customer_value;
COMMENT ON COLUMN gold_store.mart_customer_value.customer_id IS 'Customer';
COMMENT ON COLUMN gold_store.mart_customer_value.frequency IS 'Repeat purchases: purchase days - 1';
COMMENT ON COLUMN gold_store.mart_customer_value.recency IS 'Last purchase day - first purchase day, in the unit of setting clv_unit';
COMMENT ON COLUMN gold_store.mart_customer_value.age IS 'Last date of the lines - first purchase day, in the unit of setting clv_unit';
COMMENT ON COLUMN gold_store.mart_customer_value.monetary_value IS 'Mean value of the repeat purchase days (the first excluded), to 6 decimals; 0 without';
COMMENT ON COLUMN gold_store.mart_customer_value.p_alive IS 'Probability that the customer is still active at the calibration end, under the purchase model (column model); NULL where it cannot be computed (Pareto/NBD, see retail.paretonbd_p_alive)';
COMMENT ON COLUMN gold_store.mart_customer_value.expected_purchases_90d IS 'Expected purchase days (not orders: a day''s invoices are one purchase) in the 90 days after the calibration end, under the purchase model (column model); NULL where double precision cannot give it (see retail.bgnbd_expected_purchases)';
COMMENT ON COLUMN gold_store.mart_customer_value.expected_value IS 'Gamma-Gamma conditional expected value per purchase day (the population mean for frequency 0); NULL where it is infinite (p frequency + q <= 1) or not below 1e32';
COMMENT ON COLUMN gold_store.mart_customer_value.clv IS 'Customer lifetime value over clv_horizon_months months of 30 days, discounted by clv_discount_rate a month, as lifetimes computes it, under the purchase model (column model); NULL where expected_value or the expected purchases are, or not below 1e32';
COMMENT ON COLUMN gold_store.mart_customer_value.model IS 'Purchase model of the predictions (setting clv_model): bgnbd (BG/NBD), mbgnbd (modified BG/NBD) or paretonbd (Pareto/NBD)';

INSERT INTO retail.refresh_steps VALUES
	(500, 'gold', 'gold_store', 'clv_model'),
	(510, 'gold', 'gold_store', 'mart_customer_value');

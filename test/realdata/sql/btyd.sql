-- gold.clv_model and gold.mart_customer_value on the real file: the fits,
-- sane ranges customer by customer, and the holdout check the README shows.
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';

-- the models, with the fit's log-likelihood checked as the sum of the
-- customers' (independent per-customer functions)
\x on
SELECT calibration_end, unit, customers, repeat_customers,
	   round(r::numeric, 4) AS r, round(alpha::numeric, 3) AS alpha, round(a::numeric, 6) AS a,
	   round(b::numeric, 4) AS b, round(bgnbd_log_likelihood::numeric, 3) AS bgnbd_log_likelihood, bgnbd_converged,
	   round(p::numeric, 4) AS p, round(q::numeric, 4) AS q, round(gamma::numeric, 3) AS gamma,
	   round(gamma_gamma_log_likelihood::numeric, 3) AS gamma_gamma_log_likelihood, gamma_gamma_converged,
	   round(frequency_monetary_correlation::numeric, 4) AS frequency_monetary_correlation
FROM gold.clv_model;
\x off
SELECT abs(m.bgnbd_log_likelihood - sum(retail.bgnbd_log_likelihood(x.bgnbd, v.frequency, v.recency, v.age)))
	   < 1e-8 AS bgnbd_sum,
	   abs(m.gamma_gamma_log_likelihood
		   - sum(retail.gamma_gamma_log_likelihood(x.gamma_gamma, v.frequency, v.monetary_value::float8)))
	   < 1e-8 AS gamma_gamma_sum
FROM gold.clv_model m, retail.clv_models() x, gold.mart_customer_value v
GROUP BY m.bgnbd_log_likelihood, m.gamma_gamma_log_likelihood;

-- every customer of silver, in sane ranges: frequency 0 is alive for sure;
-- no one expects more purchase days in 90 days than there are
SELECT count(*) AS customers,
	   count(*) = (SELECT count(DISTINCT customer_id) FROM silver.net_transactions
				   WHERE customer_id IS NOT NULL) AS all_of_silver,
	   bool_and(frequency >= 0 AND recency >= 0 AND recency <= age AND age <= 373) AS summaries,
	   min(p_alive) > 0 AND max(p_alive) <= 1 AS p_alive_in_0_1,
	   bool_and(frequency > 0 OR p_alive = 1) AS new_customers_alive,
	   min(expected_purchases_90d) > 0 AND max(expected_purchases_90d) < 90 AS purchases_90d,
	   min(expected_value) > 0 AS values, min(clv) > 0 AS clvs,
	   count(*) FILTER (WHERE p_alive IS NULL OR expected_purchases_90d IS NULL OR expected_value IS NULL
							 OR clv IS NULL) AS nulls
FROM gold.mart_customer_value;
SELECT round(avg(p_alive)::numeric, 4) AS mean_p_alive, round(avg(expected_purchases_90d)::numeric, 4) AS mean_purchases_90d,
	   round(avg(expected_value), 2) AS mean_value, round(sum(clv), 0) AS total_clv,
	   round(sum(clv) FILTER (WHERE frequency = 0) / sum(clv), 4) AS share_of_one_time_buyers
FROM gold.mart_customer_value;
SELECT customer_id, frequency, recency, age, monetary_value, round(p_alive::numeric, 10) AS p_alive,
	   round(expected_purchases_90d::numeric, 4) AS expected_purchases_90d, expected_value, round(clv, 2) AS clv
FROM gold.mart_customer_value ORDER BY clv DESC, customer_id LIMIT 5;

-- the holdout check: each model fitted on the lines to 2011-06-30, the
-- purchase days of 2011-07-01 .. 2011-12-09 by calibration frequency, actual
-- and predicted, and the mean absolute error per customer (the README's table)
SET client_min_messages = warning;
SELECT model, frequency, customers, round(mean_actual::numeric, 4) AS mean_actual,
	   round(mean_predicted::numeric, 4) AS mean_predicted, round(mean_abs_error::numeric, 4) AS mean_abs_error
FROM retail.btyd_holdout('silver.net_transactions', '2011-06-30', '2011-12-09');
RESET client_min_messages;

-- in weeks the times are sevenths of the days' and alpha follows them
SELECT round((m).r::numeric, 4) AS r, round(((m).alpha * 7)::numeric, 3) AS alpha_in_days,
	   round((m).a::numeric, 6) AS a, round((m).b::numeric, 4) AS b, (m).converged
FROM (SELECT retail.bgnbd_fit(frequency, recency, age) AS m
	  FROM retail.btyd_summary('silver.net_transactions', NULL, 'week')) f;

/*
 * mbgnbd.c
 *		The modified BG/NBD model (Batislam, Denizel & Filiztekin 2007,
 *		"Empirical validation and comparison of models for customer base
 *		analysis"; lifetimes' ModifiedBetaGeoFitter): BG/NBD whose customers
 *		may also drop out right after their first purchase, so that a customer
 *		who never came back is not taken to be alive.
 *
 * Its formulas are BG/NBD's with b + 1 in a few places (btyd.c:
 * bgnbd_family_loglik, and BtydCustomer.shift in btyd_predict.c), so it
 * shares BG/NBD's state, optimizer, special functions and precautions:
 *   likelihood  B(a, b+x+1)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
 *               [1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)],
 *   P(alive)    1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)),
 *   E[purchases in t]  (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
 *               2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] P(alive).
 */
#include "btyd.h"

#include <math.h>

static const char *const mbgnbd_names[] = {"r", "alpha", "a", "b"};

static double
mbgnbd_loglik(const double *theta, double *grad, const Sample *sample)
{
	return bgnbd_family_loglik(theta, grad, sample, 1);
}

/* Add one customer to the state of retail.mbgnbd_fit */
PG_FUNCTION_INFO_V1(ra_mbgnbd_fit_trans);
Datum
ra_mbgnbd_fit_trans(PG_FUNCTION_ARGS)
{
	return btyd_points_trans(fcinfo, "mbgnbd_fit");
}

/* Final function of retail.mbgnbd_fit: BG/NBD's start and search */
PG_FUNCTION_INFO_V1(ra_mbgnbd_fit_final);
Datum
ra_mbgnbd_fit_final(PG_FUNCTION_ARGS)
{
	double		repeats,
				ages;
	Sample		sample = frequency_sample(fcinfo, "modified BG/NBD", &repeats, &ages);
	Fit			fit = {0};

	fit.loglik = mbgnbd_loglik;
	fit.sample = &sample;
	fit.n = 4;
	fit.theta[1] = Min(Max(log(Max(ages, 1e-300) / repeats), -THETA_MAX / 2), THETA_MAX / 2);
	fit_model(&fit, "mbgnbd_fit", mbgnbd_names);
	PG_RETURN_DATUM(model_datum(fcinfo, &fit, (int64) sample.customers));
}

static BtydCustomer
mbgnbd_customer(FunctionCallInfo fcinfo, int first_arg)
{
	BtydCustomer c = btyd_customer(fcinfo, first_arg, mbgnbd_names);

	c.shift = 1;
	return c;
}

/* Conditional expected number of repeat purchases in the next t units */
PG_FUNCTION_INFO_V1(ra_mbgnbd_expected_purchases);
Datum
ra_mbgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	double		t = prediction_period(fcinfo, 1);
	BtydCustomer c = mbgnbd_customer(fcinfo, 2);

	return prediction_datum(fcinfo, bgnbd_expected(&c, t), c.x);
}

/* Probability that the customer is still alive at the end of the calibration */
PG_FUNCTION_INFO_V1(ra_mbgnbd_p_alive);
Datum
ra_mbgnbd_p_alive(PG_FUNCTION_ARGS)
{
	BtydCustomer c = mbgnbd_customer(fcinfo, 1);

	PG_RETURN_FLOAT8(bgnbd_p_alive(&c));
}

/* Log-likelihood of one customer under a modified BG/NBD model */
PG_FUNCTION_INFO_V1(ra_mbgnbd_log_likelihood);
Datum
ra_mbgnbd_log_likelihood(PG_FUNCTION_ARGS)
{
	BtydCustomer c = mbgnbd_customer(fcinfo, 1);

	return btyd_log_likelihood(fcinfo, mbgnbd_loglik, &c);
}

/* CLV under the modified BG/NBD and Gamma-Gamma */
PG_FUNCTION_INFO_V1(ra_mbgnbd_clv);
Datum
ra_mbgnbd_clv(PG_FUNCTION_ARGS)
{
	BtydCustomer c = mbgnbd_customer(fcinfo, 2);

	return btyd_clv(fcinfo, bgnbd_expected_at, &c);
}

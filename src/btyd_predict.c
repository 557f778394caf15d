/*
 * btyd_predict.c
 *		Predictions of the BTYD models: expected purchases, P(alive), the
 *		Gamma-Gamma expected value, likelihoods of a customer and CLV (btyd.c).
 */
#include "btyd.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

/* Up to this a, expected purchases are summed without cancellation */
#define SERIES_MAX_A 1e4
/* Predictions from here on are NULL: numeric(38,6), the marts' money, holds less */
#define PREDICTION_MAX 1e32
/* The longest horizon of retail.clv */
#define CLV_MAX_MONTHS 1200

/*
 * The parameters of the model row of argument argno (0 or 1), each checked
 * positive and finite.  A query applies one model to every customer, and
 * reading a row's fields costs more than a prediction: the parameters are
 * kept in fn_extra with the bytes of the row they come from.
 */
#define MODEL_ARGS 2
#define MODEL_PARAMS 4

typedef struct ModelCache
{
	HeapTupleHeader row[MODEL_ARGS];
	double		params[MODEL_ARGS][MODEL_PARAMS];
	bool		null_reported;	/* prediction_datum's NOTICE was given */
} ModelCache;

void
model_params(FunctionCallInfo fcinfo, int argno, int n, const char *const *names, double *params)
{
	HeapTupleHeader model = PG_GETARG_HEAPTUPLEHEADER(argno);
	uint32		length = HeapTupleHeaderGetDatumLength(model);
	ModelCache *cache = (ModelCache *) fcinfo->flinfo->fn_extra;

	Assert(argno < MODEL_ARGS && n <= MODEL_PARAMS);
	if (cache == NULL)
		fcinfo->flinfo->fn_extra = cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ModelCache));
	if (cache->row[argno] != NULL && HeapTupleHeaderGetDatumLength(cache->row[argno]) == length &&
		memcmp(cache->row[argno], model, length) == 0)
	{
		memcpy(params, cache->params[argno], n * sizeof(double));
		return;
	}
	for (int k = 0; k < n; k++)
	{
		bool		isnull;
		Datum		value = GetAttributeByNum(model, k + 1, &isnull);

		params[k] = isnull ? 0.0 : DatumGetFloat8(value);
		if (isnull || !(params[k] > 0) || isinf(params[k]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid model parameter %s: %s", names[k],
							isnull ? "NULL" : float8out_internal(params[k])),
					 errdetail("The parameters of a model must be positive and finite.")));
	}
	if (cache->row[argno] != NULL)
		pfree(cache->row[argno]);
	cache->row[argno] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, length);
	memcpy(cache->row[argno], model, length);
	memcpy(cache->params[argno], params, n * sizeof(double));
}

/*
 * The customer of a prediction: the model of argument 0, with parameters
 * called names, and (frequency, recency, age) from argument first_arg on,
 * each checked.
 */
BtydCustomer
btyd_customer(FunctionCallInfo fcinfo, int first_arg, const char *const *names)
{
	double		params[4];
	BtydCustomer c;
	const char *problem;

	model_params(fcinfo, 0, 4, names, params);
	c.r = params[0];
	c.alpha = params[1];
	c.a = params[2];
	c.b = params[3];
	c.x = PG_GETARG_INT32(first_arg);
	c.t_x = PG_GETARG_FLOAT8(first_arg + 1);
	c.T = PG_GETARG_FLOAT8(first_arg + 2);
	c.shift = 0;
	problem = bgnbd_point_problem(c.x, c.t_x, c.T);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid customer: frequency %d, recency %g, age %g", c.x, c.t_x, c.T),
				 errdetail("%s.", problem)));
	return c;
}

/*
 * log of the odds that the customer dropped out after the last purchase:
 * exp(P4 - P3) = a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x); -inf when x = 0.
 * The modified BG/NBD: a/(b+x) (...)^(r+x), also at x = 0.
 */
static double
bgnbd_log_dead_odds(const BtydCustomer *c)
{
	if (c->x + c->shift == 0)
		return -get_float8_infinity();
	return log(c->a) - log(c->b + (c->x - 1 + c->shift))
		+ (c->r + c->x) * log1p((c->T - c->t_x) / (c->alpha + c->t_x));
}

double
bgnbd_p_alive(const BtydCustomer *c)
{
	return 1.0 / (1.0 + exp(bgnbd_log_dead_odds(c)));
}

/* One point of bgnbd_expected_series: its sum so far */
typedef struct SeriesPoint
{
	double		z;
	double		term;			/* (a)_{n-1} z^n / n!, scaled */
	double		sum;
	double		magnitude;		/* the sum of the terms' magnitudes */
	double		log_scale;
	bool		done;
} SeriesPoint;

/*
 * The bracket of FHL (2005) eq. 10 times (a+b+x-1)/(a-1), in a form without
 * cancellation.  With A = r+x, C = a+b+x-1, Euler's transformation and the
 * binomial series of (1-z)^(1-a) give
 *   C/(a-1) [1 - (1-z)^A 2F1(A, b+x; C; z)]
 *     = C (1-z)^(a-1) sum_{n>=1} (a)_{n-1}/n! z^n D_n,
 *   C D_n = C - (C - A) prod_{0<k<n} (1 - A/(C+k)),
 * also at C = 0 (x = 0, a + b = 1), where 2F1 has a pole but its product
 * with C has a limit; C may be negative (x = 0, a + b < 1).
 * Where A < C every term is positive and D_n = -expm1(sum_{k<n} log1p(-A/(C+k)))
 * is precise even when b, hence C, runs to infinity (there the textbook form
 * subtracts two numbers that agree to 1/b and multiplies the difference by
 * b); and a = 1 is no longer a 0/0.  Where A >= C the terms change sign:
 * the result is NaN when the sum of their magnitudes says that rounding may
 * have cost more than PREDICTION_TOLERANCE of it, and when the series needs
 * more than SERIES_MAX_TERMS terms.  The terms grow like (1-z)^(-a) before
 * they fall, so the sums are kept scaled (log_scale), and large a is left to
 * the textbook form (bgnbd_expected_at).  It is summed at n_points points
 * z[i] at once (CLV's months): the factors D_n, whose logarithms cost the
 * most, do not depend on z and are computed once for all of them; each
 * point's sum takes the very operations it would take alone.
 */
static void
bgnbd_expected_series(double a, double A, double C, int n_points, const double *z, double *result)
{
	SeriesPoint *points = palloc(n_points * sizeof(SeriesPoint));
	int			remaining = 0;
	double		log_prod = 0.0; /* log prod_{k<n} (1 - A/(C+k)), while A < C */
	double		prod = 1.0;		/* prod_{0<k<n} (1 - A/(C+k)), otherwise */

	for (int i = 0; i < n_points; i++)
	{
		SeriesPoint *p = &points[i];

		p->z = z[i];
		p->term = 1.0;
		p->sum = 0.0;
		p->magnitude = 0.0;
		p->log_scale = 0.0;
		p->done = series_too_long(p->z, p->z * Max(1.0, (a + SERIES_MAX_TERMS - 1) / (SERIES_MAX_TERMS + 1.0))
								  * Max(1.0, A / (C + SERIES_MAX_TERMS)));
		if (p->done)
			result[i] = get_float8_nan();
		else
			remaining++;
	}
	for (int64 n = 1; remaining > 0; n++)
	{
		double		c_d;		/* C D_n */

		if (A < C)
		{
			log_prod += log1p(-A / (C + n - 1));
			c_d = -C * expm1(log_prod);
		}
		else
		{
			if (n > 1)
				prod *= 1.0 - A / (C + n - 1);
			c_d = C - (C - A) * prod;
		}
		for (int i = 0; i < n_points; i++)
		{
			SeriesPoint *p = &points[i];
			double		ratio;

			if (p->done)
				continue;
			p->term *= n == 1 ? p->z : (a + n - 2) * p->z / n;
			p->sum += p->term * c_d;
			/* what rounding may cost: |C D_n| where A < C, else C's and the product's */
			p->magnitude += p->term * (A < C ? fabs(c_d) : fabs(C) + fabs(C - A) * fabs(prod));
			if (p->magnitude > 1e250)
			{
				p->term *= 1e-250;
				p->sum *= 1e-250;
				p->magnitude *= 1e-250;
				p->log_scale += 250.0 * M_LN10;
			}

			/*
			 * The tail after term n is below a geometric series: the ratio of
			 * the next terms (a+n-1) z / (n+1) tends to z, from above only
			 * when a > 2; |C D_m| <= |C| + |C - A| |prod_m|, and each further
			 * factor of the product is at most max(1, A/(C+n)) in magnitude.
			 */
			ratio = p->z * Max(1.0, (a + n - 1) / (n + 1)) * Max(1.0, A / (C + n));
			if (ratio < 1.0 && C + n > 0 &&
				p->term * (fabs(C) + fabs(C - A) * fabs(prod)) * ratio / (1.0 - ratio) <= 1e-16 * fabs(p->sum))
			{
				if (DBL_EPSILON * p->magnitude > PREDICTION_TOLERANCE * fabs(p->sum))
					result[i] = get_float8_nan();
				else
					result[i] = p->sum * exp(p->log_scale + (a - 1) * log1p(-p->z));
			}
			else if (n >= SERIES_MAX_TERMS)
				result[i] = get_float8_nan();
			else
				continue;
			p->done = true;
			remaining--;
		}
		/* each term is a step of every point: up to CLV_MAX_MONTHS of them */
		if ((n & 0xFF) == 0xFF)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(points);
}

/*
 * Expected repeat purchases in (T, T + t], FHL (2005) eq. 10:
 * (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
 *                      2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] P(alive),
 * at the n periods t[i] (result[i]).  Up to a = SERIES_MAX_A by
 * bgnbd_expected_series.  Above, whose terms would be too many, and where
 * that series gives up (as where it cancels, r > a + b - 1), as written: the
 * power and 2F1 multiplied in logs (either alone may overflow).  There the
 * bracket is the difference of 1 and a number near it when a is near 1 or b
 * much larger than a; NaN where the rounding errors of the two logs may be
 * more than PREDICTION_TOLERANCE of it, and where 2F1's series gives up.
 */
void
bgnbd_expected_at(const BtydCustomer *c, int n, const double *t, double *result)
{
	/* the modified BG/NBD's is BG/NBD's bracket at b + 1 (shift) */
	double		c_param = c->a + c->b + c->x - 1 + c->shift;
	double		p_alive = bgnbd_p_alive(c);
	double	   *z = palloc(n * sizeof(double));
	double	   *series = palloc(n * sizeof(double));
	int			n_series = 0;

	for (int i = 0; i < n; i++)
		if (t[i] > 0)
			z[n_series++] = t[i] / (c->alpha + c->T + t[i]);
	if (c->a <= SERIES_MAX_A)
		bgnbd_expected_series(c->a, c->r + c->x, c_param, n_series, z, series);
	n_series = 0;
	for (int i = 0; i < n; i++)
	{
		double		log_power,
					log_f,
					bracket;

		if (t[i] <= 0)
		{
			result[i] = 0.0;
			continue;
		}
		if (c->a <= SERIES_MAX_A && (!isnan(series[n_series]) || c_param <= 0))
		{
			result[i] = series[n_series++] * p_alive;
			continue;
		}
		CHECK_FOR_INTERRUPTS();
		log_power = -(c->r + c->x) * log1p(t[i] / (c->alpha + c->T));
		log_f = log_hyp2f1(c->r + c->x, c->b + c->x + c->shift, c_param, z[n_series++]);
		bracket = -expm1(log_power + log_f);
		if (!(fabs(bracket) * PREDICTION_TOLERANCE > 4 * DBL_EPSILON * (fabs(log_power) + log_f)))
			result[i] = get_float8_nan();
		else
			result[i] = c_param / (c->a - 1) * bracket * p_alive;
	}
	pfree(z);
	pfree(series);
}

/* Expected repeat purchases in (T, T + t] (bgnbd_expected_at) */
double
bgnbd_expected(const BtydCustomer *c, double t)
{
	double		result;

	bgnbd_expected_at(c, 1, &t, &result);
	return result;
}

/*
 * A prediction as the function's result: NULL where it is not a finite value
 * below PREDICTION_MAX (NaN: it could not be computed to
 * PREDICTION_TOLERANCE; infinity: it does not exist, as at the poles of
 * Gamma-Gamma), so that a mart can store every result.  A mart makes one
 * query of all its customers: the first NULL of a query gets a NOTICE, the
 * others none (the cache of model_params lives as long as the query).
 */
Datum
prediction_datum(FunctionCallInfo fcinfo, double value, int32 frequency)
{
	ModelCache *cache = (ModelCache *) fcinfo->flinfo->fn_extra;

	Assert(cache != NULL);
	if (value >= 0 && value < PREDICTION_MAX)
		PG_RETURN_FLOAT8(value);
	if (!cache->null_reported)
	{
		cache->null_reported = true;
		ereport(NOTICE,
				(errmsg("%s returns NULL for a customer whose prediction %s",
						get_func_name(fcinfo->flinfo->fn_oid),
						isnan(value) ? "cannot be computed in double precision" :
						"is infinite or not below 1e32"),
				 errdetail("The first is of frequency %d; this query reports no other.", frequency)));
	}
	PG_RETURN_NULL();
}

/* The prediction period of argument argno, checked finite and not negative */
double
prediction_period(FunctionCallInfo fcinfo, int argno)
{
	double		t = PG_GETARG_FLOAT8(argno);

	if (isnan(t) || isinf(t) || t < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid prediction period: %g", t),
				 errdetail("The period must be finite and not negative.")));
	return t;
}

static const char *const bgnbd_names[] = {"r", "alpha", "a", "b"};

/* Conditional expected number of repeat purchases in the next t units */
PG_FUNCTION_INFO_V1(ra_bgnbd_expected_purchases);
Datum
ra_bgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	double		t = prediction_period(fcinfo, 1);
	BtydCustomer c = btyd_customer(fcinfo, 2, bgnbd_names);

	return prediction_datum(fcinfo, bgnbd_expected(&c, t), c.x);
}

/* Probability that the customer is still alive at the end of the calibration */
PG_FUNCTION_INFO_V1(ra_bgnbd_p_alive);
Datum
ra_bgnbd_p_alive(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 1, bgnbd_names);

	PG_RETURN_FLOAT8(bgnbd_p_alive(&c));
}

/* The parameters of the Gamma-Gamma model of argument argno, the customer checked */
static void
gamma_gamma_customer(FunctionCallInfo fcinfo, int argno, int32 x, double m, double *params)
{
	static const char *const names[] = {"p", "q", "gamma"};
	const char *problem = gamma_gamma_point_problem(x, m);

	model_params(fcinfo, argno, 3, names, params);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid customer: frequency %d, monetary_value %g", x, m),
				 errdetail("%s.", problem)));
}

/*
 * Gamma-Gamma conditional expected value per purchase,
 * p (g + x m) / (p x + q - 1); the population mean p g / (q - 1) for x = 0.
 * Where p x + q <= 1 it is infinite: the posterior of nu, Gamma(p x + q),
 * gives 1/nu no finite mean.  p x + q - 1 by fma: q - 1 is exact for q in
 * [0.5, 2], where the pole can be, so the denominator has one rounding.
 */
static double
gamma_gamma_expected(FunctionCallInfo fcinfo, int argno, int32 x, double m)
{
	double		params[3];
	double		denominator;

	gamma_gamma_customer(fcinfo, argno, x, m, params);
	if (x == 0)
		m = 0.0;
	denominator = fma(params[0], x, params[1] - 1.0);
	if (denominator <= 0)
		return get_float8_infinity();
	return params[0] * (params[2] + x * m) / denominator;
}

/* The log-likelihood of one customer c of a (frequency, recency, age) model */
Datum
btyd_log_likelihood(FunctionCallInfo fcinfo, LogLik loglik, const BtydCustomer *c)
{
	double		theta[4] = {log(c->r), log(c->alpha), log(c->a), log(c->b)};
	Point		point = {.x = c->x,.u = c->t_x,.v = c->T,.count = 1.0};
	Sample		sample = {.points = &point,.npoints = 1,.customers = 1.0};

	sample_index_times(&sample);
	PG_RETURN_FLOAT8(loglik(theta, NULL, &sample));
}

/* Log-likelihood of one customer under a BG/NBD model */
PG_FUNCTION_INFO_V1(ra_bgnbd_log_likelihood);
Datum
ra_bgnbd_log_likelihood(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 1, bgnbd_names);

	return btyd_log_likelihood(fcinfo, bgnbd_loglik, &c);
}

/* Log-likelihood of one repeat buyer under a Gamma-Gamma model; NULL for frequency 0 */
PG_FUNCTION_INFO_V1(ra_gamma_gamma_log_likelihood);
Datum
ra_gamma_gamma_log_likelihood(PG_FUNCTION_ARGS)
{
	double		params[3];
	int32		x = PG_GETARG_INT32(1);
	double		m = PG_GETARG_FLOAT8(2);
	double		theta[3];
	Point		point = {.x = x,.u = m,.v = 0.0,.count = 1.0};
	Sample		sample = {.points = &point,.npoints = 1,.customers = 1.0};

	gamma_gamma_customer(fcinfo, 0, x, m, params);
	if (x == 0)
		PG_RETURN_NULL();
	for (int k = 0; k < 3; k++)
		theta[k] = log(params[k]);
	PG_RETURN_FLOAT8(gamma_gamma_loglik(theta, NULL, &sample));
}

/* Gamma-Gamma conditional expected value per purchase of a customer */
PG_FUNCTION_INFO_V1(ra_gamma_gamma_expected_value);
Datum
ra_gamma_gamma_expected_value(PG_FUNCTION_ARGS)
{
	int32		x = PG_GETARG_INT32(1);

	return prediction_datum(fcinfo, gamma_gamma_expected(fcinfo, 0, x, PG_GETARG_FLOAT8(2)), x);
}

/* Days in a unit of time, or an error */
static double
unit_days(text *unit)
{
	char	   *name = text_to_cstring(unit);

	if (strcmp(name, "day") == 0)
		return 1.0;
	if (strcmp(name, "week") == 0)
		return 7.0;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid unit: \"%s\"", name),
			 errdetail("The unit must be \"day\" or \"week\".")));
}

/* Days in a unit of time of the models */
PG_FUNCTION_INFO_V1(ra_btyd_unit_days);
Datum
ra_btyd_unit_days(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(unit_days(PG_GETARG_TEXT_PP(0)));
}

/*
 * CLV as lifetimes computes it: for each month i = 1 .. months (30 days), the
 * expected purchases of that month times the expected value, divided by
 * (1 + discount_rate)^i.  At most CLV_MAX_MONTHS months, a century: each
 * month sums a series.  A negative rate would make a far month worth more
 * than a near one, and the sum grow without bound with the horizon.  The
 * purchase model is argument 0 (customer c, its expected purchases
 * expected), the Gamma-Gamma model argument 1, then the arguments of
 * retail.clv from monetary_value (5) on.
 */
Datum
btyd_clv(FunctionCallInfo fcinfo, ExpectedPurchases expected, const BtydCustomer *c)
{
	double		monetary_value = PG_GETARG_FLOAT8(5);
	int32		months = PG_GETARG_INT32(6);
	double		discount_rate = PG_GETARG_FLOAT8(7);
	/* lifetimes' month, and PostgreSQL's DAYS_PER_MONTH: 30 days */
	double		month = DAYS_PER_MONTH / unit_days(PG_GETARG_TEXT_PP(8));
	double		value;
	double		clv = 0.0;
	double		before = 0.0;
	double	   *ends;
	double	   *upto;

	if (months < 0 || months > CLV_MAX_MONTHS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid horizon: %d months", months),
				 errdetail("The horizon must be between 0 and %d months.", CLV_MAX_MONTHS)));
	if (!(discount_rate >= 0) || isinf(discount_rate))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid discount rate: %g", discount_rate),
				 errdetail("The monthly discount rate must be finite and not negative.")));
	value = gamma_gamma_expected(fcinfo, 1, c->x, monetary_value);
	/* no month to sum: no expected purchases (nor Pareto/NBD's P(alive) series) */
	if (months == 0)
		return prediction_datum(fcinfo, clv, c->x);
	/* the expected purchases up to each month's end, in one call */
	ends = palloc(months * sizeof(double));
	upto = palloc(months * sizeof(double));
	for (int32 i = 0; i < months; i++)
		ends[i] = (i + 1) * month;
	expected(c, months, ends, upto);
	/* once NaN or infinite (value), the sum stays so */
	for (int32 i = 1; i <= months && isfinite(clv); i++)
	{
		clv += value * (upto[i - 1] - before) / pow(1.0 + discount_rate, i);
		before = upto[i - 1];
	}
	pfree(ends);
	pfree(upto);
	return prediction_datum(fcinfo, clv, c->x);
}

/* CLV under BG/NBD and Gamma-Gamma */
PG_FUNCTION_INFO_V1(ra_clv);
Datum
ra_clv(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 2, bgnbd_names);

	return btyd_clv(fcinfo, bgnbd_expected_at, &c);
}

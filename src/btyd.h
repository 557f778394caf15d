/*
 * btyd.h
 *		What the BTYD models share: the state of the fitting aggregates and
 *		the likelihoods (btyd.c), the samples and optimizer of the fits
 *		(btyd_fit.c), the special functions (btyd_special.c), and the reading
 *		and returning of predictions (btyd_predict.c).  BG/NBD and Gamma-Gamma
 *		are in those files, the modified BG/NBD in mbgnbd.c, the Pareto/NBD in
 *		paretonbd.c.
 */
#ifndef BTYD_H
#define BTYD_H

#include "retail_analytics.h"

/* Bounds of the log-parameters: past these, a parameter is at the edge */
#define THETA_MAX 30.0
/* Largest relative rounding error of a prediction; a larger one gives NULL */
#define PREDICTION_TOLERANCE 1e-8
/*
 * Terms of a series after which a prediction gives up (NaN, then NULL):
 * about 0.3 s.  The series fall roughly like z^n, z = t / (alpha + age + t):
 * 90 days ahead of alpha + age of a day or more take a few thousand terms.
 */
#define SERIES_MAX_TERMS 10000000

/* Special functions */
extern double lgamma_diff(double y, double s);
extern double digamma(double x);
extern double digamma_diff(double y, double s);
extern double log_hyp2f1(double a, double b, double c, double z);

/*
 * Whether a series of positive terms whose ratios tend to z, still at least
 * last_ratio at term SERIES_MAX_TERMS, is known before summing to need more:
 * the series below stop where a bound of the tail, term * ratio / (1 -
 * ratio), is below 1e-16 of the sum.  That needs ratios below 1, and no
 * longer happens where z is within 1/SERIES_MAX_TERMS of 1 (the terms then
 * fall by less than a factor e over the whole series).
 */
static inline bool
series_too_long(double z, double last_ratio)
{
	return last_ratio >= 1.0 || (1.0 - z) * SERIES_MAX_TERMS <= 1.0;
}

/* A customer of a (frequency, recency, age) model, from the transition on */
extern const char *bgnbd_point_problem(int32 frequency, double recency, double age);
extern const char *gamma_gamma_point_problem(int32 frequency, double monetary_value);
extern Datum btyd_points_trans(FunctionCallInfo fcinfo, const char *aggregate);

/* The points of a state as an array sorted by (x, u, v): a fixed summation order */
typedef struct Point
{
	int32		x;
	double		u;
	double		v;
	double		count;
	int32		u_index;		/* of u and v in Sample.times */
	int32		v_index;
} Point;

typedef struct Sample
{
	Point	   *points;
	int64		npoints;
	double		customers;
	/* the distinct recencies and ages (sample_index_times), and room for terms of each */
	double	   *times;
	int64		ntimes;
	double	   *log1p_times;
	double	   *log_times;
} Sample;

extern void sample_index_times(Sample *sample);
extern Sample final_sample(FunctionCallInfo fcinfo, const char *empty_message, const char *empty_detail);

/* The sum of the log-likelihoods of a sample at log-parameters theta, and its gradient if grad */
typedef double (*LogLik) (const double *theta, double *grad, const Sample *sample);

/* The BG/NBD log-likelihood, or with shift 1 the modified BG/NBD's */
extern double bgnbd_family_loglik(const double *theta, double *grad, const Sample *sample, int shift);
extern double bgnbd_loglik(const double *theta, double *grad, const Sample *sample);
extern double gamma_gamma_loglik(const double *theta, double *grad, const Sample *sample);

#define MAX_PARAMS 4

typedef struct Fit
{
	LogLik		loglik;
	const Sample *sample;
	int			n;
	double		theta[MAX_PARAMS];
	bool		pinned[MAX_PARAMS];	/* held at its bound (fit_model's probe) */
	bool		at_edge[MAX_PARAMS];	/* at its bound, the gradient pushing out */
	bool		converged;
	double		loglik_value;
} Fit;

extern void fit_model(Fit *fit, const char *model, const char *const *names);
extern Datum model_datum(FunctionCallInfo fcinfo, const Fit *fit, int64 customers);
extern Sample frequency_sample(FunctionCallInfo fcinfo, const char *model, double *repeats, double *ages);

/* A customer of a purchase model (r, alpha, and a, b or s, beta) and its summary */
typedef struct BtydCustomer
{
	double		r,
				alpha,
				a,
				b;
	int32		x;
	double		t_x;
	double		T;
	int			shift;			/* 1: the modified BG/NBD */
} BtydCustomer;

extern void model_params(FunctionCallInfo fcinfo, int argno, int n, const char *const *names, double *params);
extern BtydCustomer btyd_customer(FunctionCallInfo fcinfo, int first_arg, const char *const *names);
extern double bgnbd_p_alive(const BtydCustomer *c);
extern double bgnbd_expected(const BtydCustomer *c, double t);
extern void bgnbd_expected_at(const BtydCustomer *c, int n, const double *t, double *result);
extern double prediction_period(FunctionCallInfo fcinfo, int argno);
extern Datum prediction_datum(FunctionCallInfo fcinfo, double value, int32 frequency);
extern Datum btyd_log_likelihood(FunctionCallInfo fcinfo, LogLik loglik, const BtydCustomer *c);

/*
 * CLV of a customer under a purchase model whose expected purchases in the
 * next t[i] units, for i < n, expected puts in result[i]
 */
typedef void (*ExpectedPurchases) (const BtydCustomer *c, int n, const double *t, double *result);
extern Datum btyd_clv(FunctionCallInfo fcinfo, ExpectedPurchases expected, const BtydCustomer *c);

#endif							/* BTYD_H */

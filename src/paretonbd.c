/*
 * paretonbd.c
 *		The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting
 *		your customers: who are they and what will they do next?"): purchases
 *		at Poisson rates lambda ~ Gamma(r, alpha), lifetimes exponential of
 *		rate mu ~ Gamma(s, beta), so that a customer may drop out at any time,
 *		not only after a purchase as in BG/NBD.
 *
 * The likelihood is Fader & Hardie's ("A note on deriving the Pareto/NBD
 * model and related expressions", 2005, eq. 22) in the form lifetimes'
 * ParetoNBDFitter computes it, where the 2F1 stays in [1, +inf) with an
 * argument in [0, 1):
 *   L = Gamma(r+x) alpha^r beta^s / Gamma(r)
 *       [1 / ((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0],
 *   A0 = F(t_x) / (m+t_x)^(r+s+x) - F(T) / (m+T)^(r+s+x),
 *   F(y) = 2F1(r+s+x, k; r+s+x+1; |alpha-beta| / (m+y)),
 * m = max(alpha, beta), k = r+x where alpha < beta, else s+1.  Here in logs,
 * A0 as one term times -expm1 of their log ratio (A0 is an integral of a
 * positive function over [t_x, T]: 0 at t_x = T), so that powers such as
 * (m+T)^(r+s+x) never overflow.  Predictions (the same note, eqs. 19 and 24;
 * lifetimes):
 *   P(alive) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0),
 *   E[purchases in t] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
 *                       [1 - ((beta+T)/(beta+T+t))^(s-1)],
 * the bracket over s - 1 by expm1 (its limit log1p(t/(beta+T)) at s = 1).
 *
 * 2F1's series needs about (k z + 40) / (1 - z) terms, 1 - z = (min(alpha,
 * beta) + y) / (m + y).  Where 1 - z at t_x is below QUADRATURE_BELOW (one of
 * alpha, beta far above the other: the no-dropout edge, where real data
 * lands) A0 is taken instead as the integral it is, by Gauss-Legendre
 * quadrature.  Elsewhere the likelihood is taken as -infinity (the search
 * steps back) where the series would pass LIKELIHOOD_MAX_TERMS, and a
 * prediction is NULL where it would pass SERIES_MAX_TERMS.  The gradient of
 * the fit is analytic: the derivatives of 2F1 in its parameters are summed
 * with its series, those of the quadrature's integral are moments of the
 * same nodes (checked against central differences to their own precision,
 * about 1e-7 relative).  Along the ridge
 * s, beta -> infinity with s / beta fixed (one dropout rate for all), where
 * small samples can put the maximum, the search is slow and may stop short:
 * the model then says it did not converge.
 */
#include "btyd.h"

#include <float.h>
#include <math.h>

#include "utils/float.h"

/* The longest 2F1 series of a likelihood evaluation: about 1 ms */
#define LIKELIHOOD_MAX_TERMS 100000
/* Below this 1 - z at t_x, A0 by quadrature (a_zero_quadrature) */
#define QUADRATURE_BELOW 0.05
/* Gauss-Legendre nodes per panel, and the most panels for h's variation */
#define GL_NODES 12
#define GL_MAX_PANELS 1000

static const char *const paretonbd_names[] = {"r", "alpha", "s", "beta"};

/*
 * log 2F1(r+s+x, k; r+s+x+1; |alpha-beta| / (m+y)), or NaN where its series
 * would take more than about max_terms terms.
 */
static double
log_f(double rsx, double k, double alpha, double beta, double y, double max_terms)
{
	double		m = Max(alpha, beta);
	double		z = fabs(alpha - beta) / (m + y);
	double		one_minus_z = (Min(alpha, beta) + y) / (m + y);

	/*
	 * Its terms grow while (k+n) z > n+1, then fall about as z^n: some (k z
	 * + 40) / (1 - z) terms in all.
	 */
	if (!(z < 1.0) || !((k * z + 40.0) / one_minus_z < max_terms))
		return get_float8_nan();
	return log_hyp2f1(rsx, k, rsx + 1.0, z);
}

/*
 * log 2F1(a, k; a+1; z) as log_f sums it, with the derivatives of the log in
 * a, k and z, from the series itself: with t_n its terms, d t_n / da = t_n n
 * / (a (a+n)), d t_n / dk = t_n (1/k + ... + 1/(k+n-1)), d t_n / dz = t_n n
 * / z.  The sums are scaled together as log_hyp2f1's; the series stops where
 * the tail of n t_n H_n, bounded by a geometric series, is below 1e-16 of the
 * sum.  NaN where it would take more than about max_terms terms.
 */
static double
log_f_derivatives(double a, double k, double z, double max_terms, double *d_a, double *d_k, double *d_z)
{
	double		term = 1.0,
				sum = 1.0,
				sum_a = 0.0,
				sum_k = 0.0,
				sum_n = 0.0,
				harmonic = 0.0,
				log_scale = 0.0;

	if (!(z < 1.0) || !((k * z + 40.0) / (1.0 - z) < max_terms))
		return get_float8_nan();
	for (int64 n = 0;; n++)
	{
		double		ratio = (a + n) * (k + n) / ((a + 1.0 + n) * (n + 1.0)) * z;
		double		bound;

		harmonic += 1.0 / (k + n);
		term *= ratio;
		sum += term;
		sum_a += term * (n + 1) / (a * (a + n + 1));
		sum_k += term * harmonic;
		sum_n += term * (n + 1);
		if (sum > 1e250)
		{
			term *= 1e-250;
			sum *= 1e-250;
			sum_a *= 1e-250;
			sum_k *= 1e-250;
			sum_n *= 1e-250;
			log_scale += 250.0 * M_LN10;
		}
		bound = Max(ratio, z);
		if (bound < 1.0 && term * (n + 2) * (1.0 + harmonic + 1.0 / (1.0 - bound)) * bound
			/ ((1.0 - bound) * (1.0 - bound)) <= 1e-16 * sum)
			break;
		if (n >= max_terms)
			return get_float8_nan();
		if ((n & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	*d_a = sum_a / sum;
	*d_k = sum_k / sum;
	/* at z = 0 the derivative is that of the first term, a k / (a + 1) */
	*d_z = z > 0 ? sum_n / (sum * z) : a * k / (a + 1.0);
	return log(sum) + log_scale;
}

/* Gauss-Legendre nodes and weights of GL_NODES points on [0, 1], by Newton on P_n */
static double gl_node[GL_NODES];
static double gl_weight[GL_NODES];

static void
gauss_legendre_init(void)
{
	if (gl_weight[0] != 0.0)
		return;
	for (int i = 0; i < (GL_NODES + 1) / 2; i++)
	{
		double		x = cos(M_PI * (i + 0.75) / (GL_NODES + 0.5));
		double		dp = 1.0;

		for (int iteration = 0; iteration < 100; iteration++)
		{
			double		p0 = 1.0,
						p1 = x,
						dx;

			/* P_n(x) by its recurrence, then P_n'(x) */
			for (int k = 2; k <= GL_NODES; k++)
			{
				double		p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;

				p0 = p1;
				p1 = p2;
			}
			dp = GL_NODES * (x * p1 - p0) / (x * x - 1.0);
			dx = p1 / dp;
			x -= dx;
			if (fabs(dx) < 1e-16)
				break;
		}
		gl_node[i] = 0.5 * (1.0 - x);
		gl_node[GL_NODES - 1 - i] = 0.5 * (1.0 + x);
		gl_weight[i] = gl_weight[GL_NODES - 1 - i] = 1.0 / ((1.0 - x * x) * dp * dp);
	}
}

/*
 * log of the integral over [t_x, T] of (c1+u)^-e1 (c2+u)^-e2 du, the
 * integral A0 / (r+s+x) is, where c2 is far above c1 + t_x (1 - z below
 * QUADRATURE_BELOW: there 2F1's series is long, and its terms could not tell
 * beta from infinity).  With w = log(c1+u) - log(c1+t_x) in [0, L] the
 * integrand is (c1+t_x)^(1-e1) (c2+t_x)^-e2 e^(-lambda w) h(w), lambda =
 * e1 - 1, h(w) = (1 + (c1+t_x)(e^w - 1)/(c2+t_x))^-e2 falling from 1.
 * Gauss-Legendre on panels of t = lambda w in [0, 1], [1, 2], [2, 4], ...
 * where the exponential falls (the first holds at least 1 - 1/e of the mass,
 * and GL's error on [2^k, 2^(k+1)], below e^(-2^k) 10^(17 - 3k), is below
 * 1e-14 of it; the tail past t = 64, less than e^-64 of it, is left out), of
 * w-width 1/|lambda| where it grows, each split further where log h changes
 * by more than 1/2.  NaN past GL_MAX_PANELS panels.
 */
static double
log_a_zero_quadrature(double c1, double e1, double c2, double e2, double t_x, double T, double *moments)
{
	double		moment_sums[4] = {0, 0, 0, 0};
	double		lambda = e1 - 1.0;
	double		length = log1p((T - t_x) / (c1 + t_x));
	double		ratio = (c1 + t_x) / (c2 + t_x);
	double		sum = 0.0;
	double		from = 0.0;
	double		t_to = 0.0;		/* lambda w at the end of the panel, where lambda > 0 */
	int			panels = 0;

	gauss_legendre_init();
	while (from < length)
	{
		double		to,
					subpanels,
					width;

		if (lambda > 0)
		{
			if (t_to >= 64.0)
				break;
			t_to = t_to < 1.0 ? 1.0 : 2.0 * t_to;
			to = t_to / lambda;
		}
		else
			to = from + (lambda < 0 ? 1.0 / -lambda : length);
		to = Min(to, length);
		/* and log h by at most 1/2 on each subpanel */
		subpanels = ceil(2.0 * e2 * (log1p(ratio * expm1(to)) - log1p(ratio * expm1(from))));
		subpanels = Max(subpanels, 1.0);
		if (panels + subpanels > GL_MAX_PANELS)
			return get_float8_nan();
		panels += (int) subpanels;
		width = (to - from) / subpanels;
		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < (int) subpanels; j++)
			for (int i = 0; i < GL_NODES; i++)
			{
				double		w = from + width * (j + gl_node[i]);
				double		weight = width * gl_weight[i] * exp(-lambda * w - e2 * log1p(ratio * expm1(w)));

				sum += weight;
				if (moments != NULL)
				{
					/* u / c2 = ((c1 + t_x) (e^w - 1) + t_x) / c2 */
					double		u_c2 = ((c1 + t_x) * expm1(w) + t_x) / c2;

					moment_sums[0] += weight * (log1p(t_x / c1) + w);
					moment_sums[1] += weight * exp(-w) * c1 / (c1 + t_x);
					moment_sums[2] += weight * log1p(u_c2);
					moment_sums[3] += weight / (1.0 + u_c2);
				}
			}
		from = to;
	}
	/* E[log1p(u/c1)], E[c1/(c1+u)], E[log1p(u/c2)], E[c2/(c2+u)] under the integrand */
	if (moments != NULL)
		for (int k = 0; k < 4; k++)
			moments[k] = moment_sums[k] / sum;
	return -lambda * log(c1 + t_x) - e2 * log(c2 + t_x) + log(sum);
}

/*
 * paretonbd_terms' dropped term and its derivatives where A0 comes from 2F1's
 * series: with G(y) = F(y) / (m+y)^(r+s+x), A0 = G(t_x) - G(T), so d log A0
 * = (d log G(t_x) - e^dd d log G(T)) / (1 - e^dd), dd = log(G(T) / G(t_x));
 * d log G(y) in each parameter from F's derivatives in its a = r+s+x, k and
 * z = |alpha-beta| / (m+y), whose branch (alpha below beta or not) is
 * analytic across alpha = beta.
 */
static void
paretonbd_series_gradient(const BtydCustomer *c, double max_terms, double *dropped, double *d_dropped)
{
	double		r = c->r,
				alpha = c->alpha,
				s = c->a,
				beta = c->b;
	double		x = c->x;
	double		a = r + s + x;
	bool		alpha_below = alpha < beta;
	double		m = Max(alpha, beta);
	double		k = alpha_below ? r + x : s + 1.0;
	double		log_g[2],
				d_log_g[2][4];	/* in r, alpha, s, beta */
	double		dd,
				share;

	for (int j = 0; j < 2; j++)
	{
		double		y = j == 0 ? c->t_x : c->T;
		double		z = fabs(alpha - beta) / (m + y);
		double		d_a,
					d_k,
					d_z,
					dz_alpha,
					dz_beta;
		double		log_f_y = log_f_derivatives(a, k, z, max_terms, &d_a, &d_k, &d_z);

		if (isnan(log_f_y))
		{
			*dropped = log_f_y;
			return;
		}
		log_g[j] = log_f_y - a * log(m + y);
		if (alpha_below)
		{
			dz_alpha = -1.0 / (beta + y);
			dz_beta = (alpha + y) / ((beta + y) * (beta + y));
		}
		else
		{
			dz_alpha = (beta + y) / ((alpha + y) * (alpha + y));
			dz_beta = -1.0 / (alpha + y);
		}
		d_log_g[j][0] = d_a + (alpha_below ? d_k : 0.0) - log(m + y);
		d_log_g[j][1] = d_z * dz_alpha - (alpha_below ? 0.0 : a / (m + y));
		d_log_g[j][2] = d_a + (alpha_below ? 0.0 : d_k) - log(m + y);
		d_log_g[j][3] = d_z * dz_beta - (alpha_below ? a / (m + y) : 0.0);
	}
	dd = log_g[1] - log_g[0];
	if (!(dd < 0))
	{
		*dropped = -get_float8_infinity();
		return;
	}
	*dropped = log(s) - log(a) + log_g[0] + log(-expm1(dd)) + r * log(alpha) + s * log(beta);
	share = exp(dd) / -expm1(dd);	/* e^dd / (1 - e^dd) */
	for (int p = 0; p < 4; p++)
	{
		double		d_log_a0 = d_log_g[0][p] + share * (d_log_g[0][p] - d_log_g[1][p]);

		switch (p)
		{
			case 0:
				d_dropped[0] = r * (log(alpha) - 1.0 / a + d_log_a0);
				break;
			case 1:
				d_dropped[1] = r + alpha * d_log_a0;
				break;
			case 2:
				d_dropped[2] = 1.0 + s * (log(beta) - 1.0 / a + d_log_a0);
				break;
			default:
				d_dropped[3] = s + beta * d_log_a0;
				break;
		}
	}
}

/*
 * The two terms of a customer's likelihood, in logs, less lgamma(r+x) -
 * lgamma(r): alive at T, log(alpha^r beta^s / ((alpha+T)^(r+x) (beta+T)^s)),
 * and dropped out in (t_x, T], log(alpha^r beta^s s/(r+s+x) A0) (-inf where
 * t_x = T).  The odds of the second to the first are those of having
 * dropped out.  NaN where 2F1 needs more than max_terms terms.  With
 * d_dropped, its derivatives in log r, log alpha, log s and log beta.
 */
static void
paretonbd_terms(const BtydCustomer *c, double max_terms, double *alive, double *dropped, double *d_dropped)
{
	double		r = c->r,
				alpha = c->alpha,
				s = c->a,
				beta = c->b;
	double		x = c->x;
	double		rsx = r + s + x;
	double		m = Max(alpha, beta);
	double		k = alpha < beta ? r + x : s + 1.0;
	double		log_m_tx = log(m + c->t_x);
	double		lf_tx,
				lf_T,
				d;

	*alive = -r * log1p(c->T / alpha) - x * log(alpha + c->T) - s * log1p(c->T / beta);
	if (c->T <= c->t_x)
	{
		*dropped = -get_float8_infinity();
		return;
	}
	if ((Min(alpha, beta) + c->t_x) / (m + c->t_x) < QUADRATURE_BELOW)
	{
		/* alpha^r beta^s s (integral), the integral by quadrature */
		double		moments[4];
		double		log_integral = alpha < beta ?
			log_a_zero_quadrature(alpha, r + x, beta, s + 1.0, c->t_x, c->T, d_dropped ? moments : NULL) :
			log_a_zero_quadrature(beta, s + 1.0, alpha, r + x, c->t_x, c->T, d_dropped ? moments : NULL);

		*dropped = log(s) + r * log(alpha) + s * log(beta) + log_integral;
		if (d_dropped != NULL && !isnan(log_integral))
		{
			/* the moments of u in alpha first, then in beta */
			const double *in_alpha = alpha < beta ? moments : moments + 2;
			const double *in_beta = alpha < beta ? moments + 2 : moments;

			d_dropped[0] = -r * in_alpha[0];
			d_dropped[1] = r - (r + x) * in_alpha[1];
			d_dropped[2] = 1.0 - s * in_beta[0];
			d_dropped[3] = s - (s + 1.0) * in_beta[1];
		}
		return;
	}
	if (d_dropped != NULL)
	{
		paretonbd_series_gradient(c, max_terms, dropped, d_dropped);
		return;
	}
	lf_tx = log_f(rsx, k, alpha, beta, c->t_x, max_terms);
	lf_T = log_f(rsx, k, alpha, beta, c->T, max_terms);
	/* log of F(T)/(m+T)^rsx over F(t_x)/(m+t_x)^rsx: below 0 */
	d = lf_T - lf_tx - rsx * log1p((c->T - c->t_x) / (m + c->t_x));
	if (isnan(d))
	{
		*dropped = d;
		return;
	}
	if (!(d < 0))
	{
		/* rounding at T within an ulp of t_x: A0 is 0 to double precision */
		*dropped = -get_float8_infinity();
		return;
	}

	/*
	 * alpha^r beta^s / (m+t_x)^(r+s+x): the power of the larger by log1p,
	 * of the smaller by a difference of logs.
	 */
	*dropped = log(s) - log(rsx) + lf_tx + log(-expm1(d)) - x * log_m_tx
		- (alpha >= beta ? r * log1p(c->t_x / alpha) + s * (log_m_tx - log(beta))
		   : s * log1p(c->t_x / beta) + r * (log_m_tx - log(alpha)));
}

/*
 * The log-likelihood of a sample, and its gradient in the log-parameters if
 * grad: that of lgamma(r+x) - lgamma(r), and the derivatives of the two
 * terms weighted by their shares of the likelihood.
 */
static double
paretonbd_loglik(const double *theta, double *grad, const Sample *sample)
{
	double		total = 0.0;
	double		g[4] = {0, 0, 0, 0};
	BtydCustomer c = {0};
	int32		cached_x = -1;
	double		by_x = 0.0,
				dr_x = 0.0;

	c.r = exp(theta[0]);
	c.alpha = exp(theta[1]);
	c.a = exp(theta[2]);
	c.b = exp(theta[3]);
	for (int64 i = 0; i < sample->npoints; i++)
	{
		const Point *pt = &sample->points[i];
		double		alive,
					dropped,
					d_dropped[4];

		if ((i & 0xFF) == 0xFF)
			CHECK_FOR_INTERRUPTS();
		c.x = pt->x;
		c.t_x = pt->u;
		c.T = pt->v;
		if (c.x != cached_x)
		{
			cached_x = c.x;
			by_x = lgamma_diff(c.r, c.x);
			dr_x = grad != NULL ? c.r * digamma_diff(c.r, c.x) : 0.0;
		}
		paretonbd_terms(&c, LIKELIHOOD_MAX_TERMS, &alive, &dropped, grad != NULL ? d_dropped : NULL);
		if (isnan(dropped))
			return get_float8_nan();
		total += pt->count * (by_x + Max(alive, dropped) + log1p(exp(-fabs(alive - dropped))));
		if (grad != NULL)
		{
			/* the share of the dropped term, e^D / (e^A + e^D) */
			double		e = exp(-fabs(alive - dropped));
			double		w_d = dropped > alive ? 1.0 / (1.0 + e) : e / (1.0 + e);
			double		w_a = 1.0 - w_d;
			double		T = c.T;

			if (isinf(dropped))
				w_d = 0.0, w_a = 1.0;
			g[0] += pt->count * (dr_x - w_a * c.r * log1p(T / c.alpha) + (w_d > 0 ? w_d * d_dropped[0] : 0.0));
			g[1] += pt->count * (w_a * (c.r * T - c.x * c.alpha) / (c.alpha + T)
								 + (w_d > 0 ? w_d * d_dropped[1] : 0.0));
			g[2] += pt->count * (-w_a * c.a * log1p(T / c.b) + (w_d > 0 ? w_d * d_dropped[2] : 0.0));
			g[3] += pt->count * (w_a * c.a * T / (c.b + T) + (w_d > 0 ? w_d * d_dropped[3] : 0.0));
		}
	}
	if (grad != NULL)
		memcpy(grad, g, sizeof(g));
	return total;
}

/* Add one customer to the state of retail.paretonbd_fit */
PG_FUNCTION_INFO_V1(ra_paretonbd_fit_trans);
Datum
ra_paretonbd_fit_trans(PG_FUNCTION_ARGS)
{
	return btyd_points_trans(fcinfo, "paretonbd_fit");
}

/* Final function of retail.paretonbd_fit */
PG_FUNCTION_INFO_V1(ra_paretonbd_fit_final);
Datum
ra_paretonbd_fit_final(PG_FUNCTION_ARGS)
{
	double		repeats,
				ages;
	Sample		sample = frequency_sample(fcinfo, "Pareto/NBD", &repeats, &ages);
	Fit			fit = {0};

	/*
	 * Start: r = s = 1, alpha such that r/alpha, the mean purchase rate, is
	 * the observed one, and beta = alpha (where 2F1's argument is 0).
	 */
	fit.loglik = paretonbd_loglik;
	fit.sample = &sample;
	fit.n = 4;
	fit.theta[1] = Min(Max(log(Max(ages, 1e-300) / repeats), -THETA_MAX / 2), THETA_MAX / 2);
	fit.theta[3] = fit.theta[1];
	fit_model(&fit, "paretonbd_fit", paretonbd_names);
	PG_RETURN_DATUM(model_datum(fcinfo, &fit, (int64) sample.customers));
}

/* P(alive), NaN where 2F1 cannot be summed */
static double
paretonbd_p_alive(const BtydCustomer *c)
{
	double		alive,
				dropped;

	paretonbd_terms(c, SERIES_MAX_TERMS, &alive, &dropped, NULL);
	return 1.0 / (1.0 + exp(dropped - alive));
}

/* Expected repeat purchases in (T, T + t[i]], for i < n (P(alive) once) */
static void
paretonbd_expected_at(const BtydCustomer *c, int n, const double *t, double *result)
{
	double		s = c->a,
				beta = c->b;
	double		p_alive = paretonbd_p_alive(c);

	for (int i = 0; i < n; i++)
	{
		double		l = log1p(t[i] / (beta + c->T));
		double		bracket = s == 1.0 ? l : -expm1(-(s - 1.0) * l) / (s - 1.0);

		result[i] = t[i] <= 0 ? 0.0 : p_alive * (c->r + c->x) / (c->alpha + c->T) * (beta + c->T) * bracket;
	}
}

/* Conditional expected number of repeat purchases in the next t units */
PG_FUNCTION_INFO_V1(ra_paretonbd_expected_purchases);
Datum
ra_paretonbd_expected_purchases(PG_FUNCTION_ARGS)
{
	double		t = prediction_period(fcinfo, 1);
	BtydCustomer c = btyd_customer(fcinfo, 2, paretonbd_names);
	double		expected;

	paretonbd_expected_at(&c, 1, &t, &expected);
	return prediction_datum(fcinfo, expected, c.x);
}

/* Probability that the customer is still alive at the end of the calibration; NULL where 2F1 cannot be summed */
PG_FUNCTION_INFO_V1(ra_paretonbd_p_alive);
Datum
ra_paretonbd_p_alive(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 1, paretonbd_names);

	return prediction_datum(fcinfo, paretonbd_p_alive(&c), c.x);
}

/* Log-likelihood of one customer under a Pareto/NBD model; NULL where 2F1 cannot be summed */
PG_FUNCTION_INFO_V1(ra_paretonbd_log_likelihood);
Datum
ra_paretonbd_log_likelihood(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 1, paretonbd_names);
	double		alive,
				dropped;

	paretonbd_terms(&c, SERIES_MAX_TERMS, &alive, &dropped, NULL);
	if (isnan(dropped))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(lgamma_diff(c.r, c.x) + Max(alive, dropped) + log1p(exp(-fabs(alive - dropped))));
}

/* CLV under the Pareto/NBD and Gamma-Gamma */
PG_FUNCTION_INFO_V1(ra_paretonbd_clv);
Datum
ra_paretonbd_clv(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 2, paretonbd_names);

	return btyd_clv(fcinfo, paretonbd_expected_at, &c);
}

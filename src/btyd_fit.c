/*
 * btyd_fit.c
 *		Maximum likelihood fits of the BTYD models, and the final functions
 *		of retail.bgnbd_fit and retail.gamma_gamma_fit (btyd.c).
 */
#include "btyd.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/float.h"

/* A log-parameter beyond this is tried at its bound (fit_model) */
#define EDGE_PROBE 10.0

#define NM_ITERATIONS_PER_PARAM 150
#define BFGS_ITERATIONS 500
#define GRADIENT_TOLERANCE 1e-9
/* where no step improves the objective any more, converged if below this */
#define SMALL_GRADIENT 1e-6

/* The objective: minus the mean log-likelihood per customer, at theta within the bounds */
static double
objective(const Fit *fit, const double *theta, double *grad)
{
	double		value = -fit->loglik(theta, grad, fit->sample) / fit->sample->customers;

	if (grad != NULL)
		for (int k = 0; k < fit->n; k++)
			grad[k] = -grad[k] / fit->sample->customers;
	CHECK_FOR_INTERRUPTS();
	/* a NaN would stop every comparison below from making progress */
	return isnan(value) ? get_float8_infinity() : value;
}

static void
clamp_theta(double *theta, int n)
{
	for (int k = 0; k < n; k++)
		theta[k] = Min(Max(theta[k], -THETA_MAX), THETA_MAX);
}

/*
 * Nelder-Mead on the log-parameters, from fit->theta: a start that need not
 * be near the optimum (it uses no gradient, so it cannot be thrown far by
 * one).  Standard coefficients; stops when the simplex's values agree to
 * 1e-6 (BFGS is faster from there) or after NM_ITERATIONS_PER_PARAM
 * iterations per parameter.
 */
static void
nelder_mead(Fit *fit)
{
	int			n = fit->n;
	double		simplex[MAX_PARAMS + 1][MAX_PARAMS];
	double		values[MAX_PARAMS + 1];

	for (int i = 0; i <= n; i++)
	{
		memcpy(simplex[i], fit->theta, n * sizeof(double));
		if (i > 0)
			simplex[i][i - 1] += 0.5;
		clamp_theta(simplex[i], n);
		values[i] = objective(fit, simplex[i], NULL);
	}
	for (int iteration = 0; iteration < NM_ITERATIONS_PER_PARAM * n; iteration++)
	{
		int			best = 0,
					worst = 0,
					second = -1;
		double		centroid[MAX_PARAMS] = {0};
		double		trial[MAX_PARAMS];
		double		trial_value;

		for (int i = 1; i <= n; i++)
		{
			if (values[i] < values[best])
				best = i;
			if (values[i] >= values[worst])
				worst = i;
		}
		for (int i = 0; i <= n; i++)
			if (i != worst && (second < 0 || values[i] > values[second]))
				second = i;
		if (values[worst] - values[best] <= 1e-6 * (1.0 + fabs(values[best])))
			break;
		for (int i = 0; i <= n; i++)
			if (i != worst)
				for (int k = 0; k < n; k++)
					centroid[k] += simplex[i][k] / n;

		/* reflect */
		for (int k = 0; k < n; k++)
			trial[k] = 2.0 * centroid[k] - simplex[worst][k];
		clamp_theta(trial, n);
		trial_value = objective(fit, trial, NULL);
		if (trial_value < values[best])
		{
			double		expanded[MAX_PARAMS];
			double		expanded_value;

			for (int k = 0; k < n; k++)
				expanded[k] = 3.0 * centroid[k] - 2.0 * simplex[worst][k];
			clamp_theta(expanded, n);
			expanded_value = objective(fit, expanded, NULL);
			if (expanded_value < trial_value)
			{
				memcpy(trial, expanded, sizeof(trial));
				trial_value = expanded_value;
			}
		}
		else if (trial_value >= values[second])
		{
			/* contract, towards the better of the worst and its reflection */
			const double *from = trial_value < values[worst] ? trial : simplex[worst];
			double		contracted[MAX_PARAMS];
			double		contracted_value;

			for (int k = 0; k < n; k++)
				contracted[k] = 0.5 * (centroid[k] + from[k]);
			contracted_value = objective(fit, contracted, NULL);
			if (contracted_value < Min(trial_value, values[worst]))
			{
				memcpy(trial, contracted, sizeof(trial));
				trial_value = contracted_value;
			}
			else
			{
				/* shrink towards the best */
				for (int i = 0; i <= n; i++)
					if (i != best)
					{
						for (int k = 0; k < n; k++)
							simplex[i][k] = 0.5 * (simplex[i][k] + simplex[best][k]);
						values[i] = objective(fit, simplex[i], NULL);
					}
				continue;
			}
		}
		memcpy(simplex[worst], trial, n * sizeof(double));
		values[worst] = trial_value;
	}
	for (int i = 1; i <= n; i++)
		if (values[i] < values[0])
		{
			memcpy(simplex[0], simplex[i], n * sizeof(double));
			values[0] = values[i];
		}
	memcpy(fit->theta, simplex[0], n * sizeof(double));
}

/*
 * BFGS with the analytic gradient and a backtracking (Armijo) line search,
 * from where Nelder-Mead stopped, within the bounds (projected: a parameter
 * at its bound whose gradient pushes it across is held there, at the edge,
 * for as long as it does; so is a pinned one).  Converged: the gradient of
 * the free parameters is below GRADIENT_TOLERANCE, or below SMALL_GRADIENT
 * where no step can improve the objective in double precision any more.
 */
static void
bfgs(Fit *fit)
{
	int			n = fit->n;
	double		h[MAX_PARAMS][MAX_PARAMS];
	double		grad[MAX_PARAMS];
	double		value = objective(fit, fit->theta, grad);
	bool		reset = true;
	bool		fresh = true;	/* h is the identity */

	fit->converged = false;
	for (int iteration = 0; iteration < BFGS_ITERATIONS; iteration++)
	{
		double		dir[MAX_PARAMS];
		double		slope = 0.0;
		double		step_max = 1.0;
		double		step;
		double		trial[MAX_PARAMS];
		double		trial_grad[MAX_PARAMS];
		double		trial_value = 0.0;
		double		gmax = 0.0;
		bool		accepted = false;

		for (int k = 0; k < n; k++)
		{
			bool		held = fit->pinned[k] ||
				(fabs(fit->theta[k]) >= THETA_MAX && grad[k] * fit->theta[k] < 0);

			if (held != fit->at_edge[k])
			{
				fit->at_edge[k] = held;
				reset = true;
			}
			if (held)
				grad[k] = 0.0;
			else
				gmax = Max(gmax, fabs(grad[k]));
		}
		if (gmax <= GRADIENT_TOLERANCE)
		{
			fit->converged = true;
			break;
		}
		if (reset)
		{
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					h[i][j] = i == j && !fit->at_edge[i] ? 1.0 : 0.0;
			reset = false;
			fresh = true;
		}
		for (int i = 0; i < n; i++)
		{
			dir[i] = 0.0;
			for (int j = 0; j < n; j++)
				dir[i] -= h[i][j] * grad[j];
			slope += dir[i] * grad[i];
		}
		if (slope >= 0.0)
		{
			reset = true;
			continue;
		}

		for (int k = 0; k < n; k++)
			if (dir[k] != 0.0)
				step_max = Min(step_max, ((dir[k] > 0 ? THETA_MAX : -THETA_MAX) - fit->theta[k]) / dir[k]);
		step = step_max;

		/*
		 * -slope estimates twice the decrease still to be had.  Below what
		 * double precision resolves in the objective, values cannot tell
		 * steps apart, but the gradient still can: along a flat direction
		 * (a, small, on the real file) the parameters would otherwise stop
		 * wherever rounding left them.  Then the full step is taken if it
		 * makes the gradient smaller.
		 */
		if (-slope <= 1e-14 * (1.0 + fabs(value)))
		{
			double		trial_gmax = 0.0;

			for (int k = 0; k < n; k++)
				trial[k] = fit->theta[k] + step * dir[k];
			clamp_theta(trial, n);
			trial_value = objective(fit, trial, trial_grad);
			for (int k = 0; k < n; k++)
				if (!fit->at_edge[k])
					trial_gmax = Max(trial_gmax, fabs(trial_grad[k]));
			accepted = trial_gmax < gmax && trial_value <= value + 1e-13 * (1.0 + fabs(value));
			if (!accepted)
			{
				fit->converged = gmax <= SMALL_GRADIENT;
				break;
			}
		}
		else
			for (int halvings = 0; halvings < 40; halvings++, step *= 0.5)
			{
				for (int k = 0; k < n; k++)
					trial[k] = fit->theta[k] + step * dir[k];
				clamp_theta(trial, n);
				trial_value = objective(fit, trial, trial_grad);
				if (trial_value <= value + 1e-4 * step * slope)
				{
					accepted = true;
					break;
				}
			}
		if (!accepted)
		{
			/*
			 * No descent along the quasi-Newton direction: retry along the
			 * gradient; if that fails too, double precision allows no more.
			 */
			if (fresh)
			{
				fit->converged = gmax <= SMALL_GRADIENT;
				break;
			}
			reset = true;
			continue;
		}
		if (step == step_max && step_max < 1.0)
			reset = true;		/* a bound stopped the step: h knows nothing of it */
		else
		{
			/* the BFGS update of the inverse Hessian, skipped when curvature is not positive */
			double		s[MAX_PARAMS],
						y[MAX_PARAMS],
						hy[MAX_PARAMS];
			double		sy = 0.0,
						yhy = 0.0;

			for (int k = 0; k < n; k++)
			{
				s[k] = trial[k] - fit->theta[k];
				y[k] = fit->at_edge[k] ? 0.0 : trial_grad[k] - grad[k];
				sy += s[k] * y[k];
			}
			for (int i = 0; i < n; i++)
			{
				hy[i] = 0.0;
				for (int j = 0; j < n; j++)
					hy[i] += h[i][j] * y[j];
				yhy += y[i] * hy[i];
			}
			if (sy > 1e-300)
				for (int i = 0; i < n; i++)
					for (int j = 0; j < n; j++)
						h[i][j] += ((sy + yhy) * s[i] * s[j]) / (sy * sy)
							- (hy[i] * s[j] + s[i] * hy[j]) / sy;
		}
		memcpy(fit->theta, trial, n * sizeof(double));
		memcpy(grad, trial_grad, n * sizeof(double));
		value = trial_value;
		fresh = false;
	}
	fit->loglik_value = -value * fit->sample->customers;
}

/*
 * Fit a model: Nelder-Mead, then BFGS; parameters at a bound get a NOTICE,
 * and so does a fit that did not converge.
 */
void
fit_model(Fit *fit, const char *model, const char *const *names)
{
	bool		edge = false;

	nelder_mead(fit);
	bfgs(fit);

	/*
	 * Towards an edge the likelihood flattens (as 1/p for Gamma-Gamma's p):
	 * the search can converge far out before reaching the bound.  A parameter
	 * out there is tried at its bound, the others fitted again; if the
	 * likelihood is no lower, the maximum is the edge's.
	 */
	for (int k = 0; k < fit->n; k++)
		if (!fit->at_edge[k] && fabs(fit->theta[k]) > EDGE_PROBE)
		{
			Fit			probe = *fit;

			probe.theta[k] = fit->theta[k] > 0 ? THETA_MAX : -THETA_MAX;
			probe.pinned[k] = true;
			bfgs(&probe);
			probe.pinned[k] = false;
			if (probe.loglik_value >= fit->loglik_value - 1e-12 * fabs(fit->loglik_value))
				*fit = probe;
		}
	for (int k = 0; k < fit->n; k++)
		if (fit->at_edge[k])
		{
			ereport(NOTICE,
					(errmsg("%s: the likelihood is largest at the edge of the parameter space, where %s runs towards %s",
							model, names[k], fit->theta[k] > 0 ? "infinity" : "0"),
					 errdetail("The model reports converged = false and %s = %g; its predictions are those of the limit.",
							   names[k], exp(fit->theta[k]))));
			edge = true;
		}
	if (edge)
		fit->converged = false;
	else if (!fit->converged)
		ereport(NOTICE,
				(errmsg("%s: the maximum likelihood search did not converge", model),
				 errdetail("The model reports converged = false.")));
}

Datum
model_datum(FunctionCallInfo fcinfo, const Fit *fit, int64 customers)
{
	TupleDesc	tupdesc = cached_result_desc(fcinfo, (TupleDesc *) &fcinfo->flinfo->fn_extra);
	Datum		values[MAX_PARAMS + 3];
	bool		nulls[MAX_PARAMS + 3] = {0};
	int			n = fit->n;

	for (int k = 0; k < n; k++)
		values[k] = Float8GetDatum(exp(fit->theta[k]));
	values[n] = Float8GetDatum(fit->loglik_value);
	values[n + 1] = Int64GetDatum(customers);
	values[n + 2] = BoolGetDatum(fit->converged);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * The sample of a final function of a (frequency, recency, age) model,
 * named model in errors, its times indexed; repeats and ages get the sums of
 * the frequencies and ages.  No customer, or no repeat buyer (the likelihood
 * then has no maximum), is an error.
 */
Sample
frequency_sample(FunctionCallInfo fcinfo, const char *model, double *repeats, double *ages)
{
	Sample		sample = final_sample(fcinfo, psprintf("cannot fit a %s model: no customers", model),
									  "The aggregate got no row without a NULL.");

	*repeats = 0.0;
	*ages = 0.0;
	for (int64 i = 0; i < sample.npoints; i++)
	{
		*repeats += sample.points[i].count * sample.points[i].x;
		*ages += sample.points[i].count * sample.points[i].v;
	}
	if (*repeats == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot fit a %s model: no customer made a repeat purchase", model),
				 errdetail("All %.0f customers have frequency 0; the likelihood has no maximum.",
						   sample.customers)));
	sample_index_times(&sample);
	return sample;
}

/* Final function of retail.bgnbd_fit */
PG_FUNCTION_INFO_V1(ra_bgnbd_fit_final);
Datum
ra_bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"r", "alpha", "a", "b"};
	double		repeats,
				ages;
	Sample		sample = frequency_sample(fcinfo, "BG/NBD", &repeats, &ages);
	Fit			fit = {0};

	/*
	 * Start: r = a = b = 1, and alpha such that r/alpha, the mean purchase
	 * rate, is the observed one.
	 */
	fit.loglik = bgnbd_loglik;
	fit.sample = &sample;
	fit.n = 4;
	fit.theta[1] = Min(Max(log(Max(ages, 1e-300) / repeats), -THETA_MAX / 2), THETA_MAX / 2);
	fit_model(&fit, "bgnbd_fit", names);
	PG_RETURN_DATUM(model_datum(fcinfo, &fit, (int64) sample.customers));
}

/* Final function of retail.gamma_gamma_fit */
PG_FUNCTION_INFO_V1(ra_gamma_gamma_fit_final);
Datum
ra_gamma_gamma_fit_final(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"p", "q", "gamma"};
	Sample		sample = final_sample(fcinfo, "cannot fit a Gamma-Gamma model: no repeat buyers",
									  "The model is fitted on the customers with frequency above 0, and there are none.");
	Fit			fit = {0};
	double		values = 0.0;

	for (int64 i = 0; i < sample.npoints; i++)
		values += sample.points[i].count * sample.points[i].u;

	/* Start: p = 1, q = 2, and gamma such that p gamma / (q - 1), the mean value, is the observed one */
	fit.loglik = gamma_gamma_loglik;
	fit.sample = &sample;
	fit.n = 3;
	fit.theta[1] = M_LN2;
	fit.theta[2] = Min(Max(log(values / sample.customers), -THETA_MAX / 2), THETA_MAX / 2);
	fit_model(&fit, "gamma_gamma_fit", names);
	PG_RETURN_DATUM(model_datum(fcinfo, &fit, (int64) sample.customers));
}

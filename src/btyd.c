/*
 * btyd.c
 *		"Buy till you die" models of customer lifetime value: BG/NBD (Fader,
 *		Hardie & Lee 2005, "Counting your customers the easy way") and
 *		Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value
 *		curves"), fitted by maximum likelihood inside PostgreSQL
 *		(spec/metrics.md, "Gold: customer lifetime value (BTYD)").
 *
 * - retail.bgnbd_fit(frequency, recency, age) and
 *   retail.gamma_gamma_fit(frequency, monetary_value) are aggregates over
 *   customers.  Their state counts the customers of each distinct point
 *   (frequency, recency, age), or (frequency, monetary_value): the likelihood
 *   of a point is computed once however many customers share it, and the
 *   memory is bounded by the distinct points.  Both share one state type and
 *   its combine, serialize and deserialize functions.  The final function
 *   sorts the points, so that the sums, hence the fit, are the same bits
 *   whatever the order of the rows or the parallel plan.
 * - The fit maximizes the log-likelihood over the logarithms of the
 *   parameters: Nelder-Mead from a default start (robust far from the
 *   optimum), then BFGS with the analytic gradient (fast and precise near
 *   it).  The logarithms are kept within +-THETA_MAX; a parameter that
 *   reaches that bound is a maximum at the edge of the parameter space (as
 *   a towards 0 on a year of a shop that few customers leave): the model
 *   says so (converged false, a NOTICE naming it), and its value, e^30 or
 *   e^-30, gives the limit's predictions to about 1e-13, because every
 *   formula below is written in a form that stays finite and precise there
 *   (log1p, differences of lgamma by Stirling's series, the expected
 *   purchases as a series of positive terms).
 * - Predictions: conditional expected purchases, P(alive), the Gamma-Gamma
 *   conditional expected value per purchase and CLV as lifetimes computes it;
 *   each a finite value of at least 0 below 1e32, or NULL where it does not
 *   exist or double precision cannot give it to 1e-8 (prediction_datum).
 * - retail.simulate_bgnbd_customers: customers drawn from a BG/NBD process
 *   with known parameters, for tests and benchmarks.
 *
 * Files: btyd.c the aggregates' state and the likelihoods, btyd_fit.c the
 * maximum likelihood and the final functions of the fits, btyd_predict.c
 * the predictions, btyd_simulate.c the simulation and btyd_special.c the
 * special functions; btyd.h what they share.
 *
 * Accuracy.  lgamma is glibc's: against mpmath on 40000 random points, at
 * most 3.0e-16 relative where |lgamma| > 0.5 (1e-12 .. 1e13) and 1.3e-16
 * absolute on [0.5, 3], around its zeros at 1 and 2 (the log-likelihood only
 * uses absolute differences).  Differences lgamma(y + s) - lgamma(y) at
 * y >= LGAMMA_STIRLING use Stirling's series, whose truncation error there
 * is below 1e-22; a plain difference would lose up to ulp(lgamma(y)), 0.06
 * at y = 1e13.  digamma is within 1e-15 relative for x > 0 (recurrence to
 * x >= 10, then the asymptotic series to x^-12).  The Gauss hypergeometric
 * function, and the series the expected purchases are summed from, stop
 * where a geometric bound on the tail is below 1e-16 of the sum, whose terms
 * are positive where r < a + b - 1 (else the first ones change sign, and
 * the sum of their magnitudes bounds what rounding cost).
 * test/sql/btyd.sql checks likelihoods and predictions against mpmath to
 * 1e-12 relative.
 */
#include "btyd.h"

#include <math.h>

#include "common/hashfn.h"
#include "libpq/pqformat.h"

/* First word of every serialized state */
#define STATE_FORMAT_VERSION 1
#define POINTS_STATE "btyd points"

/* ---------------------------------------------------------------------
 * The state of the fitting aggregates: customers per distinct point
 * ---------------------------------------------------------------------
 */

/* (frequency, recency, age) for BG/NBD, (frequency, monetary_value, 0) for Gamma-Gamma */
typedef struct PointKey
{
	double		u;
	double		v;
	int32		x;
} PointKey;

typedef struct PointEntry
{
	PointKey	key;
	int64		count;
	char		status;			/* for simplehash */
} PointEntry;

static inline uint32
hash_double(double value)
{
	uint64		bits;

	memcpy(&bits, &value, sizeof(bits));
	return murmurhash32((uint32) bits ^ (uint32) (bits >> 32));
}

static inline uint32
hash_point(PointKey key)
{
	return hash_combine(hash_combine(murmurhash32((uint32) key.x), hash_double(key.u)),
						hash_double(key.v));
}

#define SH_PREFIX points
#define SH_ELEMENT_TYPE PointEntry
#define SH_KEY_TYPE PointKey
#define SH_KEY key
#define SH_HASH_KEY(tb, key) hash_point(key)
#define SH_EQUAL(tb, a, b) ((a).x == (b).x && (a).u == (b).u && (a).v == (b).v)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct PointsState
{
	points_hash *points;
	int64		customers;
} PointsState;

static PointsState *
points_state_create(MemoryContext mcxt)
{
	PointsState *state = MemoryContextAllocZero(mcxt, sizeof(PointsState));

	state->points = points_create(mcxt, 256, NULL);
	return state;
}

static void
points_add(PointsState *state, int32 x, double u, double v, int64 count)
{
	PointKey	key;
	PointEntry *entry;
	bool		found;

	/* -0 and 0 are one point (they compare equal but hash differently) */
	key.x = x;
	key.u = u + 0.0;
	key.v = v + 0.0;
	entry = points_insert(state->points, key, &found);
	if (!found)
		entry->count = 0;
	entry->count += count;
	state->customers += count;
}

/* Why a BG/NBD point is invalid, or NULL */
const char *
bgnbd_point_problem(int32 frequency, double recency, double age)
{
	if (frequency < 0)
		return "frequency must not be negative";
	if (isnan(recency) || isnan(age) || isinf(age))
		return "recency and age must be finite";
	if (recency < 0 || recency > age)
		return "recency must lie between 0 and age";
	if (frequency == 0 && recency != 0)
		return "recency must be 0 when frequency is 0";
	return NULL;
}

/* Why a Gamma-Gamma point of a repeat buyer is invalid, or NULL */
const char *
gamma_gamma_point_problem(int32 frequency, double monetary_value)
{
	if (frequency < 0)
		return "frequency must not be negative";
	if (frequency > 0 && !(monetary_value > 0 && !isinf(monetary_value)))
		return "monetary_value must be positive and finite when frequency is above 0";
	return NULL;
}

/* The state a transition function adds to, created on its first row */
static PointsState *
transition_state(FunctionCallInfo fcinfo, const char *caller)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", caller);
	return PG_ARGISNULL(0) ? points_state_create(aggcontext) : (PointsState *) PG_GETARG_POINTER(0);
}

/*
 * The transition of the (frequency, recency, age) aggregates, named
 * aggregate in errors: one customer more at its point; a NULL skips it.
 */
Datum
btyd_points_trans(FunctionCallInfo fcinfo, const char *aggregate)
{
	PointsState *state = transition_state(fcinfo, aggregate);

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !PG_ARGISNULL(3))
	{
		int32		frequency = PG_GETARG_INT32(1);
		double		recency = PG_GETARG_FLOAT8(2);
		double		age = PG_GETARG_FLOAT8(3);
		const char *problem = bgnbd_point_problem(frequency, recency, age);

		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid customer for %s: frequency %d, recency %g, age %g",
							aggregate, frequency, recency, age),
					 errdetail("%s.", problem)));
		points_add(state, frequency, recency, age, 1);
	}
	PG_RETURN_POINTER(state);
}

/* Add one customer to the state of retail.bgnbd_fit */
PG_FUNCTION_INFO_V1(ra_bgnbd_fit_trans);
Datum
ra_bgnbd_fit_trans(PG_FUNCTION_ARGS)
{
	return btyd_points_trans(fcinfo, "bgnbd_fit");
}

/* Add one customer to the state of retail.gamma_gamma_fit; non-repeat buyers are skipped */
PG_FUNCTION_INFO_V1(ra_gamma_gamma_fit_trans);
Datum
ra_gamma_gamma_fit_trans(PG_FUNCTION_ARGS)
{
	PointsState *state = transition_state(fcinfo, "ra_gamma_gamma_fit_trans");

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		int32		frequency = PG_GETARG_INT32(1);
		double		monetary_value = PG_GETARG_FLOAT8(2);
		const char *problem = gamma_gamma_point_problem(frequency, monetary_value);

		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid customer for gamma_gamma_fit: frequency %d, monetary_value %g",
							frequency, monetary_value),
					 errdetail("%s.", problem)));
		if (frequency > 0)
			points_add(state, frequency, monetary_value, 0.0, 1);
	}
	PG_RETURN_POINTER(state);
}

/* Merge two partial states */
PG_FUNCTION_INFO_V1(ra_btyd_points_combine);
Datum
ra_btyd_points_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	PointsState *into = PG_ARGISNULL(0) ? NULL : (PointsState *) PG_GETARG_POINTER(0);
	PointsState *from = PG_ARGISNULL(1) ? NULL : (PointsState *) PG_GETARG_POINTER(1);
	points_iterator it;
	PointEntry *entry;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_btyd_points_combine called in non-aggregate context");
	if (from == NULL)
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	if (into == NULL)
		into = points_state_create(aggcontext);
	points_start_iterate(from->points, &it);
	while ((entry = points_iterate(from->points, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		points_add(into, entry->key.x, entry->key.u, entry->key.v, entry->count);
	}
	PG_RETURN_POINTER(into);
}

/* Serialize a state: the number of points, then each point and its count */
PG_FUNCTION_INFO_V1(ra_btyd_points_serial);
Datum
ra_btyd_points_serial(PG_FUNCTION_ARGS)
{
	PointsState *state = (PointsState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	points_iterator it;
	PointEntry *entry;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, STATE_FORMAT_VERSION);
	pq_sendint64(&buf, state->points->members);
	points_start_iterate(state->points, &it);
	while ((entry = points_iterate(state->points, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendint32(&buf, entry->key.x);
		pq_sendfloat8(&buf, entry->key.u);
		pq_sendfloat8(&buf, entry->key.v);
		pq_sendint64(&buf, entry->count);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * Rebuild a state from its serialized form.  Each point must be one that
 * one of the two transition functions could have stored.
 */
PG_FUNCTION_INFO_V1(ra_btyd_points_deserial);
Datum
ra_btyd_points_deserial(PG_FUNCTION_ARGS)
{
	PointsState *state = points_state_create(CurrentMemoryContext);
	StringInfoData buf;
	int64		count;
	const int	point_bytes = sizeof(int32) + 2 * sizeof(float8) + sizeof(int64);

	state_recv_begin(&buf, PG_GETARG_BYTEA_PP(0), STATE_FORMAT_VERSION, POINTS_STATE);
	count = state_recv_int64(&buf, POINTS_STATE);
	if (count < 0 || count > (buf.len - buf.cursor) / point_bytes)
		state_corrupt(POINTS_STATE, "Bad point count.");
	for (int64 i = 0; i < count; i++)
	{
		int32		x;
		double		u;
		double		v;
		int64		customers;

		CHECK_FOR_INTERRUPTS();
		x = state_recv_int32(&buf, POINTS_STATE);
		state_need_bytes(&buf, 2 * sizeof(float8), POINTS_STATE);
		u = pq_getmsgfloat8(&buf);
		v = pq_getmsgfloat8(&buf);
		customers = state_recv_int64(&buf, POINTS_STATE);
		if (customers <= 0 || state->customers > PG_INT64_MAX - customers)
			state_corrupt(POINTS_STATE, "Bad customer count.");
		/* a point of bgnbd_fit, or of gamma_gamma_fit (v = 0, x > 0) */
		if (bgnbd_point_problem(x, u, v) != NULL &&
			!(v == 0 && x > 0 && gamma_gamma_point_problem(x, u) == NULL))
			state_corrupt(POINTS_STATE, "Invalid point.");
		if (points_lookup(state->points, (PointKey) {.x = x,.u = u + 0.0,.v = v + 0.0}) != NULL)
			state_corrupt(POINTS_STATE, "Duplicate point.");
		points_add(state, x, u, v, customers);
	}
	state_recv_end(&buf, POINTS_STATE);
	PG_RETURN_POINTER(state);
}

static int
point_cmp(const Point *pa, const Point *pb)
{
	if (pa->x != pb->x)
		return pa->x < pb->x ? -1 : 1;
	if (pa->u != pb->u)
		return pa->u < pb->u ? -1 : 1;
	if (pa->v != pb->v)
		return pa->v < pb->v ? -1 : 1;
	return 0;
}

/* An interruptible sort: a sample has a point per distinct customer history */
#define ST_SORT sort_points
#define ST_ELEMENT_TYPE Point
#define ST_COMPARE(a, b) point_cmp(a, b)
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

static Point *
points_sorted(PointsState *state, int64 *npoints)
{
	Point	   *points = palloc_extended(Max(state->points->members, 1) * sizeof(Point),
										 MCXT_ALLOC_HUGE);
	points_iterator it;
	PointEntry *entry;
	int64		n = 0;

	points_start_iterate(state->points, &it);
	while ((entry = points_iterate(state->points, &it)) != NULL)
	{
		points[n].x = entry->key.x;
		points[n].u = entry->key.u;
		points[n].v = entry->key.v;
		points[n].count = (double) entry->count;
		n++;
	}
	sort_points(points, n);
	*npoints = n;
	return points;
}

/* The sample of a final function, or the error given when it holds no customer */
Sample
final_sample(FunctionCallInfo fcinfo, const char *empty_message, const char *empty_detail)
{
	PointsState *state;
	Sample		sample;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "btyd final function called in non-aggregate context");
	state = PG_ARGISNULL(0) ? NULL : (PointsState *) PG_GETARG_POINTER(0);
	if (state == NULL || state->customers == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s", empty_message),
				 errdetail("%s", empty_detail)));
	sample.points = points_sorted(state, &sample.npoints);
	sample.customers = (double) state->customers;
	return sample;
}

/* ---------------------------------------------------------------------
 * Likelihoods, with their gradients in the log-parameters
 * ---------------------------------------------------------------------
 */

static int
double_cmp(const void *a, const void *b)
{
	double		da = *(const double *) a;
	double		db = *(const double *) b;

	return (da > db) - (da < db);
}

static int32
time_index(const Sample *sample, double time)
{
	double	   *found = bsearch(&time, sample->times, sample->ntimes, sizeof(double), double_cmp);

	Assert(found != NULL);
	return (int32) (found - sample->times);
}

/*
 * The table of distinct recencies and ages of a BG/NBD sample: the terms in
 * alpha of the likelihood are then computed once per distinct time, not
 * twice per point (times are whole days or weeks: a few hundred values for
 * hundreds of thousands of points).
 */
void
sample_index_times(Sample *sample)
{
	int64		n = 0;

	sample->times = palloc_extended(Max(2 * sample->npoints, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < sample->npoints; i++)
	{
		sample->times[n++] = sample->points[i].u;
		sample->times[n++] = sample->points[i].v;
	}
	sort_float8s(sample->times, n);
	sample->ntimes = 0;
	for (int64 i = 0; i < n; i++)
		if (sample->ntimes == 0 || sample->times[i] != sample->times[sample->ntimes - 1])
			sample->times[sample->ntimes++] = sample->times[i];
	for (int64 i = 0; i < sample->npoints; i++)
	{
		CHECK_FOR_INTERRUPTS();
		sample->points[i].u_index = time_index(sample, sample->points[i].u);
		sample->points[i].v_index = time_index(sample, sample->points[i].v);
	}
	sample->log1p_times = palloc_extended(Max(sample->ntimes, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	sample->log_times = palloc_extended(Max(sample->ntimes, 1) * sizeof(double), MCXT_ALLOC_HUGE);
}

/*
 * The BG/NBD log-likelihood of a customer, FHL (2005) eq. 6 in logs:
 *   lgamma(r+x) - lgamma(r) + lgamma(b+x) - lgamma(b) + lgamma(a+b) - lgamma(a+b+x)
 *   + log(exp(P3) + [x > 0] exp(P4)),
 *   P3 = r log(alpha) - (r+x) log(alpha+T) = -r log1p(T/alpha) - x log(alpha+T),
 *   P4 = log a - log(b+x-1) - r log1p(t_x/alpha) - x log(alpha+t_x).
 * theta = log(r, alpha, a, b).  The terms that depend on x alone are
 * computed once per frequency (the points are sorted by it), those in
 * alpha and a time once per distinct time (sample_index_times).  Returns
 * the sum over the customers; grad (if not NULL) gets its gradient.
 *
 * With shift 1, the modified BG/NBD (Batislam, Denizel & Filiztekin 2007),
 * whose customers may also drop out at their first purchase: b + x in place
 * of b + x - 1 above, lgamma(b+x+1) - lgamma(b) - (lgamma(a+b+x+1) -
 * lgamma(a+b)) in place of the differences in b and a+b, and P4 also at x = 0.
 */
double
bgnbd_family_loglik(const double *theta, double *grad, const Sample *sample, int shift)
{
	double		r = exp(theta[0]);
	double		alpha = exp(theta[1]);
	double		a = exp(theta[2]);
	double		b = exp(theta[3]);
	double		log_a = theta[2];
	double		total = 0.0;
	double		g[4] = {0, 0, 0, 0};
	int32		cached_x = -1;
	double		by_x = 0.0,
				log_bx1 = 0.0,
				dr_x = 0.0,
				da_x = 0.0,
				db_x = 0.0;

	for (int64 j = 0; j < sample->ntimes; j++)
	{
		sample->log1p_times[j] = log1p(sample->times[j] / alpha);
		sample->log_times[j] = log(alpha + sample->times[j]);
	}
	for (int64 i = 0; i < sample->npoints; i++)
	{
		const Point *pt = &sample->points[i];
		int32		x = pt->x;
		double		T = pt->v;
		double		l1p_T = sample->log1p_times[pt->v_index];
		double		p3,
					ll;

		if (x != cached_x)
		{
			cached_x = x;
			by_x = lgamma_diff(r, x) + lgamma_diff(b, x + shift) - lgamma_diff(a + b, x + shift);
			/* b + (x - 1): (b + x) - 1 loses b's digits where b is tiny */
			log_bx1 = x + shift > 0 ? log(b + (x - 1 + shift)) : 0.0;
			if (grad != NULL)
			{
				double		dab = digamma_diff(a + b, x + shift);

				dr_x = r * digamma_diff(r, x);
				da_x = -a * dab;
				db_x = b * (digamma_diff(b, x + shift) - dab);
			}
		}
		p3 = -r * l1p_T - x * sample->log_times[pt->v_index];
		if (x + shift == 0)
		{
			ll = by_x + p3;
			if (grad != NULL)
			{
				g[0] += pt->count * (dr_x - r * l1p_T);
				g[1] += pt->count * r * T / (alpha + T);
				g[2] += pt->count * da_x;
				g[3] += pt->count * db_x;
			}
		}
		else
		{
			double		t_x = pt->u;
			double		l1p_t_x = sample->log1p_times[pt->u_index];
			double		p4 = log_a - log_bx1 - r * l1p_t_x - x * sample->log_times[pt->u_index];
			double		e = exp(-fabs(p4 - p3));
			double		w4 = p4 > p3 ? 1.0 / (1.0 + e) : e / (1.0 + e);	/* share of the P4 term */

			ll = by_x + Max(p3, p4) + log1p(e);
			if (grad != NULL)
			{
				double		w3 = 1.0 - w4;

				g[0] += pt->count * (dr_x - r * (w3 * l1p_T + w4 * l1p_t_x));
				g[1] += pt->count * (w3 * (r * T - x * alpha) / (alpha + T)
									 + w4 * (r * t_x - x * alpha) / (alpha + t_x));
				g[2] += pt->count * (da_x + w4);
				g[3] += pt->count * (db_x - w4 * b / (b + (x - 1 + shift)));
			}
		}
		total += pt->count * ll;
	}
	if (grad != NULL)
		memcpy(grad, g, sizeof(g));
	return total;
}

double
bgnbd_loglik(const double *theta, double *grad, const Sample *sample)
{
	return bgnbd_family_loglik(theta, grad, sample, 0);
}

/*
 * The Gamma-Gamma log-likelihood of a repeat buyer with x repeat purchases of
 * mean value m, FHL (2005) eq. 3 as lifetimes writes it:
 *   lgamma(px+q) - lgamma(px) - lgamma(q) + q log g + (px-1) log m + px log x
 *   - (px+q) log(xm+g),
 * here as lgamma_diff(px, q) - lgamma(q) + q log g - log m
 *   - px log1p(g/(xm)) - q log(xm+g),
 * which stays precise when p runs to infinity.  theta = log(p, q, g).
 */
double
gamma_gamma_loglik(const double *theta, double *grad, const Sample *sample)
{
	double		p = exp(theta[0]);
	double		q = exp(theta[1]);
	double		gam = exp(theta[2]);
	double		lgamma_q = lgamma(q);
	double		digamma_q = grad != NULL ? digamma(q) : 0.0;
	double		total = 0.0;
	double		g[3] = {0, 0, 0};
	int32		last_x = -1;
	double		lgamma_px = 0.0;
	double		digamma_diff_px = 0.0;
	double		digamma_pxq = 0.0;

	for (int64 i = 0; i < sample->npoints; i++)
	{
		const Point *pt = &sample->points[i];
		double		x = pt->x;
		double		m = pt->u;
		double		px = p * x;
		double		xm = x * m;
		double		l1p = log1p(gam / xm);
		double		log_xmg = log(xm + gam);

		/* the gamma terms depend on x alone: once per run of one x (sorted) */
		if (pt->x != last_x)
		{
			last_x = pt->x;
			lgamma_px = lgamma_diff(px, q);
			if (grad != NULL)
			{
				digamma_diff_px = digamma_diff(px, q);
				digamma_pxq = digamma(px + q);
			}
		}
		total += pt->count * (lgamma_px - lgamma_q + q * theta[2] - log(m)
							  - px * l1p - q * log_xmg);
		if (grad != NULL)
		{
			g[0] += pt->count * px * (digamma_diff_px - l1p);
			g[1] += pt->count * q * (digamma_pxq - digamma_q + theta[2] - log_xmg);
			g[2] += pt->count * (q - gam * (px + q) / (xm + gam));
		}
	}
	if (grad != NULL)
		memcpy(grad, g, sizeof(g));
	return total;
}

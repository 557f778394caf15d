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

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

/* First word of every serialized state */
#define STATE_FORMAT_VERSION 1
#define POINTS_STATE "btyd points"

/* A log-parameter beyond this is tried at its bound (fit_model) */
#define EDGE_PROBE 10.0

/* From here on lgamma(y + s) - lgamma(y) uses Stirling's series */
#define LGAMMA_STIRLING 1000.0

/*
 * SERIES_MAX_TERMS (btyd.h), about 0.3 s: the series fall roughly like z^n,
 * z = t / (alpha + age + t): 90 days ahead of alpha + age of a day or more
 * take a few thousand terms.
 */
/* Up to this a, expected purchases are summed without cancellation */
#define SERIES_MAX_A 1e4
/* Predictions from here on are NULL: numeric(38,6), the marts' money, holds less */
#define PREDICTION_MAX 1e32
/* The longest horizon of retail.clv */
#define CLV_MAX_MONTHS 1200

/*
 * Limits of retail.simulate_bgnbd_customers.  In FROM, PostgreSQL stores all
 * the rows of a set-returning function before it reads the first (a LIMIT
 * does not stop it): 10 million customers, ten times what the benchmarks
 * draw, take 0.4 GB of temporary file there.  A customer's purchase events are bounded
 * too: a million is centuries of daily purchases, while a rate and max_age
 * that mean billions would run for hours (and overflow frequency).
 */
#define SIMULATION_MAX_CUSTOMERS 10000000
#define SIMULATION_MAX_EVENTS 1000000

/* ---------------------------------------------------------------------
 * Special functions
 * ---------------------------------------------------------------------
 */

/* The asymptotic series of lgamma(u) - ((u - 1/2) log u - u + log(2 pi)/2) */
static inline double
stirling_tail(double u)
{
	double		u2 = 1.0 / (u * u);

	return (1.0 / 12.0 - u2 * (1.0 / 360.0 - u2 * (1.0 / 1260.0 - u2 / 1680.0))) / u;
}

/* lgamma(y + s) - lgamma(y) for y > 0, s >= 0, precise also for huge y */
double
lgamma_diff(double y, double s)
{
	if (s == 0.0)
		return 0.0;
	if (y >= LGAMMA_STIRLING)
		return (y - 0.5) * log1p(s / y) + s * log(y + s) - s
			+ (stirling_tail(y + s) - stirling_tail(y));
	return lgamma(y + s) - lgamma(y);
}

/* The digamma function psi(x) for x > 0 */
static double
digamma(double x)
{
	double		result = 0.0;
	double		x2;

	/* psi(x) = psi(x + 1) - 1/x until the asymptotic series is exact */
	while (x < 10.0)
	{
		result -= 1.0 / x;
		x += 1.0;
	}
	x2 = 1.0 / (x * x);
	return result + log(x) - 0.5 / x
		- x2 * (1.0 / 12.0 - x2 * (1.0 / 120.0 - x2 * (1.0 / 252.0 - x2 * (1.0 / 240.0 - x2 / 132.0))));
}

/* psi(y + s) - psi(y), y > 0, s >= 0, precise also for huge y */
double
digamma_diff(double y, double s)
{
	if (s == 0.0)
		return 0.0;
	if (y >= LGAMMA_STIRLING)
	{
		/* psi(u) = log u - 1/(2u) - 1/(12u^2) + 1/(120u^4) - 1/(252u^6) */
		double		u = y + s;
		double		tail_y = 0.5 / y + (1.0 / 12.0 - (1.0 / 120.0 - 1.0 / (252.0 * y * y)) / (y * y)) / (y * y);
		double		tail_u = 0.5 / u + (1.0 / 12.0 - (1.0 / 120.0 - 1.0 / (252.0 * u * u)) / (u * u)) / (u * u);

		return log1p(s / y) - (tail_u - tail_y);
	}
	return digamma(y + s) - digamma(y);
}

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

/*
 * log 2F1(a, b; c; z) for a, b, c > 0 and 0 <= z < 1, from the series
 * sum_n (a)_n (b)_n / ((c)_n n!) z^n, whose terms are then all positive.
 * The sum is kept scaled (log_scale) so that it cannot overflow: where the
 * predictions use it, a and b grow with the frequency and the sum can pass
 * 1e308 long before its product with (1 - z)^(a) comes back to a small
 * number.  It stops when the tail, bounded by a geometric series of the
 * largest ratio still to come, is below 1e-16 of the sum of the terms after
 * the first (whose log1p is the result where they are small); NaN if that
 * takes more than SERIES_MAX_TERMS terms.
 */
double
log_hyp2f1(double a, double b, double c, double z)
{
	double		term = 1.0;
	double		first = 1.0;	/* the first term, 1, scaled as the others */
	double		rest = 0.0;		/* the sum of the others */
	double		log_scale = 0.0;

	Assert(a > 0 && b > 0 && c > 0 && z >= 0 && z < 1);
	if (series_too_long(z, (a + SERIES_MAX_TERMS) * (b + SERIES_MAX_TERMS) * z
						/ ((c + SERIES_MAX_TERMS) * (SERIES_MAX_TERMS + 1.0))))
		return get_float8_nan();
	for (int64 n = 0;; n++)
	{
		double		ratio = (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
		double		bound;

		term *= ratio;
		rest += term;
		if (rest > 1e250)
		{
			term *= 1e-250;
			first *= 1e-250;
			rest *= 1e-250;
			log_scale += 250.0 * M_LN10;
		}

		/*
		 * The ratios tend to z; once below 1 they stay below the larger of
		 * the current one and z.
		 */
		bound = Max(ratio, z);
		if (bound < 1.0 && term * bound / (1.0 - bound) <= 1e-16 * rest)
			break;
		if (n >= SERIES_MAX_TERMS)
			return get_float8_nan();
		if ((n & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	/* rest / first overflows once first is scaled far down: then log(rest) first */
	if (rest > first)
		return log(rest) + log1p(first / rest) + log_scale;
	return log1p(rest / first) + log(first) + log_scale;
}

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
static const char *
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

static double
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
static double
gamma_gamma_loglik(const double *theta, double *grad, const Sample *sample)
{
	double		p = exp(theta[0]);
	double		q = exp(theta[1]);
	double		gam = exp(theta[2]);
	double		lgamma_q = lgamma(q);
	double		digamma_q = grad != NULL ? digamma(q) : 0.0;
	double		total = 0.0;
	double		g[3] = {0, 0, 0};

	for (int64 i = 0; i < sample->npoints; i++)
	{
		const Point *pt = &sample->points[i];
		double		x = pt->x;
		double		m = pt->u;
		double		px = p * x;
		double		xm = x * m;
		double		l1p = log1p(gam / xm);
		double		log_xmg = log(xm + gam);

		total += pt->count * (lgamma_diff(px, q) - lgamma_q + q * theta[2] - log(m)
							  - px * l1p - q * log_xmg);
		if (grad != NULL)
		{
			g[0] += pt->count * px * (digamma_diff(px, q) - l1p);
			g[1] += pt->count * q * (digamma(px + q) - digamma_q + theta[2] - log_xmg);
			g[2] += pt->count * (q - gam * (px + q) / (xm + gam));
		}
	}
	if (grad != NULL)
		memcpy(grad, g, sizeof(g));
	return total;
}

/* ---------------------------------------------------------------------
 * Maximum likelihood
 * ---------------------------------------------------------------------
 */

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

Datum
model_datum(FunctionCallInfo fcinfo, const Fit *fit, int64 customers)
{
	TupleDesc	tupdesc;
	Datum		values[MAX_PARAMS + 3];
	bool		nulls[MAX_PARAMS + 3] = {0};
	int			n = fit->n;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type of a btyd final function must be a row type");
	for (int k = 0; k < n; k++)
		values[k] = Float8GetDatum(exp(fit->theta[k]));
	values[n] = Float8GetDatum(fit->loglik_value);
	values[n + 1] = Int64GetDatum(customers);
	values[n + 2] = BoolGetDatum(fit->converged);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
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

/* ---------------------------------------------------------------------
 * Predictions
 * ---------------------------------------------------------------------
 */

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
 * the textbook form (bgnbd_expected).
 */
static double
bgnbd_expected_series(double a, double A, double C, double z)
{
	double		term = 1.0;		/* (a)_{n-1} z^n / n!, scaled */
	double		sum = 0.0;
	double		magnitude = 0.0;	/* the sum of the terms' magnitudes */
	double		log_scale = 0.0;
	double		log_prod = 0.0; /* log prod_{k<n} (1 - A/(C+k)), while A < C */
	double		prod = 1.0;		/* prod_{0<k<n} (1 - A/(C+k)), otherwise */

	if (series_too_long(z, z * Max(1.0, (a + SERIES_MAX_TERMS - 1) / (SERIES_MAX_TERMS + 1.0))
						* Max(1.0, A / (C + SERIES_MAX_TERMS))))
		return get_float8_nan();
	for (int64 n = 1;; n++)
	{
		double		c_d;		/* C D_n */
		double		ratio;

		term *= n == 1 ? z : (a + n - 2) * z / n;
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
		sum += term * c_d;
		/* what rounding may cost: |C D_n| where A < C, else C's and the product's */
		magnitude += term * (A < C ? fabs(c_d) : fabs(C) + fabs(C - A) * fabs(prod));
		if (magnitude > 1e250)
		{
			term *= 1e-250;
			sum *= 1e-250;
			magnitude *= 1e-250;
			log_scale += 250.0 * M_LN10;
		}

		/*
		 * The tail after term n is below a geometric series: the ratio of the
		 * next terms (a+n-1) z / (n+1) tends to z, from above only when a >
		 * 2; |C D_m| <= |C| + |C - A| |prod_m|, and each further factor of
		 * the product is at most max(1, A/(C+n)) in magnitude.
		 */
		ratio = z * Max(1.0, (a + n - 1) / (n + 1)) * Max(1.0, A / (C + n));
		if (ratio < 1.0 && C + n > 0 &&
			term * (fabs(C) + fabs(C - A) * fabs(prod)) * ratio / (1.0 - ratio) <= 1e-16 * fabs(sum))
			break;
		if (n >= SERIES_MAX_TERMS)
			return get_float8_nan();
		if ((n & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	if (DBL_EPSILON * magnitude > PREDICTION_TOLERANCE * fabs(sum))
		return get_float8_nan();
	return sum * exp(log_scale + (a - 1) * log1p(-z));
}

/*
 * Expected repeat purchases in (T, T + t], FHL (2005) eq. 10:
 * (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
 *                      2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] P(alive).
 * Up to a = SERIES_MAX_A by bgnbd_expected_series.  Above, whose terms would
 * be too many, and where that series gives up (as where it cancels, r > a +
 * b - 1), as written: the power and 2F1 multiplied in logs (either alone may
 * overflow).  There the bracket is the difference of 1 and a number near it
 * when a is near 1 or b much larger than a; NaN where the rounding errors of
 * the two logs may be more than PREDICTION_TOLERANCE of it, and where 2F1's
 * series gives up.
 */
double
bgnbd_expected(const BtydCustomer *c, double t)
{
	/* the modified BG/NBD's is BG/NBD's bracket at b + 1 (shift) */
	double		c_param = c->a + c->b + c->x - 1 + c->shift;
	double		z,
				value,
				log_power,
				log_f,
				bracket;

	if (t <= 0)
		return 0.0;
	z = t / (c->alpha + c->T + t);
	if (c->a <= SERIES_MAX_A)
	{
		value = bgnbd_expected_series(c->a, c->r + c->x, c_param, z);
		if (!isnan(value) || c_param <= 0)
			return value * bgnbd_p_alive(c);
	}
	log_power = -(c->r + c->x) * log1p(t / (c->alpha + c->T));
	log_f = log_hyp2f1(c->r + c->x, c->b + c->x + c->shift, c_param, z);
	bracket = -expm1(log_power + log_f);
	if (!(fabs(bracket) * PREDICTION_TOLERANCE > 4 * DBL_EPSILON * (fabs(log_power) + log_f)))
		return get_float8_nan();
	return c_param / (c->a - 1) * bracket * bgnbd_p_alive(c);
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
	/* once NaN or infinite (value), the sum stays so */
	for (int32 i = 1; i <= months && isfinite(clv); i++)
	{
		double		upto;

		CHECK_FOR_INTERRUPTS();
		upto = expected(c, i * month);
		clv += value * (upto - before) / pow(1.0 + discount_rate, i);
		before = upto;
	}
	return prediction_datum(fcinfo, clv, c->x);
}

/* CLV under BG/NBD and Gamma-Gamma */
PG_FUNCTION_INFO_V1(ra_clv);
Datum
ra_clv(PG_FUNCTION_ARGS)
{
	BtydCustomer c = btyd_customer(fcinfo, 2, bgnbd_names);

	return btyd_clv(fcinfo, bgnbd_expected, &c);
}

/* ---------------------------------------------------------------------
 * Simulation
 * ---------------------------------------------------------------------
 */

/* A standard normal variate (Box-Muller, one of the pair) */
static double
normal_variate(pg_prng_state *rng)
{
	double		u = 1.0 - pg_prng_double(rng);	/* in (0, 1] */

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * pg_prng_double(rng));
}

/* A Gamma(shape, 1) variate: Marsaglia and Tsang (2000) */
static double
gamma_variate(pg_prng_state *rng, double shape)
{
	double		d,
				c;

	if (shape < 1.0)
		return gamma_variate(rng, shape + 1.0) * pow(1.0 - pg_prng_double(rng), 1.0 / shape);
	d = shape - 1.0 / 3.0;
	c = 1.0 / sqrt(9.0 * d);
	for (;;)
	{
		double		z = normal_variate(rng);
		double		v = 1.0 + c * z;
		double		u;

		if (v <= 0.0)
			continue;
		v = v * v * v;
		u = 1.0 - pg_prng_double(rng);
		if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
			return d * v;
	}
}

typedef struct SimulationState
{
	double		r,
				alpha,
				a,
				b,
				max_age;
	int32		seed;
	bool		whole_units;
	char		model;			/* 'b' BG/NBD, 'm' modified BG/NBD, 'p' Pareto/NBD (a, b: s, beta) */
} SimulationState;

/*
 * One customer: first purchase at time 0, age uniform in [0, max_age]; rate
 * lambda ~ Gamma(r, alpha), dropout probability p ~ Beta(a, b); purchases
 * at the events of a Poisson process of rate lambda, after each of which the
 * customer drops out with probability p.  With whole_units, purchase times
 * and the age are truncated to whole units and purchases in one unit are one,
 * as btyd_summary counts days.  Each customer has its own generator, seeded
 * from (seed, customer_id): any customer can be drawn alone.  More than
 * SIMULATION_MAX_EVENTS purchase events are an error.
 */
static void
simulate_customer(const SimulationState *sim, int64 id, int32 *frequency, double *recency, double *age)
{
	pg_prng_state rng;
	double		lambda,
				p,
				lifetime = get_float8_infinity(),
				t = 0.0,
				last = 0.0,
				g;
	int32		x = 0;

	pg_prng_seed(&rng, hash_bytes_uint32((uint32) sim->seed) ^ ((uint64) id * UINT64CONST(0x9E3779B97F4A7C15)));
	lambda = gamma_variate(&rng, sim->r) / sim->alpha;
	g = gamma_variate(&rng, sim->a);
	p = g / (g + gamma_variate(&rng, sim->b));
	*age = pg_prng_double(&rng) * sim->max_age;
	if (sim->whole_units)
		*age = floor(*age);
	if (sim->model == 'p')
	{
		/* Pareto/NBD: no dropout at purchases, a lifetime Exp(mu), mu ~ Gamma(s, beta) */
		lifetime = -log(1.0 - pg_prng_double(&rng)) * sim->b / g;
		p = 0.0;
	}
	/* the modified BG/NBD: a dropout also right after the first purchase */
	if (sim->model == 'm' && pg_prng_double(&rng) < p)
	{
		*frequency = 0;
		*recency = 0.0;
		return;
	}
	for (int32 events = 1;; events++)
	{
		CHECK_FOR_INTERRUPTS();
		if (events > SIMULATION_MAX_EVENTS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("simulated customer %lld makes more than %d purchases", (long long) id,
							SIMULATION_MAX_EVENTS),
					 errdetail("Its purchase rate is %g per unit, its dropout probability %g, its age %g.",
							   lambda, p, *age),
					 errhint("Lower max_age, or the mean purchase rate r / alpha.")));
		t += -log(1.0 - pg_prng_double(&rng)) / lambda;
		if ((sim->whole_units ? floor(t) > *age : t > *age) || t > lifetime)
			break;
		if (!sim->whole_units)
		{
			x++;
			last = t;
		}
		else if (floor(t) > last)
		{
			x++;
			last = floor(t);
		}
		if (pg_prng_double(&rng) < p)
			break;
	}
	*frequency = x;
	*recency = last;
}

/* The letter of SimulationState.model of a model's name, or an error */
static char
model_letter(text *model)
{
	char	   *name = text_to_cstring(model);

	if (strcmp(name, "bgnbd") == 0)
		return 'b';
	if (strcmp(name, "mbgnbd") == 0)
		return 'm';
	if (strcmp(name, "paretonbd") == 0)
		return 'p';
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid model: \"%s\"", name),
			 errdetail("The model must be \"bgnbd\", \"mbgnbd\" or \"paretonbd\".")));
}

/*
 * Customers simulated from a BG/NBD process; with a ninth argument, from the
 * process of the model it names (retail.simulate_btyd_customers).
 */
PG_FUNCTION_INFO_V1(ra_simulate_bgnbd_customers);
Datum
ra_simulate_bgnbd_customers(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	SimulationState *sim;
	Datum		values[4];
	bool		nulls[4] = {0};
	int32		frequency;
	double		recency,
				age;

	if (SRF_IS_FIRSTCALL())
	{
		static const char *const names[] = {"r", "alpha", "a", "b", "max_age"};
		MemoryContext oldcontext;
		int64		customers = PG_GETARG_INT64(0);

		if (customers < 0 || customers > SIMULATION_MAX_CUSTOMERS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid number of customers: %lld", (long long) customers),
					 errdetail("The number of customers must be between 0 and %d.", SIMULATION_MAX_CUSTOMERS)));
		for (int k = 0; k < 5; k++)
		{
			double		value = PG_GETARG_FLOAT8(k + 1);

			if (!(k == 4 ? value >= 0 : value > 0) || isinf(value))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid %s: %g", names[k], value),
						 errdetail("%s must be %s and finite.", names[k], k == 4 ? "0 or more" : "positive")));
		}
		funcctx = rows_srf_first_call(fcinfo, (uint64) customers, &oldcontext);
		sim = palloc(sizeof(SimulationState));
		sim->r = PG_GETARG_FLOAT8(1);
		sim->alpha = PG_GETARG_FLOAT8(2);
		sim->a = PG_GETARG_FLOAT8(3);
		sim->b = PG_GETARG_FLOAT8(4);
		sim->max_age = PG_GETARG_FLOAT8(5);
		sim->seed = PG_GETARG_INT32(6);
		sim->whole_units = PG_GETARG_BOOL(7);
		sim->model = PG_NARGS() > 8 ? model_letter(PG_GETARG_TEXT_PP(8)) : 'b';
		funcctx->user_fctx = sim;
		MemoryContextSwitchTo(oldcontext);
	}
	funcctx = SRF_PERCALL_SETUP();
	CHECK_FOR_INTERRUPTS();
	if (funcctx->call_cntr >= funcctx->max_calls)
		SRF_RETURN_DONE(funcctx);
	sim = (SimulationState *) funcctx->user_fctx;
	simulate_customer(sim, (int64) funcctx->call_cntr + 1, &frequency, &recency, &age);
	values[0] = Int64GetDatum((int64) funcctx->call_cntr + 1);
	values[1] = Int32GetDatum(frequency);
	values[2] = Float8GetDatum(recency);
	values[3] = Float8GetDatum(age);
	SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
}

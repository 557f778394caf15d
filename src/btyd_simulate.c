/*
 * btyd_simulate.c
 *		retail.simulate_bgnbd_customers: customers drawn from a BG/NBD
 *		process with known parameters, for tests and benchmarks (btyd.c).
 */
#include "btyd.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"

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

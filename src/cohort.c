/*
 * cohort.c
 *		Cohort retention: a mergeable per-customer aggregate and the dense
 *		retention matrix it yields.
 *
 * The aggregate state keeps, per customer, the sorted list of the periods
 * (months, ISO weeks or days) in which the customer has a line, with the
 * exact revenue of each.  That is everything a cohort matrix needs, and it
 * merges exactly: a customer whose lines are spread over parallel workers or
 * shards ends with the union of the periods and the sum of the revenues, so
 * the customer's first period (the cohort) is found only once all the data
 * has been seen, in the final function.
 *
 * Speed: customers live in a simplehash table, each with a compact array of
 * (period, sum) entries that grows by doubling; consecutive lines of the same
 * customer and period (an invoice) skip even the hash lookup.  Revenue is
 * summed exactly without allocating: each numeric is decoded from its stored
 * form into a 128-bit integer at its own display scale, and a sum falls back
 * to numeric arithmetic only when a value does not fit (more than 38
 * significant digits, NaN or infinity).  Sums keep the display scale that
 * sum(numeric) would give.
 *
 * A state may also hold cells counted before they reached it (the
 * aggregate cohort_matrix_from_cells): customers and revenue per cohort and
 * period, from customers disjoint from every other part of the state, such
 * as a shard's.  A shard then sends the matrix's cells, not its customers.
 */
#include "retail_analytics.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

/*
 * Format version word at the start of a serialized state: 1 for customers
 * only, 2 when counted cells follow them
 */
#define COHORT_STATE_VERSION 1
#define COHORT_STATE_VERSION_CELLS 2
#define COHORT_STATE "cohort"		/* its name in errors */

/*
 * The most periods a matrix may span, from its first cohort to its last
 * period, at any granularity: the contract's data range, 1900-01 to 2099-12,
 * in months, so that every mart of in-bounds data fits (46 years of weeks,
 * 6.5 of days).  A matrix then has at most 2400 * 2401 / 2 = 2881200 cells,
 * and a customer at most 2400 periods.
 */
#define COHORT_MAX_PERIODS 2400

typedef enum CohortGranularity
{
	COHORT_MONTH = 0,
	COHORT_WEEK = 1,
	COHORT_DAY = 2
} CohortGranularity;

#define COHORT_GRANULARITY_MAX COHORT_DAY

static const char *const granularity_names[] = {"month", "week", "day"};

/* The exact revenue of one period of a customer */
typedef struct PeriodSum
{
	ExactSum	sum;
	int32		period;
} PeriodSum;

/* A copy of source whose numeric, if any, lives in context */
static inline void
period_sum_copy(PeriodSum *target, const PeriodSum *source, MemoryContext context)
{
	target->period = source->period;
	exact_sum_copy(&target->sum, &source->sum, context);
}

/* One customer: the periods with a line, ascending, each with its revenue */
typedef struct CustomerEntry
{
	int64		customer_id;	/* hash key */
	PeriodSum  *periods;
	int32		nperiods;
	int32		capacity;
	int32		hint;			/* index of the period touched last */
	char		status;			/* used by simplehash */
} CustomerEntry;

/* The 64-bit finalizer of MurmurHash3 (core has murmurhash64 only from 16) */
static inline uint32
hash_int64_key(int64 key)
{
	uint64		h = (uint64) key;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

#define SH_PREFIX customers
#define SH_ELEMENT_TYPE CustomerEntry
#define SH_KEY_TYPE int64
#define SH_KEY customer_id
#define SH_HASH_KEY(tb, key) hash_int64_key(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* A counted cell: its customers and revenue, keyed by cohort and period */
typedef struct CellEntry
{
	int64		key;			/* hash key: cell_key(cohort, period) */
	int64		customers;
	ExactSum	revenue;
	char		status;			/* used by simplehash */
} CellEntry;

static inline int64
cell_key(int32 cohort, int32 period)
{
	return (int64) (((uint64) (uint32) cohort << 32) | (uint32) period);
}

static inline int32
cell_cohort(const CellEntry *cell)
{
	return (int32) (uint32) ((uint64) cell->key >> 32);
}

static inline int32
cell_period(const CellEntry *cell)
{
	return (int32) (uint32) (uint64) cell->key;
}

#define SH_PREFIX cells
#define SH_ELEMENT_TYPE CellEntry
#define SH_KEY_TYPE int64
#define SH_KEY key
#define SH_HASH_KEY(tb, key) hash_int64_key(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct CohortState
{
	CohortGranularity granularity;
	bool		unbounded;
	MemoryContext context;		/* holds the table, the arrays, the numerics */
	customers_hash *customers;
	cells_hash *cells;			/* counted cells, NULL until there is one */
	int32		cells_first;	/* the first cohort and the last period ... */
	int32		cells_last;		/* ... of the counted cells */
	CustomerEntry *last_customer;	/* valid until the next insertion */
	int			granularity_len;	/* granularity argument last checked ... */
	char		granularity_text[8];	/* ... (valid names are short) */
	Timestamp	cached_day_start;	/* start of the day of the last line ... */
	int32		cached_period;	/* ... and the period of that day */
} CohortState;

/* Floor division, for days and weeks before 2000 */
static inline int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * The absolute period of a day (days since 2000-01-01): months since year 0,
 * ISO weeks (Monday to Sunday) counted from the week of 2000-01-03, or days.
 */
static int32
period_of_day(CohortGranularity granularity, int64 day)
{
	int			year,
				month,
				mday;

	switch (granularity)
	{
		case COHORT_MONTH:
			j2date((int) (day + POSTGRES_EPOCH_JDATE), &year, &month, &mday);
			return (int32) year * 12 + month - 1;
		case COHORT_WEEK:
			/* 2000-01-01 was a Saturday, ISO day 5 counting Monday as 0 */
			return (int32) floor_div(day + 5, 7);
		case COHORT_DAY:
			return (int32) day;
	}
	pg_unreachable();
}

/* The first day of a period, as a date */
static DateADT
period_start(CohortGranularity granularity, int32 period)
{
	int64		day = 0;

	switch (granularity)
	{
		case COHORT_MONTH:
			{
				int64		year = floor_div(period, 12);

				day = (int64) date2j((int) year, (int) (period - year * 12) + 1, 1) -
					POSTGRES_EPOCH_JDATE;
				break;
			}
		case COHORT_WEEK:
			day = (int64) period * 7 - 5;
			break;
		case COHORT_DAY:
			day = period;
			break;
	}
	if (!IS_VALID_DATE(day))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cohort period start out of range for type date")));
	return (DateADT) day;
}

static inline int64
day_of_timestamp(Timestamp ts)
{
	return floor_div(ts, USECS_PER_DAY);
}

/* The range of periods that a valid timestamp can fall into */
static void
period_range(CohortGranularity granularity, int32 *min, int32 *max)
{
	*min = period_of_day(granularity, day_of_timestamp(MIN_TIMESTAMP));
	*max = period_of_day(granularity, day_of_timestamp(END_TIMESTAMP - 1));
}

/* Parse a granularity argument; raise an error for anything else */
static CohortGranularity
parse_granularity(text *arg)
{
	char	   *name = text_to_cstring(arg);
	int			g;

	for (g = 0; g <= COHORT_GRANULARITY_MAX; g++)
	{
		if (pg_strcasecmp(name, granularity_names[g]) == 0)
		{
			pfree(name);
			return (CohortGranularity) g;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown cohort granularity \"%s\"", name),
			 errhint("Valid granularities are month, week and day.")));
	pg_unreachable();
}

/* Fail when periods first .. last are more than a matrix may span */
static void
check_span(CohortGranularity granularity, int32 first, int32 last)
{
	int64		span = (int64) last - first + 1;

	if (span > COHORT_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cohort matrix would span %lld %s periods, more than the limit of %d",
						(long long) span, granularity_names[granularity], COHORT_MAX_PERIODS),
				 errhint("Use a coarser granularity or a shorter time range.")));
}

/* Same granularity and mode in every row and partial state, or an error */
static void
check_same_parameters(const CohortState *a, CohortGranularity granularity,
					  bool unbounded, bool check_unbounded)
{
	if (a->granularity != granularity)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort granularity differs between rows: \"%s\" and \"%s\"",
						granularity_names[a->granularity],
						granularity_names[granularity])));
	if (check_unbounded && a->unbounded != unbounded)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort unbounded flag differs between rows")));
}

static CohortState *
cohort_state_create(MemoryContext context, CohortGranularity granularity,
					bool unbounded)
{
	CohortState *state = MemoryContextAllocZero(context, sizeof(CohortState));

	state->granularity = granularity;
	state->unbounded = unbounded;
	state->context = context;
	state->customers = customers_create(context, 256, NULL);
	state->last_customer = NULL;
	state->granularity_len = -1;
	state->cached_day_start = END_TIMESTAMP;	/* above every finite timestamp */
	state->cached_period = 0;
	return state;
}

/* The customer's entry for a period, created (empty) when missing */
static PeriodSum *
customer_period(CohortState *state, CustomerEntry *customer, int32 period)
{
	PeriodSum  *periods = customer->periods;
	int			lo = 0;
	int			hi = customer->nperiods;

	if (hi > 0 && periods[customer->hint].period == period)
		return &periods[customer->hint];
	/* Lines mostly come in time order: try the end before searching */
	if (hi > 0 && periods[hi - 1].period < period)
		lo = hi;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (periods[mid].period < period)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < customer->nperiods && periods[lo].period == period)
	{
		customer->hint = lo;
		return &periods[lo];
	}
	/* Bounds the customer's array too: no more periods than the span */
	if (customer->nperiods > 0)
		check_span(state->granularity, Min(period, periods[0].period),
				   Max(period, periods[customer->nperiods - 1].period));
	if (customer->nperiods == customer->capacity)
	{
		int			capacity = customer->capacity == 0 ? 4 : customer->capacity * 2;

		if (customer->periods == NULL)
			periods = MemoryContextAlloc(state->context, capacity * sizeof(PeriodSum));
		else
			periods = repalloc(customer->periods, capacity * sizeof(PeriodSum));
		customer->periods = periods;
		customer->capacity = capacity;
	}
	memmove(&periods[lo + 1], &periods[lo],
			(customer->nperiods - lo) * sizeof(PeriodSum));
	exact_sum_init(&periods[lo].sum);
	periods[lo].period = period;
	customer->nperiods++;
	customer->hint = lo;
	return &periods[lo];
}

/* The entry of a customer, created without periods when missing */
static inline CustomerEntry *
customer_entry(CohortState *state, int64 customer_id)
{
	CustomerEntry *customer = state->last_customer;
	bool		found;

	if (customer != NULL && customer->customer_id == customer_id)
		return customer;
	customer = customers_insert(state->customers, customer_id, &found);
	if (!found)
	{
		customer->periods = NULL;
		customer->nperiods = 0;
		customer->capacity = 0;
		customer->hint = 0;
	}
	state->last_customer = customer;
	return customer;
}

/*
 * The counted cell of a cohort and period, created empty when missing.  The
 * cells' span is bounded as a matrix's is, which bounds their number.
 */
static CellEntry *
cohort_cell(CohortState *state, int32 cohort, int32 period)
{
	CellEntry  *cell;
	bool		found;

	if (state->cells == NULL)
	{
		state->cells = cells_create(state->context, 64, NULL);
		state->cells_first = cohort;
		state->cells_last = period;
	}
	check_span(state->granularity, Min(cohort, state->cells_first),
			   Max(period, state->cells_last));
	state->cells_first = Min(cohort, state->cells_first);
	state->cells_last = Max(period, state->cells_last);
	cell = cells_insert(state->cells, cell_key(cohort, period), &found);
	if (!found)
	{
		cell->customers = 0;
		exact_sum_init(&cell->revenue);
	}
	return cell;
}

/* A count of customers that no int64 can hold is an error, not a wrap */
static inline int64
add_customers(int64 a, int64 b)
{
	int64		result;

	if (pg_add_s64_overflow(a, b, &result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cohort customer count out of range")));
	return result;
}

/* Add every customer and period of source to target, copying into target */
static void
cohort_state_merge(CohortState *target, const CohortState *source)
{
	customers_iterator it;
	CustomerEntry *from;

	customers_start_iterate(source->customers, &it);
	while ((from = customers_iterate(source->customers, &it)) != NULL)
	{
		bool		found;
		CustomerEntry *to = customers_insert(target->customers, from->customer_id, &found);
		PeriodSum  *merged;
		int			i = 0,
					j = 0,
					n = 0;

		CHECK_FOR_INTERRUPTS();
		if (found)
			check_span(target->granularity,
					   Min(to->periods[0].period, from->periods[0].period),
					   Max(to->periods[to->nperiods - 1].period,
						   from->periods[from->nperiods - 1].period));
		merged = MemoryContextAlloc(target->context,
									(Size) ((found ? to->nperiods : 0) + from->nperiods) *
									sizeof(PeriodSum));
		if (!found)
		{
			for (j = 0; j < from->nperiods; j++)
				period_sum_copy(&merged[j], &from->periods[j], target->context);
			to->periods = merged;
			to->nperiods = to->capacity = from->nperiods;
			to->hint = 0;
			continue;
		}
		/* Merge the two ascending lists, adding the sums of shared periods */
		while (i < to->nperiods || j < from->nperiods)
		{
			if (j >= from->nperiods ||
				(i < to->nperiods && to->periods[i].period < from->periods[j].period))
				merged[n++] = to->periods[i++];
			else if (i >= to->nperiods || from->periods[j].period < to->periods[i].period)
				period_sum_copy(&merged[n++], &from->periods[j++], target->context);
			else
			{
				merged[n] = to->periods[i++];
				exact_sum_add_sum(&merged[n++].sum, &from->periods[j++].sum, target->context);
			}
		}
		if (to->periods != NULL)
			pfree(to->periods);
		to->periods = merged;
		to->capacity = to->nperiods + from->nperiods;
		to->nperiods = n;
		to->hint = 0;
	}
	/* Insertions may have moved entries */
	target->last_customer = NULL;

	if (source->cells != NULL)
	{
		cells_iterator cit;
		CellEntry  *cell;

		cells_start_iterate(source->cells, &cit);
		while ((cell = cells_iterate(source->cells, &cit)) != NULL)
		{
			CellEntry  *to = cohort_cell(target, cell_cohort(cell), cell_period(cell));

			CHECK_FOR_INTERRUPTS();
			to->customers = add_customers(to->customers, cell->customers);
			exact_sum_add_sum(&to->revenue, &cell->revenue, target->context);
		}
	}
}

/* Common transition: one order line */
static void
cohort_add_line(CohortState *state, int64 customer_id, Timestamp ts,
				bool amount_isnull, Datum amount)
{
	CustomerEntry *customer;
	PeriodSum  *sum;
	int64		day;
	int32		period;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot assign the timestamp \"%s\" to a cohort period",
						TIMESTAMP_IS_NOBEGIN(ts) ? "-infinity" : "infinity")));
	/* Lines of an invoice share their time: skip the division for them */
	if (ts >= state->cached_day_start && ts < state->cached_day_start + USECS_PER_DAY)
		period = state->cached_period;
	else
	{
		day = day_of_timestamp(ts);
		period = period_of_day(state->granularity, day);
		state->cached_day_start = day * USECS_PER_DAY;
		state->cached_period = period;
	}
	customer = customer_entry(state, customer_id);
	sum = customer_period(state, customer, period);
	if (!amount_isnull)
		exact_sum_add_datum(&sum->sum, amount, state->context);
}

/* Whether a granularity argument is the text of the one checked last */
static inline bool
same_granularity_text(const CohortState *state, text *arg)
{
	int			len = VARSIZE_ANY_EXHDR(arg);

	return len == state->granularity_len &&
		memcmp(VARDATA_ANY(arg), state->granularity_text, len) == 0;
}

/* Remember a granularity argument that has been checked */
static void
remember_granularity_text(CohortState *state, text *arg)
{
	int			len = VARSIZE_ANY_EXHDR(arg);

	state->granularity_len = -1;
	if (len <= (int) sizeof(state->granularity_text))
	{
		memcpy(state->granularity_text, VARDATA_ANY(arg), len);
		state->granularity_len = len;
	}
}

/* Transition of cohort_matrix and cohort_state: one order line */
PG_FUNCTION_INFO_V1(ra_cohort_trans);
Datum
ra_cohort_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	CohortState *state;
	bool		has_granularity = PG_NARGS() > 4;
	bool		has_unbounded = PG_NARGS() > 5;
	bool		unbounded = false;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_cohort_trans called in non-aggregate context");

	if (has_granularity && PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cohort granularity must not be NULL")));
	if (has_unbounded)
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cohort unbounded flag must not be NULL")));
		unbounded = PG_GETARG_BOOL(5);
	}

	if (PG_ARGISNULL(0))
	{
		CohortGranularity granularity = COHORT_MONTH;

		if (has_granularity)
			granularity = parse_granularity(PG_GETARG_TEXT_PP(4));
		state = cohort_state_create(aggcontext, granularity, unbounded);
		if (has_granularity)
			remember_granularity_text(state, PG_GETARG_TEXT_PP(4));
	}
	else
	{
		state = (CohortState *) PG_GETARG_POINTER(0);
		if (has_granularity && !same_granularity_text(state, PG_GETARG_TEXT_PP(4)))
		{
			check_same_parameters(state, parse_granularity(PG_GETARG_TEXT_PP(4)),
								  unbounded, has_unbounded);
			remember_granularity_text(state, PG_GETARG_TEXT_PP(4));
		}
		else if (has_unbounded && unbounded != state->unbounded)
			check_same_parameters(state, state->granularity, unbounded, true);
	}

	/* Lines without a customer or a time belong to no cohort */
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		cohort_add_line(state, PG_GETARG_INT64(1), PG_GETARG_TIMESTAMP(2),
						PG_ARGISNULL(3), PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3));

	PG_RETURN_POINTER(state);
}

/* Combine two partial cohort states (parallel workers) */
PG_FUNCTION_INFO_V1(ra_cohort_combine);
Datum
ra_cohort_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	CohortState *target;
	CohortState *source;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_cohort_combine called in non-aggregate context");

	target = PG_ARGISNULL(0) ? NULL : (CohortState *) PG_GETARG_POINTER(0);
	source = PG_ARGISNULL(1) ? NULL : (CohortState *) PG_GETARG_POINTER(1);
	if (source == NULL)
	{
		if (target == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(target);
	}
	if (target == NULL)
		target = cohort_state_create(aggcontext, source->granularity, source->unbounded);
	else
		check_same_parameters(target, source->granularity, source->unbounded, true);
	cohort_state_merge(target, source);
	PG_RETURN_POINTER(target);
}

/* The month of a cell's date argument; a cell needs finite dates */
static int32
cell_month_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	DateADT		day;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cohort cell %s must not be NULL", name)));
	day = PG_GETARG_DATEADT(argno);
	if (DATE_NOT_FINITE(day))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cohort cell %s must be a finite date, not \"%s\"", name,
						DATE_IS_NOBEGIN(day) ? "-infinity" : "infinity")));
	return period_of_day(COHORT_MONTH, day);
}

/*
 * Transition of cohort_matrix_from_cells: one counted cell, its cohort and
 * active month, its customers and their revenue in that month
 */
PG_FUNCTION_INFO_V1(ra_cohort_cells_trans);
Datum
ra_cohort_cells_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	CohortState *state;
	int32		cohort;
	int32		month;
	int64		customers;
	CellEntry  *cell;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_cohort_cells_trans called in non-aggregate context");

	cohort = cell_month_arg(fcinfo, 1, "cohort");
	month = cell_month_arg(fcinfo, 2, "month");
	if (month < cohort)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort cell month %s is before its cohort %s",
						DatumGetCString(DirectFunctionCall1(date_out, PG_GETARG_DATUM(2))),
						DatumGetCString(DirectFunctionCall1(date_out, PG_GETARG_DATUM(1))))));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cohort cell customers must not be NULL")));
	customers = PG_GETARG_INT64(3);
	if (customers < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort cell customers must not be negative: %lld",
						(long long) customers)));

	state = PG_ARGISNULL(0) ? cohort_state_create(aggcontext, COHORT_MONTH, false) :
		(CohortState *) PG_GETARG_POINTER(0);
	cell = cohort_cell(state, cohort, month);
	cell->customers = add_customers(cell->customers, customers);
	if (!PG_ARGISNULL(4))
		exact_sum_add_datum(&cell->revenue, PG_GETARG_DATUM(4), state->context);
	PG_RETURN_POINTER(state);
}

/*
 * Serialized state: int32 version, int32 granularity, byte unbounded, int64
 * number of customers; per customer int64 id, int32 number of periods, and
 * per period (ascending) int32 period, int16 dscale, then either the scaled
 * sum as int64 high and low halves (dscale >= 0) or, for dscale -1, int32
 * length and the numeric in its binary send format.  Version 2 follows with
 * int64 number of counted cells and per cell int32 cohort, int32 period,
 * int64 customers and the revenue as above.
 */
#define SERIAL_CUSTOMER_BYTES (8 + 4)
#define SERIAL_SUM_MIN_BYTES (2 + Min(8 + 8, 4 + 8))
#define SERIAL_PERIOD_MIN_BYTES (4 + SERIAL_SUM_MIN_BYTES)
#define SERIAL_CELL_MIN_BYTES (4 + 4 + 8 + SERIAL_SUM_MIN_BYTES)

static void
serialize_state(StringInfo buf, const CohortState *state)
{
	customers_iterator it;
	CustomerEntry *customer;

	pq_sendint32(buf, state->cells == NULL ? COHORT_STATE_VERSION : COHORT_STATE_VERSION_CELLS);
	pq_sendint32(buf, (int32) state->granularity);
	pq_sendbyte(buf, state->unbounded ? 1 : 0);
	pq_sendint64(buf, (int64) state->customers->members);
	customers_start_iterate(state->customers, &it);
	while ((customer = customers_iterate(state->customers, &it)) != NULL)
	{
		int			i;

		CHECK_FOR_INTERRUPTS();
		pq_sendint64(buf, customer->customer_id);
		pq_sendint32(buf, customer->nperiods);
		for (i = 0; i < customer->nperiods; i++)
		{
			const PeriodSum *sum = &customer->periods[i];

			pq_sendint32(buf, sum->period);
			exact_sum_send(buf, &sum->sum);
		}
	}
	if (state->cells != NULL)
	{
		cells_iterator cit;
		CellEntry  *cell;

		pq_sendint64(buf, (int64) state->cells->members);
		cells_start_iterate(state->cells, &cit);
		while ((cell = cells_iterate(state->cells, &cit)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			pq_sendint32(buf, cell_cohort(cell));
			pq_sendint32(buf, cell_period(cell));
			pq_sendint64(buf, cell->customers);
			exact_sum_send(buf, &cell->revenue);
		}
	}
}

/* Read the counted cells of a serialized state into state */
static void
deserialize_cells(StringInfo buf, CohortState *state, int32 min_period, int32 max_period)
{
	int64		ncells;

	if (state->unbounded)
		state_corrupt(COHORT_STATE, "An unbounded state has counted cells.");
	state_need_bytes(buf, 8, COHORT_STATE);
	ncells = pq_getmsgint64(buf);
	if (ncells < 1 || ncells > (buf->len - buf->cursor) / SERIAL_CELL_MIN_BYTES)
		state_corrupt(COHORT_STATE, "Cell count %lld does not fit the state.",
					  (long long) ncells);
	for (int64 c = 0; c < ncells; c++)
	{
		int32		cohort;
		int32		period;
		int64		customers;
		uint32		members;
		CellEntry  *cell;

		CHECK_FOR_INTERRUPTS();
		cohort = state_recv_int32(buf, COHORT_STATE);
		period = state_recv_int32(buf, COHORT_STATE);
		customers = state_recv_int64(buf, COHORT_STATE);
		if (cohort < min_period || period > max_period || period < cohort)
			state_corrupt(COHORT_STATE, "Cell of cohort %d and period %d is out of range.",
						  cohort, period);
		if (customers < 0)
			state_corrupt(COHORT_STATE, "Cell of cohort %d and period %d has %lld customers.",
						  cohort, period, (long long) customers);
		members = state->cells == NULL ? 0 : state->cells->members;
		cell = cohort_cell(state, cohort, period);
		if (state->cells->members == members)
			state_corrupt(COHORT_STATE, "Cell of cohort %d and period %d appears twice.",
						  cohort, period);
		cell->customers = customers;
		exact_sum_recv(buf, &cell->revenue, COHORT_STATE);
	}
}

/*
 * Read a serialized state, past its version word, into a new state in the
 * current context
 */
static CohortState *
deserialize_state(StringInfo buf, int32 version)
{
	CohortState *state;
	int32		granularity;
	int			unbounded;
	int64		ncustomers;
	int64		c;
	int32		min_period;
	int32		max_period;

	state_need_bytes(buf, 4 + 1 + 8, COHORT_STATE);
	granularity = pq_getmsgint(buf, 4);
	if (granularity < 0 || granularity > COHORT_GRANULARITY_MAX)
		state_corrupt(COHORT_STATE, "Unknown granularity code %d.", granularity);
	unbounded = pq_getmsgbyte(buf);
	if (unbounded != 0 && unbounded != 1)
		state_corrupt(COHORT_STATE, "Bad unbounded flag.");
	ncustomers = pq_getmsgint64(buf);
	if (ncustomers < 0 ||
		ncustomers > (buf->len - buf->cursor) /
		(SERIAL_CUSTOMER_BYTES + SERIAL_PERIOD_MIN_BYTES))
		state_corrupt(COHORT_STATE, "Customer count %lld does not fit the state.",
					  (long long) ncustomers);

	state = cohort_state_create(CurrentMemoryContext, (CohortGranularity) granularity,
								unbounded == 1);
	period_range(state->granularity, &min_period, &max_period);
	for (c = 0; c < ncustomers; c++)
	{
		int64		customer_id;
		int32		nperiods;
		CustomerEntry *customer;
		bool		found;
		int			i;

		CHECK_FOR_INTERRUPTS();
		state_need_bytes(buf, SERIAL_CUSTOMER_BYTES, COHORT_STATE);
		customer_id = pq_getmsgint64(buf);
		nperiods = pq_getmsgint(buf, 4);
		if (nperiods < 1 ||
			nperiods > (buf->len - buf->cursor) / SERIAL_PERIOD_MIN_BYTES)
			state_corrupt(COHORT_STATE, "Customer %lld has a bad period count %d.",
						  (long long) customer_id, nperiods);
		if (nperiods > COHORT_MAX_PERIODS)
			state_corrupt(COHORT_STATE, "Customer %lld has %d periods, more than the limit of %d.",
						  (long long) customer_id, nperiods, COHORT_MAX_PERIODS);
		customer = customers_insert(state->customers, customer_id, &found);
		if (found)
			state_corrupt(COHORT_STATE, "Customer %lld appears twice.", (long long) customer_id);
		customer->periods = palloc(nperiods * sizeof(PeriodSum));
		customer->nperiods = customer->capacity = nperiods;
		customer->hint = 0;
		for (i = 0; i < nperiods; i++)
		{
			PeriodSum  *sum = &customer->periods[i];

			sum->period = state_recv_int32(buf, COHORT_STATE);
			if (sum->period < min_period || sum->period > max_period)
				state_corrupt(COHORT_STATE, "Period %d is out of range.", sum->period);
			if (i > 0 && sum->period <= customer->periods[i - 1].period)
				state_corrupt(COHORT_STATE, "The periods of customer %lld are not ascending.",
							  (long long) customer_id);
			exact_sum_recv(buf, &sum->sum, COHORT_STATE);
		}
		if ((int64) customer->periods[nperiods - 1].period - customer->periods[0].period >=
			COHORT_MAX_PERIODS)
			state_corrupt(COHORT_STATE, "The periods of customer %lld span more than the limit of %d.",
						  (long long) customer_id, COHORT_MAX_PERIODS);
	}
	if (version == COHORT_STATE_VERSION_CELLS)
		deserialize_cells(buf, state, min_period, max_period);
	state_recv_end(buf, COHORT_STATE);
	return state;
}

/* Serialize a cohort state (also the final function of cohort_state) */
PG_FUNCTION_INFO_V1(ra_cohort_serial);
Datum
ra_cohort_serial(PG_FUNCTION_ARGS)
{
	CohortState *state = (CohortState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ra_cohort_serial called in non-aggregate context");
	pq_begintypsend(&buf);
	serialize_state(&buf, state);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize a cohort state, validating every field */
PG_FUNCTION_INFO_V1(ra_cohort_deserial);
Datum
ra_cohort_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *serialized = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	int32		version;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ra_cohort_deserial called in non-aggregate context");
	version = state_recv_begin_versions(&buf, serialized, COHORT_STATE_VERSION,
										COHORT_STATE_VERSION_CELLS, COHORT_STATE);
	PG_RETURN_POINTER(deserialize_state(&buf, version));
}

/* Transition of cohort_merge: one serialized state, e.g. from a shard */
PG_FUNCTION_INFO_V1(ra_cohort_merge_trans);
Datum
ra_cohort_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	CohortState *state = PG_ARGISNULL(0) ? NULL : (CohortState *) PG_GETARG_POINTER(0);
	bool		unbounded = false;
	bytea	   *serialized;
	StringInfoData buf;
	int32		version;
	CohortState *part;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_cohort_merge_trans called in non-aggregate context");
	if (PG_NARGS() > 2)
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cohort unbounded flag must not be NULL")));
		unbounded = PG_GETARG_BOOL(2);
	}
	if (state != NULL && state->unbounded != unbounded)
		check_same_parameters(state, state->granularity, unbounded, true);
	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}

	serialized = PG_GETARG_BYTEA_PP(1);
	version = state_recv_begin_versions(&buf, serialized, COHORT_STATE_VERSION,
										COHORT_STATE_VERSION_CELLS, COHORT_STATE);
	part = deserialize_state(&buf, version);
	/* The flag stored in a partial state is not a choice of the merge */
	if (state == NULL)
		state = cohort_state_create(aggcontext, part->granularity, unbounded);
	else
		check_same_parameters(state, part->granularity, unbounded, false);
	cohort_state_merge(state, part);
	PG_RETURN_POINTER(state);
}

/* Index of value in the ascending array, which holds it */
static int
find_int32(const int32 *values, int n, int32 value)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (values[mid] < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	Assert(values[lo] == value);
	return lo;
}

/*
 * Add the counted cells to the matrix's cells and cohort sizes.  A cohort's
 * customers are those active in its first period, and no period may count
 * more: cells that say otherwise were not counted from one set of customers.
 */
static void
add_counted_cells(const CohortState *state, const int32 *cohorts, int ncohorts,
				  const int64 *offsets, int64 *sizes, int64 *active, ExactSum *revenue,
				  MemoryContext work)
{
	cells_iterator cit;
	CellEntry  *cell;

	cells_start_iterate(state->cells, &cit);
	while ((cell = cells_iterate(state->cells, &cit)) != NULL)
	{
		int			k = find_int32(cohorts, ncohorts, cell_cohort(cell));
		int64		at = offsets[k] + (cell_period(cell) - cell_cohort(cell));

		CHECK_FOR_INTERRUPTS();
		active[at] = add_customers(active[at], cell->customers);
		exact_sum_add_sum(&revenue[at], &cell->revenue, work);
		if (cell_period(cell) == cell_cohort(cell))
			sizes[k] = add_customers(sizes[k], cell->customers);
	}
	for (int k = 0; k < ncohorts; k++)
	{
		char	   *cohort = DatumGetCString(DirectFunctionCall1(date_out,
																 DateADTGetDatum(period_start(state->granularity,
																							  cohorts[k]))));

		if (sizes[k] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cohort %s counts no customers in its first period", cohort),
					 errhint("Counted cells must come from one set of customers, each counted in its cohort's first period.")));
		for (int64 at = offsets[k]; at < offsets[k + 1]; at++)
		{
			if (active[at] > sizes[k])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("cohort %s counts %lld customers in period %d, more than the %lld of its first period",
								cohort, (long long) active[at], (int) (at - offsets[k]),
								(long long) sizes[k]),
						 errhint("Counted cells must come from one set of customers, each counted in its cohort's first period.")));
		}
		pfree(cohort);
	}
}

/*
 * The dense matrix as an array of cohort_cell: every cohort (first period of
 * a customer), every period from 0 to the last period present in the state.
 * Reads the state without changing it.
 */
static ArrayType *
cohort_matrix_array(const CohortState *state, Oid element_type)
{
	MemoryContext work;
	MemoryContext old;
	customers_iterator it;
	CustomerEntry *customer;
	cells_iterator cit;
	CellEntry  *counted;
	int32	   *cohorts;
	int			ncohorts = 0;
	int32		first = PG_INT32_MAX;
	int32		last = PG_INT32_MIN;
	int64	   *offsets;
	int64		ncells = 0;
	int64	   *active;
	int64	   *sizes;
	ExactSum   *revenue;
	Datum	   *elements;
	TupleDesc	tupdesc;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	ArrayType  *result;
	int			k;
	int			i;
	int64		cell;

	if (state == NULL ||
		(state->customers->members == 0 && (state->cells == NULL || state->cells->members == 0)))
		return construct_empty_array(element_type);
	if (state->unbounded && state->cells != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unbounded cohort retention cannot be computed from counted cells"),
				 errhint("Counted cells give bounded retention only: active customers per period.")));

	work = AllocSetContextCreate(CurrentMemoryContext, "cohort matrix",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	/* Cohorts: the distinct first periods; and the first and last overall */
	cohorts = palloc_extended(((Size) state->customers->members +
							   (state->cells == NULL ? 0 : state->cells->members)) * sizeof(int32),
							  MCXT_ALLOC_HUGE);
	customers_start_iterate(state->customers, &it);
	while ((customer = customers_iterate(state->customers, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		cohorts[ncohorts++] = customer->periods[0].period;
		first = Min(first, customer->periods[0].period);
		last = Max(last, customer->periods[customer->nperiods - 1].period);
	}
	if (state->cells != NULL)
	{
		cells_start_iterate(state->cells, &cit);
		while ((counted = cells_iterate(state->cells, &cit)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			cohorts[ncohorts++] = cell_cohort(counted);
			first = Min(first, cell_cohort(counted));
			last = Max(last, cell_period(counted));
		}
	}
	check_span(state->granularity, first, last);
	sort_int32s(cohorts, ncohorts);
	k = 0;
	for (i = 0; i < ncohorts; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (i == 0 || cohorts[i] != cohorts[k - 1])
			cohorts[k++] = cohorts[i];
	}
	ncohorts = k;

	/* Cohort k's cells start at offsets[k], one per period 0 .. last - cohort */
	offsets = palloc((ncohorts + 1) * sizeof(int64));
	for (k = 0; k < ncohorts; k++)
	{
		offsets[k] = ncells;
		ncells += (int64) last - cohorts[k] + 1;
	}
	offsets[ncohorts] = ncells;

	active = palloc0(ncells * sizeof(int64));
	revenue = palloc0(ncells * sizeof(ExactSum));	/* all zeros: sums of 0 */
	sizes = palloc0(ncohorts * sizeof(int64));

	customers_start_iterate(state->customers, &it);
	while ((customer = customers_iterate(state->customers, &it)) != NULL)
	{
		int32		cohort = customer->periods[0].period;
		int64		base;

		CHECK_FOR_INTERRUPTS();
		k = find_int32(cohorts, ncohorts, cohort);
		base = offsets[k];
		sizes[k]++;
		for (i = 0; i < customer->nperiods; i++)
		{
			const PeriodSum *sum = &customer->periods[i];

			if (!state->unbounded)
				active[base + (sum->period - cohort)]++;
			exact_sum_add_sum(&revenue[base + (sum->period - cohort)], &sum->sum, work);
		}
		if (state->unbounded)
			active[base + (customer->periods[customer->nperiods - 1].period - cohort)]++;
	}
	if (state->cells != NULL)
		add_counted_cells(state, cohorts, ncohorts, offsets, sizes, active, revenue, work);
	/* Unbounded: active in p or later = customers whose last period is >= p */
	if (state->unbounded)
		for (k = 0; k < ncohorts; k++)
		{
			CHECK_FOR_INTERRUPTS();
			for (cell = offsets[k + 1] - 2; cell >= offsets[k]; cell--)
				active[cell] += active[cell + 1];
		}

	tupdesc = lookup_rowtype_tupdesc_copy(element_type, -1);
	if (tupdesc->natts != 6)
		elog(ERROR, "unexpected shape of type %s", format_type_be(element_type));
	elements = palloc_extended(ncells * sizeof(Datum), MCXT_ALLOC_HUGE);
	for (k = 0; k < ncohorts; k++)
	{
		Datum		size = Int64GetDatum(sizes[k]);
		Numeric		size_numeric = int64_to_numeric(sizes[k]);
		Datum		cohort = DateADTGetDatum(period_start(state->granularity, cohorts[k]));

		for (cell = offsets[k]; cell < offsets[k + 1]; cell++)
		{
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};
			HeapTuple	tuple;

			CHECK_FOR_INTERRUPTS();
			values[0] = cohort;
			values[1] = Int32GetDatum((int32) (cell - offsets[k]));
			values[2] = size;
			values[3] = Int64GetDatum(active[cell]);
			values[4] = NumericGetDatum(numeric_div_opt_error(int64_to_numeric(active[cell]),
															  size_numeric, NULL));
			values[5] = NumericGetDatum(exact_sum_result(&revenue[cell]));
			tuple = heap_form_tuple(tupdesc, values, nulls);
			elements[cell] = HeapTupleGetDatum(tuple);
		}
	}

	MemoryContextSwitchTo(old);
	get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
	result = construct_array(elements, (int) ncells, element_type, typlen, typbyval, typalign);
	MemoryContextDelete(work);
	return result;
}

/* The element type of the function's declared array result */
static Oid
result_element_type(FunctionCallInfo fcinfo)
{
	Oid			array_type = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			element_type = InvalidOid;

	if (OidIsValid(array_type))
		element_type = get_element_type(array_type);
	if (!OidIsValid(element_type) || !type_is_rowtype(element_type))
		elog(ERROR, "could not determine the cohort cell type");
	return element_type;
}

/* Final function: the dense retention matrix as retail.cohort_cell[] */
PG_FUNCTION_INFO_V1(ra_cohort_final);
Datum
ra_cohort_final(PG_FUNCTION_ARGS)
{
	CohortState *state = PG_ARGISNULL(0) ? NULL : (CohortState *) PG_GETARG_POINTER(0);

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ra_cohort_final called in non-aggregate context");
	PG_RETURN_ARRAYTYPE_P(cohort_matrix_array(state, result_element_type(fcinfo)));
}

/*
 * Whether a relation is a Citus distributed table.  Citus runs an aggregate
 * over a whole distributed table on the coordinator, pulling every line
 * there; grouped by customer and day first, each shard sends only its sums of
 * a customer's day, which give the same matrix.  Called inside SPI.
 */
static bool
is_citus_distributed(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	int			ret;

	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	ret = SPI_execute_with_args("SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "pg_dist_partition query failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/* The retention matrix of a relation, its columns named by the last three arguments */
PG_FUNCTION_INFO_V1(ra_cohort_retention);
Datum
ra_cohort_retention(PG_FUNCTION_ARGS)
{
	static const char *const params[3] = {"customer_column", "time_column", "value_column"};
	static const char *const defaults[3] = {"customer_id", "invoice_ts", "line_total"};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	char	   *relname;
	char	   *nspname;
	const char *columns[3];
	AclResult	aclresult;
	CohortGranularity granularity;
	Oid			argtypes[2] = {TEXTOID, BOOLOID};
	Datum		args[2];
	char	   *lines;
	char	   *query;
	int			ret;
	uint64		row;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cohort relation must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cohort granularity must not be NULL")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cohort unbounded flag must not be NULL")));
	/* 0.2.0's declaration has no column parameters: silver's names */
	for (int i = 0; i < 3; i++)
	{
		if (PG_NARGS() < 6)
			columns[i] = defaults[i];
		else if (PG_ARGISNULL(3 + i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", params[i])));
		else
			columns[i] = NameStr(*PG_GETARG_NAME(3 + i));
	}
	relid = PG_GETARG_OID(0);
	granularity = parse_granularity(PG_GETARG_TEXT_PP(1));

	relname = get_rel_name(relid);
	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(get_rel_relkind(relid)), relname);
	nspname = get_namespace_name(get_rel_namespace(relid));

	/* a missing column is named here, not by an error inside the query */
	for (int i = 0; i < 3; i++)
	{
		if (get_attnum(relid, columns[i]) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("relation \"%s\" has no column \"%s\" (%s)",
							DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))),
							columns[i], params[i]),
					 errhint("Pass the name of the column as %s.", params[i])));
	}

	InitMaterializedSRF(fcinfo, 0);

	args[0] = CStringGetTextDatum(granularity_names[granularity]);
	args[1] = PG_GETARG_DATUM(2);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the lines, or on Citus each customer's days with their sums */
	lines = psprintf(is_citus_distributed(relid) ?
					 "SELECT l.%1$s::bigint AS customer, pg_catalog.date_trunc('day', l.%2$s::timestamp) AS ts,"
					 " pg_catalog.sum(l.%3$s::numeric) AS amount FROM %4$s l GROUP BY 1, 2" :
					 "SELECT l.%1$s::bigint AS customer, l.%2$s::timestamp AS ts, l.%3$s::numeric AS amount"
					 " FROM %4$s l",
					 quote_identifier(columns[0]), quote_identifier(columns[1]),
					 quote_identifier(columns[2]), quote_qualified_identifier(nspname, relname));
	query = psprintf("SELECT c.* FROM (SELECT retail.cohort_matrix(d.customer, d.ts, d.amount, $1, $2) AS cells"
					 " FROM (%s) d) m, pg_catalog.unnest(m.cells) c", lines);
	ret = SPI_execute_with_args(query, 2, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cohort query failed: %s", SPI_result_code_string(ret));
	for (row = 0; row < SPI_processed; row++)
	{
		CHECK_FOR_INTERRUPTS();
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[row]);
	}
	SPI_finish();

	return (Datum) 0;
}

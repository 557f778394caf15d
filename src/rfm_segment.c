/*
 * rfm_segment.c
 *		retail.rfm_segment(preset, r, f, m, recency_days): the first rule of a
 *		preset of retail.segment_rules that matches a score cell, and
 *		retail.check_segment_preset(), listing the cells a preset leaves
 *		unmatched and the segments it cannot reach.
 */
#include "rfm.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/*
 * Segment presets: the rules of one preset of retail.segment_rules, in
 * priority order.  A rule bounds r, f, m and recency_days (in that order
 * below) from below and above; a missing bound is no condition, and a NULL
 * input fails any bound on it.
 */
#define RULE_MEASURES 4

typedef struct SegmentRule
{
	char	   *segment;
	bool		has_min[RULE_MEASURES];
	bool		has_max[RULE_MEASURES];
	int32		min[RULE_MEASURES];
	int32		max[RULE_MEASURES];
} SegmentRule;

typedef struct SegmentPreset
{
	char	   *name;
	int			nrules;
	SegmentRule *rules;
} SegmentPreset;

/* Read a preset's rules into mcxt; an unknown preset is an error */
static SegmentPreset *
load_preset(text *name, MemoryContext mcxt)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {PointerGetDatum(name)};
	SegmentPreset *preset;
	MemoryContext oldcontext;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT segment, r_min, r_max, f_min, f_max, m_min, m_max, "
								"recency_days_min, recency_days_max "
								"FROM retail.segment_rules "
								"WHERE preset OPERATOR(pg_catalog.=) $1 ORDER BY priority",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading retail.segment_rules failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("segment preset \"%s\" does not exist", text_to_cstring(name)),
				 errhint("Presets are the values of retail.segment_rules.preset.")));

	oldcontext = MemoryContextSwitchTo(mcxt);
	preset = palloc(sizeof(SegmentPreset));
	preset->name = text_to_cstring(name);
	preset->nrules = (int) SPI_processed;
	preset->rules = palloc(preset->nrules * sizeof(SegmentRule));
	for (int i = 0; i < preset->nrules; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		SegmentRule *rule = &preset->rules[i];
		bool		isnull;

		rule->segment = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
		for (int j = 0; j < RULE_MEASURES; j++)
		{
			Datum		min = SPI_getbinval(row, desc, 2 + 2 * j, &isnull);

			rule->has_min[j] = !isnull;
			rule->min[j] = isnull ? 0 : DatumGetInt32(min);
			rule->max[j] = DatumGetInt32(SPI_getbinval(row, desc, 3 + 2 * j, &isnull));
			rule->has_max[j] = !isnull;
		}
	}
	MemoryContextSwitchTo(oldcontext);
	SPI_finish();
	return preset;
}

/* What find_rule returns besides a rule's index */
#define NO_RULE (-1)
#define UNDECIDED_RULE (-2)

/*
 * The index of the first rule of the preset that the values match; NO_RULE
 * if none does; UNDECIDED_RULE if a NULL input decides it, because the first
 * rule that the other values do not rule out bounds a NULL input.
 */
static int
find_rule(const SegmentPreset *preset, const int32 *values, const bool *isnull)
{
	for (int i = 0; i < preset->nrules; i++)
	{
		const SegmentRule *rule = &preset->rules[i];
		bool		match = true;
		bool		undecided = false;

		for (int j = 0; j < RULE_MEASURES && match; j++)
		{
			if (!rule->has_min[j] && !rule->has_max[j])
				continue;
			if (isnull[j])
				undecided = true;
			else
				match = (!rule->has_min[j] || values[j] >= rule->min[j]) &&
					(!rule->has_max[j] || values[j] <= rule->max[j]);
		}
		if (match)
			return undecided ? UNDECIDED_RULE : i;
	}
	return NO_RULE;
}

typedef struct SegmentCache
{
	MemoryContext mcxt;			/* holds the preset; reset when it changes */
	SegmentPreset *preset;
} SegmentCache;

static const char *const score_names[] = {"r", "f", "m"};

/* The segment of a score cell under a preset: its first matching rule */
PG_FUNCTION_INFO_V1(ra_rfm_segment);
Datum
ra_rfm_segment(PG_FUNCTION_ARGS)
{
	SegmentCache *cache = (SegmentCache *) fcinfo->flinfo->fn_extra;
	text	   *name;
	int32		values[RULE_MEASURES];
	bool		isnull[RULE_MEASURES];
	int			rule;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	for (int j = 0; j < RULE_MEASURES; j++)
	{
		isnull[j] = PG_ARGISNULL(j + 1);
		values[j] = isnull[j] ? 0 : PG_GETARG_INT32(j + 1);
	}
	/* a NULL score gives NULL; a NULL recency_days only where a rule needs it */
	for (int j = 0; j < RULE_MEASURES - 1; j++)
	{
		if (isnull[j])
			PG_RETURN_NULL();
		if (values[j] < 1 || values[j] > MAX_BINS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("score %s must be between 1 and %d, not %d",
							score_names[j], MAX_BINS, values[j])));
	}
	if (!isnull[3] && values[3] < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency_days must not be negative, not %d", values[3])));

	name = PG_GETARG_TEXT_PP(0);
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(SegmentCache));
		cache->mcxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "rfm_segment preset",
											ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->preset == NULL ||
		strlen(cache->preset->name) != VARSIZE_ANY_EXHDR(name) ||
		memcmp(cache->preset->name, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) != 0)
	{
		MemoryContextReset(cache->mcxt);
		cache->preset = NULL;
		cache->preset = load_preset(name, cache->mcxt);
	}

	rule = find_rule(cache->preset, values, isnull);
	if (rule >= 0)
		PG_RETURN_TEXT_P(cstring_to_text(cache->preset->rules[rule].segment));
	/* no rule because of a NULL input is a NULL segment, not a gap */
	if (rule == UNDECIDED_RULE || isnull[3])
		PG_RETURN_NULL();
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("segment preset \"%s\" has no rule for r=%d f=%d m=%d recency_days=%d",
					cache->preset->name, values[0], values[1], values[2], values[3]),
			 errhint("retail.check_segment_preset('%s', bins) lists every unmatched cell.",
					 cache->preset->name)));
	PG_RETURN_NULL();			/* keep the compiler quiet */
}

/* A row of check_segment_preset */
static void
put_preset_row(ReturnSetInfo *rsinfo, const int32 *cell, int64 from, int64 to,
			   const char *segment)
{
	Datum		out[6];
	bool		outnulls[6] = {true, true, true, true, true, true};

	if (cell != NULL)
	{
		for (int j = 0; j < 3; j++)
		{
			out[j] = Int32GetDatum(cell[j]);
			outnulls[j] = false;
		}
		out[3] = Int32GetDatum((int32) from);
		outnulls[3] = false;
		out[4] = Int32GetDatum((int32) to);
		outnulls[4] = to < 0;
	}
	if (segment != NULL)
	{
		out[5] = CStringGetTextDatum(segment);
		outnulls[5] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
}

/*
 * What a preset leaves out at a number of bins: the (r, f, m) cells of
 * 1..bins and recency_days ranges without a rule, then the segments that no
 * cell and recency_days can reach (every rule of theirs is shadowed by
 * earlier rules or needs scores above bins).  Matching changes only where
 * recency_days crosses a bound of some rule, so testing the start of every
 * range between bounds suffices.
 */
PG_FUNCTION_INFO_V1(ra_check_segment_preset);
Datum
ra_check_segment_preset(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SegmentPreset *preset;
	int32		bins;
	int64	   *starts;
	int			nstarts = 0;
	bool	   *reached;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("preset and bins must not be NULL")));
	bins = PG_GETARG_INT32(1);
	rfm_check_bins(bins);
	preset = load_preset(PG_GETARG_TEXT_PP(0), CurrentMemoryContext);
	InitMaterializedSRF(fcinfo, 0);
	reached = palloc0(preset->nrules * sizeof(bool));

	/* where recency ranges start: 0 and every bound of every rule */
	starts = palloc((2 * preset->nrules + 1) * sizeof(int64));
	starts[nstarts++] = 0;
	for (int i = 0; i < preset->nrules; i++)
	{
		const SegmentRule *rule = &preset->rules[i];

		if (rule->has_min[3])
			starts[nstarts++] = rule->min[3];
		if (rule->has_max[3])
			starts[nstarts++] = (int64) rule->max[3] + 1;
	}
	sort_int64s(starts, nstarts);

	for (int32 r = 1; r <= bins; r++)
		for (int32 f = 1; f <= bins; f++)
			for (int32 m = 1; m <= bins; m++)
			{
				int32		cell[3] = {r, f, m};
				int64		gap_from = -1;

				CHECK_FOR_INTERRUPTS();
				for (int i = 0; i <= nstarts; i++)
				{
					int32		values[RULE_MEASURES] = {r, f, m, 0};
					bool		isnull[RULE_MEASURES] = {false, false, false, false};
					bool		matched;

					/* recency_days is never negative */
					if (i < nstarts && ((i > 0 && starts[i] == starts[i - 1]) ||
										starts[i] < 0 || starts[i] > PG_INT32_MAX))
						continue;
					if (i < nstarts)
					{
						int			rule;

						values[3] = (int32) starts[i];
						rule = find_rule(preset, values, isnull);
						matched = rule >= 0;
						if (matched)
							reached[rule] = true;
						else if (gap_from < 0)
							gap_from = starts[i];
					}
					else
						matched = true; /* past the end: close any open gap */
					if (matched && gap_from >= 0)
					{
						put_preset_row(rsinfo, cell, gap_from,
									   i < nstarts ? starts[i] - 1 : -1, NULL);
						gap_from = -1;
					}
				}
			}

	/* a segment is reachable when one of its rules is; report each name once */
	for (int i = 0; i < preset->nrules; i++)
	{
		bool		reachable = false;
		bool		reported = false;

		for (int k = 0; k < preset->nrules; k++)
			if (strcmp(preset->rules[k].segment, preset->rules[i].segment) == 0)
			{
				reachable |= reached[k];
				reported |= k < i;
			}
		if (!reachable && !reported)
			put_preset_row(rsinfo, NULL, 0, -1, preset->rules[i].segment);
	}
	return (Datum) 0;
}

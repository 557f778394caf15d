/*
 * abc.c
 *		ABC (Pareto) classification by cumulative share, XYZ classification by
 *		demand variability, and the most frequent text of a group.
 *
 * retail.abc_classify(key, value, a, b) is an aggregate: its state maps each
 * distinct key to the exact (numeric) sum of its values, and its final
 * function ranks a copy of the entries (value descending, key ascending in
 * the input collation) and returns one retail.abc_item per key:
 *
 *		share = value / total
 *		cum_share_before = (sum of the values ranked strictly before) / total
 *		class = A if cum_value_before < a * total, B if < b * total, else C
 *
 * The class is decided on exact values (no rounded share is compared), so an
 * item whose predecessors add up to exactly 80 % is B.  A zero total gives
 * class C to every item and NULL shares.
 *
 * retail.most_frequent(text) uses the same key map with a count per key;
 * its weighted form retail.most_frequent(text, int8) adds each row's weight
 * (how many times the value occurs) instead of 1.  Ties go to the first key
 * in the collation's order (keys that sort equal, by their bytes): with a
 * deterministic collation, what ORDER BY count DESC, key puts first.
 *
 * retail.xyz_cv(timestamp, bigint) keeps the units of each calendar month
 * and computes the coefficient of variation over the active span (first to
 * last month, missing months counting 0): with n months, S = sum of units and
 * Q = sum of squared units, cv = sqrt(n * Q - S^2) / S, exactly in numeric.
 * A span shorter than XYZ_MIN_SPAN_MONTHS shows no demand pattern yet (one
 * month alone has cv 0 by construction): cv is NULL, and retail.xyz_class
 * gives such a product class N (new).
 */
#include "retail_analytics.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

/* Format version word at the head of every serialized state of this file */
#define ABC_STATE_VERSION 1
#define MOST_FREQUENT_STATE_VERSION 1
#define XYZ_STATE_VERSION 1

/* Fewest calendar months of an active span that has a cv */
#define XYZ_MIN_SPAN_MONTHS 3

/* Up to this many keys a map is searched linearly, without a hash table */
#define KEYMAP_LINEAR_MAX 8

/* Most distinct keys a map holds (its entry array must stay below 1 GB) */
#define KEYMAP_MAX_ENTRIES ((int) (MaxAllocSize / sizeof(KeyEntry *)))

/* One distinct key, its bytes stored right after the struct */
typedef struct KeyEntry
{
	const char *key;			/* not NUL-terminated */
	int			len;
	uint32		hash;			/* valid once the map has a hash table */
	int64		count;			/* rows seen (most_frequent) */
	Numeric		value;			/* summed value (abc_classify) */
} KeyEntry;

/* Hash table slot pointing to an entry */
typedef struct KeySlot
{
	KeyEntry   *entry;
	uint32		hash;
	char		status;
} KeySlot;

#define SH_PREFIX keyslots
#define SH_ELEMENT_TYPE KeySlot
#define SH_KEY_TYPE KeyEntry *
#define SH_KEY entry
#define SH_HASH_KEY(tb, key) ((key)->hash)
#define SH_EQUAL(tb, a, b) \
	((a)->len == (b)->len && memcmp((a)->key, (b)->key, (a)->len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Distinct text keys in insertion order, with a hash index once large */
typedef struct KeyMap
{
	MemoryContext context;		/* where entries and the table live */
	KeyEntry  **entries;
	int			nentries;
	int			maxentries;
	keyslots_hash *table;		/* NULL while nentries <= KEYMAP_LINEAR_MAX */
	KeyEntry   *last;			/* entry of the previous lookup */
} KeyMap;

/* State of abc_classify */
typedef struct AbcState
{
	KeyMap		map;
	Numeric		a;				/* upper bound (exclusive) of class A */
	Numeric		b;				/* upper bound (exclusive) of class B */
	Oid			collation;		/* orders equal values by key */
} AbcState;

/* State of most_frequent */
typedef struct MostFrequentState
{
	KeyMap		map;
	Oid			collation;		/* breaks ties between equal counts */
} MostFrequentState;

/* Units of one calendar month, month = year * 12 + (month - 1) */
typedef struct MonthUnits
{
	int32		month;
	int64		units;
} MonthUnits;

/* State of xyz_cv: months sorted ascending, plus a cache of the last one */
typedef struct XyzState
{
	MonthUnits *months;
	int			nmonths;
	int			maxmonths;
	int			last;			/* index of the month last added to, or -1 */
	Timestamp	last_start;		/* [last_start, last_end) is that month */
	Timestamp	last_end;
} XyzState;

/* Comparison context of the final sorts */
typedef struct KeyOrder
{
	Oid			collation;
} KeyOrder;

static void
keymap_init(KeyMap *map, MemoryContext context)
{
	map->context = context;
	map->maxentries = KEYMAP_LINEAR_MAX;
	map->entries = MemoryContextAlloc(context, map->maxentries * sizeof(KeyEntry *));
	map->nentries = 0;
	map->table = NULL;
	map->last = NULL;
}

static inline bool
key_equals(const KeyEntry *entry, const char *key, int len)
{
	return entry->len == len && memcmp(entry->key, key, len) == 0;
}

/* Index every entry in a new hash table once the linear search gets long */
static void
keymap_build_table(KeyMap *map)
{
	map->table = keyslots_create(map->context, map->nentries * 2, NULL);
	for (int i = 0; i < map->nentries; i++)
	{
		KeyEntry   *entry = map->entries[i];
		bool		found;

		CHECK_FOR_INTERRUPTS();
		entry->hash = hash_bytes((const unsigned char *) entry->key, entry->len);
		keyslots_insert(map->table, entry, &found);
	}
}

/* Append a new entry holding a copy of the key */
static KeyEntry *
keymap_append(KeyMap *map, const char *key, int len, uint32 hash)
{
	KeyEntry   *entry;
	char	   *copy;

	if (map->nentries >= KEYMAP_MAX_ENTRIES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct keys"),
				 errdetail("At most %d distinct keys are supported.", KEYMAP_MAX_ENTRIES)));
	if (map->nentries == map->maxentries)
	{
		int			newmax = Min(map->maxentries * 2, KEYMAP_MAX_ENTRIES);

		map->entries = repalloc(map->entries, newmax * sizeof(KeyEntry *));
		map->maxentries = newmax;
	}
	entry = MemoryContextAlloc(map->context, MAXALIGN(sizeof(KeyEntry)) + len);
	copy = (char *) entry + MAXALIGN(sizeof(KeyEntry));
	memcpy(copy, key, len);
	entry->key = copy;
	entry->len = len;
	entry->hash = hash;
	entry->count = 0;
	entry->value = NULL;
	map->entries[map->nentries++] = entry;
	return entry;
}

/* The entry of key, created (count 0, no value) when new */
static KeyEntry *
keymap_enter(KeyMap *map, const char *key, int len, bool *found)
{
	KeyEntry	probe;
	KeySlot    *slot;

	/* Runs of equal keys are common (lines of one product, one country) */
	if (map->last != NULL && key_equals(map->last, key, len))
	{
		*found = true;
		return map->last;
	}

	if (map->table == NULL)
	{
		for (int i = 0; i < map->nentries; i++)
		{
			if (key_equals(map->entries[i], key, len))
			{
				*found = true;
				map->last = map->entries[i];
				return map->last;
			}
		}
		if (map->nentries < KEYMAP_LINEAR_MAX)
		{
			*found = false;
			map->last = keymap_append(map, key, len, 0);
			return map->last;
		}
		keymap_build_table(map);
	}

	probe.key = key;
	probe.len = len;
	probe.hash = hash_bytes((const unsigned char *) key, len);
	slot = keyslots_insert(map->table, &probe, found);
	if (!*found)
		slot->entry = keymap_append(map, key, len, probe.hash);
	map->last = slot->entry;
	return slot->entry;
}

/* Order keys by the collation, equal-sorting keys by their bytes */
static int
compare_keys(const KeyEntry *a, const KeyEntry *b, Oid collation)
{
	int			result;

	result = varstr_cmp(a->key, a->len, b->key, b->len, collation);
	if (result == 0)
	{
		result = memcmp(a->key, b->key, Min(a->len, b->len));
		if (result == 0)
			result = (a->len > b->len) - (a->len < b->len);
	}
	return result;
}

/* Collation of the key argument; text always has one, but be safe */
static Oid
key_collation(FunctionCallInfo fcinfo)
{
	Oid			collation = PG_GET_COLLATION();

	return OidIsValid(collation) ? collation : DEFAULT_COLLATION_OID;
}

static inline int
numeric_compare(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(a),
											 NumericGetDatum(b)));
}

/* Numeric zero, built once per backend */
static Numeric
numeric_zero(void)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old);
	}
	return zero;
}

/* True for values below zero, -Infinity included (NaN is not) */
static inline bool
numeric_is_negative(Numeric value)
{
	return numeric_compare(value, numeric_zero()) < 0;
}

/* Copy a numeric into context */
static Numeric
numeric_copy_to(Numeric value, MemoryContext context)
{
	Numeric		copy = MemoryContextAlloc(context, VARSIZE(value));

	memcpy(copy, value, VARSIZE(value));
	return copy;
}

static char *
numeric_text(Numeric value)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value)));
}

/* True when 0 < a < b <= 1 */
static bool
abc_thresholds_valid(Numeric a, Numeric b)
{
	return !numeric_is_nan(a) && !numeric_is_nan(b)
		&& numeric_compare(a, numeric_zero()) > 0
		&& numeric_compare(a, b) < 0
		&& numeric_compare(b, int64_to_numeric(1)) <= 0;
}

/* The default thresholds 0.80 and 0.95, built once per backend */
static void
default_abc_thresholds(Numeric *a, Numeric *b)
{
	static Numeric default_a = NULL;
	static Numeric default_b = NULL;

	if (default_a == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		default_b = int64_div_fast_to_numeric(95, 2);
		default_a = int64_div_fast_to_numeric(80, 2);
		MemoryContextSwitchTo(old);
	}
	*a = default_a;
	*b = default_b;
}

/* Thresholds must satisfy 0 < a < b <= 1 */
static void
check_abc_thresholds(Numeric a, Numeric b)
{
	if (a == NULL || b == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("abc thresholds must not be NULL")));
	if (!abc_thresholds_valid(a, b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid abc thresholds a = %s, b = %s",
						numeric_text(a), numeric_text(b)),
				 errhint("The thresholds must satisfy 0 < a < b <= 1.")));
}

/* A value to classify must be a finite number >= 0 */
static void
check_abc_value(const char *key, int len, Numeric value)
{
	if (numeric_is_nan(value) || numeric_is_inf(value) || numeric_is_negative(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value %s for key \"%s\"",
						numeric_text(value), pnstrdup(key, len)),
				 errhint("ABC classification needs finite values >= 0, such as revenue.")));
}

/* True when the thresholds of a row are those the state was built with */
static bool
same_thresholds(AbcState *state, Numeric a, Numeric b)
{
	if (a == NULL || b == NULL)
		return false;
	if (!(VARSIZE(a) == VARSIZE(state->a) && memcmp(a, state->a, VARSIZE(a)) == 0)
		&& numeric_compare(a, state->a) != 0)
		return false;
	if (!(VARSIZE(b) == VARSIZE(state->b) && memcmp(b, state->b, VARSIZE(b)) == 0)
		&& numeric_compare(b, state->b) != 0)
		return false;
	return true;
}

static void
check_same_thresholds(AbcState *state, Numeric a, Numeric b)
{
	if (!same_thresholds(state, a, b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("abc thresholds must be the same for every row of a group")));
}

static AbcState *
abc_state_create(MemoryContext context, Numeric a, Numeric b, Oid collation)
{
	AbcState   *state = MemoryContextAlloc(context, sizeof(AbcState));

	keymap_init(&state->map, context);
	state->a = numeric_copy_to(a, context);
	state->b = numeric_copy_to(b, context);
	state->collation = collation;
	return state;
}

/* Add value to the key's sum; the sum lives in the map's context */
static void
abc_add(AbcState *state, const char *key, int len, Numeric value)
{
	bool		found;
	KeyEntry   *entry = keymap_enter(&state->map, key, len, &found);

	if (!found)
		entry->value = numeric_copy_to(value, state->map.context);
	else
	{
		Numeric		sum = numeric_add_opt_error(entry->value, value, NULL);

		pfree(entry->value);
		entry->value = numeric_copy_to(sum, state->map.context);
		pfree(sum);
	}
}

/* Collect a (key, value) pair for abc_classify */
PG_FUNCTION_INFO_V1(ra_abc_trans);
Datum
ra_abc_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AbcState   *state;
	Numeric		a;
	Numeric		b;
	text	   *key;
	Numeric		value;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_abc_trans called in non-aggregate context");

	/* abc_classify(key, value) uses the default thresholds */
	if (PG_NARGS() >= 5)
	{
		a = PG_ARGISNULL(3) ? NULL : PG_GETARG_NUMERIC(3);
		b = PG_ARGISNULL(4) ? NULL : PG_GETARG_NUMERIC(4);
	}
	else
		default_abc_thresholds(&a, &b);

	if (PG_ARGISNULL(0))
	{
		check_abc_thresholds(a, b);
		state = abc_state_create(aggcontext, a, b, key_collation(fcinfo));
	}
	else
	{
		state = (AbcState *) PG_GETARG_POINTER(0);
		check_same_thresholds(state, a, b);
	}

	/* A row without a value counts for nothing, as in sum() */
	if (PG_ARGISNULL(2))
		PG_RETURN_POINTER(state);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("abc_classify key must not be NULL")));

	key = PG_GETARG_TEXT_PP(1);
	value = PG_GETARG_NUMERIC(2);
	check_abc_value(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), value);
	abc_add(state, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), value);
	PG_RETURN_POINTER(state);
}

/* Merge two abc_classify states */
PG_FUNCTION_INFO_V1(ra_abc_combine);
Datum
ra_abc_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	AbcState   *state1 = PG_ARGISNULL(0) ? NULL : (AbcState *) PG_GETARG_POINTER(0);
	AbcState   *state2 = PG_ARGISNULL(1) ? NULL : (AbcState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_abc_combine called in non-aggregate context");

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}
	if (state1 == NULL)
		state1 = abc_state_create(aggcontext, state2->a, state2->b, state2->collation);
	else
		check_same_thresholds(state1, state2->a, state2->b);

	for (int i = 0; i < state2->map.nentries; i++)
	{
		KeyEntry   *entry = state2->map.entries[i];

		CHECK_FOR_INTERRUPTS();
		abc_add(state1, entry->key, entry->len, entry->value);
	}
	PG_RETURN_POINTER(state1);
}

/* Read a key: its length, then bytes valid in the database encoding */
static const char *
recv_key(StringInfo buf, int *len, const char *what)
{
	const char *key;

	*len = state_recv_int32(buf, what);
	state_need_bytes(buf, *len, what);
	key = pq_getmsgbytes(buf, *len);
	if (!pg_verifymbstr(key, *len, true) || memchr(key, '\0', *len) != NULL)
		state_corrupt(what, "Key is not valid text.");
	return key;
}

static Oid
recv_collation(StringInfo buf, const char *what)
{
	Oid			collation = (Oid) state_recv_int32(buf, what);

	if (!OidIsValid(collation) || get_collation_name(collation) == NULL)
		state_corrupt(what, "Unknown collation %u.", collation);
	return collation;
}

/* Entry count that the bytes left can hold, each entry taking min_size */
static int
recv_count(StringInfo buf, int min_size, const char *what)
{
	int32		count = state_recv_int32(buf, what);

	if (count < 0 || count > KEYMAP_MAX_ENTRIES)
		state_corrupt(what, "Bad entry count %d.", count);
	state_need_bytes(buf, (int64) count * min_size, what);
	return count;
}

/* Write a map's entries: their count, then each key with its sum or count */
static void
keymap_send(StringInfo buf, KeyMap *map, bool with_values)
{
	pq_sendint32(buf, map->nentries);
	for (int i = 0; i < map->nentries; i++)
	{
		KeyEntry   *entry = map->entries[i];

		CHECK_FOR_INTERRUPTS();
		pq_sendint32(buf, entry->len);
		pq_sendbytes(buf, entry->key, entry->len);
		if (with_values)
			state_send_numeric(buf, entry->value);
		else
			pq_sendint64(buf, entry->count);
	}
}

/* Read the entries written by keymap_send into an empty map, validating them */
static void
keymap_recv(StringInfo buf, KeyMap *map, bool with_values, const char *what)
{
	/* an entry takes at least a key length and 8 bytes */
	int			count = recv_count(buf, 12, what);

	for (int i = 0; i < count; i++)
	{
		int			len;
		const char *key = recv_key(buf, &len, what);
		bool		found;
		KeyEntry   *entry = keymap_enter(map, key, len, &found);

		CHECK_FOR_INTERRUPTS();
		if (found)
			state_corrupt(what, "Duplicate key.");
		if (with_values)
		{
			entry->value = state_recv_numeric(buf, what);
			if (numeric_is_nan(entry->value) || numeric_is_inf(entry->value)
				|| numeric_is_negative(entry->value))
				state_corrupt(what, "Bad value.");
		}
		else
		{
			entry->count = state_recv_int64(buf, what);
			if (entry->count <= 0)
				state_corrupt(what, "Bad count %lld.", (long long) entry->count);
		}
	}
}

/* Serialize an abc_classify state */
PG_FUNCTION_INFO_V1(ra_abc_serial);
Datum
ra_abc_serial(PG_FUNCTION_ARGS)
{
	AbcState   *state = (AbcState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, ABC_STATE_VERSION);
	pq_sendint32(&buf, state->collation);
	state_send_numeric(&buf, state->a);
	state_send_numeric(&buf, state->b);
	keymap_send(&buf, &state->map, true);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize an abc_classify state, validating everything */
PG_FUNCTION_INFO_V1(ra_abc_deserial);
Datum
ra_abc_deserial(PG_FUNCTION_ARGS)
{
	const char *what = "abc_classify";
	StringInfoData buf;
	Oid			collation;
	Numeric		a;
	Numeric		b;
	AbcState   *state;

	state_recv_begin(&buf, PG_GETARG_BYTEA_PP(0), ABC_STATE_VERSION, what);
	collation = recv_collation(&buf, what);
	a = state_recv_numeric(&buf, what);
	b = state_recv_numeric(&buf, what);
	if (!abc_thresholds_valid(a, b))
		state_corrupt(what, "Bad thresholds.");
	state = abc_state_create(CurrentMemoryContext, a, b, collation);
	keymap_recv(&buf, &state->map, true, what);
	state_recv_end(&buf, what);
	pfree(buf.data);
	PG_RETURN_POINTER(state);
}

typedef KeyEntry *KeyEntryPtr;	/* an element type for sort_template.h */

/* Rank order: value descending, then key ascending */
static int
abc_rank_cmp(const KeyEntryPtr *a, const KeyEntryPtr *b, KeyOrder *order)
{
	int			result = numeric_compare((*b)->value, (*a)->value);

	if (result == 0)
		result = compare_keys(*a, *b, order->collation);
	return result;
}

/* Interruptible sort of the entries in rank order */
#define ST_SORT sort_abc_rank
#define ST_ELEMENT_TYPE KeyEntryPtr
#define ST_COMPARE_ARG_TYPE KeyOrder
#define ST_COMPARE(a, b, arg) abc_rank_cmp(a, b, arg)
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* Rank and classify the collected items: an array of retail.abc_item */
PG_FUNCTION_INFO_V1(ra_abc_final);
Datum
ra_abc_final(PG_FUNCTION_ARGS)
{
	AbcState   *state;
	Oid			element_type;
	TupleDesc	tupdesc;
	KeyEntry  **order;
	KeyOrder	ordering;
	int			n;
	Numeric		total;
	Numeric		a_total;
	Numeric		b_total;
	Numeric		cum_before;
	bool		zero_total;
	Datum	   *elements;
	ArrayType  *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (AbcState *) PG_GETARG_POINTER(0);

	element_type = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element_type))
		elog(ERROR, "ra_abc_final must return an array of retail.abc_item");
	n = state->map.nentries;
	if (n == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element_type));

	/* Sort a copy: the state may be finalized again (window aggregates) */
	order = palloc(n * sizeof(KeyEntry *));
	memcpy(order, state->map.entries, n * sizeof(KeyEntry *));
	ordering.collation = state->collation;
	sort_abc_rank(order, n, &ordering);

	total = int64_to_numeric(0);
	for (int i = 0; i < n; i++)
	{
		Numeric		sum = numeric_add_opt_error(total, order[i]->value, NULL);

		CHECK_FOR_INTERRUPTS();
		pfree(total);
		total = sum;
	}
	zero_total = numeric_compare(total, numeric_zero()) == 0;
	a_total = numeric_mul_opt_error(state->a, total, NULL);
	b_total = numeric_mul_opt_error(state->b, total, NULL);

	tupdesc = lookup_rowtype_tupdesc(element_type, -1);
	if (tupdesc->natts != 6)
		elog(ERROR, "retail.abc_item must have 6 attributes");
	elements = palloc(n * sizeof(Datum));
	cum_before = int64_to_numeric(0);
	for (int i = 0; i < n; i++)
	{
		KeyEntry   *entry = order[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		const char *class;
		HeapTuple	tuple;
		Numeric		cum_after;

		CHECK_FOR_INTERRUPTS();
		if (zero_total)
			class = "C";
		else if (numeric_compare(cum_before, a_total) < 0)
			class = "A";
		else if (numeric_compare(cum_before, b_total) < 0)
			class = "B";
		else
			class = "C";

		values[0] = Int64GetDatum((int64) i + 1);
		values[1] = PointerGetDatum(cstring_to_text_with_len(entry->key, entry->len));
		values[2] = NumericGetDatum(entry->value);
		if (zero_total)
		{
			nulls[3] = true;
			nulls[4] = true;
		}
		else
		{
			values[3] = NumericGetDatum(numeric_div_opt_error(entry->value, total, NULL));
			values[4] = NumericGetDatum(numeric_div_opt_error(cum_before, total, NULL));
		}
		values[5] = CStringGetTextDatum(class);
		tuple = heap_form_tuple(tupdesc, values, nulls);
		elements[i] = HeapTupleGetDatum(tuple);	/* points into tuple */

		cum_after = numeric_add_opt_error(cum_before, entry->value, NULL);
		pfree(cum_before);
		cum_before = cum_after;
		pfree(DatumGetPointer(values[1]));
		if (!zero_total)
		{
			pfree(DatumGetPointer(values[3]));
			pfree(DatumGetPointer(values[4]));
		}
		pfree(DatumGetPointer(values[5]));
	}
	ReleaseTupleDesc(tupdesc);

	/* A composite type is varlena, by reference and always aligned 'd' (heap.c) */
	result = construct_array(elements, n, element_type, -1, false, TYPALIGN_DOUBLE);
	PG_RETURN_ARRAYTYPE_P(result);
}

static MostFrequentState *
most_frequent_state_create(MemoryContext context, Oid collation)
{
	MostFrequentState *state = MemoryContextAlloc(context, sizeof(MostFrequentState));

	keymap_init(&state->map, context);
	state->collation = collation;
	return state;
}

/* Add count occurrences of key */
static void
most_frequent_add(MostFrequentState *state, const char *key, int len, int64 count)
{
	bool		found;
	KeyEntry   *entry = keymap_enter(&state->map, key, len, &found);

	if (pg_add_s64_overflow(entry->count, count, &entry->count))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("most_frequent count out of range")));
}

/*
 * Count one text value for most_frequent: most_frequent(value) and, with the
 * number of times it occurs, most_frequent(value, weight).  A NULL value is
 * skipped (whatever its weight); a weight of 0 adds nothing.
 */
PG_FUNCTION_INFO_V1(ra_most_frequent_trans);
Datum
ra_most_frequent_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MostFrequentState *state;
	text	   *value;
	int64		weight = 1;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_most_frequent_trans called in non-aggregate context");

	if (PG_ARGISNULL(0))
		state = most_frequent_state_create(aggcontext, key_collation(fcinfo));
	else
		state = (MostFrequentState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);

	if (PG_NARGS() > 2)
		weight = state_weight_arg(fcinfo, 2, "most_frequent");
	if (weight == 0)
		PG_RETURN_POINTER(state);
	value = PG_GETARG_TEXT_PP(1);
	most_frequent_add(state, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), weight);
	PG_RETURN_POINTER(state);
}

/* Merge two most_frequent states */
PG_FUNCTION_INFO_V1(ra_most_frequent_combine);
Datum
ra_most_frequent_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MostFrequentState *state1;
	MostFrequentState *state2;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_most_frequent_combine called in non-aggregate context");

	state1 = PG_ARGISNULL(0) ? NULL : (MostFrequentState *) PG_GETARG_POINTER(0);
	state2 = PG_ARGISNULL(1) ? NULL : (MostFrequentState *) PG_GETARG_POINTER(1);

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}
	if (state1 == NULL)
		state1 = most_frequent_state_create(aggcontext, state2->collation);
	for (int i = 0; i < state2->map.nentries; i++)
	{
		KeyEntry   *entry = state2->map.entries[i];

		CHECK_FOR_INTERRUPTS();
		most_frequent_add(state1, entry->key, entry->len, entry->count);
	}
	PG_RETURN_POINTER(state1);
}

/* Serialize a most_frequent state */
PG_FUNCTION_INFO_V1(ra_most_frequent_serial);
Datum
ra_most_frequent_serial(PG_FUNCTION_ARGS)
{
	MostFrequentState *state = (MostFrequentState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, MOST_FREQUENT_STATE_VERSION);
	pq_sendint32(&buf, state->collation);
	keymap_send(&buf, &state->map, false);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize a most_frequent state, validating everything */
PG_FUNCTION_INFO_V1(ra_most_frequent_deserial);
Datum
ra_most_frequent_deserial(PG_FUNCTION_ARGS)
{
	const char *what = "most_frequent";
	StringInfoData buf;
	MostFrequentState *state;

	state_recv_begin(&buf, PG_GETARG_BYTEA_PP(0), MOST_FREQUENT_STATE_VERSION, what);
	state = most_frequent_state_create(CurrentMemoryContext, recv_collation(&buf, what));
	keymap_recv(&buf, &state->map, false, what);
	state_recv_end(&buf, what);
	pfree(buf.data);
	PG_RETURN_POINTER(state);
}

/* The most frequent value; ties go to the first in the collation's order */
PG_FUNCTION_INFO_V1(ra_most_frequent_final);
Datum
ra_most_frequent_final(PG_FUNCTION_ARGS)
{
	MostFrequentState *state;
	KeyEntry   *best = NULL;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MostFrequentState *) PG_GETARG_POINTER(0);
	for (int i = 0; i < state->map.nentries; i++)
	{
		KeyEntry   *entry = state->map.entries[i];

		CHECK_FOR_INTERRUPTS();
		if (best == NULL || entry->count > best->count
			|| (entry->count == best->count
				&& compare_keys(entry, best, state->collation) < 0))
			best = entry;
	}
	if (best == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(best->key, best->len));
}

static XyzState *
xyz_state_create(MemoryContext context, int maxmonths)
{
	XyzState   *state = MemoryContextAlloc(context, sizeof(XyzState));

	state->maxmonths = Max(maxmonths, 4);
	state->months = MemoryContextAlloc(context, state->maxmonths * sizeof(MonthUnits));
	state->nmonths = 0;
	state->last = -1;
	state->last_start = 0;
	state->last_end = 0;
	return state;
}

/* Index of month in the sorted array, inserted with 0 units if absent */
static int
xyz_month_index(XyzState *state, int32 month, MemoryContext context)
{
	int			lo = 0;
	int			hi = state->nmonths;

	/* Data mostly arrives in time order: try the end first */
	if (hi > 0 && state->months[hi - 1].month < month)
		lo = hi;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (state->months[mid].month < month)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < state->nmonths && state->months[lo].month == month)
		return lo;

	if (state->nmonths == state->maxmonths)
	{
		int			newmax = state->maxmonths * 2;
		MonthUnits *months = MemoryContextAlloc(context, newmax * sizeof(MonthUnits));

		memcpy(months, state->months, state->nmonths * sizeof(MonthUnits));
		pfree(state->months);
		state->months = months;
		state->maxmonths = newmax;
	}
	memmove(&state->months[lo + 1], &state->months[lo],
			(state->nmonths - lo) * sizeof(MonthUnits));
	state->months[lo].month = month;
	state->months[lo].units = 0;
	state->nmonths++;
	return lo;
}

static void
xyz_add_units(XyzState *state, int index, int64 units)
{
	if (pg_add_s64_overflow(state->months[index].units, units,
							&state->months[index].units))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("xyz_cv units of a month out of range")));
}

/* Add units to the month of ts */
static void
xyz_add(XyzState *state, Timestamp ts, int64 units, MemoryContext context)
{
	int64		days;
	int			year;
	int			month;
	int			day;
	int			index;
	int64		start_day;
	int64		end_day;

	if (state->last >= 0 && ts >= state->last_start && ts < state->last_end)
	{
		xyz_add_units(state, state->last, units);
		return;
	}

	days = ts / USECS_PER_DAY;
	if (ts % USECS_PER_DAY < 0)
		days--;
	j2date((int) (days + POSTGRES_EPOCH_JDATE), &year, &month, &day);
	index = xyz_month_index(state, year * 12 + (month - 1), context);
	xyz_add_units(state, index, units);

	/* Remember the month's bounds for the next row */
	start_day = date2j(year, month, 1) - POSTGRES_EPOCH_JDATE;
	end_day = (month == 12 ? date2j(year + 1, 1, 1) : date2j(year, month + 1, 1))
		- POSTGRES_EPOCH_JDATE;
	state->last = index;
	if (pg_mul_s64_overflow(start_day, USECS_PER_DAY, &state->last_start)
		|| pg_mul_s64_overflow(end_day, USECS_PER_DAY, &state->last_end))
		state->last = -1;
}

/* Add the units of a row to its calendar month for xyz_cv */
PG_FUNCTION_INFO_V1(ra_xyz_trans);
Datum
ra_xyz_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	XyzState   *state;
	Timestamp	ts;
	int64		units;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_xyz_trans called in non-aggregate context");

	if (PG_ARGISNULL(0))
		state = xyz_state_create(aggcontext, 4);
	else
		state = (XyzState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(state);

	ts = PG_GETARG_TIMESTAMP(1);
	units = PG_GETARG_INT64(2);
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xyz_cv month must be finite, not %s",
						DatumGetCString(DirectFunctionCall1(timestamp_out,
															TimestampGetDatum(ts))))));
	if (units < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("xyz_cv units must not be negative, not %lld", (long long) units)));
	xyz_add(state, ts, units, aggcontext);
	PG_RETURN_POINTER(state);
}

/* Merge two xyz_cv states */
PG_FUNCTION_INFO_V1(ra_xyz_combine);
Datum
ra_xyz_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	XyzState   *state1 = PG_ARGISNULL(0) ? NULL : (XyzState *) PG_GETARG_POINTER(0);
	XyzState   *state2 = PG_ARGISNULL(1) ? NULL : (XyzState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ra_xyz_combine called in non-aggregate context");

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}
	if (state1 == NULL)
		state1 = xyz_state_create(aggcontext, state2->nmonths);
	for (int i = 0; i < state2->nmonths; i++)
	{
		int			index = xyz_month_index(state1, state2->months[i].month, aggcontext);

		CHECK_FOR_INTERRUPTS();
		xyz_add_units(state1, index, state2->months[i].units);
	}
	/* the cached month may have moved */
	state1->last = -1;
	PG_RETURN_POINTER(state1);
}

/* Serialize an xyz_cv state */
PG_FUNCTION_INFO_V1(ra_xyz_serial);
Datum
ra_xyz_serial(PG_FUNCTION_ARGS)
{
	XyzState   *state = (XyzState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, XYZ_STATE_VERSION);
	pq_sendint32(&buf, state->nmonths);
	for (int i = 0; i < state->nmonths; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pq_sendint32(&buf, state->months[i].month);
		pq_sendint64(&buf, state->months[i].units);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize an xyz_cv state, validating everything */
PG_FUNCTION_INFO_V1(ra_xyz_deserial);
Datum
ra_xyz_deserial(PG_FUNCTION_ARGS)
{
	const char *what = "xyz_cv";
	StringInfoData buf;
	XyzState   *state;
	int32		count;

	state_recv_begin(&buf, PG_GETARG_BYTEA_PP(0), XYZ_STATE_VERSION, what);
	count = state_recv_int32(&buf, what);
	if (count < 0 || (int64) count * 12 != buf.len - buf.cursor)
		state_corrupt(what, "Bad month count %d.", count);
	state = xyz_state_create(CurrentMemoryContext, count);
	for (int i = 0; i < count; i++)
	{
		int32		month = state_recv_int32(&buf, what);
		int64		units = state_recv_int64(&buf, what);

		CHECK_FOR_INTERRUPTS();
		/* months strictly ascending, within the timestamp range */
		if ((i > 0 && month <= state->months[i - 1].month)
			|| month < -4714 * 12 || month > 294277 * 12 || units < 0)
			state_corrupt(what, "Bad month %d or units %lld.", month, (long long) units);
		state->months[i].month = month;
		state->months[i].units = units;
		state->nmonths++;
	}
	state_recv_end(&buf, what);
	pfree(buf.data);
	PG_RETURN_POINTER(state);
}

/* Months of the active span, first to last month with a row (at least one) */
static int64
xyz_span(XyzState *state)
{
	return (int64) state->months[state->nmonths - 1].month - state->months[0].month + 1;
}

/*
 * S = sum of the units and D = n * Q - S^2 (n^2 times the population
 * variance) over the active span of n months, as exact numerics.
 */
static void
xyz_sums(XyzState *state, Numeric *sum, Numeric *dispersion)
{
	int64		span = xyz_span(state);
	Numeric		squares;

	/*
	 * Fast path: with every month below 2^31 units and at most 2^22 months
	 * (the whole timestamp range), S < 2^53, Q < 2^84 and n * Q < 2^106
	 * cannot overflow; D is converted once if it fits in 64 bits.
	 */
	int128		exact_sum = 0;
	int128		exact_squares = 0;
	bool		small = true;

	for (int i = 0; i < state->nmonths && small; i++)
	{
		int64		units = state->months[i].units;

		CHECK_FOR_INTERRUPTS();
		small = units < ((int64) 1 << 31);
		exact_sum += units;
		exact_squares += (int128) units * units;
	}
	if (small)
	{
		int128		exact_dispersion = span * exact_squares - exact_sum * exact_sum;

		if (exact_dispersion <= PG_INT64_MAX)
		{
			*sum = int64_to_numeric((int64) exact_sum);
			*dispersion = int64_to_numeric((int64) exact_dispersion);
			return;
		}
	}

	*sum = int64_to_numeric(0);
	squares = int64_to_numeric(0);
	for (int i = 0; i < state->nmonths; i++)
	{
		Numeric		units = int64_to_numeric(state->months[i].units);

		CHECK_FOR_INTERRUPTS();
		*sum = numeric_add_opt_error(*sum, units, NULL);
		squares = numeric_add_opt_error(squares,
										numeric_mul_opt_error(units, units, NULL),
										NULL);
	}
	*dispersion = numeric_sub_opt_error(numeric_mul_opt_error(int64_to_numeric(span),
															  squares, NULL),
										numeric_mul_opt_error(*sum, *sum, NULL),
										NULL);
}

/* Coefficient of variation of monthly units over the active span */
PG_FUNCTION_INFO_V1(ra_xyz_final);
Datum
ra_xyz_final(PG_FUNCTION_ARGS)
{
	XyzState   *state;
	Numeric		sum;
	Numeric		dispersion;
	Numeric		root;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (XyzState *) PG_GETARG_POINTER(0);
	if (state->nmonths == 0 || xyz_span(state) < XYZ_MIN_SPAN_MONTHS)
		PG_RETURN_NULL();

	xyz_sums(state, &sum, &dispersion);

	/* no demand at all: the mean is 0 and cv undefined */
	if (numeric_compare(sum, numeric_zero()) == 0)
		PG_RETURN_NULL();

	/* cv = (sqrt(D) / n) / (S / n) */
	root = DatumGetNumeric(DirectFunctionCall1(numeric_sqrt, NumericGetDatum(dispersion)));
	PG_RETURN_NUMERIC(numeric_div_opt_error(root, sum, NULL));
}

/* Thresholds must satisfy 0 < x < y */
static void
check_xyz_thresholds(Numeric x, Numeric y)
{
	if (x == NULL || y == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("xyz thresholds must not be NULL")));
	if (numeric_is_nan(x) || numeric_is_nan(y) || numeric_is_inf(y)
		|| numeric_compare(x, numeric_zero()) <= 0 || numeric_compare(x, y) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid xyz thresholds x = %s, y = %s",
						numeric_text(x), numeric_text(y)),
				 errhint("The thresholds must satisfy 0 < x < y.")));
}

/*
 * XYZ class of a coefficient of variation: X if cv < x, Y if cv < y, else Z;
 * N (new) for a NULL cv, a span too short to have a demand pattern
 */
PG_FUNCTION_INFO_V1(ra_xyz_class);
Datum
ra_xyz_class(PG_FUNCTION_ARGS)
{
	Numeric		cv;
	Numeric		x = PG_ARGISNULL(1) ? NULL : PG_GETARG_NUMERIC(1);
	Numeric		y = PG_ARGISNULL(2) ? NULL : PG_GETARG_NUMERIC(2);

	check_xyz_thresholds(x, y);
	if (PG_ARGISNULL(0))
		PG_RETURN_TEXT_P(cstring_to_text("N"));
	cv = PG_GETARG_NUMERIC(0);
	if (numeric_is_nan(cv) || numeric_is_negative(cv))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid coefficient of variation %s", numeric_text(cv))));
	if (numeric_compare(cv, x) < 0)
		PG_RETURN_TEXT_P(cstring_to_text("X"));
	if (numeric_compare(cv, y) < 0)
		PG_RETURN_TEXT_P(cstring_to_text("Y"));
	PG_RETURN_TEXT_P(cstring_to_text("Z"));
}

/*
 * generate.c
 *		A deterministic, streaming generator of bronze-shaped order lines.
 *
 * retail.generate_transactions(lines, seed, customers, products, dirty)
 * returns text rows shaped like the UCI Online Retail file, in file order:
 * invoices in time order between 2010-12-01 and 2011-12-09 whatever the
 * size, several lines each.  The model (doc/generate.md has the numbers):
 *
 * - time: the share of lines already written is mapped through a fixed
 *	 seasonal curve (month volumes as in the real file, autumn peak, no
 *	 Saturdays, shop hours, the real closing days), so invoice times never go
 *	 back and every size covers the whole span;
 * - customers: about lines/125, introduced month by month in realistic cohort
 *	 sizes; a repeat invoice picks a cohort by its size times a repeat rate
 *	 that decays with the months since the cohort's first month, then a
 *	 customer inside it with a power law (a few customers buy very often,
 *	 a quarter never come back);
 *	 each customer also has a Pareto quantity scale (a few wholesalers) and a
 *	 country drawn with the real revenue shares (United Kingdom ~82%);
 * - invoices: log-normal basket sizes; about a quarter of the lines sit in
 *	 invoices without a customer, about 2% in cancellations ('C' invoices with
 *	 negative quantities);
 * - products: a catalog of 'products' stock codes (5 digits, colour variants
 *	 with a letter) with descriptions composed from word lists, log-normal
 *	 prices rounded the way shops price, pack sizes and log-normal popularity;
 * - dirt: duplicates, zero prices, non-product codes, negative adjustments
 *	 and a few malformed values, so that every rejection reason of the spec
 *	 occurs; some valid lines use the UCI date form or '17850.0' ids.
 *
 * The function is value-per-call, one row per call.  In FROM, PostgreSQL
 * materializes a function scan whole before it returns the first row, so the
 * SQL function retail.generate_transactions wraps it: inlined by the planner,
 * it puts this function in a select list, where it streams and LIMIT stops it.
 *
 * All randomness comes from xoshiro256** seeded with splitmix64 (entity
 * attributes from a keyed splitmix64 hash), so the same arguments give the
 * same rows.  The state is a fixed set of tables (calendar, catalog of
 * 'products' entries) allocated on the first call: nothing grows per row.
 */
#include "retail_analytics.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"

/* Limits of the arguments */
#define MAX_CUSTOMERS		INT64CONST(1000000000)
#define MAX_PRODUCTS		90000	/* distinct 5-digit code numbers */
#define DEFAULT_LINES_PER_CUSTOMER 125

/* Calendar: 2010-12-01 (a Wednesday) .. 2011-12-09, hours 6..20 */
#define NDAYS				374
#define NMONTHS				13
#define FIRST_HOUR			6
#define NHOURS				15
#define NBUCKETS			(NDAYS * NHOURS)
#define LAST_DAY_CLOSES		13	/* the data ends at 12:50 on the last day */

/* Invoice mix, as shares of lines, and basket sizes */
#define MISSING_CUSTOMER_SHARE 0.25
#define CANCELLATION_SHARE	0.02
#define NAMED_BASKET_MEAN	22.5
#define NAMED_BASKET_SIGMA	1.1
#define ANONYMOUS_BASKET_FACTOR 1.8
#define CANCEL_BASKET_MU	0.0
#define CANCEL_BASKET_SIGMA 1.1
#define CANCEL_BASKET_MEAN	2.1 /* of max(1, round(x)), measured */
#define MAX_BASKET			1000

/* Line-level dirt, per line */
#define P_ZERO_PRICE_NAMED	0.0015
#define P_ZERO_PRICE_ANONYMOUS 0.015
#define P_ADJUSTMENT		0.0025
#define P_NON_PRODUCT		0.002
#define P_MALFORMED			0.0005
#define P_DUPLICATE			0.0133	/* lines of invoices with a customer */
/* Invoice-level extras and valid alternative forms, per invoice */
#define P_POSTAGE_ABROAD	0.6
#define P_CARRIAGE_HOME		0.006
#define P_DOTCOM_POSTAGE	0.19
#define P_DISCOUNT_LINE		0.03
#define P_UCI_DATE			0.01
#define P_SPREADSHEET_ID	0.01
#define P_INVOICE_GAP		0.375

/* Customers */
#define REPEAT_SAME_MONTH	1.0
#define REPEAT_NEXT_MONTH	0.5
#define REPEAT_DECAY		0.88
#define REPEAT_ESTABLISHED	0.5
#define FREQUENCY_POWER		2.0
#define P_ONE_TIME_BUYER	0.25
#define PARETO_ALPHA		1.5
#define PARETO_MINIMUM		0.5
#define PARETO_CAP			30.0
#define LINE_VALUE_CAP		5000000 /* mills: bulk lines stay below 5000.00 */
#define FIRST_CUSTOMER_ID	12346
#define FIRST_INVOICE_NO	536365

/* Products */
#define PRICE_MEDIAN		2.10
#define PRICE_SIGMA			0.95
#define POPULARITY_SIGMA	1.2
#define P_VARIANT_FAMILY	0.12
#define P_TRAILING_SPACE	0.04

#define DESCRIPTION_SIZE	72
#define FIELD_SIZE			96
#define NFIELDS				8

/* Lines per month of the real file: the seasonal curve */
static const double month_lines[NMONTHS] = {
	42481, 35147, 27707, 36748, 29916, 37030, 36874, 39518, 35284,
	50226, 60742, 84711, 25525
};

/* Customers by month of their first purchase in the real file */
static const double cohort_sizes[NMONTHS] = {
	885, 417, 380, 452, 300, 284, 242, 188, 169, 299, 358, 323, 41
};

/* Relative volume by day of week, Sunday first; the shop is shut Saturdays */
static const double weekday_weight[7] = {0.75, 1.0, 1.07, 1.0, 1.1, 0.87, 0.0};

/* Relative volume by hour 6..20, Monday to Friday and on Sundays */
static const double hour_weight[2][NHOURS] = {
	{0.04, 0.4, 8.9, 34.3, 45.4, 46.9, 65.1, 60.2, 57.4, 67.4, 50.4, 28.5, 8.0, 3.7, 0.9},
	{0, 0, 0, 0.03, 3.6, 10.8, 13.6, 12.1, 10.1, 10.1, 4.1, 0, 0, 0, 0}
};

/* Days the shop was closed (besides Saturdays), as YYYYMMDD */
static const int closed_days[] = {
	20101224, 20101225, 20101226, 20101227, 20101228, 20101229, 20101230,
	20101231, 20110101, 20110102, 20110103, 20110422, 20110424, 20110425,
	20110429, 20110502, 20110530, 20110829
};

/* Countries of customers, weighted by their share of revenue (1/10000) */
typedef struct WeightedName
{
	const char *name;
	int			weight;
} WeightedName;

static const WeightedName customer_countries[] = {
	{"United Kingdom", 8201}, {"Netherlands", 320}, {"EIRE", 298},
	{"Germany", 257}, {"France", 235}, {"Australia", 155}, {"Spain", 69},
	{"Switzerland", 63}, {"Belgium", 46}, {"Sweden", 43}, {"Japan", 42},
	{"Norway", 41}, {"Portugal", 38}, {"Finland", 25}, {"Singapore", 24},
	{"Channel Islands", 23}, {"Denmark", 21}, {"Italy", 20}, {"Cyprus", 15},
	{"Austria", 11}, {"Poland", 8}, {"Israel", 8}, {"Greece", 5},
	{"Iceland", 5}, {"Canada", 4}, {"USA", 4}, {"Malta", 3},
	{"Unspecified", 3}, {"United Arab Emirates", 2}, {"Lebanon", 2},
	{"Lithuania", 2}, {"European Community", 1}, {"Brazil", 1}, {"RSA", 1},
	{"Czech Republic", 1}, {"Bahrain", 1}, {"Saudi Arabia", 1}
};

/* Countries of invoices without a customer, other than the home country */
static const WeightedName anonymous_countries[] = {
	{"EIRE", 35}, {"Hong Kong", 20}, {"Unspecified", 15}, {"Switzerland", 10},
	{"France", 5}, {"Israel", 5}, {"Portugal", 5}, {"Bahrain", 5}
};

#define HOME_COUNTRY		"United Kingdom"
#define P_ANONYMOUS_HOME	0.985

/* Words the product descriptions are made of */
static const char *const colours[] = {
	"WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "CREAM", "BLACK",
	"SILVER", "GOLD", "YELLOW", "PURPLE", "ORANGE", "GREY", "TURQUOISE",
	"ASSORTED COLOUR"
};

static const char *const styles[] = {
	"VINTAGE", "RETRO", "HANGING", "HEART", "STAR", "FLORAL", "SPOTTY",
	"STRIPED", "PAISLEY", "BIRD", "ROSE", "UNION JACK", "CHRISTMAS",
	"WOODLAND", "LOVE", "REGENCY", "GINGHAM", "KNITTED", "GLASS", "METAL",
	"WOODEN", "ENAMEL", "CERAMIC", "FELT", "ANTIQUE", "FRENCH",
	"SCANDINAVIAN", "JUMBO", "MINI", "LARGE", "SMALL", "PARTY", "DOLLY",
	"FAIRY", "SKULL", "SPACEBOY", "ALPHABET", "POLKA DOT", "LACE", "ZINC"
};

static const char *const items[] = {
	"T-LIGHT HOLDER", "LANTERN", "COAT HANGER", "HOT WATER BOTTLE",
	"NESTING BOXES", "MUG", "TEACUP AND SAUCER", "CAKE STAND", "LUNCH BAG",
	"SHOPPER BAG", "CAKE CASES", "PAPER NAPKINS", "CUSHION COVER", "DOORMAT",
	"ALARM CLOCK", "PHOTO FRAME", "CANDLE", "BUNTING", "GIFT WRAP",
	"NOTEBOOK", "PENCILS", "JAM JAR", "BISCUIT TIN", "STORAGE BOX",
	"WALL CLOCK", "PURSE", "KEYRING", "EGG CUP", "TEA TOWEL", "APRON",
	"DRAWER KNOB", "PLATE", "BOWL", "RIBBONS", "WATER BOTTLE", "SIGN",
	"GARLAND", "BELL", "DECORATION", "JEWELLERY BOX", "MIRROR", "VASE",
	"PLANT POT", "NIGHT LIGHT", "BAKING SET", "PARASOL", "UMBRELLA",
	"JIGSAW", "STICKERS", "GREETING CARD", "WRAPPING PAPER", "HAIR SLIDE",
	"TRINKET BOX", "SOAP DISH", "CHALKBOARD", "WREATH", "PLAYING CARDS",
	"CHOPPING BOARD", "SPOON SET", "TISSUE BOX"
};

static const int set_sizes[] = {2, 3, 4, 6, 10, 12, 20};

/* Pack sizes of products, weighted (per 100) */
static const int pack_sizes[][2] = {
	{1, 40}, {2, 8}, {3, 5}, {4, 8}, {6, 12}, {8, 3}, {10, 4}, {12, 14},
	{24, 3}, {25, 3}
};

/* Codes that are not products, with their description and price in mills */
typedef struct NonProduct
{
	const char *code;
	const char *description;
	int			weight;
	int64		price_mills;	/* 0: a price drawn like a product's */
} NonProduct;

static const NonProduct non_products[] = {
	{"M", "Manual", 50, 0},
	{"m", "Manual", 1, 0},
	{"S", "SAMPLES", 6, 0},
	{"BANK CHARGES", "Bank Charges", 4, 15000},
	{"AMAZONFEE", "AMAZON FEE", 3, 0},
	{"CRUK", "CRUK Commission", 2, 0},
	{"PADS", "PADS TO MATCH ALL CUSHIONS", 1, 1},
	{"B", "Adjust bad debt", 1, 11062060},
	{"gift_0001_20", "Dotcomgiftshop Gift Voucher 20.00", 2, 16670},
	{"gift_0001_10", "Dotcomgiftshop Gift Voucher 10.00", 2, 8330},
	{"D", "Discount", 1, 0}
};

/* Descriptions of stock adjustments (NULL: left empty) */
static const char *const adjustment_notes[] = {
	NULL, NULL, NULL, NULL, NULL, NULL, "check", "damaged", "damages", "?",
	"lost", "smashed", "wet damaged", "thrown away", "sold as set on dotcom"
};

/* Malformed values, one list per kind that needs text */
static const char *const bad_quantities[] = {"1e3", "2.5", "12 pcs", "4294967296"};
static const char *const bad_prices[] = {"abc", "1,25", "2.5e1", "GBP 1.00"};

typedef enum InvoiceKind
{
	INVOICE_NAMED,
	INVOICE_ANONYMOUS,
	INVOICE_CANCELLATION
} InvoiceKind;

typedef struct Xoshiro
{
	uint64		s[4];
} Xoshiro;

typedef struct Product
{
	char		code[8];
	char		description[DESCRIPTION_SIZE];
	uint8		code_len;
	uint8		description_len;
	int16		pack;
	int64		price_mills;	/* what customers with an account pay */
	int64		retail_mills;	/* without an account */
	int64		bulk_mills;		/* for 100 units or more */
} Product;

typedef struct CalendarDay
{
	char		iso[11];		/* YYYY-MM-DD */
	char		uci[11];		/* M/D/YYYY */
	uint8		uci_len;
	uint8		month;			/* 0 = December 2010 */
	int16		year;
} CalendarDay;

/* One output field: text in a varlena buffer, or NULL */
typedef struct Field
{
	bool		isnull;
	union
	{
		char		data[VARHDRSZ + FIELD_SIZE];
		int32		align;
	}			buf;
} Field;

typedef struct GenState
{
	/* arguments */
	int64		lines;
	int64		customers;
	int32		nproducts;
	bool		dirty;
	uint64		key;			/* seed-derived key of the entity hashes */

	Xoshiro		rng;
	int64		emitted;

	/* calendar */
	CalendarDay days[NDAYS];
	double		bucket_end[NBUCKETS];	/* cumulative share of lines */
	double		month_end[NMONTHS];
	int			bucket;

	/* catalog and its popularity (alias table) */
	Product    *products;
	double	   *alias_prob;
	int32	   *alias_index;
	uint32	   *product_stamp;	/* invoice that last used the product */

	/* customers */
	double		cohort_end[NMONTHS];	/* cumulative share of customers */
	double		repeat_weight[NMONTHS];	/* by months since the first */
	int64		cohort_start[NMONTHS + 1];
	int64		introduced;
	int			month;
	uint64		id_multiplier;
	uint64		id_offset;
	double		p_anonymous;
	double		p_cancellation;
	double		named_mu;
	double		anonymous_mu;

	/* the invoice being written */
	uint32		stamp;
	int64		invoice_number;
	InvoiceKind kind;
	bool		in_invoice;
	int			basket_left;
	bool		extra_first;	/* POST or C2 line first */
	bool		extra_last;		/* DOT line last */
	double		scale;
	char		invoice_no[24];
	int			invoice_no_len;
	char		date[24];
	int			date_len;
	char		bad_date[24];
	int			bad_date_len;
	char		customer[24];
	int			customer_len;	/* -1: no customer */
	const char *country;

	/* the row, kept for exact duplicates */
	bool		duplicate_next;
	Field		fields[NFIELDS];
} GenState;

enum
{
	F_INVOICE_NO,
	F_STOCK_CODE,
	F_DESCRIPTION,
	F_QUANTITY,
	F_INVOICE_DATE,
	F_UNIT_PRICE,
	F_CUSTOMER_ID,
	F_COUNTRY
};

static inline uint64
rotl64(uint64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64
splitmix64(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Hash of an entity number under a key, for attributes that must not drift */
static inline uint64
entity_hash(uint64 key, uint64 salt, uint64 index)
{
	uint64		state = key ^ (salt * UINT64CONST(0xD6E8FEB86659FD93)) ^
		(index * UINT64CONST(0xD1B54A32D192ED03));

	return splitmix64(&state);
}

static inline uint64
rng_next(Xoshiro *r)
{
	uint64	   *s = r->s;
	uint64		result = rotl64(s[1] * 5, 7) * 9;
	uint64		t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* A uniform double in [0, 1) from the top 53 bits */
static inline double
unit_double(uint64 x)
{
	return (double) (x >> 11) * (1.0 / 9007199254740992.0);
}

static inline double
rng_unit(Xoshiro *r)
{
	return unit_double(rng_next(r));
}

/* A uniform integer in [0, n), n < 2^31 */
static inline int
rng_below(Xoshiro *r, int n)
{
	return (int) ((rng_next(r) >> 32) * (uint64) n >> 32);
}

/* A standard normal variate (Box-Muller) */
static double
normal_from(double u1, double u2)
{
	return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

static inline double
rng_normal(Xoshiro *r)
{
	double		u1 = rng_unit(r);

	return normal_from(u1, rng_unit(r));
}

/* Index of a weighted entry for a uniform u in [0, 1) */
static int
pick_weighted(const WeightedName *table, int n, double u)
{
	int			total = 0;
	int			target;
	int			i;

	for (i = 0; i < n; i++)
		total += table[i].weight;
	target = (int) (u * total);
	for (i = 0; i < n - 1; i++)
	{
		target -= table[i].weight;
		if (target < 0)
			break;
	}
	return i;
}

/* Round a price (in pence) the way shops price: x.x5, x.95, 0.x9 */
static int64
shop_price_pence(double pence, uint64 h)
{
	int64		q;

	if (pence < 10.0)
		return Max(1, (int64) (pence + 0.5));
	if (h % 3 == 0)
		q = (int64) (pence / 10.0 + 0.5) * 10;	/* x.x0 */
	else
		q = (int64) ((pence - 5.0) / 10.0 + 0.5) * 10 + 5;	/* x.x5 */
	if (q < 100 && q % 10 == 0 && (h & 4))
		q -= 1;					/* 0.x9 */
	else if (q >= 100 && q % 100 == 0 && (h & 4))
		q -= 5;					/* x.95 */
	return q;
}

/* Write a price in mills as a plain decimal without trailing zeros */
static int
format_price(int64 mills, char *out)
{
	int			len = pg_lltoa(mills / 1000, out);
	int			frac = (int) (mills % 1000);

	if (frac != 0)
	{
		out[len++] = '.';
		out[len++] = '0' + frac / 100;
		if (frac % 100 != 0)
		{
			out[len++] = '0' + frac / 10 % 10;
			if (frac % 10 != 0)
				out[len++] = '0' + frac % 10;
		}
	}
	return len;
}

static inline void
set_field(GenState *st, int i, const char *value, int len)
{
	Field	   *f = &st->fields[i];

	if (value == NULL)
	{
		f->isnull = true;
		return;
	}
	Assert(len >= 0 && len <= FIELD_SIZE);
	f->isnull = false;
	memcpy(f->buf.data + VARHDRSZ, value, len);
	SET_VARSIZE(f->buf.data, VARHDRSZ + len);
}

static inline void
set_field_cstring(GenState *st, int i, const char *value)
{
	set_field(st, i, value, value ? (int) strlen(value) : 0);
}

static void
set_field_int(GenState *st, int i, int32 value)
{
	char		buf[16];

	set_field(st, i, buf, pg_ltoa(value, buf));
}

static void
set_field_price(GenState *st, int i, int64 mills)
{
	char		buf[32];

	set_field(st, i, buf, format_price(mills, buf));
}

/*
 * The calendar: dates as text, and the cumulative share of lines at the end
 * of each (day, hour) bucket, so that month volumes follow month_lines.
 */
static void
build_calendar(GenState *st)
{
	static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	double		weights[NBUCKETS];
	double		month_mass[NMONTHS] = {0};
	double		hour_total[2] = {0};
	double		total_lines = 0;
	double		cumulative = 0;
	int			year = 2010,
				month = 12,
				mday = 1,
				dow = 3;		/* 2010-12-01 was a Wednesday */
	int			d,
				h,
				m;

	for (h = 0; h < NHOURS; h++)
	{
		hour_total[0] += hour_weight[0][h];
		hour_total[1] += hour_weight[1][h];
	}
	for (d = 0; d < NDAYS; d++)
	{
		CalendarDay *day = &st->days[d];
		int			ymd = year * 10000 + month * 100 + mday;
		int			month_index = (year - 2010) * 12 + month - 12;
		bool		open = weekday_weight[dow] > 0;
		int			i;

		for (i = 0; i < lengthof(closed_days); i++)
			if (closed_days[i] == ymd)
				open = false;
		snprintf(day->iso, sizeof(day->iso), "%04d-%02d-%02d", year, month, mday);
		day->uci_len = snprintf(day->uci, sizeof(day->uci), "%d/%d/%d", month, mday, year);
		day->month = month_index;
		day->year = year;
		for (h = 0; h < NHOURS; h++)
		{
			double		w = 0;

			if (open && !(d == NDAYS - 1 && FIRST_HOUR + h >= LAST_DAY_CLOSES))
				w = weekday_weight[dow] * hour_weight[dow == 0][h] / hour_total[dow == 0];
			weights[d * NHOURS + h] = w;
			month_mass[month_index] += w;
		}
		if (++mday > month_days[month - 1])
		{
			mday = 1;
			if (++month > 12)
			{
				month = 1;
				year++;
			}
		}
		dow = (dow + 1) % 7;
	}

	for (m = 0; m < NMONTHS; m++)
		total_lines += month_lines[m];
	for (d = 0; d < NDAYS; d++)
	{
		m = st->days[d].month;
		for (h = 0; h < NHOURS; h++)
		{
			cumulative += weights[d * NHOURS + h] * month_lines[m] / month_mass[m] / total_lines;
			st->bucket_end[d * NHOURS + h] = cumulative;
		}
		st->month_end[m] = cumulative;
	}
	/* guard against rounding: the last bucket ends at exactly 1 */
	st->bucket_end[NBUCKETS - 1] = st->month_end[NMONTHS - 1] = 1.0;
}

/* Walker's alias table over the products' popularity weights */
static void
build_alias(GenState *st, double *weights)
{
	int			n = st->nproducts;
	int32	   *small = palloc(n * sizeof(int32));
	int32	   *large = palloc(n * sizeof(int32));
	int			nsmall = 0,
				nlarge = 0;
	double		total = 0;
	int			i;

	for (i = 0; i < n; i++)
		total += weights[i];
	for (i = 0; i < n; i++)
	{
		weights[i] = weights[i] * n / total;
		st->alias_index[i] = i;
		if (weights[i] < 1.0)
			small[nsmall++] = i;
		else
			large[nlarge++] = i;
	}
	while (nsmall > 0 && nlarge > 0)
	{
		int			s = small[--nsmall];
		int			l = large[nlarge - 1];

		st->alias_prob[s] = weights[s];
		st->alias_index[s] = l;
		weights[l] -= 1.0 - weights[s];
		if (weights[l] < 1.0)
		{
			nlarge--;
			small[nsmall++] = l;
		}
	}
	while (nlarge > 0)
		st->alias_prob[large[--nlarge]] = 1.0;
	while (nsmall > 0)
		st->alias_prob[small[--nsmall]] = 1.0;
	pfree(small);
	pfree(large);
}

/*
 * The catalog: families of products sharing a 5-digit code number (colour
 * variants get a letter), a description, a price and a pack size.
 */
static void
build_catalog(GenState *st)
{
	double	   *popularity = palloc(st->nproducts * sizeof(double));
	int			p = 0;
	uint64		family = 0;
	uint64		code_offset = entity_hash(st->key, 1, 0) % 90000;

	while (p < st->nproducts)
	{
		uint64		h = entity_hash(st->key, 2, family);
		uint64		h2 = entity_hash(st->key, 3, family);
		int			number = 10000 + (int) ((family * 7919 + code_offset) % 90000);
		int			variants = 1;
		int			pattern = (int) (h % 100);
		const char *style = styles[(h >> 8) % lengthof(styles)];
		const char *style2 = styles[(h >> 16) % lengthof(styles)];
		const char *item = items[(h >> 24) % lengthof(items)];
		int			set_size = set_sizes[(h >> 32) % lengthof(set_sizes)];
		int			pack_roll = (int) ((h >> 40) % 100);
		int			pack = 1;
		double		price;
		int64		pence;
		double		markup;
		int			v,
					i;

		if (unit_double(h2) < P_VARIANT_FAMILY)
			variants = 2 + (int) ((h2 >> 8) % 5);
		variants = Min(variants, st->nproducts - p);
		for (i = 0; i < lengthof(pack_sizes); i++)
		{
			pack_roll -= pack_sizes[i][1];
			if (pack_roll < 0)
			{
				pack = pack_sizes[i][0];
				break;
			}
		}
		price = PRICE_MEDIAN * exp(PRICE_SIGMA *
								   normal_from(unit_double(entity_hash(st->key, 4, family)),
											   unit_double(entity_hash(st->key, 5, family))));
		price = Min(Max(price, 0.06), 300.0);
		pence = shop_price_pence(price * 100.0, h2 >> 16);
		markup = 1.1 + 0.2 * unit_double(entity_hash(st->key, 6, family));

		for (v = 0; v < variants; v++, p++)
		{
			Product    *prod = &st->products[p];
			uint64		hv = entity_hash(st->key, 7, (uint64) p);
			const char *colour = colours[(hv >> 8) % lengthof(colours)];
			int			len;

			if (variants > 1)
			{
				/* the variants of a family differ by their colour */
				colour = colours[((h2 >> 24) + v) % lengthof(colours)];
				prod->code_len = snprintf(prod->code, sizeof(prod->code), "%d%c", number, 'A' + v);
			}
			else
				prod->code_len = snprintf(prod->code, sizeof(prod->code), "%d", number);

			if (variants > 1 || pattern < 25)
				len = snprintf(prod->description, DESCRIPTION_SIZE, "%s %s %s", colour, style, item);
			else if (pattern < 55)
				len = snprintf(prod->description, DESCRIPTION_SIZE, "%s %s", style, item);
			else if (pattern < 70)
				len = snprintf(prod->description, DESCRIPTION_SIZE, "SET OF %d %s %s", set_size, style, item);
			else if (pattern < 90 && style != style2)
				len = snprintf(prod->description, DESCRIPTION_SIZE, "%s %s %s", style, style2, item);
			else
				len = snprintf(prod->description, DESCRIPTION_SIZE, "%s %s", colour, item);
			len = Min(len, DESCRIPTION_SIZE - 2);
			if (unit_double(hv) < P_TRAILING_SPACE)
				prod->description[len++] = ' ';
			prod->description[len] = '\0';
			prod->description_len = len;

			prod->pack = pack;
			prod->price_mills = pence * 10;
			prod->retail_mills = (int64) (pence * markup + 0.5) * 10;
			prod->bulk_mills = shop_price_pence(pence * 0.85, hv >> 16) * 10;
			popularity[p] = exp(POPULARITY_SIGMA *
								normal_from(unit_double(entity_hash(st->key, 8, (uint64) p)),
											unit_double(entity_hash(st->key, 9, (uint64) p))));
		}
		family++;
	}
	build_alias(st, popularity);
	pfree(popularity);
}

static GenState *
init_state(int64 lines, int32 seed, int64 customers, int32 nproducts, bool dirty)
{
	GenState   *st = palloc0(sizeof(GenState));
	uint64		sm = (uint64) (uint32) seed ^ UINT64CONST(0x52455441494C3432);
	double		total = 0;
	double		named_lines,
				anonymous_lines,
				cancel_lines,
				invoices;
	int			m,
				i;

	st->lines = lines;
	st->customers = customers;
	st->nproducts = nproducts;
	st->dirty = dirty;
	for (i = 0; i < 4; i++)
		st->rng.s[i] = splitmix64(&sm);
	st->key = splitmix64(&sm);

	build_calendar(st);

	st->products = palloc(nproducts * sizeof(Product));
	st->alias_prob = palloc(nproducts * sizeof(double));
	st->alias_index = palloc(nproducts * sizeof(int32));
	st->product_stamp = palloc0(nproducts * sizeof(uint32));
	build_catalog(st);

	for (m = 0; m < NMONTHS; m++)
		total += cohort_sizes[m];
	for (m = 0; m < NMONTHS; m++)
	{
		st->cohort_end[m] = (m > 0 ? st->cohort_end[m - 1] : 0) + cohort_sizes[m] / total;
		st->repeat_weight[m] = m == 0 ? REPEAT_SAME_MONTH :
			REPEAT_NEXT_MONTH * pow(REPEAT_DECAY, m - 1);
	}
	st->cohort_end[NMONTHS - 1] = 1.0;

	/* a bijection of [0, customers) scatters the ids */
	st->id_offset = entity_hash(st->key, 10, 0) % (uint64) customers;
	st->id_multiplier = entity_hash(st->key, 11, 0) % (uint64) customers;
	for (;;)
	{
		uint64		a = st->id_multiplier,
					b = (uint64) customers;

		while (b != 0)
		{
			uint64		t = a % b;

			a = b;
			b = t;
		}
		if (a == 1)
			break;
		st->id_multiplier++;
	}

	/*
	 * Invoice kinds: shares of invoices that give the wanted shares of lines
	 * for the mean basket of each kind.
	 */
	st->named_mu = log(NAMED_BASKET_MEAN) - NAMED_BASKET_SIGMA * NAMED_BASKET_SIGMA / 2;
	st->anonymous_mu = st->named_mu + log(ANONYMOUS_BASKET_FACTOR);
	if (dirty)
	{
		anonymous_lines = MISSING_CUSTOMER_SHARE / (NAMED_BASKET_MEAN * ANONYMOUS_BASKET_FACTOR);
		cancel_lines = CANCELLATION_SHARE / CANCEL_BASKET_MEAN;
		named_lines = (1.0 - MISSING_CUSTOMER_SHARE - CANCELLATION_SHARE) / NAMED_BASKET_MEAN;
		invoices = anonymous_lines + cancel_lines + named_lines;
		st->p_anonymous = anonymous_lines / invoices;
		st->p_cancellation = cancel_lines / invoices;
	}

	st->invoice_number = FIRST_INVOICE_NO - 1;
	st->customer_len = -1;
	return st;
}

/* A basket size from a log-normal distribution */
static int
basket_size(GenState *st, double mu, double sigma)
{
	double		x = exp(mu + sigma * rng_normal(&st->rng));
	int			limit = Min(MAX_BASKET, st->nproducts);

	return x >= limit ? limit : Max(1, (int) (x + 0.5));
}

/* Choose the customer of a repeat invoice, or -1 when there is none yet */
static int64
repeat_customer(GenState *st)
{
	double		weights[NMONTHS];
	double		total = 0;
	double		u;
	int64		size;
	int64		c = -1;
	int			k;
	int			tries;

	for (k = 0; k <= st->month; k++)
	{
		size = (k == st->month ? st->introduced : st->cohort_start[k + 1]) - st->cohort_start[k];
		/* customers of the first month were there before: they do not decay */
		weights[k] = size * (k == 0 && st->month > 0 ? REPEAT_ESTABLISHED :
							 st->repeat_weight[st->month - k]);
		total += weights[k];
	}
	if (total <= 0)
		return -1;
	for (tries = 0; tries < 4; tries++)
	{
		u = rng_unit(&st->rng) * total;
		for (k = 0; k < st->month; k++)
		{
			if (u < weights[k])
				break;
			u -= weights[k];
		}
		size = (k == st->month ? st->introduced : st->cohort_start[k + 1]) - st->cohort_start[k];
		/* a power law inside the cohort: its first customers buy most often */
		u = rng_unit(&st->rng);
		c = st->cohort_start[k] + Min((int64) (pow(u, FREQUENCY_POWER) * size), size - 1);
		/* some customers never come back (mostly) */
		if (unit_double(entity_hash(st->key, 14, (uint64) c)) >= P_ONE_TIME_BUYER)
			break;
	}
	return c;
}

/* Set the invoice's customer text, country and quantity scale */
static void
set_customer(GenState *st, int64 c)
{
	uint64		h = entity_hash(st->key, 12, (uint64) c);
	double		u = unit_double(entity_hash(st->key, 13, (uint64) c));
	int64		id = FIRST_CUSTOMER_ID +
		(int64) (((uint64) c * st->id_multiplier + st->id_offset) % (uint64) st->customers);

	st->country = customer_countries[pick_weighted(customer_countries,
												   lengthof(customer_countries),
												   unit_double(h))].name;
	/* Pareto, at least 1: a few customers buy in bulk */
	st->scale = Min(Max(1.0, PARETO_MINIMUM * pow(1.0 - u, -1.0 / PARETO_ALPHA)), PARETO_CAP);
	st->customer_len = pg_lltoa(id, st->customer);
	if (rng_unit(&st->rng) < P_SPREADSHEET_ID)
	{
		st->customer[st->customer_len++] = '.';
		st->customer[st->customer_len++] = '0';
	}
}

/* Start the next invoice at the time that the lines written so far reach */
static void
start_invoice(GenState *st)
{
	double		p = (double) st->emitted / (double) st->lines;
	const CalendarDay *day;
	double		start,
				u;
	int			minute,
				hour;
	int			month;

	while (st->bucket < NBUCKETS - 1 && st->bucket_end[st->bucket] <= p)
		st->bucket++;
	start = st->bucket > 0 ? st->bucket_end[st->bucket - 1] : 0;
	minute = (int) ((p - start) / (st->bucket_end[st->bucket] - start) * 60.0);
	minute = Min(Max(minute, 0), 59);
	hour = FIRST_HOUR + st->bucket % NHOURS;
	day = &st->days[st->bucket / NHOURS];

	/* cohorts of the months passed since the last invoice are closed */
	month = day->month;
	while (st->month < month)
		st->cohort_start[++st->month] = st->introduced;

	if (rng_unit(&st->rng) < P_UCI_DATE)
		st->date_len = snprintf(st->date, sizeof(st->date), "%s %d:%02d", day->uci, hour, minute);
	else
		st->date_len = snprintf(st->date, sizeof(st->date), "%s %02d:%02d", day->iso, hour, minute);
	/* a 30th of February, in case a line of this invoice gets a bad date */
	st->bad_date_len = snprintf(st->bad_date, sizeof(st->bad_date), "%d-02-30 %02d:%02d",
								day->year, hour, minute);

	st->invoice_number += 1;
	if (rng_unit(&st->rng) < P_INVOICE_GAP)
		st->invoice_number += 1 + rng_below(&st->rng, 3);
	st->stamp++;
	st->extra_first = st->extra_last = false;

	u = rng_unit(&st->rng);
	if (u < st->p_anonymous)
		st->kind = INVOICE_ANONYMOUS;
	else if (u < st->p_anonymous + st->p_cancellation && st->introduced > 0)
		st->kind = INVOICE_CANCELLATION;
	else
		st->kind = INVOICE_NAMED;

	if (st->kind == INVOICE_ANONYMOUS)
	{
		st->customer_len = -1;
		st->scale = 1.0;
		st->country = HOME_COUNTRY;
		if (rng_unit(&st->rng) >= P_ANONYMOUS_HOME)
			st->country = anonymous_countries[pick_weighted(anonymous_countries,
															lengthof(anonymous_countries),
															rng_unit(&st->rng))].name;
		st->basket_left = basket_size(st, st->anonymous_mu, NAMED_BASKET_SIGMA);
		st->extra_last = rng_unit(&st->rng) < P_DOTCOM_POSTAGE;
	}
	else if (st->kind == INVOICE_CANCELLATION)
	{
		set_customer(st, repeat_customer(st));
		st->basket_left = basket_size(st, CANCEL_BASKET_MU, CANCEL_BASKET_SIGMA);
	}
	else
	{
		int64		c = -1;

		/* a new customer when introductions lag the cohort curve */
		if (st->introduced < st->customers)
		{
			double		month_start = month > 0 ? st->month_end[month - 1] : 0;
			double		cohort_start = month > 0 ? st->cohort_end[month - 1] : 0;
			double		frac = (p - month_start) / (st->month_end[month] - month_start);
			double		target = st->customers *
				(cohort_start + (st->cohort_end[month] - cohort_start) * Min(frac, 1.0));

			if (st->introduced == 0 || st->introduced < target)
				c = st->introduced++;
		}
		if (c < 0)
			c = repeat_customer(st);
		set_customer(st, c);
		st->basket_left = basket_size(st, st->named_mu, NAMED_BASKET_SIGMA);
		if (st->dirty)
		{
			u = rng_unit(&st->rng);
			if (strcmp(st->country, HOME_COUNTRY) != 0)
				st->extra_first = u < P_POSTAGE_ABROAD;
			else
				st->extra_first = u < P_CARRIAGE_HOME;
		}
	}
	if (!st->dirty)
		st->extra_last = false;

	st->invoice_no_len = 0;
	if (st->kind == INVOICE_CANCELLATION)
		st->invoice_no[st->invoice_no_len++] = 'C';
	st->invoice_no_len += pg_lltoa(st->invoice_number, st->invoice_no + st->invoice_no_len);
	st->in_invoice = true;
}

/*
 * A product by popularity, never twice on one invoice (baskets are no larger
 * than the catalog): exact duplicates are only those made on purpose.
 */
static const Product *
pick_product(GenState *st)
{
	int			tries;
	int			i = 0;

	for (tries = 0; tries < 8; tries++)
	{
		uint64		x = rng_next(&st->rng);

		i = (int) (((x >> 32) * (uint64) st->nproducts) >> 32);
		if (unit_double(x << 32) >= st->alias_prob[i])
			i = st->alias_index[i];
		if (st->product_stamp[i] != st->stamp)
			break;
	}
	/* a crowded basket: take the next product not on it */
	while (st->product_stamp[i] == st->stamp)
		i = (i + 1) % st->nproducts;
	st->product_stamp[i] = st->stamp;
	return &st->products[i];
}

/* Units of a line: pack size times a small multiple, scaled per customer */
static int32
line_quantity(GenState *st, const Product *prod)
{
	double		u = rng_unit(&st->rng);
	int			multiple;
	double		units;

	if (u < 0.62)
		multiple = 1;
	else if (u < 0.82)
		multiple = 2;
	else if (u < 0.88)
		multiple = 3;
	else if (u < 0.93)
		multiple = 4;
	else if (u < 0.96)
		multiple = 6;
	else if (u < 0.98)
		multiple = 8;
	else
		multiple = 10 + rng_below(&st->rng, 3) * 5;

	if (st->kind == INVOICE_ANONYMOUS)
		return multiple;
	units = Max(1.0, floor(multiple * st->scale + 0.5));
	/* wholesalers buy many cheap things, not many expensive ones */
	units = Min(units, Max(1.0, floor((double) LINE_VALUE_CAP / prod->price_mills / prod->pack)));
	return (int32) (prod->pack * units);
}

/* A product-like price for the non-product codes that have none */
static int64
random_fee_mills(GenState *st, const NonProduct *np)
{
	double		pounds = PRICE_MEDIAN * 4 * exp(rng_normal(&st->rng));

	if (strcmp(np->code, "AMAZONFEE") == 0)
		pounds *= 200;
	return (int64) (pounds * 100 + 0.5) * 10;
}

/* Replace the current line by a non-product code */
static void
non_product_line(GenState *st, bool in_cancellation)
{
	int			total = 0;
	int			target;
	int			i;
	const NonProduct *np;

	for (i = 0; i < lengthof(non_products); i++)
		total += non_products[i].weight;
	target = rng_below(&st->rng, total);
	for (i = 0; i < lengthof(non_products) - 1; i++)
	{
		target -= non_products[i].weight;
		if (target < 0)
			break;
	}
	np = &non_products[i];
	set_field_cstring(st, F_STOCK_CODE, np->code);
	set_field_cstring(st, F_DESCRIPTION, np->description);
	set_field_int(st, F_QUANTITY, in_cancellation ? -1 : 1);
	set_field_price(st, F_UNIT_PRICE, np->price_mills > 0 ? np->price_mills :
					random_fee_mills(st, np));
}

/* Corrupt one field of the current line so that it cannot be parsed */
static void
malformed_line(GenState *st)
{
	char		buf[32];

	switch (rng_below(&st->rng, 6))
	{
		case 0:
			set_field(st, F_INVOICE_DATE, st->bad_date, st->bad_date_len);
			break;
		case 1:
			set_field_cstring(st, F_QUANTITY,
							  bad_quantities[rng_below(&st->rng, lengthof(bad_quantities))]);
			break;
		case 2:
			set_field_cstring(st, F_UNIT_PRICE,
							  bad_prices[rng_below(&st->rng, lengthof(bad_prices))]);
			break;
		case 3:
			set_field(st, F_COUNTRY, NULL, 0);
			break;
		case 4:
			buf[0] = 'X';
			set_field(st, F_CUSTOMER_ID, buf, 1 + pg_ltoa(100 + rng_below(&st->rng, 900), buf + 1));
			break;
		default:
			set_field(st, F_STOCK_CODE, NULL, 0);
			break;
	}
}

/* Fill the fields with the next line of the current invoice */
static void
next_line(GenState *st)
{
	bool		cancellation;

	if (!st->in_invoice)
		start_invoice(st);
	cancellation = st->kind == INVOICE_CANCELLATION;

	set_field(st, F_INVOICE_NO, st->invoice_no, st->invoice_no_len);
	set_field(st, F_INVOICE_DATE, st->date, st->date_len);
	set_field(st, F_CUSTOMER_ID, st->customer_len < 0 ? NULL : st->customer, st->customer_len);
	set_field_cstring(st, F_COUNTRY, st->country);

	if (st->extra_first)
	{
		/* postage abroad, carriage at home: the first line of the invoice */
		bool		home = strcmp(st->country, HOME_COUNTRY) == 0;
		static const int postage_pounds[] = {18, 18, 18, 18, 15, 40, 28};

		set_field_cstring(st, F_STOCK_CODE, home ? "C2" : "POST");
		set_field_cstring(st, F_DESCRIPTION, home ? "CARRIAGE" : "POSTAGE");
		set_field_int(st, F_QUANTITY, home ? 1 : 1 + rng_below(&st->rng, 3));
		set_field_price(st, F_UNIT_PRICE, home ? 50000 :
						postage_pounds[rng_below(&st->rng, lengthof(postage_pounds))] * 1000);
		st->extra_first = false;
	}
	else if (st->basket_left > 0)
	{
		const Product *prod = pick_product(st);
		int32		quantity = line_quantity(st, prod);
		int64		price = prod->price_mills;

		if (st->kind == INVOICE_ANONYMOUS)
			price = prod->retail_mills;
		else if (quantity >= 100)
			price = prod->bulk_mills;
		set_field(st, F_STOCK_CODE, prod->code, prod->code_len);
		set_field(st, F_DESCRIPTION, prod->description, prod->description_len);
		set_field_int(st, F_QUANTITY, cancellation ? -quantity : quantity);
		set_field_price(st, F_UNIT_PRICE, price);
		st->basket_left--;

		if (st->dirty)
		{
			double		u = rng_unit(&st->rng);

			if (cancellation)
			{
				if (u < P_DISCOUNT_LINE)
				{
					set_field_cstring(st, F_STOCK_CODE, "D");
					set_field_cstring(st, F_DESCRIPTION, "Discount");
					set_field_int(st, F_QUANTITY, -1);
					set_field_price(st, F_UNIT_PRICE, random_fee_mills(st, &non_products[0]));
				}
			}
			else if ((u -= (st->kind == INVOICE_ANONYMOUS ? P_ZERO_PRICE_ANONYMOUS :
							P_ZERO_PRICE_NAMED)) < 0)
			{
				set_field_cstring(st, F_UNIT_PRICE, "0");
				if (st->kind == INVOICE_ANONYMOUS && rng_unit(&st->rng) < 0.5)
					set_field(st, F_DESCRIPTION, NULL, 0);
			}
			else if ((u -= P_ADJUSTMENT) < 0)
			{
				/* stock adjustment: units written off, no sale */
				set_field_int(st, F_QUANTITY, -rng_below(&st->rng, 12));
				if (st->kind == INVOICE_ANONYMOUS)
				{
					set_field_cstring(st, F_DESCRIPTION,
									  adjustment_notes[rng_below(&st->rng, lengthof(adjustment_notes))]);
					set_field_cstring(st, F_UNIT_PRICE, "0");
				}
			}
			else if ((u -= P_NON_PRODUCT) < 0)
				non_product_line(st, false);
			else if ((u -= P_MALFORMED) < 0)
				malformed_line(st);
		}
	}
	else
	{
		/* web-shop postage: the last line of an invoice without a customer */
		Assert(st->extra_last);
		set_field_cstring(st, F_STOCK_CODE, "DOT");
		set_field_cstring(st, F_DESCRIPTION, "DOTCOM POSTAGE");
		set_field_int(st, F_QUANTITY, 1);
		set_field_price(st, F_UNIT_PRICE,
						(int64) (exp(log(60.0) + rng_normal(&st->rng)) * 100 + 0.5) * 10);
		st->extra_last = false;
	}

	if (!st->extra_first && st->basket_left == 0 && !st->extra_last)
		st->in_invoice = false;
	if (st->kind == INVOICE_NAMED && st->dirty && rng_unit(&st->rng) < P_DUPLICATE)
		st->duplicate_next = true;
}

static void
check_argument_not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* Stream synthetic bronze-shaped order lines, the same for the same arguments */
PG_FUNCTION_INFO_V1(ra_generate_transactions);
Datum
ra_generate_transactions(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	GenState   *st;
	Datum		values[NFIELDS];
	bool		nulls[NFIELDS];
	int			i;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;
		int64		lines;
		int64		customers;
		int32		nproducts;

		check_argument_not_null(fcinfo, 0, "lines");
		check_argument_not_null(fcinfo, 1, "seed");
		check_argument_not_null(fcinfo, 3, "products");
		check_argument_not_null(fcinfo, 4, "dirty");
		lines = PG_GETARG_INT64(0);
		nproducts = PG_GETARG_INT32(3);
		if (lines < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid number of lines: %lld", (long long) lines),
					 errdetail("The number of lines must be zero or more.")));
		if (PG_ARGISNULL(2))
			customers = Min(Max(1, (lines + DEFAULT_LINES_PER_CUSTOMER / 2) /
								DEFAULT_LINES_PER_CUSTOMER), MAX_CUSTOMERS);
		else
		{
			customers = PG_GETARG_INT64(2);
			if (customers < 1 || customers > MAX_CUSTOMERS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid number of customers: %lld", (long long) customers),
						 errdetail("The number of customers must be between 1 and %lld.",
								   (long long) MAX_CUSTOMERS)));
		}
		if (nproducts < 1 || nproducts > MAX_PRODUCTS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid number of products: %d", nproducts),
					 errdetail("The number of products must be between 1 and %d.", MAX_PRODUCTS)));

		funcctx = rows_srf_first_call(fcinfo, (uint64) lines, &oldcontext);
		if (lines > 0)
			funcctx->user_fctx = init_state(lines, PG_GETARG_INT32(1), customers,
											nproducts, PG_GETARG_BOOL(4));
		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();
	/* a stream may be of any length: let it be cancelled between rows */
	CHECK_FOR_INTERRUPTS();
	if (funcctx->call_cntr >= funcctx->max_calls)
		SRF_RETURN_DONE(funcctx);

	st = (GenState *) funcctx->user_fctx;
	if (st->duplicate_next)
		st->duplicate_next = false;
	else
		next_line(st);
	st->emitted++;

	for (i = 0; i < NFIELDS; i++)
	{
		nulls[i] = st->fields[i].isnull;
		values[i] = PointerGetDatum(st->fields[i].buf.data);
	}
	SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc,
															   values, nulls)));
}

/* Planner support: generate_transactions returns as many rows as asked */
PG_FUNCTION_INFO_V1(ra_generate_transactions_support);
Datum
ra_generate_transactions_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestRows))
	{
		SupportRequestRows *req = (SupportRequestRows *) rawreq;

		if (is_funcclause(req->node))
		{
			List	   *args = ((FuncExpr *) req->node)->args;
			Node	   *lines = estimate_expression_value(req->root, linitial(args));

			if (IsA(lines, Const) && !((Const *) lines)->constisnull)
			{
				req->rows = Max(0, DatumGetInt64(((Const *) lines)->constvalue));
				PG_RETURN_POINTER(req);
			}
		}
	}
	PG_RETURN_POINTER(NULL);
}

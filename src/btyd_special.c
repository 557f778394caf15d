/*
 * btyd_special.c
 *		Special functions of the BTYD models: differences of lgamma and
 *		digamma, and the Gauss hypergeometric function (accuracy: btyd.c).
 */
#include "btyd.h"

#include <math.h>

#include "utils/float.h"

/* From here on lgamma(y + s) - lgamma(y) uses Stirling's series */
#define LGAMMA_STIRLING 1000.0

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
double
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

/*
 * Parsers for the human numbers in the daemon config and on boxctl's
 * command line (sizes, durations, CPU counts), and their inverse for
 * messages. Pure functions: no allocation, no locale (strtoull and friends
 * would accept whitespace, signs and hex, and "1.5" depends on LC_NUMERIC),
 * no floating point (1.5G must be exactly 1610612736 everywhere). They must
 * never accept a value they cannot represent exactly enough, and never wrap.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>

#include "parse.h"
#include "util.h"

/* Fraction digits kept; 10^18 still fits in a uint64_t. */
#define FRAC_DIGITS_MAX 18

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MIN (60ULL * NSEC_PER_SEC)
#define NSEC_PER_HOUR (60ULL * NSEC_PER_MIN)

struct decimal {
	uint64_t whole;
	uint64_t frac; /* the first frac_digits digits after '.' */
	unsigned frac_digits;
	bool frac_dropped; /* a non-zero digit beyond FRAC_DIGITS_MAX */
	bool overflow;     /* whole part does not fit */
};

struct unit {
	const char *name;
	uint64_t mult;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * "123" or "123.45". At least one digit on each side of the dot. Overflow
 * is recorded rather than returned, so that "99999999999999999999x" is
 * reported as garbage (-EINVAL), not as out of range.
 */
static int decimal_parse(const char **p, struct decimal *ret)
{
	struct decimal d = {0};
	const char *s = *p;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned digit = (unsigned)(*s - '0');

		if (d.whole > (UINT64_MAX - digit) / 10)
			d.overflow = true;
		else
			d.whole = d.whole * 10 + digit;
	}

	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			if (d.frac_digits < FRAC_DIGITS_MAX) {
				d.frac = d.frac * 10 + (uint64_t)(*s - '0');
				d.frac_digits++;
			} else if (*s != '0') {
				d.frac_dropped = true;
			}
		}
	}

	*p = s;
	*ret = d;
	return 0;
}

/*
 * d * mult, rounded down. ret_exact says whether nothing was lost, so that
 * callers whose unit is the smallest one can refuse "1.5" bytes.
 */
static int decimal_scale(const struct decimal *d, uint64_t mult, uint64_t *ret,
			 bool *ret_exact)
{
	unsigned __int128 frac;
	uint64_t den = 1;
	uint64_t v;

	if (d->overflow)
		return -ERANGE;
	for (unsigned i = 0; i < d->frac_digits; i++)
		den *= 10;

	if (mult != 0 && d->whole > UINT64_MAX / mult)
		return -ERANGE;
	v = d->whole * mult;

	/* 128 bits: frac < 10^18 and mult can be 2^40 or 3600 * 10^9. */
	frac = (unsigned __int128)d->frac * mult;
	if (v > UINT64_MAX - (uint64_t)(frac / den))
		return -ERANGE;
	v += (uint64_t)(frac / den);

	*ret_exact = frac % den == 0 && !d->frac_dropped;
	*ret = v;
	return 0;
}

static const struct unit *unit_find(const struct unit *units, size_t n,
				    const char *suffix)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(units[i].name, suffix) == 0)
			return &units[i];
	return NULL;
}

/*
 * Every spelling is listed rather than built from prefix + optional "i" +
 * optional "B", so that what is accepted can be read off in one place.
 */
static const struct unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"K", 1ULL << 10},
    {"KB", 1ULL << 10},
    {"Ki", 1ULL << 10},
    {"KiB", 1ULL << 10},
    {"M", 1ULL << 20},
    {"MB", 1ULL << 20},
    {"Mi", 1ULL << 20},
    {"MiB", 1ULL << 20},
    {"G", 1ULL << 30},
    {"GB", 1ULL << 30},
    {"Gi", 1ULL << 30},
    {"GiB", 1ULL << 30},
    {"T", 1ULL << 40},
    {"TB", 1ULL << 40},
    {"Ti", 1ULL << 40},
    {"TiB", 1ULL << 40},
};

static const struct unit duration_units[] = {
    {"", NSEC_PER_SEC}, /* a bare number is seconds */
    {"ns", 1},
    {"us", NSEC_PER_USEC},
    {"\xc2\xb5s", NSEC_PER_USEC}, /* U+00B5 MICRO SIGN */
    {"ms", NSEC_PER_MSEC},
    {"s", NSEC_PER_SEC},
    {"m", NSEC_PER_MIN},
    {"h", NSEC_PER_HOUR},
};

/*
 * Shared by sizes and durations. A fraction of the unit is rounded down
 * ("0.1K" is 102 bytes), except that a fraction of the smallest unit (one
 * byte, one nanosecond) is refused: it can only be a mistake.
 */
static int parse_with_units(const char *s, const struct unit *units,
			    size_t n_units, uint64_t *ret)
{
	const struct unit *u;
	struct decimal d;
	uint64_t v;
	bool exact;
	int r;

	if (!s)
		return -EINVAL;
	r = decimal_parse(&s, &d);
	if (r < 0)
		return r;
	u = unit_find(units, n_units, s);
	if (!u)
		return -EINVAL;
	r = decimal_scale(&d, u->mult, &v, &exact);
	if (r < 0)
		return r;
	if (u->mult == 1 && !exact)
		return -EINVAL;

	*ret = v;
	return 0;
}

int parse_size(const char *s, uint64_t *ret_bytes)
{
	return parse_with_units(s, size_units, ELEMENTSOF(size_units),
				ret_bytes);
}

int parse_duration(const char *s, uint64_t *ret_ns)
{
	return parse_with_units(s, duration_units, ELEMENTSOF(duration_units),
				ret_ns);
}

int parse_cpus(const char *s, uint32_t *ret_millis)
{
	struct decimal d;
	uint64_t v;
	bool exact;
	int r;

	if (!s)
		return -EINVAL;
	r = decimal_parse(&s, &d);
	if (r < 0)
		return r;
	if (*s != '\0')
		return -EINVAL;
	r = decimal_scale(&d, 1000, &v, &exact);
	if (r < 0)
		return r;
	/*
	 * cpu.max is set in millis of a CPU; silently dropping "1.0005" to
	 * 1.000 would enforce something other than what was asked.
	 */
	if (!exact)
		return -EINVAL;
	/* Zero CPUs is not a limit, it is a run that never gets scheduled. */
	if (v == 0 || v > UINT32_MAX)
		return -ERANGE;

	*ret_millis = (uint32_t)v;
	return 0;
}

int parse_uint32(const char *s, uint32_t *ret)
{
	struct decimal d;
	int r;

	if (!s)
		return -EINVAL;
	r = decimal_parse(&s, &d);
	if (r < 0)
		return r;
	if (*s != '\0' || d.frac_digits > 0)
		return -EINVAL;
	if (d.overflow || d.whole > UINT32_MAX)
		return -ERANGE;

	*ret = (uint32_t)d.whole;
	return 0;
}

/*
 * v in unit u with at most two decimals, rounded down. Returns whether that
 * is exact.
 */
static bool format_in_unit(uint64_t v, const struct unit *u, char *buf,
			   size_t len)
{
	uint64_t whole = v / u->mult;
	uint64_t rem = v % u->mult;
	/* rem < mult <= 3600 * 10^9, so rem * 100 cannot overflow. */
	uint64_t hundredths = rem * 100 / u->mult;
	bool exact = rem * 100 % u->mult == 0;

	if (hundredths == 0)
		snprintf(buf, len, "%llu%s", (unsigned long long)whole,
			 u->name);
	else if (hundredths % 10 == 0)
		snprintf(buf, len, "%llu.%llu%s", (unsigned long long)whole,
			 (unsigned long long)(hundredths / 10), u->name);
	else
		snprintf(buf, len, "%llu.%02llu%s", (unsigned long long)whole,
			 (unsigned long long)hundredths, u->name);
	return exact;
}

/*
 * units[] from largest to smallest. Use the largest unit the value reaches;
 * if that is not exact in two decimals, try the next smaller unit (so 100s
 * prints "100s" rather than "1.66m"), and if that is not exact either, keep
 * the larger, rounded-down form: short beats exact in a message.
 */
static const char *format_with_units(uint64_t v, const struct unit *units,
				     size_t n_units, char *buf, size_t len)
{
	size_t i = 0;

	if (!buf || len == 0)
		return buf;
	while (i + 1 < n_units && v < units[i].mult)
		i++;
	if (format_in_unit(v, &units[i], buf, len) || i + 1 >= n_units)
		return buf;
	if (format_in_unit(v, &units[i + 1], buf, len))
		return buf;
	format_in_unit(v, &units[i], buf, len);
	return buf;
}

const char *format_size(uint64_t bytes, char *buf, size_t len)
{
	static const struct unit units[] = {
	    {"T", 1ULL << 40}, {"G", 1ULL << 30}, {"M", 1ULL << 20},
	    {"K", 1ULL << 10}, {"B", 1},
	};

	return format_with_units(bytes, units, ELEMENTSOF(units), buf, len);
}

const char *format_duration(uint64_t ns, char *buf, size_t len)
{
	static const struct unit units[] = {
	    {"h", NSEC_PER_HOUR},  {"m", NSEC_PER_MIN},   {"s", NSEC_PER_SEC},
	    {"ms", NSEC_PER_MSEC}, {"us", NSEC_PER_USEC}, {"ns", 1},
	};

	/* "0s" reads better than "0ns" for an unset timeout. */
	if (ns == 0) {
		if (buf && len > 0)
			snprintf(buf, len, "0s");
		return buf;
	}
	return format_with_units(ns, units, ELEMENTSOF(units), buf, len);
}

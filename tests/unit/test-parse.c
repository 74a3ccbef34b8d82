/*
 * Tests for common/parse.c: every parser with good input, malformed input
 * (-EINVAL), out-of-range input (-ERANGE), fractions, and format_* round
 * trips. A failed parse must never touch the out-parameter.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "parse.h"
#include "util.h"

#define KIB (1ULL << 10)
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define TIB (1ULL << 40)
#define SEC 1000000000ULL

/* Sentinel: a failed parse must leave the out-parameter alone. */
#define UNTOUCHED64 0xdeadbeefcafef00dULL
#define UNTOUCHED32 0xdeadbeefU

struct good64 {
	const char *in;
	uint64_t out;
};

struct bad {
	const char *in;
	int err;
};

static void check_good64(int (*parse)(const char *, uint64_t *),
			 const struct good64 *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = UNTOUCHED64;
		int r = parse(t[i].in, &v);

		cr_expect_eq(r, 0, "\"%s\": %d", t[i].in, r);
		cr_expect_eq(v, t[i].out, "\"%s\": %llu, want %llu", t[i].in,
			     (unsigned long long)v,
			     (unsigned long long)t[i].out);
	}
}

static void check_bad64(int (*parse)(const char *, uint64_t *),
			const struct bad *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = UNTOUCHED64;
		int r = parse(t[i].in, &v);

		cr_expect_eq(r, t[i].err, "\"%s\": %d, want %d",
			     t[i].in ? t[i].in : "(null)", r, t[i].err);
		cr_expect_eq(v, UNTOUCHED64, "\"%s\" wrote its output",
			     t[i].in ? t[i].in : "(null)");
	}
}

/* Sizes */

Test(parse, size_good)
{
	static const struct good64 t[] = {
	    {"0", 0},
	    {"1", 1},
	    {"512", 512},
	    {"0512", 512},
	    {"512B", 512},
	    {"512b", 512},
	    {"1.0", 1},
	    {"64K", 64 * KIB},
	    {"64k", 64 * KIB},
	    {"64KB", 64 * KIB},
	    {"64kb", 64 * KIB},
	    {"64Ki", 64 * KIB},
	    {"64KiB", 64 * KIB},
	    {"64kib", 64 * KIB},
	    {"64KIB", 64 * KIB},
	    {"512M", 512 * MIB},
	    {"512MiB", 512 * MIB},
	    {"2G", 2 * GIB},
	    {"2gb", 2 * GIB},
	    {"2T", 2 * TIB},
	    {"2TiB", 2 * TIB},
	    {"16777215T", 16777215 * TIB},
	    {"18446744073709551615", UINT64_MAX},
	};

	check_good64(parse_size, t, ELEMENTSOF(t));
}

Test(parse, size_fractions)
{
	static const struct good64 t[] = {
	    {"1.5G", GIB + GIB / 2},
	    {"1.5g", 1610612736},
	    {"0.5K", 512},
	    {"0.25M", MIB / 4},
	    {"2.75T", 2 * TIB + 3 * TIB / 4},
	    {"1.0G", GIB},
	    {"1.50000000000000000000000G", GIB + GIB / 2},
	    /* Not a whole number of bytes: rounded down. */
	    {"0.1K", 102},
	    {"0.001K", 1},
	    {"0.0001K", 0},
	};

	check_good64(parse_size, t, ELEMENTSOF(t));
}

Test(parse, size_bad)
{
	static const struct bad t[] = {
	    {NULL, -EINVAL},
	    {"", -EINVAL},
	    {" ", -EINVAL},
	    {" 1K", -EINVAL},
	    {"1K ", -EINVAL},
	    {"1 K", -EINVAL},
	    {"-1", -EINVAL},
	    {"+1", -EINVAL},
	    {"-0", -EINVAL},
	    {"K", -EINVAL},
	    {"B", -EINVAL},
	    {".5K", -EINVAL},
	    {"1.K", -EINVAL},
	    {"1..5K", -EINVAL},
	    {"1.5.5K", -EINVAL},
	    {"0x10", -EINVAL},
	    {"1e3", -EINVAL},
	    {"1P", -EINVAL},
	    {"1KK", -EINVAL},
	    {"1iB", -EINVAL},
	    {"1Kb2", -EINVAL},
	    {"1KiBB", -EINVAL},
	    {"12abc", -EINVAL},
	    {"nan", -EINVAL},
	    {"inf", -EINVAL},
	    /* Fractions of a byte make no sense. */
	    {"1.5", -EINVAL},
	    {"1.5B", -EINVAL},
	    {"0.000000000000000000001", -EINVAL},
	    /* Garbage wins over overflow. */
	    {"99999999999999999999x", -EINVAL},
	};

	check_bad64(parse_size, t, ELEMENTSOF(t));
}

Test(parse, size_overflow)
{
	static const struct bad t[] = {
	    {"18446744073709551616", -ERANGE},
	    {"99999999999999999999999999", -ERANGE},
	    {"16777216T", -ERANGE},
	    {"18014398509481984K", -ERANGE},
	    {"17179869184G", -ERANGE},
	};

	check_bad64(parse_size, t, ELEMENTSOF(t));
}

/* Durations */

Test(parse, duration_good)
{
	static const struct good64 t[] = {
	    {"0", 0},
	    {"0s", 0},
	    {"1", SEC},
	    {"30", 30 * SEC},
	    {"10ns", 10},
	    {"1500us", 1500000},
	    {"1500\xc2\xb5s", 1500000},
	    {"250ms", 250000000},
	    {"250MS", 250000000},
	    {"2s", 2 * SEC},
	    {"1m", 60 * SEC},
	    {"1M", 60 * SEC},
	    {"1h", 3600 * SEC},
	    {"24h", 24 * 3600 * SEC},
	    {"18446744073709551615ns", UINT64_MAX},
	};

	check_good64(parse_duration, t, ELEMENTSOF(t));
}

Test(parse, duration_fractions)
{
	static const struct good64 t[] = {
	    {"2.5s", 2500000000},
	    {"2.5", 2500000000},
	    {"0.5ms", 500000},
	    {"1.5m", 90 * SEC},
	    {"0.25h", 900 * SEC},
	    {"1.5us", 1500},
	    {"0.000000001", 1},
	    {"1.0ns", 1},
	    /* Below one nanosecond of a larger unit: rounded down. */
	    {"0.0000000015s", 1},
	};

	check_good64(parse_duration, t, ELEMENTSOF(t));
}

Test(parse, duration_bad)
{
	static const struct bad t[] = {
	    {NULL, -EINVAL},    {"", -EINVAL},    {"s", -EINVAL},
	    {"ms", -EINVAL},    {"-1s", -EINVAL}, {"+1s", -EINVAL},
	    {" 1s", -EINVAL},   {"1s ", -EINVAL}, {"1 s", -EINVAL},
	    {"1x", -EINVAL},    {"1d", -EINVAL},  {"1sec", -EINVAL},
	    {"1m30s", -EINVAL}, {"1.s", -EINVAL}, {".5s", -EINVAL},
	    {"1.5ns", -EINVAL}, {"1ss", -EINVAL}, {"1nss", -EINVAL},
	};

	check_bad64(parse_duration, t, ELEMENTSOF(t));
}

Test(parse, duration_overflow)
{
	static const struct bad t[] = {
	    {"18446744073709551616ns", -ERANGE},
	    {"18446744074", -ERANGE},
	    {"18446744074s", -ERANGE},
	    {"5124096h", -ERANGE},
	    {"307445735m", -ERANGE},
	    {"99999999999999999999999h", -ERANGE},
	};

	check_bad64(parse_duration, t, ELEMENTSOF(t));
}

/* CPUs */

Test(parse, cpus_good)
{
	static const struct {
		const char *in;
		uint32_t out;
	} t[] = {
	    {"1", 1000},
	    {"1.5", 1500},
	    {"0.001", 1},
	    {"0.5", 500},
	    {"2", 2000},
	    {"1.500", 1500},
	    {"1.5000", 1500},
	    {"64", 64000},
	    {"4294967", 4294967000},
	    {"4294967.295", UINT32_MAX},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		uint32_t v = UNTOUCHED32;

		cr_expect_eq(parse_cpus(t[i].in, &v), 0, "\"%s\"", t[i].in);
		cr_expect_eq(v, t[i].out, "\"%s\": %u", t[i].in, v);
	}
}

Test(parse, cpus_bad)
{
	static const struct bad t[] = {
	    {NULL, -EINVAL},      {"", -EINVAL},
	    {"-1", -EINVAL},      {"-0.5", -EINVAL},
	    {"+1", -EINVAL},      {"1.", -EINVAL},
	    {".5", -EINVAL},      {"1x", -EINVAL},
	    {"1 ", -EINVAL},      {"1.5K", -EINVAL},
	    {"0.0005", -EINVAL}, /* finer than a milli-CPU */
	    {"1.0001", -EINVAL},  {"0", -ERANGE},
	    {"0.000", -ERANGE},   {"4294967.296", -ERANGE},
	    {"4294968", -ERANGE}, {"99999999999999999999999", -ERANGE},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		uint32_t v = UNTOUCHED32;
		int r = parse_cpus(t[i].in, &v);

		cr_expect_eq(r, t[i].err, "\"%s\": %d, want %d",
			     t[i].in ? t[i].in : "(null)", r, t[i].err);
		cr_expect_eq(v, UNTOUCHED32);
	}
}

/* uint32 */

Test(parse, uint32)
{
	static const struct {
		const char *in;
		int err;
		uint32_t out;
	} t[] = {
	    {"0", 0, 0},
	    {"7", 0, 7},
	    {"007", 0, 7},
	    {"4294967295", 0, UINT32_MAX},
	    {"4294967296", -ERANGE, 0},
	    {"99999999999999999999999", -ERANGE, 0},
	    {NULL, -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	    {"1.0", -EINVAL, 0},
	    {"1.5", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	    {"1K", -EINVAL, 0},
	    {"4294967296x", -EINVAL, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		uint32_t v = UNTOUCHED32;
		int r = parse_uint32(t[i].in, &v);
		const char *in = t[i].in ? t[i].in : "(null)";

		cr_expect_eq(r, t[i].err, "\"%s\": %d, want %d", in, r,
			     t[i].err);
		cr_expect_eq(v, t[i].err == 0 ? t[i].out : UNTOUCHED32,
			     "\"%s\": %u", in, v);
	}
}

/* Formatting */

struct fmt {
	uint64_t in;
	const char *out;
};

Test(parse, format_size)
{
	static const struct fmt t[] = {
	    {0, "0B"},
	    {1, "1B"},
	    {512, "512B"},
	    {1023, "1023B"},
	    {KIB, "1K"},
	    {1536, "1.5K"},
	    {64 * KIB, "64K"},
	    {512 * MIB, "512M"},
	    {GIB + GIB / 2, "1.5G"},
	    {GIB + GIB / 4, "1.25G"},
	    {2 * TIB, "2T"},
	    {2048 * TIB, "2048T"},
	    /* Not exact in G with two decimals, exact in M. */
	    {GIB + MIB, "1025M"},
	    /* Exact in neither: the shorter, rounded-down form. */
	    {GIB + GIB / 2 + 1, "1.5G"},
	    {1000 * KIB, "1000K"},
	    {UINT64_MAX, "16777215.99T"},
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		cr_expect_str_eq(format_size(t[i].in, buf, sizeof(buf)),
				 t[i].out, "%llu", (unsigned long long)t[i].in);
}

Test(parse, format_duration)
{
	static const struct fmt t[] = {
	    {0, "0s"},
	    {1, "1ns"},
	    {999, "999ns"},
	    {1500, "1.5us"},
	    {250000000, "250ms"},
	    {SEC, "1s"},
	    {2500000000, "2.5s"},
	    {60 * SEC, "1m"},
	    {90 * SEC, "1.5m"},
	    /* 1.66m is inexact; seconds are not. */
	    {100 * SEC, "100s"},
	    {3600 * SEC, "1h"},
	    {5400 * SEC, "1.5h"},
	    {61 * 60 * SEC, "61m"},
	    {1500000001, "1.5s"},
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		cr_expect_str_eq(format_duration(t[i].in, buf, sizeof(buf)),
				 t[i].out, "%llu", (unsigned long long)t[i].in);
}

Test(parse, format_truncates_to_buffer)
{
	char buf[4];

	cr_assert_eq(format_size(512 * MIB, buf, sizeof(buf)), buf);
	cr_assert_str_eq(buf, "512");
	cr_assert_eq(format_duration(250000000, buf, 3), buf);
	cr_assert_str_eq(buf, "25");
	/* len 0: nothing written, no crash. */
	buf[0] = 'x';
	format_size(1, buf, 0);
	format_duration(1, buf, 0);
	cr_assert_eq(buf[0], 'x');
}

Test(parse, size_round_trips)
{
	static const char *const strings[] = {
	    "0B", "1B",   "512B", "1K",    "1.5K", "64K",   "1000K",
	    "1M", "512M", "1.5G", "1.25G", "2T",   "2048T",
	};
	static const uint64_t values[] = {
	    0,       1,           4095,        4096,       65536,      12345678,
	    GIB - 1, GIB * 3 / 2, 7 * TIB / 4, 1000 * TIB, UINT64_MAX,
	};
	char buf[32];

	/* Canonical strings survive parse -> format unchanged. */
	for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
		uint64_t v;

		cr_assert_eq(parse_size(strings[i], &v), 0, "%s", strings[i]);
		cr_expect_str_eq(format_size(v, buf, sizeof(buf)), strings[i]);
	}

	/*
	 * Any value survives format -> parse up to the rounding format does:
	 * never more than the value, and within 1% of it.
	 */
	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		uint64_t v = values[i], back;

		format_size(v, buf, sizeof(buf));
		cr_assert_eq(parse_size(buf, &back), 0, "%s", buf);
		cr_expect_leq(back, v, "%s", buf);
		cr_expect_geq(back, v - v / 100, "%s", buf);
	}
}

Test(parse, duration_round_trips)
{
	static const char *const strings[] = {
	    "0s",   "1ns", "999ns", "1.5us", "250ms", "1s",
	    "2.5s", "1m",  "1.5m",  "100s",  "1h",    "61m",
	};
	static const uint64_t values[] = {
	    1,
	    999,
	    1000,
	    123456789,
	    SEC - 1,
	    59 * SEC + 1,
	    7 * 3600 * SEC + 1,
	    UINT64_MAX,
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
		uint64_t v;

		cr_assert_eq(parse_duration(strings[i], &v), 0, "%s",
			     strings[i]);
		cr_expect_str_eq(format_duration(v, buf, sizeof(buf)),
				 strings[i]);
	}

	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		uint64_t v = values[i], back;

		format_duration(v, buf, sizeof(buf));
		cr_assert_eq(parse_duration(buf, &back), 0, "%s", buf);
		cr_expect_leq(back, v, "%s", buf);
		cr_expect_geq(back, v - v / 100, "%s", buf);
	}
}

// SPDX-License-Identifier: MIT
/*
 * Nanoseconds per decode for each payload decoder: run on demand, not a test.
 *
 *   build/tests/bench/bench-decode [iterations]
 *
 * Each figure is the median of 7 timed rounds, after a warm-up round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensors/decode.h"

struct bench_case {
	const char *name;
	enum decode_uuid uuid;
	const char *hex;
};

static const struct bench_case cases[] = {
	{ "2a37 heart rate, u8, contact", DECODE_UUID_HEART_RATE, "0648" },
	{ "2a37 heart rate + 4 RR", DECODE_UUID_HEART_RATE,
	  "1641980398039803980398 03" },
	{ "2a37 heart rate + energy + 9 RR", DECODE_UUID_HEART_RATE,
	  "1e41100098039803980398039803980398039803980398 03" },
	{ "2a19 battery level", DECODE_UUID_BATTERY_LEVEL, "64" },
	{ "2a9d weight, all fields", DECODE_UUID_WEIGHT,
	  "0e983ae8070b1a071e0001f400be06" },
	{ "2a9c body composition", DECODE_UUID_BODY_COMPOSITION,
	  "0606f400e8070b1a071e0001f82a983a" },
	{ "181d Mi Scale v1", DECODE_UUID_MISCALE_V1, "229e43e507040b101301" },
	{ "181b Mi Scale 2", DECODE_UUID_MISCALE_V2,
	  "0226b20705040f0201ac018642" },
	{ "fcd2 BTHome temp+humidity", DECODE_UUID_BTHOME, "4002ca0903bf13" },
	{ "fcd2 BTHome 6 objects", DECODE_UUID_BTHOME,
	  "40000101640250090355141201022301" },
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static struct decoded_payload out;
	long iterations = argc > 1 ? atol(argv[1]) : 2000000;

	if (iterations <= 0) {
		fprintf(stderr, "usage: bench-decode [iterations]\n");
		return 2;
	}
	printf("%-34s %10s\n", "decoder", "ns/decode");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[512];
		size_t len;
		double rounds[8];
		int sink = 0;

		if (decode_hex(cases[i].hex, buf, sizeof(buf), &len, NULL) ||
		    decode_payload(cases[i].uuid, buf, len, &out, NULL)) {
			fprintf(stderr, "%s: bad bench vector\n",
				cases[i].name);
			return 1;
		}
		for (int round = 0; round < 8; round++) {
			double start = now_ns();

			for (long n = 0; n < iterations; n++) {
				/* The barrier keeps the compiler from
				 * hoisting the decode out of the loop. */
				__asm__ volatile("" : : "g"(buf) : "memory");
				sink += decode_payload(cases[i].uuid, buf, len,
						       &out, NULL);
			}
			rounds[round] = (now_ns() - start) / (double)iterations;
		}
		/* Round 0 warmed the caches; the median of the rest. */
		qsort(rounds + 1, 7, sizeof(double), cmp_double);
		printf("%-34s %10.1f%s\n", cases[i].name, rounds[4],
		       sink ? " (errors!)" : "");
	}
	return 0;
}

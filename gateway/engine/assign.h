/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Whose weight is this? A household shares one scale. A standard scale
 * (Weight Scale Service) may send the user index it was set up with; a Mi
 * scale sends only the weight. Pure: no I/O, no globals.
 */

struct assign_person {
	int scale_user;	       /* the scale's user index; 0: not set up */
	double min_kg, max_kg; /* configured weight range; 0, 0: none */
	double recent_kg;      /* the person's latest weight; NAN: none yet */
};

/* A reading this far from a person's latest weight is not theirs. */
#define ASSIGN_RECENT_TOLERANCE_PCT 7.5

/*
 * Returns the index in @people of the person @weight_kg belongs to, or -1
 * when it belongs to nobody or cannot be told apart (the reading is then
 * not stored: a guess would file one person's weight under another).
 *
 * In order: a @scale_user index (1-254) that one person set up decides;
 * else the people whose configured range holds the weight, if exactly one
 * (overlapping ranges that both hold it: nobody); else the person whose
 * latest weight is nearest, if within ASSIGN_RECENT_TOLERANCE_PCT and nearer
 * by half that again than anyone else; else, when the reading is near
 * nobody, the one person with neither a latest weight nor a range (a
 * newcomer, or a household of one on its first weigh-in).
 */
int assign_weight(const struct assign_person *people, size_t count,
		  int scale_user, double weight_kg);

// SPDX-License-Identifier: MIT
#include "gateway/engine/assign.h"

#include <math.h>

static int by_user_index(const struct assign_person *people, size_t count,
			 int scale_user)
{
	int found = -1;

	/* 0 is "not set up" and 0xFF "unknown user" in WSS. */
	if (scale_user <= 0 || scale_user >= 255)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (people[i].scale_user != scale_user)
			continue;
		if (found >= 0)
			return -1; /* two people claim one index */
		found = (int)i;
	}
	return found;
}

static int by_range(const struct assign_person *people, size_t count,
		    double weight_kg)
{
	int found = -1;

	for (size_t i = 0; i < count; i++) {
		const struct assign_person *p = &people[i];

		if (!(p->max_kg > 0))
			continue;
		if (weight_kg < p->min_kg || weight_kg > p->max_kg)
			continue;
		if (found >= 0)
			return -2; /* overlapping ranges: ambiguous */
		found = (int)i;
	}
	return found;
}

static int by_recent(const struct assign_person *people, size_t count,
		     double weight_kg)
{
	double best = INFINITY, second = INFINITY;
	int found = -1;

	for (size_t i = 0; i < count; i++) {
		double d;

		if (isnan(people[i].recent_kg) || !(people[i].recent_kg > 0))
			continue;
		d = fabs(weight_kg - people[i].recent_kg) /
		    people[i].recent_kg * 100.0;
		if (d < best) {
			second = best;
			best = d;
			found = (int)i;
		} else if (d < second) {
			second = d;
		}
	}
	if (found < 0 || best > ASSIGN_RECENT_TOLERANCE_PCT)
		return -1;
	/* Two people of nearly the same weight: do not guess. */
	if (second - best < ASSIGN_RECENT_TOLERANCE_PCT / 2)
		return -2;
	return found;
}

/*
 * A reading near nobody known goes to the one person the scale has not
 * weighed yet (no latest weight, no range): how a household of one, or a
 * new member, gets a first weight without any setup.
 */
static int newcomer(const struct assign_person *people, size_t count)
{
	int found = -1;

	for (size_t i = 0; i < count; i++) {
		const struct assign_person *p = &people[i];

		if (!isnan(p->recent_kg) || p->max_kg > 0)
			continue;
		if (found >= 0)
			return -1;
		found = (int)i;
	}
	return found;
}

int assign_weight(const struct assign_person *people, size_t count,
		  int scale_user, double weight_kg)
{
	int who;

	if (count == 0 || !isfinite(weight_kg) || weight_kg <= 0)
		return -1;
	who = by_user_index(people, count, scale_user);
	if (who >= 0)
		return who;
	who = by_range(people, count, weight_kg);
	if (who >= 0)
		return who;
	if (who == -2)
		return -1;
	who = by_recent(people, count, weight_kg);
	if (who != -1)
		return who >= 0 ? who : -1;
	return newcomer(people, count);
}

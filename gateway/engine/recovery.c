// SPDX-License-Identifier: MIT
#include "gateway/engine/recovery.h"

#include <errno.h>
#include <string.h>

#define HISTORY_DAYS 28 /* what advice looks back over, at most */

int recovery_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (3, counting Monday as 0). */
	int w = (int)((day + 3) % 7);

	return w < 0 ? w + 7 : w;
}

/*
 * The nights score_night() needs for @day: those in [day - lookback, day],
 * with tonight last. When tonight has no night, a gap record is put after
 * the earlier ones in @scratch (a copy only on gap days, which are rare).
 */
static const struct night_metrics *
nights_for(const struct night_metrics *nights, size_t count, size_t *cursor,
	   int32_t day, struct night_metrics *scratch, size_t *ret_count)
{
	size_t first, end;

	while (*cursor < count &&
	       nights[*cursor].day < day - RECOVERY_LOOKBACK_DAYS - 28)
		(*cursor)++;
	first = *cursor;
	end = first;
	while (end < count && nights[end].day <= day)
		end++;
	if (end > first && nights[end - 1].day == day) {
		*ret_count = end - first;
		return nights + first;
	}
	memcpy(scratch, nights + first,
	       (end - first) * sizeof(struct night_metrics));
	scratch[end - first] = night_metrics_empty(day);
	*ret_count = end - first + 1;
	return scratch;
}

int recovery_replay(const struct night_metrics *nights, size_t count,
		    int32_t from_day, int32_t to_day,
		    const struct recovery_params *p, recovery_day_fn fn,
		    void *data)
{
	/* Lookback + load days + tonight: what nights_for() can copy. */
	struct night_metrics scratch[RECOVERY_LOOKBACK_DAYS + 28 + 1];
	struct advice_day history[HISTORY_DAYS];
	size_t history_len = 0, cursor = 0;
	struct recovery_day today;

	if (from_day > to_day)
		return -EINVAL;
	for (size_t i = 1; i < count; i++)
		if (nights[i].day <= nights[i - 1].day)
			return -EINVAL;

	for (int32_t day = from_day - RECOVERY_WARMUP_DAYS; day <= to_day;
	     day++) {
		const struct night_metrics *window;
		size_t window_len;
		struct advice_input in;

		window = nights_for(nights, count, &cursor, day, scratch,
				    &window_len);
		today.day = day;
		today.night = window[window_len - 1];
		score_night(window, window_len, &p->score, &today.score);

		in = (struct advice_input){
			.history = history,
			.history_count = history_len,
			.night = &today.night,
			.score = &today.score,
			.sleep_need_min = p->score.sleep_need_min,
			.club_day = (p->club_days >> recovery_weekday(day)) & 1,
			.goal = p->goal,
			.bedtime_known = p->bedtime_known,
			.bedtime_min = p->bedtime_min,
		};
		advice_decide(&in, &today.advice);

		if (day >= from_day)
			fn(&today, data);

		if (history_len == HISTORY_DAYS) {
			memmove(history, history + 1,
				(HISTORY_DAYS - 1) * sizeof(history[0]));
			history_len--;
		}
		history[history_len++] = (struct advice_day){
			.night = today.night,
			.score = today.score,
			.state = today.advice.state,
		};
	}
	return 0;
}

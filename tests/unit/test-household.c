// SPDX-License-Identifier: MIT
/*
 * What readings from the allowlisted devices become in the store: the
 * household module with a real store in a temporary directory, readings
 * made by the real decoders from bytes.
 */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "gateway/core/config.h"
#include "tests/unit/hex.h"
#include "gateway/core/household.h"
#include "tests/support/test-support.h"

#define STRAP "C4:7C:8D:6A:12:34"
#define SCALE "5C:CA:D3:00:00:01"
#define BED   "A4:C1:38:00:00:02"
/* 2026-03-02 06:00 UTC */
#define T0 INT64_C(1772431200000)

static const char household_conf[] = "[gateway]\n"
				     "timezone=UTC\n"
				     "[user alice]\n"
				     "heart-rate=" STRAP "\n"
				     "bed-sensor=" BED "\n"
				     "scale=" SCALE "\n"
				     "scale-protocol=xiaomi\n"
				     "weight-range=50-70\n"
				     "[user bob]\n"
				     "scale=" SCALE "\n"
				     "scale-protocol=xiaomi\n"
				     "weight-range=72-100\n";

struct fixture {
	char *dir;
	struct config *config;
	store *store;
	household *h;
	int live_calls;
	int urgent_calls;
	GString *log; /* what the household said, a line each */
	/* day_input calls: who, when, what */
	GArray *inputs; /* struct input */
};

static void on_log(void *data, GLogLevelFlags level, const char *message)
{
	struct fixture *f = data;

	g_string_append_printf(f->log, "%s\n", message);
}

struct input {
	int person;
	int64_t t_ms;
	enum household_input kind;
};

static void on_day_input(void *data, int person, int64_t t_ms,
			 enum household_input kind)
{
	struct fixture *f = data;
	struct input in = { person, t_ms, kind };

	g_array_append_val(f->inputs, in);
}

static void on_live(void *data, int person, bool urgent)
{
	struct fixture *f = data;

	f->live_calls++;
	f->urgent_calls += urgent;
}

static void setup(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL;
	struct household_ops ops = { .live_changed = on_live,
				     .log = on_log,
				     .day_input = on_day_input };

	f->log = g_string_new(NULL);
	f->inputs = g_array_new(FALSE, FALSE, sizeof(struct input));
	f->dir = test_tmp_dir_new("test-household-XXXXXX");
	db = g_build_filename(f->dir, "h.db", NULL);
	f->config = config_load_data("household.conf", household_conf,
				     strlen(household_conf), &error);
	g_assert_no_error(error);
	f->store = store_open(db, NULL, &error);
	g_assert_no_error(error);
	f->h = household_new(f->config, f->store, (int32_t)(T0 / 86400000),
			     &ops, f, &error);
	g_assert_no_error(error);
}

static void teardown(struct fixture *f, gconstpointer unused)
{
	household_free(f->h);
	store_close(f->store);
	config_free(f->config);
	g_array_unref(f->inputs);
	test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->log, TRUE);
}

/* Occurrences of @needle in what the household logged. */
static unsigned log_count(struct fixture *f, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(f->log->str, needle); p;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Decodes @hex as @uuid from @address, received at @t_ms. */
static void feed(struct fixture *f, const char *address, enum decode_uuid uuid,
		 const char *hex, int64_t t_ms, int64_t mono_ms)
{
	g_autofree struct reading *r = g_new0(struct reading, 1);
	g_autoptr(GError) error = NULL;
	uint8_t bytes[64];
	size_t len = test_hex(hex, bytes, sizeof(bytes));

	g_assert_cmpint(decode_payload(uuid, bytes, len, &r->payload, NULL), ==,
			0);
	g_strlcpy(r->address, address, sizeof(r->address));
	r->t_ms = t_ms;
	g_assert_true(household_ingest(f->h, r, mono_ms, &error));
	g_assert_no_error(error);
}

/* The household anew, of the configuration @conf, on the same store. */
static void reload(struct fixture *f, const char *conf)
{
	g_autoptr(GError) error = NULL;
	struct household_ops ops = { 0 };

	household_free(f->h);
	config_free(f->config);
	f->config = config_load_data("c.conf", conf, strlen(conf), &error);
	g_assert_no_error(error);
	f->h = household_new(f->config, f->store, (int32_t)(T0 / 86400000),
			     &ops, f, &error);
	g_assert_no_error(error);
}

static void load(struct fixture *f, const char *user, struct store_span *ret)
{
	g_autoptr(GError) error = NULL;
	int64_t id;

	g_assert_true(store_user_id(f->store, user, &id, &error));
	g_assert_true(
	    store_load_span(f->store, id, 0, INT64_MAX / 2, ret, &error));
	g_assert_no_error(error);
}

static void trust(struct fixture *f, int64_t wall_ms, int64_t mono_ms)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(
	    household_set_clock_trusted(f->h, wall_ms, mono_ms, &error));
	g_assert_no_error(error);
}

/* Readings before the clock is trusted are held and filed at their true
 * time: 1970 never reaches the store. */
static void test_held_until_clock(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };

	/* Booted in 1970: wall 10 s, monotonic 5 s. HR 60, RR 1024/1024 s. */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", 10000, 5000);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3d 00 04", 11000, 6000);
	g_assert_cmpuint(household_held_rows(f->h), ==, 4);
	load(f, "alice", &span);
	g_assert_cmpuint(span.hr->len, ==, 0);
	store_span_clear(&span);

	/* The clock is set: monotonic 16 s is T0. */
	trust(f, T0, 16000);
	g_assert_cmpuint(household_held_rows(f->h), ==, 0);
	load(f, "alice", &span);
	g_assert_cmpuint(span.hr->len, ==, 2);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 0).t_ms, ==,
			T0 - 11000);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 1).t_ms, ==,
			T0 - 10000);
	g_assert_cmpuint(span.rr->len, ==, 2);
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 1).t_ms, ==,
			T0 - 10000);
	store_span_clear(&span);
}

/* RR intervals chain from one notification to the next; a burst of
 * notifications in one millisecond keeps every heart rate. */
static void test_rr_chain(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };

	trust(f, T0, 0);
	/* Two beats of 800 ms (819/1024 s) per notification, arriving with
	 * jitter; then two notifications in the same millisecond. */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 4b 33 03 33 03", T0, 0);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 4b 33 03 33 03", T0 + 1630,
	     1630);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 4b 33 03", T0 + 2400, 2400);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 4b 33 03", T0 + 2400, 2400);
	load(f, "alice", &span);
	g_assert_cmpuint(span.hr->len, ==, 4);
	g_assert_cmpuint(span.rr->len, ==, 6);
	for (guint i = 1; i < span.rr->len; i++) {
		int64_t step =
		    g_array_index(span.rr, struct rr_sample, i).t_ms -
		    g_array_index(span.rr, struct rr_sample, i - 1).t_ms;

		/* 799.8 ms each: the chain, not the arrival jitter. */
		g_assert_cmpint(step, >=, 799);
		g_assert_cmpint(step, <=, 801);
	}
	store_span_clear(&span);
}

/* A strap off the skin is not a heart rate. */
static void test_no_contact(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };
	struct household_person *alice = household_person(f->h, 0);

	trust(f, T0, 0);
	/* Contact supported, not detected (bits 1-2 = 10). */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "04 48", T0, 0);
	load(f, "alice", &span);
	g_assert_cmpuint(span.hr->len, ==, 0);
	g_assert_cmpint(alice->live.contact, ==, 0);
	g_assert_true(isnan(alice->live.heart_rate_bpm));
	store_span_clear(&span);
}

/* A strap that cannot tell contact (flags bits 1-2 = 00): its values are
 * not urgent, so the publisher's interval holds (issue 20: every one
 * went out at once, a JSON text and an MQTT message per notification);
 * one that can is urgent when contact comes and goes. */
static void test_contact_urgency(struct fixture *f, gconstpointer unused)
{
	struct household_person *alice = household_person(f->h, 0);

	trust(f, T0, 0);
	f->live_calls = f->urgent_calls = 0;
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "10 48 00 04", T0, 0);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "10 49 00 04", T0 + 1000, 1000);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "10 4a 00 04", T0 + 2000, 2000);
	g_assert_cmpint(f->live_calls, ==, 3);
	g_assert_cmpint(f->urgent_calls, ==, 0);
	g_assert_cmpint(alice->live.contact, ==, -1);
	/* Contact supported and detected: a change, then none. */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 48", T0 + 3000, 3000);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 48", T0 + 4000, 4000);
	g_assert_cmpint(f->urgent_calls, ==, 1);
	g_assert_cmpint(alice->live.contact, ==, 1);
	/* Off the skin, and again: one change. */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "04 48", T0 + 5000, 5000);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "04 48", T0 + 6000, 6000);
	g_assert_cmpint(f->urgent_calls, ==, 2);
	g_assert_cmpint(alice->live.contact, ==, 0);
	g_assert_cmpint(f->live_calls, ==, 7);
}

/* Mi Body Composition Scale 2 frame: stabilised, impedance, @raw kg/200. */
static char *miscale_hex(unsigned raw, unsigned second)
{
	return g_strdup_printf("02 22 ea 07 03 02 06 00 %02x f4 01 %02x %02x",
			       second, raw & 0xff, raw >> 8);
}

/* The shared scale: each weighing to the person whose range holds it, a
 * repeated frame once, a weight in nobody's range nowhere. */
static void test_shared_scale(struct fixture *f, gconstpointer unused)
{
	struct store_span alice = { 0 }, bob = { 0 };
	g_autofree char *a = miscale_hex(62 * 200, 1);
	g_autofree char *b = miscale_hex(81 * 200 + 100, 2);
	g_autofree char *nobody = miscale_hex(71 * 200, 3);

	trust(f, T0, 0);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, a, T0, 0);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, a, T0 + 1000, 1000);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, b, T0 + 60000, 60000);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, nobody, T0 + 120000, 120000);
	load(f, "alice", &alice);
	load(f, "bob", &bob);
	g_assert_cmpuint(alice.weights->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(alice.weights, struct weight_sample, 0).weight_kg, ==,
	    62.0);
	g_assert_cmpuint(bob.weights->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(bob.weights, struct weight_sample, 0).weight_kg, ==,
	    81.5);
	g_assert_cmpfloat(household_person(f->h, 1)->live.weight_kg, ==, 81.5);
	store_span_clear(&alice);
	store_span_clear(&bob);
}

/* A weighing and a check-in tell the owner whose day got data (it may
 * come after the morning); a heart rate does not, nor anything filed while
 * the clock was not trusted. */
static void test_day_input(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *b = miscale_hex(81 * 200 + 100, 2);
	const struct input *in;

	/* Before the clock: held, no call. */
	g_assert_true(household_checkin(f->h, 0, 10000, 4, 2, 4, 5000, &error));
	g_assert_cmpuint(f->inputs->len, ==, 0);
	trust(f, T0, 16000);
	g_assert_cmpuint(f->inputs->len, ==, 0);

	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", T0 + 1000, 0);
	g_assert_cmpuint(f->inputs->len, ==, 0);

	feed(f, SCALE, DECODE_UUID_MISCALE_V2, b, T0 + 60000, 0);
	g_assert_cmpuint(f->inputs->len, ==, 1);
	in = &g_array_index(f->inputs, struct input, 0);
	g_assert_cmpint(in->person, ==, 1);
	g_assert_cmpint(in->t_ms, ==, T0 + 60000);
	g_assert_cmpint(in->kind, ==, HOUSEHOLD_INPUT_WEIGHING);

	g_assert_true(
	    household_checkin(f->h, 0, T0 + 120000, 2, 3, 2, 0, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(f->inputs->len, ==, 2);
	in = &g_array_index(f->inputs, struct input, 1);
	g_assert_cmpint(in->person, ==, 0);
	g_assert_cmpint(in->t_ms, ==, T0 + 120000);
	g_assert_cmpint(in->kind, ==, HOUSEHOLD_INPUT_CHECKIN);
}

/* A Mi scale's stable frame without impedance, then with it: one row,
 * completed. */
static void test_miscale_impedance(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };
	/* control 0x2002: stabilised, impedance not (yet) valid */
	g_autofree char *bare =
	    g_strdup_printf("02 20 ea 07 03 02 06 00 05 fd ff %02x %02x",
			    (62 * 200) & 0xff, (62 * 200) >> 8);
	g_autofree char *full = NULL;
	g_autoptr(GError) error = NULL;
	int64_t id;
	sqlite3 *db;
	sqlite3_stmt *st;
	g_autofree char *path = g_build_filename(f->dir, "h.db", NULL);

	/* The same weighing's two frames carry the same scale time. */
	full = g_strdup_printf("02 22 ea 07 03 02 06 00 05 f4 01 %02x %02x",
			       (62 * 200) & 0xff, (62 * 200) >> 8);
	trust(f, T0, 0);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, bare, T0, 0);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, full, T0 + 800, 800);
	feed(f, SCALE, DECODE_UUID_MISCALE_V2, full, T0 + 1600, 1600);
	load(f, "alice", &span);
	g_assert_cmpuint(span.weights->len, ==, 1);
	store_span_clear(&span);
	g_assert_true(store_flush(f->store, &error));
	g_assert_true(store_user_id(f->store, "alice", &id, &error));
	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(
	    sqlite3_prepare_v2(db,
			       "SELECT count(*), max(impedance_ohm) "
			       "FROM body WHERE user_id = ?",
			       -1, &st, NULL),
	    ==, SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(st, 0), ==, 1);
	g_assert_cmpfloat(sqlite3_column_double(st, 1), ==, 500);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A standard scale's Weight Measurement and Body Composition Measurement
 * of one weighing: one row with weight and body fat. */
static void test_standard_scale(struct fixture *f, gconstpointer unused)
{
	static const char conf[] = "[user carol]\n"
				   "scale=" SCALE "\n"
				   "scale-user=1\n";
	struct store_span span = { 0 };

	reload(f, conf);
	trust(f, T0, 0);
	/* 2a9d: SI, user 1 (flags 0x04), 72.5 kg = 14500 */
	feed(f, SCALE, DECODE_UUID_WEIGHT, "04 a4 38 01", T0, 0);
	/* 2a9c: user (0x0004), weight (0x0400): fat 18.5 %, user 1, 72.5 kg */
	feed(f, SCALE, DECODE_UUID_BODY_COMPOSITION, "04 04 b9 00 01 a4 38",
	     T0 + 400, 400);
	load(f, "carol", &span);
	g_assert_cmpuint(span.weights->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(span.weights, struct weight_sample, 0).weight_kg, ==,
	    72.5);
	g_assert_cmpfloat(
	    g_array_index(span.weights, struct weight_sample, 0).body_fat_pct,
	    ==, 18.5);
	store_span_clear(&span);
}

/* The bed sensor: occupancy to the bed state, the live value and the
 * morning tracker; its temperature to the environment. */
static void test_bed_sensor(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };
	struct household_person *p = household_person(f->h, 0);

	trust(f, T0, 0);
	f->urgent_calls = 0;
	/* packet id 1, occupancy 1, temperature 21.5 °C */
	feed(f, BED, DECODE_UUID_BTHOME, "40 00 01 23 01 02 66 08", T0, 0);
	feed(f, BED, DECODE_UUID_BTHOME, "40 00 02 23 00", T0 + 3600000,
	     3600000);
	load(f, "alice", &span);
	g_assert_cmpuint(span.bed->len, ==, 2);
	g_assert_true(g_array_index(span.bed, struct state_sample, 0).on);
	g_assert_false(g_array_index(span.bed, struct state_sample, 1).on);
	g_assert_cmpint(p->live.bed, ==, 0);
	g_assert_cmpint(f->urgent_calls, ==, 2);
	g_assert_true(p->morning.bed_known);
	g_assert_cmpint(p->morning.bed.start_ms, ==, T0);
	store_span_clear(&span);
}

/* Held rows are in the database: a restart (household and store closed and
 * opened again, in the same boot) finds them, and files them at their true
 * times once the clock is trusted. */
static void test_held_restart(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "h.db", NULL);
	struct household_ops ops = { .live_changed = on_live, .log = on_log };
	struct store_span span = { 0 };

	/* Booted in 1970: HR 60 and one RR of 1000 ms, a second apart. */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", 10000, 5000);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", 11000, 6000);
	feed(f, BED, DECODE_UUID_BTHOME, "40 00 01 23 01", 11500, 6500);
	g_assert_cmpuint(household_held_rows(f->h), ==, 5);

	household_free(f->h);
	store_close(f->store);
	f->store = store_open(db, NULL, &error);
	g_assert_no_error(error);
	f->h = household_new(f->config, f->store, (int32_t)(T0 / 86400000),
			     &ops, f, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(household_held_rows(f->h), ==, 5);
	load(f, "alice", &span);
	g_assert_cmpuint(span.hr->len + span.rr->len + span.bed->len, ==, 0);
	store_span_clear(&span);

	/* Monotonic 20 s is T0. */
	trust(f, T0, 20000);
	g_assert_cmpuint(household_held_rows(f->h), ==, 0);
	g_assert_cmpuint(log_count(f, "filed 5 readings"), ==, 1);
	load(f, "alice", &span);
	g_assert_cmpuint(span.hr->len, ==, 2);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 0).t_ms, ==,
			T0 - 15000);
	g_assert_cmpint(g_array_index(span.hr, struct hr_sample, 1).t_ms, ==,
			T0 - 14000);
	g_assert_cmpuint(span.rr->len, ==, 2);
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 1).t_ms, ==,
			T0 - 14000);
	g_assert_cmpuint(span.bed->len, ==, 1);
	g_assert_cmpint(g_array_index(span.bed, struct state_sample, 0).t_ms,
			==, T0 - 13500);
	store_span_clear(&span);
}

/* The live value's and the device's times were read on the untrusted
 * clock: once it is trusted they are moved with it, never left in 1970. */
static void test_live_times_at_trust(struct fixture *f, gconstpointer unused)
{
	struct household_person *alice = household_person(f->h, 0);
	int strap = household_find_device(f->h, STRAP);

	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", 10000, 5000);
	g_assert_cmpint(alice->live.updated_ms, ==, 10000);
	trust(f, T0, 16000);
	g_assert_cmpint(alice->live.updated_ms, ==, T0 - 11000);
	g_assert_cmpint(alice->live.heart_rate_ms, ==, T0 - 11000);
	g_assert_cmpint(household_device(f->h, (size_t)strap)->last_seen_ms, ==,
			T0 - 11000);
}

/* Fifteen minutes of a strap, one beat of 1000 ms a second; the wall clock
 * steps back 10 minutes; five more minutes. Every beat is stored, the
 * later ones as a block 10 minutes earlier with their spacing kept (where
 * an instant is taken, the millisecond after), none squeezed; the step is
 * logged once. */
#define PRE_S	900
#define POST_S	300
#define STEP_MS (-600000)

/* Every beat of the step-back test where it belongs: @samples holds
 * struct rr_sample or struct hr_sample, both with t_ms first. */
static void assert_step_back_times(GArray *samples)
{
	g_autoptr(GHashTable) at =
	    g_hash_table_new(g_int64_hash, g_int64_equal);
	guint size = g_array_get_element_size(samples);

	g_assert_cmpuint(samples->len, ==, PRE_S + POST_S);
	for (guint i = 0; i < samples->len; i++)
		g_hash_table_add(at, samples->data + (gsize)i * size);
	for (int i = 1; i <= PRE_S + POST_S; i++) {
		/* After the step: on the new clock, each instant taken by a
		 * beat from before the step, so one millisecond on. */
		int64_t t = T0 + i * 1000 + (i > PRE_S ? STEP_MS + 1 : 0);

		if (!g_hash_table_contains(at, &t))
			g_assert_cmpint(t, ==, -1);
	}
}

static void test_step_back(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };

	trust(f, T0, 0);
	for (int i = 1; i <= PRE_S + POST_S; i++) {
		int64_t mono = i * 1000;
		int64_t wall = T0 + mono + (i > PRE_S ? STEP_MS : 0);

		feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", wall,
		     mono);
	}
	g_assert_cmpuint(log_count(f, "stepped"), ==, 1);
	g_assert_cmpuint(log_count(f, "stepped back by 10.0 min"), ==, 1);

	load(f, "alice", &span);
	assert_step_back_times(span.rr);
	assert_step_back_times(span.hr);
	store_span_clear(&span);
}

/* A step forward: logged once with its size; the beats after it move on
 * as a block; the device's last-seen time moves with the clock. */
static void test_step_forward(struct fixture *f, gconstpointer unused)
{
	struct store_span span = { 0 };
	int strap = household_find_device(f->h, STRAP);

	trust(f, T0, 0);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", T0 + 1000, 1000);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", T0 + 2000, 2000);
	/* Slewed by a millisecond: no step, and the beats keep their
	 * spacing (the offset follows by 1/16 ms). */
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04", T0 + 3001, 3000);
	g_assert_cmpuint(log_count(f, "stepped"), ==, 0);
	feed(f, STRAP, DECODE_UUID_HEART_RATE, "16 3c 00 04",
	     T0 + 3600000 + 4001, 4000);
	g_assert_cmpuint(log_count(f, "stepped forward by 1.0 h"), ==, 1);
	g_assert_cmpint(household_device(f->h, (size_t)strap)->last_seen_ms, ==,
			T0 + 3600000 + 4001);
	load(f, "alice", &span);
	g_assert_cmpuint(span.rr->len, ==, 4);
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 2).t_ms, ==,
			T0 + 3000);
	/* The chain of beats goes on: 1000 ms after the last, on the new
	 * clock. */
	g_assert_cmpint(g_array_index(span.rr, struct rr_sample, 3).t_ms, ==,
			T0 + 3600000 + 4001);
	store_span_clear(&span);
}

/* A vendor scale's weighing, as the advertisement dispatcher hands it on
 * (sensors/advert-decode.h): any family, the same path. */
static void feed_weighing(struct fixture *f, double kg, bool final,
			  double impedance_ohm, int64_t t_ms)
{
	g_autofree struct reading *r = g_new0(struct reading, 1);
	g_autoptr(GError) error = NULL;

	r->payload.uuid = DECODE_SCALE_WEIGHING;
	r->payload.u.scale = (struct scale_weighing){
		.family = SCALE_FAMILY_OKOK_C0,
		.weight_kg = kg,
		.final = final,
		.has_impedance = impedance_ohm > 0,
		.impedance_ohm = impedance_ohm > 0 ? impedance_ohm : 0,
	};
	g_strlcpy(r->address, SCALE, sizeof(r->address));
	r->t_ms = t_ms;
	r->via = READING_VIA_ADVERTISEMENT;
	/* The monotonic clock as trust(f, T0, 0) set it: 0 is T0. */
	g_assert_true(household_ingest(f->h, r, t_ms - T0, &error));
	g_assert_no_error(error);
}

/*
 * A vendor family's weighings are filed by their kind, like every scale's:
 * a live weight reaches only the live values (and only someone's), a final
 * weighing is one row for the person it fits, its repeats none.
 */
static void test_vendor_weighing(struct fixture *f, gconstpointer unused)
{
	struct store_span alice = { 0 }, bob = { 0 };
	struct household_person *a = household_person(f->h, 0);

	trust(f, T0, 0);
	f->urgent_calls = 0;
	f->live_calls = 0;
	/* Stepping on: 30 kg fits nobody and says nothing; 61 kg is
	 * alice's live weight, not urgent, not stored. */
	feed_weighing(f, 30.0, false, 0, T0);
	g_assert_cmpint(f->live_calls, ==, 0);
	feed_weighing(f, 61.0, false, 0, T0 + 200);
	g_assert_cmpfloat(a->live.weight_kg, ==, 61.0);
	g_assert_cmpint(f->live_calls, ==, 1);
	g_assert_cmpint(f->urgent_calls, ==, 0);
	/* Settled, repeated: one row. */
	feed_weighing(f, 61.5, true, 500.3, T0 + 1000);
	feed_weighing(f, 61.5, true, 500.3, T0 + 1500);
	feed_weighing(f, 61.5, true, 500.3, T0 + 2000);
	g_assert_cmpint(f->urgent_calls, ==, 1);
	/* bob a minute later. */
	feed_weighing(f, 81.0, true, 0, T0 + 60000);
	load(f, "alice", &alice);
	load(f, "bob", &bob);
	g_assert_cmpuint(alice.weights->len, ==, 1);
	g_assert_cmpfloat(
	    g_array_index(alice.weights, struct weight_sample, 0).weight_kg, ==,
	    61.5);
	g_assert_cmpint(
	    g_array_index(alice.weights, struct weight_sample, 0).t_ms, ==,
	    T0 + 1000);
	g_assert_cmpuint(bob.weights->len, ==, 1);
	g_assert_cmpfloat(household_person(f->h, 1)->live.weight_kg, ==, 81.0);
	store_span_clear(&alice);
	store_span_clear(&bob);
}

/* scale-protocol= is an override: without it the radio recognises the
 * scale; standard connects it, xiaomi listens. */
static void test_scale_kinds(struct fixture *f, gconstpointer unused)
{
	static const char conf[] = "[user carol]\n"
				   "scale=5C:CA:D3:00:00:01\n"
				   "[user dave]\n"
				   "scale=5C:CA:D3:00:00:02\n"
				   "scale-protocol=standard\n";
	int i;

	g_assert_cmpint(
	    household_device(f->h, (size_t)household_find_device(f->h, SCALE))
		->kind,
	    ==, HOUSEHOLD_MISCALE);
	reload(f, conf);
	i = household_find_device(f->h, "5C:CA:D3:00:00:01");
	g_assert_cmpint(household_device(f->h, (size_t)i)->kind, ==,
			HOUSEHOLD_SCALE);
	i = household_find_device(f->h, "5C:CA:D3:00:00:02");
	g_assert_cmpint(household_device(f->h, (size_t)i)->kind, ==,
			HOUSEHOLD_STANDARD_SCALE);
}

/* Files a satellite's reading; returns what the household did. */
static enum household_remote_result
remote(struct fixture *f, const char *address, const char *user, int64_t t_ms,
       enum store_reading_kind kind, int sub, double v0)
{
	struct household_remote_reading r = {
		.address = address,
		.user = user,
		.t_ms = t_ms,
		.kind = kind,
		.sub = sub,
		.v = { v0, NAN, NAN },
	};
	enum household_remote_result result;
	g_autoptr(GError) error = NULL;

	g_assert_true(household_file_remote(f->h, &r, &result, &error));
	g_assert_no_error(error);
	return result;
}

/* A satellite's readings (DESIGN §13): filed by their natural key, so one
 * heard twice is one row; live values, day input and the device follow as
 * for a local reading; a foreign device, a reading of the wrong kind for
 * its device, or a shared scale's weighing for nobody who shares it are
 * dropped; the person on a shared scale is the one the satellite named. */
static void test_remote(struct fixture *f, gconstpointer unused)
{
	struct store_span alice = { 0 }, bob = { 0 };
	int dev = household_find_device(f->h, STRAP);

	trust(f, T0, 0);
	for (int twice = 0; twice < 2; twice++) {
		g_assert_cmpint(remote(f, STRAP, "alice", T0 + 1000,
				       STORE_READING_HR, 0, 55),
				==, HOUSEHOLD_REMOTE_FILED);
		g_assert_cmpint(remote(f, "c4:7c:8d:6a:12:34", "alice",
				       T0 + 1001, STORE_READING_RR, 0, 968.75),
				==, HOUSEHOLD_REMOTE_FILED);
		g_assert_cmpint(remote(f, BED, "alice", T0 + 2000,
				       STORE_READING_STATE, STORE_STATE_BED, 1),
				==, HOUSEHOLD_REMOTE_FILED);
	}
	g_assert_cmpfloat(household_person(f->h, 0)->live.heart_rate_bpm, ==,
			  55);
	g_assert_cmpint(household_person(f->h, 0)->live.bed, ==, 1);
	g_assert_cmpint(household_device(f->h, (size_t)dev)->last_seen_ms, ==,
			T0 + 1001);

	/* The shared scale: the person the satellite named, once. */
	{
		struct household_remote_reading w = {
			.address = SCALE,
			.user = "bob",
			.t_ms = T0 + 60000,
			.kind = STORE_READING_BODY,
			.v = { 81.5, NAN, 480 },
		};
		enum household_remote_result result;
		g_autoptr(GError) error = NULL;

		for (int twice = 0; twice < 2; twice++) {
			g_assert_true(
			    household_file_remote(f->h, &w, &result, &error));
			g_assert_cmpint(result, ==, HOUSEHOLD_REMOTE_FILED);
		}
		w.user = "carol";
		g_assert_true(household_file_remote(f->h, &w, &result, &error));
		g_assert_cmpint(result, ==, HOUSEHOLD_REMOTE_MISMATCH);
	}
	g_assert_cmpuint(f->inputs->len, >=, 1);
	g_assert_cmpint(g_array_index(f->inputs, struct input, 0).person, ==,
			1);
	g_assert_cmpfloat(household_person(f->h, 1)->live.weight_kg, ==, 81.5);

	/* Dropped: a heart rate from the scale, a foreign strap, a
	 * check-in, a value no strap sends. */
	g_assert_cmpint(
	    remote(f, SCALE, "alice", T0 + 3000, STORE_READING_HR, 0, 60), ==,
	    HOUSEHOLD_REMOTE_MISMATCH);
	g_assert_cmpint(remote(f, "C4:7C:8D:00:00:99", "alice", T0 + 3000,
			       STORE_READING_HR, 0, 60),
			==, HOUSEHOLD_REMOTE_FOREIGN);
	g_assert_cmpint(
	    remote(f, STRAP, "alice", T0 + 3000, STORE_READING_CHECKIN, 0, 3),
	    ==, HOUSEHOLD_REMOTE_MISMATCH);
	g_assert_cmpint(
	    remote(f, STRAP, "alice", T0 + 4000, STORE_READING_HR, 0, -5), ==,
	    HOUSEHOLD_REMOTE_INVALID);

	load(f, "alice", &alice);
	load(f, "bob", &bob);
	g_assert_cmpuint(alice.hr->len, ==, 1);
	g_assert_cmpuint(alice.rr->len, ==, 1);
	g_assert_cmpfloat(g_array_index(alice.rr, struct rr_sample, 0).rr_ms,
			  ==, 968.75);
	g_assert_cmpuint(alice.weights->len, ==, 0);
	g_assert_cmpuint(bob.weights->len, ==, 1);
	store_span_clear(&alice);
	store_span_clear(&bob);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn)                                                          \
	g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/household/held-until-clock", test_held_until_clock);
	ADD("/household/held-restart", test_held_restart);
	ADD("/household/live-times-at-trust", test_live_times_at_trust);
	ADD("/household/step-back", test_step_back);
	ADD("/household/step-forward", test_step_forward);
	ADD("/household/rr-chain", test_rr_chain);
	ADD("/household/no-contact", test_no_contact);
	ADD("/household/contact-urgency", test_contact_urgency);
	ADD("/household/shared-scale", test_shared_scale);
	ADD("/household/bed-sensor", test_bed_sensor);
	ADD("/household/miscale-impedance", test_miscale_impedance);
	ADD("/household/standard-scale", test_standard_scale);
	ADD("/household/day-input", test_day_input);
	ADD("/household/vendor-weighing", test_vendor_weighing);
	ADD("/household/scale-kinds", test_scale_kinds);
	ADD("/household/remote", test_remote);
	return g_test_run();
}

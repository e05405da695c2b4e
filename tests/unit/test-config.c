// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "gateway/core/config.h"
#include "tests/support/test-support.h"

typedef struct config owned_config;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(owned_config, config_free)

/*
 * The files a config may name live in one temporary directory, made by
 * main(): texts below say @DIR@ for it, and @UNREADABLE@ for a path that
 * exists but cannot be read (a mode 000 file; a directory when running as
 * root, who reads mode 000 files).
 */
static char *tmp_dir;

static char *expand(const char *text)
{
	g_autofree char *unreadable =
	    geteuid() == 0 ? g_build_filename(tmp_dir, "certs", NULL)
			   : g_build_filename(tmp_dir, "unreadable", NULL);
	g_auto(GStrv) parts = g_strsplit(text, "@UNREADABLE@", -1);
	g_autofree char *step = g_strjoinv(unreadable, parts);
	g_auto(GStrv) parts2 = g_strsplit(step, "@DIR@", -1);
	g_autofree char *step2 = g_strjoinv(tmp_dir, parts2);
	/* A long value, and what a message shows of it. */
	g_autofree char *long_value = g_strnfill(100000, 'Z');
	g_autofree char *long_shown = g_strnfill(64, 'Z');
	g_auto(GStrv) parts3 = g_strsplit(step2, "@LONG@", -1);
	g_autofree char *step3 = g_strjoinv(long_value, parts3);
	g_auto(GStrv) parts4 = g_strsplit(step3, "@LONG64@", -1);

	return g_strjoinv(long_shown, parts4);
}

static struct config *load_text(const char *text, GError **error)
{
	g_autofree char *data = expand(text);

	return config_load_data("test.conf", data, strlen(data), error);
}

/* ---- a full config ------------------------------------------------------ */

static const char full_text[] = "# every key of every group\n"	   /* 1 */
				"[gateway]\n"			   /* 2 */
				"adapter=hci1\n"		   /* 3 */
				"power-on-adapter=false\n"	   /* 4 */
				"database=/srv/recoveryd/r.db\n"   /* 5 */
				"timezone=Europe/Berlin\n"	   /* 6 */
				"retention-days=30\n"		   /* 7 */
				"require-clock-sync=true\n"	   /* 8 */
				"\n"				   /* 9 */
				"[mqtt]\n"			   /* 10 */
				"host=broker.lan\n"		   /* 11 */
				"port=8884\n"			   /* 12 */
				"tls=true\n"			   /* 13 */
				"ca-file=@DIR@/ca.crt\n"	   /* 14 */
				"ca-dir=@DIR@/certs\n"		   /* 15 */
				"cert-file=@DIR@/client.crt\n"	   /* 16 */
				"key-file=@DIR@/client.key\n"	   /* 17 */
				"username=recoveryd\n"		   /* 18 */
				"password-file=@DIR@/password\n"   /* 19 */
				"allow-insecure=true\n"		   /* 20 */
				"base-topic=home/recovery\n"	   /* 21 */
				"discovery-prefix=ha\n"		   /* 22 */
				"client-id=recoveryd-pi\n"	   /* 23 */
				"protocol=5\n"			   /* 24 */
				"keepalive=60\n"		   /* 25 */
				"\n"				   /* 26 */
				"[user alice]\n"		   /* 27 */
				"display-name=Alice Zoë\n"	   /* 28 */
				"heart-rate=c4:7c:8d:6a:12:34\n"   /* 29 */
				"scale=5C:CA:D3:00:00:01\n"	   /* 30 */
				"scale-protocol=xiaomi\n"	   /* 31 */
				"scale-user=1\n"		   /* 32 */
				"weight-range=55.5 - 70\n"	   /* 33 */
				"bed-sensor=A4:C1:38:00:00:02\n"   /* 34 */
				"sleep-need=450\n"		   /* 35 */
				"morning-alert=06:45:30\n"	   /* 36 */
				"morning-latest=10:30\n"	   /* 37 */
				"bedtime=22:45\n"		   /* 38 */
				"wake=06:30\n"			   /* 39 */
				"hr-max=185\n"			   /* 40 */
				"sex=female\n"			   /* 41 */
				"goal=to clear my head  \n"	   /* 42 */
				"club-days=Tue, sat\n"		   /* 43 */
				"\n"				   /* 44 */
				"  [user bob]  \n"		   /* 45 */
				"heart-rate = C4:7C:8D:6A:56:78\n" /* 46 */
				"scale=5c:ca:d3:00:00:01\n"	   /* 47 */
				"scale-protocol=xiaomi\n"	   /* 48 */
				"scale-user=2\n"		   /* 49 */
				"weight-range=75-95\n"		   /* 50 */
				"morning-alert=wake\n"		   /* 51 */
				"alert-wait-checkin=240\n"	   /* 52 */
				"sex=male\n"			   /* 53 */
				"club-days=mon,wed,fri\n";	   /* 54 */

static void check_full(const struct config *config)
{
	const struct config_person *a, *b;
	g_autofree char *ca = g_build_filename(tmp_dir, "ca.crt", NULL);
	g_autofree char *certs = g_build_filename(tmp_dir, "certs", NULL);
	g_autofree char *crt = g_build_filename(tmp_dir, "client.crt", NULL);
	g_autofree char *key = g_build_filename(tmp_dir, "client.key", NULL);
	g_autofree char *pw = g_build_filename(tmp_dir, "password", NULL);

	g_assert_cmpstr(config->adapter, ==, "hci1");
	g_assert_false(config->power_on_adapter);
	g_assert_cmpstr(config->database, ==, "/srv/recoveryd/r.db");
	g_assert_cmpstr(config->timezone, ==, "Europe/Berlin");
	g_assert_cmpint(config->retention_days, ==, 30);
	g_assert_true(config->require_clock_sync);

	g_assert_cmpstr(config->host, ==, "broker.lan");
	g_assert_cmpint(config->port, ==, 8884);
	g_assert_true(config->tls);
	g_assert_cmpstr(config->ca_file, ==, ca);
	g_assert_cmpstr(config->ca_dir, ==, certs);
	g_assert_cmpstr(config->cert_file, ==, crt);
	g_assert_cmpstr(config->key_file, ==, key);
	g_assert_cmpstr(config->username, ==, "recoveryd");
	g_assert_cmpstr(config->password_file, ==, pw);
	g_assert_true(config->allow_insecure);
	g_assert_cmpstr(config->base_topic, ==, "home/recovery");
	g_assert_cmpstr(config->discovery_prefix, ==, "ha");
	g_assert_cmpstr(config->client_id, ==, "recoveryd-pi");
	g_assert_cmpint(config->protocol, ==, 5);
	g_assert_cmpint(config->keepalive_s, ==, 60);

	g_assert_cmpuint(config->person_count, ==, 2);
	a = &config->people[0];
	g_assert_cmpstr(a->name, ==, "alice");
	g_assert_cmpstr(a->display_name, ==, "Alice Zoë");
	g_assert_cmpstr(a->heart_rate, ==, "C4:7C:8D:6A:12:34");
	g_assert_cmpstr(a->scale, ==, "5C:CA:D3:00:00:01");
	g_assert_cmpstr(a->bed_sensor, ==, "A4:C1:38:00:00:02");
	g_assert_cmpint(a->scale_protocol, ==, CONFIG_SCALE_XIAOMI);
	g_assert_cmpint(a->scale_user, ==, 1);
	g_assert_cmpfloat(a->weight_min_kg, ==, 55.5);
	g_assert_cmpfloat(a->weight_max_kg, ==, 70.0);
	g_assert_cmpint(a->sleep_need_min, ==, 450);
	g_assert_cmpint(a->alert_s, ==, 6 * 3600 + 45 * 60 + 30);
	g_assert_cmpint(a->alert_latest_s, ==, 10 * 3600 + 30 * 60);
	g_assert_cmpint(a->bedtime_min, ==, 22 * 60 + 45);
	g_assert_cmpint(a->wake_min, ==, 6 * 60 + 30);
	g_assert_cmpint(a->hr_max_bpm, ==, 185);
	g_assert_cmpint(a->sex, ==, LOAD_SEX_FEMALE);
	g_assert_cmpstr(a->goal, ==, "to clear my head");
	g_assert_cmpuint(a->club_days, ==, (1u << 1) | (1u << 5));
	g_assert_cmpint(a->line, ==, 27);

	b = &config->people[1];
	g_assert_cmpstr(b->name, ==, "bob");
	g_assert_null(b->display_name);
	g_assert_cmpstr(b->heart_rate, ==, "C4:7C:8D:6A:56:78");
	g_assert_cmpstr(b->scale, ==, "5C:CA:D3:00:00:01");
	g_assert_cmpstr(b->bed_sensor, ==, "");
	g_assert_cmpint(b->scale_user, ==, 2);
	g_assert_cmpfloat(b->weight_min_kg, ==, 75.0);
	g_assert_cmpfloat(b->weight_max_kg, ==, 95.0);
	g_assert_cmpint(b->alert_s, ==, CONFIG_ALERT_AT_WAKE);
	g_assert_cmpint(b->alert_wait_checkin_min, ==, 240);
	g_assert_cmpint(b->sex, ==, LOAD_SEX_MALE);
	g_assert_null(b->goal);
	g_assert_cmpuint(b->club_days, ==, (1u << 0) | (1u << 2) | (1u << 4));
	g_assert_cmpint(b->line, ==, 45);

	g_assert_true(config_find_person(config, "bob") == b);
	g_assert_null(config_find_person(config, "carol"));
}

static void test_full_data(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = load_text(full_text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpstr(config->path, ==, "test.conf");
	check_full(config);
}

/* The same from a file, with Windows line ends. */
static void test_full_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = NULL;
	g_autofree char *text = expand(full_text);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *crlf = g_strjoinv("\r\n", lines);
	g_autofree char *path = g_build_filename(tmp_dir, "full.conf", NULL);

	g_assert_true(g_file_set_contents(path, crlf, -1, NULL));
	config = config_load(path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpstr(config->path, ==, path);
	check_full(config);
}

static void check_default_mqtt_gateway(const struct config *config)
{
	g_assert_null(config->adapter);
	g_assert_true(config->power_on_adapter);
	g_assert_cmpstr(config->database, ==,
			"/var/lib/recoveryd/recoveryd.db");
	g_assert_null(config->timezone);
	g_assert_cmpint(config->retention_days, ==, 90);
	/* DESIGN §4: a box without NTP must work by default. */
	g_assert_false(config->require_clock_sync);
	g_assert_cmpstr(config->host, ==, "localhost");
	g_assert_cmpint(config->port, ==, 0);
	g_assert_false(config->tls);
	g_assert_null(config->ca_file);
	g_assert_null(config->ca_dir);
	g_assert_null(config->cert_file);
	g_assert_null(config->key_file);
	g_assert_null(config->username);
	g_assert_null(config->password_file);
	g_assert_false(config->allow_insecure);
	g_assert_cmpstr(config->base_topic, ==, "recovery");
	g_assert_cmpstr(config->discovery_prefix, ==, "homeassistant");
	g_assert_null(config->dashboard_url);
	g_assert_null(config->client_id);
	g_assert_cmpint(config->protocol, ==, 311);
	g_assert_cmpint(config->keepalive_s, ==, 30);
}

/* scale-protocol= is the scale's override: given on one line of a shared
 * scale, it holds for the other lines too; not given anywhere, the scale is
 * recognised by what it advertises (no override). */
static void test_scale_protocol_shared(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config =
	    load_text("[user alice]\nscale=5C:CA:D3:00:00:01\n"
		      "[user bob]\nscale=5C:CA:D3:00:00:01\n"
		      "scale-protocol=xiaomi\n"
		      "[user carol]\nscale=5C:CA:D3:00:00:02\n",
		      &error);
	const struct config_person *alice, *bob, *carol;

	g_assert_no_error(error);
	alice = config_find_person(config, "alice");
	bob = config_find_person(config, "bob");
	carol = config_find_person(config, "carol");
	g_assert_true(alice->scale_protocol_set);
	g_assert_cmpint(alice->scale_protocol, ==, CONFIG_SCALE_XIAOMI);
	g_assert_true(bob->scale_protocol_set);
	g_assert_cmpint(bob->scale_protocol, ==, CONFIG_SCALE_XIAOMI);
	g_assert_false(carol->scale_protocol_set);
}

static void test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = load_text("[user alice]\n", &error);
	const struct config_person *a;

	g_assert_no_error(error);
	g_assert_nonnull(config);
	check_default_mqtt_gateway(config);
	g_assert_cmpuint(config->person_count, ==, 1);
	a = config_find_person(config, "alice");
	g_assert_true(a == &config->people[0]);
	g_assert_cmpstr(a->name, ==, "alice");
	g_assert_null(a->display_name);
	g_assert_cmpstr(a->heart_rate, ==, "");
	g_assert_cmpstr(a->scale, ==, "");
	g_assert_cmpstr(a->bed_sensor, ==, "");
	g_assert_cmpint(a->scale_protocol, ==, CONFIG_SCALE_STANDARD);
	g_assert_false(a->scale_protocol_set);
	g_assert_cmpint(a->scale_user, ==, 0);
	g_assert_cmpfloat(a->weight_min_kg, ==, 0);
	g_assert_cmpfloat(a->weight_max_kg, ==, 0);
	g_assert_cmpint(a->sleep_need_min, ==, 480);
	g_assert_cmpint(a->alert_s, ==, CONFIG_ALERT_AT_WAKE);
	g_assert_cmpint(a->alert_latest_s, ==, 11 * 3600);
	g_assert_cmpint(a->alert_wait_checkin_min, ==, 0);
	g_assert_cmpint(a->bedtime_min, ==, 23 * 60);
	g_assert_cmpint(a->wake_min, ==, 7 * 60);
	g_assert_cmpint(a->hr_max_bpm, ==, 190);
	g_assert_cmpint(a->sex, ==, LOAD_SEX_UNSPECIFIED);
	g_assert_null(a->goal);
	g_assert_cmpuint(a->club_days, ==, 0);
	g_assert_cmpint(a->line, ==, 1);
}

static void test_new_defaults(void)
{
	g_autoptr(owned_config) config = config_new_defaults();

	check_default_mqtt_gateway(config);
	g_assert_null(config->path);
	g_assert_cmpuint(config->person_count, ==, 0);
	g_assert_null(config->people);
	g_assert_null(config_find_person(config, "alice"));
	config_free(NULL);
}

/* role=satellite with name=: only the devices of its people needed; the
 * default is a home gateway without a name. */
static void test_satellite_role(void)
{
	static const char text[] =
	    "[gateway]\nrole=satellite\nname=bedroom\n"
	    "[user alice]\nheart-rate=c4:7c:8d:6a:12:34\n";
	static const char home[] =
	    "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config =
	    config_load_data("sat.conf", text, strlen(text), &error);
	g_autoptr(owned_config) home_config = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(config->role, ==, CONFIG_ROLE_SATELLITE);
	g_assert_cmpstr(config->satellite_name, ==, "bedroom");
	g_assert_cmpstr(config->people[0].heart_rate, ==, "C4:7C:8D:6A:12:34");
	home_config = config_load_data("home.conf", home, strlen(home), &error);
	g_assert_no_error(error);
	g_assert_cmpint(home_config->role, ==, CONFIG_ROLE_HOME);
	g_assert_null(home_config->satellite_name);
}

/* recoveryd --demo --config FILE: [gateway] and [mqtt] alone are a good
 * file when the caller brings the people; everything else is still
 * checked, and without the flag the same file is refused. */
static void test_people_optional(void)
{
	static const char text[] = "[gateway]\ndatabase=/tmp/demo.db\n"
				   "[mqtt]\nhost=127.0.0.1\nport=1884\n";
	static const char bad[] = "[gateway]\n[mqtt]\nport=0\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config =
	    config_load_data_full("demo.conf", text, strlen(text),
				  CONFIG_LOAD_PEOPLE_OPTIONAL, &error);
	g_autoptr(owned_config) refused = NULL;
	g_autoptr(owned_config) still_bad = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpuint(config->person_count, ==, 0);
	g_assert_cmpstr(config->database, ==, "/tmp/demo.db");
	g_assert_cmpint(config->port, ==, 1884);

	refused = config_load_data("demo.conf", text, strlen(text), &error);
	g_assert_null(refused);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_MISSING);
	g_clear_error(&error);

	still_bad = config_load_data_full("demo.conf", bad, strlen(bad),
					  CONFIG_LOAD_PEOPLE_OPTIONAL, &error);
	g_assert_null(still_bad);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE);
	g_assert_true(g_str_has_prefix(error->message, "demo.conf:3: "));
}

/* tls= left out: on with a CA, a client certificate or port 8883. */
struct tls_vector {
	const char *name;
	const char *text;
	bool tls;
};

static const struct tls_vector tls_vectors[] = {
	{ "/config/tls/default-off", "[mqtt]\nport=1883\n[user a]\n", false },
	{ "/config/tls/port-8883", "[mqtt]\nport=8883\n[user a]\n", true },
	{ "/config/tls/ca-file", "[mqtt]\nca-file=@DIR@/ca.crt\n[user a]\n",
	  true },
	{ "/config/tls/ca-dir", "[mqtt]\nca-dir=@DIR@/certs\n[user a]\n",
	  true },
	{ "/config/tls/cert-file",
	  "[mqtt]\ncert-file=@DIR@/client.crt\nkey-file=@DIR@/client.key\n"
	  "[user a]\n",
	  true },
	{ "/config/tls/explicit-on", "[mqtt]\ntls=true\n[user a]\n", true },
	{ "/config/tls/explicit-off-8883",
	  "[mqtt]\nport=8883\ntls=false\n"
	  "[user a]\n",
	  false },
};

static void test_tls(gconstpointer data)
{
	const struct tls_vector *v = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = load_text(v->text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpint(config->tls, ==, v->tls);
}

/* ---- configs that must be refused --------------------------------------- */

struct bad_vector {
	const char *name;
	const char *text;
	enum config_error_code code;
	int line; /* 0: the message starts "test.conf: " */
	const char *fragment;
	size_t len; /* 0: strlen(text); texts with NUL bytes set it */
};

#define ANTENNA_USER "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n"
/* The person a satellite serves, for the role cases. */
#define SAT_USER "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n"

static const struct bad_vector bad_vectors[] = {
	/* [antennas] topics=. */
	{ "/config/bad/antennas/empty-entry",
	  "[antennas]\ntopics=home/a/+,,home/b/+\n" ANTENNA_USER,
	  CONFIG_ERROR_VALUE, 2,
	  "[antennas] topics: \"home/a/+,,home/b/+\" has an empty filter at "
	  "position 2" },
	{ "/config/bad/antennas/plus-inside",
	  "[antennas]\ntopics=home/gw+/BTtoMQTT\n" ANTENNA_USER,
	  CONFIG_ERROR_VALUE, 2,
	  "has \"home/gw+/BTtoMQTT\", which is not an MQTT topic filter" },
	{ "/config/bad/antennas/hash-not-last",
	  "[antennas]\ntopics=home/#/BTtoMQTT\n" ANTENNA_USER,
	  CONFIG_ERROR_VALUE, 2, "which is not an MQTT topic filter" },
	{ "/config/bad/antennas/twice",
	  "[antennas]\ntopics=home/a/+, home/a/+\n" ANTENNA_USER,
	  CONFIG_ERROR_VALUE, 2, "has \"home/a/+\" twice" },
	{ "/config/bad/antennas/too-many",
	  "[antennas]\ntopics=a/1,a/2,a/3,a/4,a/5,a/6,a/7,a/8,a/9,a/10,a/11,"
	  "a/12,a/13,a/14,a/15,a/16,a/17\n" ANTENNA_USER,
	  CONFIG_ERROR_VALUE, 2, "has more than 16 filters" },
	{ "/config/bad/antennas/everything",
	  "\n[antennas]\ntopics=#\n" ANTENNA_USER, CONFIG_ERROR_CONFLICT, 3,
	  "[antennas] topics: \"#\" covers recoveryd's own topics under "
	  "recovery/ or homeassistant/" },
	{ "/config/bad/antennas/own-checkins",
	  "[antennas]\ntopics=+/+/checkin/set\n" ANTENNA_USER,
	  CONFIG_ERROR_CONFLICT, 2, "covers recoveryd's own topics" },
	{ "/config/bad/antennas/unknown-key",
	  "[antennas]\ntopic=home/a/+\n" ANTENNA_USER, CONFIG_ERROR_KEY, 2,
	  "[antennas] unknown key \"topic\" (expected topics)" },
	/* Addresses. */
	{ "/config/bad/address/short", "[user alice]\nheart-rate=C4:7C:8D\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user alice] heart-rate: \"C4:7C:8D\" is not a Bluetooth address "
	  "(expected six hex pairs, e.g. C4:7C:8D:6A:12:34)" },
	{ "/config/bad/address/dashes",
	  "[user alice]\n\nscale=5C-CA-D3-00-00-01\n", CONFIG_ERROR_VALUE, 3,
	  "scale: \"5C-CA-D3-00-00-01\" is not a Bluetooth address" },
	{ "/config/bad/address/not-hex",
	  "[user alice]\nbed-sensor=A4:C1:38:00:00:0G\n", CONFIG_ERROR_VALUE, 2,
	  "is not a Bluetooth address" },
	{ "/config/bad/address/zero",
	  "[user alice]\nheart-rate=00:00:00:00:00:00\n", CONFIG_ERROR_VALUE, 2,
	  "\"00:00:00:00:00:00\" is no device's address (expected the "
	  "address recoveryctl scan shows" },

	/* Times. */
	{ "/config/bad/time/25h", "[user alice]\nmorning-alert=25:00\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user alice] morning-alert: \"25:00\" is not wake or a time of "
	  "day (expected wake, or a time HH:MM or HH:MM:SS, e.g. 07:00)" },
	{ "/config/bad/time/one-digit", "[user alice]\nwake=7:5\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user alice] wake: \"7:5\" is not a time of day (expected HH:MM, "
	  "00:00-23:59" },
	{ "/config/bad/time/noon", "[user alice]\nmorning-latest=noon\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user alice] morning-latest: \"noon\" is not a time of day "
	  "(expected HH:MM or HH:MM:SS, 00:00-23:59:59, e.g. 07:00)" },
	{ "/config/bad/time/minute-60", "[user alice]\nbedtime=22:60\n",
	  CONFIG_ERROR_VALUE, 2, "\"22:60\" is not a time of day" },
	{ "/config/bad/time/seconds-on-minutes",
	  "[user alice]\nbedtime=22:30:00\n", CONFIG_ERROR_VALUE, 2,
	  "\"22:30:00\" is not a time of day (expected HH:MM," },
	{ "/config/bad/time/seconds-61",
	  "[user alice]\nmorning-latest=10:00:61\n", CONFIG_ERROR_VALUE, 2,
	  "is not a time of day" },

	/* How long the morning alert waits for a check-in. */
	{ "/config/bad/alert-wait-checkin/too-long",
	  "[user alice]\nalert-wait-checkin=241\n", CONFIG_ERROR_VALUE, 2,
	  "[user alice] alert-wait-checkin: \"241\" is out of range "
	  "(expected 0-240 minutes)" },
	{ "/config/bad/alert-wait-checkin/unit",
	  "[user alice]\n\nalert-wait-checkin=30min\n", CONFIG_ERROR_VALUE, 3,
	  "[user alice] alert-wait-checkin: \"30min\" is not a whole number "
	  "(expected 0-240 minutes)" },
	{ "/config/bad/alert-wait-checkin/negative",
	  "[user alice]\nalert-wait-checkin=-5\n", CONFIG_ERROR_VALUE, 2,
	  "is not a whole number" },

	/* Unknown groups and keys, repeats. */
	{ "/config/bad/key/unknown", "[user alice]\n[mqtt]\nhots=broker\n",
	  CONFIG_ERROR_KEY, 3,
	  "[mqtt] unknown key \"hots\" (expected host, port, tls, ca-file, "
	  "ca-dir, cert-file, key-file, username, password-file, "
	  "allow-insecure, base-topic, discovery-prefix, dashboard-url, "
	  "client-id, protocol or keepalive)" },
	{ "/config/bad/key/unknown-user", "[user alice]\nheartrate=x\n",
	  CONFIG_ERROR_KEY, 2,
	  "[user alice] unknown key \"heartrate\" (expected display-name, "
	  "heart-rate, scale," },
	{ "/config/bad/key/translation", "[user alice]\ngoal[de]=Ruhe\n",
	  CONFIG_ERROR_KEY, 2, "[user alice] unknown key \"goal[de]\"" },
	{ "/config/bad/key/other-group", "[gateway]\nhost=x\n[user alice]\n",
	  CONFIG_ERROR_KEY, 2, "[gateway] unknown key \"host\"" },
	{ "/config/bad/group/unknown", "[user alice]\n\n[mqqt]\nhost=x\n",
	  CONFIG_ERROR_KEY, 3,
	  "unknown group [mqqt] (expected [gateway], [mqtt], [antennas] or "
	  "[user NAME])" },
	{ "/config/bad/group/case", "[Gateway]\n[user alice]\n",
	  CONFIG_ERROR_KEY, 1, "unknown group [Gateway]" },
	{ "/config/bad/key/repeated",
	  "[user alice]\nsleep-need=480\n# again\nsleep-need=420\n",
	  CONFIG_ERROR_KEY, 4,
	  "[user alice] sleep-need: given twice (first on line 2; expected "
	  "each key once per group)" },
	{ "/config/bad/key/repeated-spaces",
	  "[mqtt]\nport=1883\n  port =1884\n[user alice]\n", CONFIG_ERROR_KEY,
	  3, "[mqtt] port: given twice (first on line 2" },
	{ "/config/bad/group/repeated",
	  "[gateway]\nadapter=hci0\n[user alice]\n[gateway]\n",
	  CONFIG_ERROR_KEY, 4,
	  "[gateway] is given twice (first on line 1; expected each group "
	  "once)" },

	/* Numbers and booleans. */
	{ "/config/bad/number/unit", "[user alice]\nsleep-need=8h\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user alice] sleep-need: \"8h\" is not a whole number (expected "
	  "240-720 minutes)" },
	{ "/config/bad/number/fraction", "[user alice]\nhr-max=180.5\n",
	  CONFIG_ERROR_VALUE, 2, "\"180.5\" is not a whole number" },
	{ "/config/bad/number/negative", "[gateway]\nretention-days=-1\n",
	  CONFIG_ERROR_VALUE, 2, "\"-1\" is not a whole number" },
	{ "/config/bad/number/range", "[user alice]\nsleep-need=900\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user alice] sleep-need: \"900\" is out of range (expected 240-720 "
	  "minutes)" },
	{ "/config/bad/number/port-0", "[mqtt]\nport=0\n", CONFIG_ERROR_VALUE,
	  2, "[mqtt] port: \"0\" is out of range (expected 1-65535" },
	{ "/config/bad/number/port-huge", "[mqtt]\nport=99999999999999\n",
	  CONFIG_ERROR_VALUE, 2, "is out of range (expected 1-65535" },
	{ "/config/bad/number/scale-user", "[user alice]\nscale-user=255\n",
	  CONFIG_ERROR_VALUE, 2, "\"255\" is out of range (expected 1-254" },
	{ "/config/bad/number/keepalive", "[mqtt]\nkeepalive=1\n",
	  CONFIG_ERROR_VALUE, 2, "(expected 5-3600 seconds)" },
	{ "/config/bad/bool/yes", "[gateway]\npower-on-adapter=yes\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[gateway] power-on-adapter: \"yes\" is not a boolean (expected "
	  "true or false)" },
	{ "/config/bad/bool/one", "[mqtt]\ntls=1\n", CONFIG_ERROR_VALUE, 2,
	  "[mqtt] tls: \"1\" is not a boolean" },
	{ "/config/bad/bool/case", "[gateway]\nrequire-clock-sync=True\n",
	  CONFIG_ERROR_VALUE, 2, "\"True\" is not a boolean" },

	/* Other values. */
	{ "/config/bad/timezone", "[gateway]\ntimezone=Mars/Olympus_Mons\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[gateway] timezone: \"Mars/Olympus_Mons\" is not a known time zone "
	  "(expected an IANA name such as Europe/Berlin" },
	/* A zone is a name under the zoneinfo directory, nothing else: a
	 * path out of it or a file there that is no zone is refused before
	 * GLib reads it (GLib's own check is a critical warning). */
	{ "/config/bad/timezone/dot-dot",
	  "[gateway]\ntimezone=../../etc/passwd\n", CONFIG_ERROR_VALUE, 2,
	  "[gateway] timezone: \"../../etc/passwd\" is not a known time zone" },
	{ "/config/bad/timezone/absolute", "[gateway]\ntimezone=/etc/passwd\n",
	  CONFIG_ERROR_VALUE, 2, "\"/etc/passwd\" is not a known time zone" },
	{ "/config/bad/timezone/inner-dot-dot",
	  "[gateway]\ntimezone=Europe/../../../etc/passwd\n",
	  CONFIG_ERROR_VALUE, 2, "is not a known time zone" },
	{ "/config/bad/timezone/not-a-zone-file",
	  "[gateway]\ntimezone=leapseconds\n", CONFIG_ERROR_VALUE, 2,
	  "\"leapseconds\" is not a known time zone" },
	{ "/config/bad/timezone/directory", "[gateway]\ntimezone=Europe\n",
	  CONFIG_ERROR_VALUE, 2, "\"Europe\" is not a known time zone" },
	{ "/config/bad/timezone/posix-rule",
	  "[gateway]\ntimezone=CET-1CEST,M3.5.0,M10.5.0/3\n",
	  CONFIG_ERROR_VALUE, 2, "is not a known time zone" },
	{ "/config/bad/timezone/offset", "[gateway]\ntimezone=+01:00\n",
	  CONFIG_ERROR_VALUE, 2, "\"+01:00\" is not a known time zone" },
	{ "/config/bad/timezone/long", "[gateway]\ntimezone=@LONG@\n",
	  CONFIG_ERROR_VALUE, 2,
	  "\"@LONG64@\"... (100000 bytes) is not a known time zone" },
	{ "/config/bad/adapter", "[gateway]\nadapter=bt0\n", CONFIG_ERROR_VALUE,
	  2, "\"bt0\" is not an adapter name (expected hciN, e.g. hci0" },
	{ "/config/bad/weight/reversed", "[user alice]\nweight-range=70-55\n",
	  CONFIG_ERROR_VALUE, 2,
	  "weight-range: \"70-55\" has its minimum not below its maximum" },
	{ "/config/bad/weight/light", "[user alice]\nweight-range=10-70\n",
	  CONFIG_ERROR_VALUE, 2, "\"10-70\" is outside 20-300 kg" },
	{ "/config/bad/weight/words", "[user alice]\nweight-range=55-seventy\n",
	  CONFIG_ERROR_VALUE, 2,
	  "\"55-seventy\" is not a weight range (expected MIN-MAX in kg" },
	{ "/config/bad/weight/single", "[user alice]\nweight-range=60\n",
	  CONFIG_ERROR_VALUE, 2, "\"60\" is not a weight range" },
	{ "/config/bad/club-days", "[user alice]\nclub-days=tue,sut\n",
	  CONFIG_ERROR_VALUE, 2,
	  "club-days: \"tue,sut\" names \"sut\", which is not a day" },
	{ "/config/bad/club-days-empty-item",
	  "[user alice]\nclub-days=tue,,sat\n", CONFIG_ERROR_VALUE, 2,
	  "names \"\", which is not a day" },
	{ "/config/bad/scale-protocol", "[user alice]\nscale-protocol=mi\n",
	  CONFIG_ERROR_VALUE, 2,
	  "\"mi\" is not a scale protocol (expected standard, xiaomi or qn)" },
	{ "/config/bad/sex", "[user alice]\nsex=other\n", CONFIG_ERROR_VALUE, 2,
	  "\"other\" is not one of the choices (expected female, male or "
	  "unspecified)" },
	{ "/config/bad/protocol", "[mqtt]\nprotocol=4\n", CONFIG_ERROR_VALUE, 2,
	  "[mqtt] protocol: \"4\" is not an MQTT version (expected 3.1.1 or "
	  "5)" },
	{ "/config/bad/base-topic", "[mqtt]\nbase-topic=homeassistant/r\n",
	  CONFIG_ERROR_VALUE, 2, "\"homeassistant/r\" is not a base topic" },
	{ "/config/bad/base-topic-wildcard", "[mqtt]\nbase-topic=r/#\n",
	  CONFIG_ERROR_VALUE, 2, "\"r/#\" is not a base topic" },
	{ "/config/bad/dashboard-url/scheme",
	  "[mqtt]\ndashboard-url=ftp://box/\n", CONFIG_ERROR_VALUE, 2,
	  "[mqtt] dashboard-url: \"ftp://box/\" is not a web address "
	  "(expected an http:// or https:// address" },
	{ "/config/bad/dashboard-url/space",
	  "[mqtt]\ndashboard-url=http://box/a b\n", CONFIG_ERROR_VALUE, 2,
	  "is not a web address" },
	{ "/config/bad/dashboard-url/no-host",
	  "[mqtt]\ndashboard-url=https://\n", CONFIG_ERROR_VALUE, 2,
	  "is not a web address" },
	{ "/config/bad/discovery-prefix", "[mqtt]\ndiscovery-prefix=ha/+\n",
	  CONFIG_ERROR_VALUE, 2, "\"ha/+\" is not an MQTT topic" },
	{ "/config/bad/client-id", "[mqtt]\nclient-id=my pi\n",
	  CONFIG_ERROR_VALUE, 2, "\"my pi\" is not a client id" },
	{ "/config/bad/host", "[mqtt]\nhost=my broker\n", CONFIG_ERROR_VALUE, 2,
	  "\"my broker\" is not a host name or address" },
	{ "/config/bad/empty", "[user alice]\ngoal=   \n", CONFIG_ERROR_VALUE,
	  2,
	  "[user alice] goal: \"\" is empty (expected a short text without "
	  "control characters; leave the line out for the default)" },
	{ "/config/bad/escape", "[user alice]\ngoal=calm\\q\n",
	  CONFIG_ERROR_VALUE, 2,
	  "goal: \"calm\\\\q\" has a backslash escape that cannot be read" },
	{ "/config/bad/control", "[user alice]\ngoal=a\\tb\n",
	  CONFIG_ERROR_VALUE, 2, "goal: \"a\\x09b\" is not plain text" },

	/* Users. */
	{ "/config/bad/user/slash", "[gateway]\n[user al/ice]\n",
	  CONFIG_ERROR_VALUE, 2,
	  "[user al/ice]: \"al/ice\" is not a user name (expected 1-32 "
	  "letters, digits, '-' or '_', and not \"device\" or \"satellite\")" },
	{ "/config/bad/user/device", "[user device]\n", CONFIG_ERROR_VALUE, 1,
	  "\"device\" is not a user name" },
	{ "/config/bad/user/satellite", "[user satellite]\n",
	  CONFIG_ERROR_VALUE, 1, "\"satellite\" is not a user name" },

	/* Satellites (DESIGN §13): a person with a device after the
	 * [gateway] lines, so that only the role is wrong. */
	{ "/config/bad/role/unknown", "[gateway]\nrole=hub\n" SAT_USER,
	  CONFIG_ERROR_VALUE, 2,
	  "role: \"hub\" is not a role (expected home or satellite)" },
	{ "/config/bad/role/no-name", "[gateway]\nrole=satellite\n" SAT_USER,
	  CONFIG_ERROR_MISSING, 2,
	  "[gateway] role: \"satellite\" given without name=" },
	{ "/config/bad/role/name-at-home", "[gateway]\nname=bedroom\n" SAT_USER,
	  CONFIG_ERROR_CONFLICT, 2,
	  "[gateway] name: names a satellite, but this gateway is role=home" },
	{ "/config/bad/role/name-slash",
	  "[gateway]\nrole=satellite\nname=bed/room\n" SAT_USER,
	  CONFIG_ERROR_VALUE, 3, "name: \"bed/room\" is not a satellite name" },
	{ "/config/bad/role/name-too-long",
	  "[gateway]\nrole=satellite\n"
	  "name=abcdefghijabcdefghijabcdefghijabc\n" SAT_USER,
	  CONFIG_ERROR_VALUE, 3, "is not a satellite name" },
	{ "/config/bad/user/no-name", "[user]\n", CONFIG_ERROR_KEY, 1,
	  "[user] has no name (expected [user NAME], e.g. [user alice])" },
	{ "/config/bad/user/duplicate",
	  "[user alice]\n[user bob]\n[user  alice]\n", CONFIG_ERROR_KEY, 3,
	  "[user  alice]: user alice is given twice (first on line 1; "
	  "expected one [user NAME] section per person)" },
	{ "/config/bad/user/none", "[gateway]\nadapter=hci0\n",
	  CONFIG_ERROR_MISSING, 0,
	  "no [user NAME] section (expected at least one person" },
	{ "/config/bad/user/empty-file", "", CONFIG_ERROR_MISSING, 0,
	  "no [user NAME] section" },

	/* Files named in [mqtt]. */
	{ "/config/bad/file/password-missing",
	  "[mqtt]\nusername=r\npassword-file=@DIR@/nope\n[user alice]\n",
	  CONFIG_ERROR_FILE, 3,
	  "[mqtt] password-file: \"@DIR@/nope\" cannot be read: No such file "
	  "or directory (expected a file recoveryd can read)" },
	{ "/config/bad/file/password-unreadable",
	  "[user alice]\n[mqtt]\nusername=r\npassword-file=@UNREADABLE@\n",
	  CONFIG_ERROR_FILE, 4,
	  "[mqtt] password-file: \"@UNREADABLE@\" cannot be read: " },
	{ "/config/bad/file/password-directory",
	  "[user alice]\n[mqtt]\nusername=r\npassword-file=@DIR@\n",
	  CONFIG_ERROR_FILE, 4,
	  "[mqtt] password-file: \"@DIR@\" cannot be read: Is a directory" },
	{ "/config/bad/file/ca-empty",
	  "[user alice]\n[mqtt]\nca-file=@DIR@/empty\n", CONFIG_ERROR_FILE, 3,
	  "[mqtt] ca-file: \"@DIR@/empty\" is empty (expected a PEM file of CA "
	  "certificates)" },
	{ "/config/bad/file/ca-dir-missing",
	  "[user alice]\n[mqtt]\nca-dir=@DIR@/nope\n", CONFIG_ERROR_FILE, 3,
	  "[mqtt] ca-dir: \"@DIR@/nope\" cannot be read: No such file" },
	{ "/config/bad/file/cert-missing",
	  "[user alice]\n[mqtt]\ncert-file=@DIR@/nope\n"
	  "key-file=@DIR@/client.key\n",
	  CONFIG_ERROR_FILE, 3,
	  "[mqtt] cert-file: \"@DIR@/nope\" cannot be read" },

	/* What goes together. */
	{ "/config/bad/mqtt/key-without-cert",
	  "[mqtt]\nca-file=@DIR@/ca.crt\nkey-file=@DIR@/client.key\n"
	  "[user alice]\n",
	  CONFIG_ERROR_MISSING, 3,
	  "[mqtt] key-file: given without cert-file= (expected cert-file= and "
	  "key-file= together)" },
	{ "/config/bad/mqtt/cert-without-key",
	  "[mqtt]\ncert-file=@DIR@/client.crt\n[user alice]\n",
	  CONFIG_ERROR_MISSING, 2,
	  "[mqtt] cert-file: given without key-file=" },
	{ "/config/bad/mqtt/password-without-username",
	  "[mqtt]\nhost=b\npassword-file=@DIR@/password\n[user alice]\n",
	  CONFIG_ERROR_MISSING, 3,
	  "[mqtt] password-file: given without username=" },
	{ "/config/bad/mqtt/tls-off-with-ca",
	  "[mqtt]\ntls=false\nca-file=@DIR@/ca.crt\n[user alice]\n",
	  CONFIG_ERROR_CONFLICT, 2,
	  "[mqtt] tls: \"false\" contradicts ca-file= on line 3" },
	{ "/config/bad/device/strap-as-bed",
	  "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n\n[user bob]\n"
	  "bed-sensor=c4:7c:8d:6a:12:34\n",
	  CONFIG_ERROR_CONFLICT, 5,
	  "[user bob] bed-sensor: \"C4:7C:8D:6A:12:34\" is already alice's "
	  "heart-rate strap on line 2 (expected one kind of device per "
	  "address)" },
	{ "/config/bad/device/own-scale-as-strap",
	  "[user alice]\nheart-rate=C4:7C:8D:6A:12:34\n"
	  "scale=C4:7C:8D:6A:12:34\n",
	  CONFIG_ERROR_CONFLICT, 3,
	  "[user alice] scale: \"C4:7C:8D:6A:12:34\" is already alice's "
	  "heart-rate strap on line 2" },
	{ "/config/bad/scale/protocol",
	  "[user alice]\nscale=5C:CA:D3:00:00:01\nscale-protocol=xiaomi\n"
	  "[user bob]\nscale=5C:CA:D3:00:00:01\nscale-protocol=standard\n",
	  CONFIG_ERROR_CONFLICT, 6,
	  "[user bob] scale-protocol: \"standard\" differs from alice's "
	  "xiaomi on the same scale 5C:CA:D3:00:00:01 (line 2; expected one "
	  "protocol per scale)" },
	{ "/config/bad/scale/user-twice",
	  "[user alice]\nscale=5C:CA:D3:00:00:01\nscale-user=1\n"
	  "[user bob]\nscale=5C:CA:D3:00:00:01\nscale-user=1\n",
	  CONFIG_ERROR_CONFLICT, 6,
	  "[user bob] scale-user: \"1\" is already alice's on the same scale "
	  "5C:CA:D3:00:00:01 (line 3; expected one user number per person on "
	  "a scale)" },

	/* Not INI. */
	{ "/config/bad/parse/words",
	  "[gateway]\nadapter=hci0\nthis is not ini\n", CONFIG_ERROR_PARSE, 3,
	  "\"this is not ini\" is not a [group] header, a key=value line or a "
	  "# comment" },
	{ "/config/bad/parse/semicolon", "; a comment\n[user alice]\n",
	  CONFIG_ERROR_PARSE, 1, "\"; a comment\" is not a [group] header" },
	{ "/config/bad/parse/unclosed", "[user alice]\n[mqtt\n",
	  CONFIG_ERROR_PARSE, 2, "\"[mqtt\" is not a [group] header" },
	{ "/config/bad/parse/before-group",
	  "# hello\nadapter=hci0\n[gateway]\n", CONFIG_ERROR_PARSE, 2,
	  "\"adapter=hci0\" comes before any group (expected [gateway], "
	  "[mqtt] or [user NAME] above it)" },
	{ "/config/bad/parse/group-name", "[user alice]\n[a[b]\n",
	  CONFIG_ERROR_PARSE, 2, "\"[a[b]\" is not a group header" },
	{ "/config/bad/parse/key-name", "[user alice]\ngoal]=x\n",
	  CONFIG_ERROR_PARSE, 2, "\"goal]=x\": \"goal]\" is not a key name" },
	{ "/config/bad/parse/not-utf8", "[user alice]\ngoal=caf\xe9\n",
	  CONFIG_ERROR_PARSE, 2, "is not UTF-8 text" },
	{ "/config/bad/parse/nul", "[user alice]\n\ngoal=a\0b\n",
	  CONFIG_ERROR_PARSE, 3, "contains a NUL byte", 23 },
	{ "/config/bad/parse/encoding",
	  "[user alice]\ngoal=x\nEncoding=latin1\n", CONFIG_ERROR_PARSE, 3,
	  "latin1" },
	{ "/config/bad/parse/crlf", "[user alice]\r\nwake=7\r\n",
	  CONFIG_ERROR_VALUE, 2, "wake: \"7\" is not a time of day" },
};

/* [antennas] topics=: each filter as given, blanks around it gone. */
static void test_antenna_topics(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config =
	    load_text("[antennas]\ntopics= home/OpenMQTTGateway/BTtoMQTT/+ ,"
		      "home/TheengsGateway/BTtoMQTT/#,shellyplus1-a8032ab12345/"
		      "events/rpc\n"
		      "[user alice]\nscale=5C:CA:D3:7A:00:01\n",
		      &error);
	g_autoptr(owned_config) none = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(config->antenna_topics);
	g_assert_cmpuint(g_strv_length(config->antenna_topics), ==, 3);
	g_assert_cmpstr(config->antenna_topics[0], ==,
			"home/OpenMQTTGateway/BTtoMQTT/+");
	g_assert_cmpstr(config->antenna_topics[1], ==,
			"home/TheengsGateway/BTtoMQTT/#");
	g_assert_cmpstr(config->antenna_topics[2], ==,
			"shellyplus1-a8032ab12345/events/rpc");
	none = load_text("[user alice]\nscale=5C:CA:D3:7A:00:01\n", &error);
	g_assert_no_error(error);
	g_assert_null(none->antenna_topics);
}

static void test_bad(gconstpointer data)
{
	const struct bad_vector *v = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = NULL;
	g_autofree char *text = NULL;
	g_autofree char *fragment = expand(v->fragment);
	g_autofree char *prefix =
	    v->line ? g_strdup_printf("test.conf:%d: ", v->line)
		    : g_strdup("test.conf: ");

	if (v->len) {
		config = config_load_data("test.conf", v->text, v->len, &error);
	} else {
		text = expand(v->text);
		config =
		    config_load_data("test.conf", text, strlen(text), &error);
	}
	g_assert_null(config);
	g_assert_nonnull(error);
	g_test_message("%s", error->message);
	g_assert_error(error, CONFIG_ERROR, (int)v->code);
	if (!g_str_has_prefix(error->message, prefix))
		g_error("message \"%s\" does not start with \"%s\"",
			error->message, prefix);
	if (!strstr(error->message, fragment))
		g_error("message \"%s\" lacks \"%s\"", error->message,
			fragment);
	g_assert_null(strchr(error->message, '\n'));
}

/* ---- the config file itself --------------------------------------------- */

static void test_file_missing(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(tmp_dir, "nope.conf", NULL);
	g_autofree char *want =
	    g_strdup_printf("%s: cannot be read: No such file", path);
	struct config *config = config_load(path, &error);

	g_assert_null(config);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_FILE);
	g_assert_true(g_str_has_prefix(error->message, want));
}

static void test_file_directory(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *want =
	    g_strdup_printf("%s: cannot be read: Is a directory", tmp_dir);
	struct config *config = config_load(tmp_dir, &error);

	g_assert_null(config);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_FILE);
	g_assert_cmpstr(error->message, ==, want);
}

static void test_file_unreadable(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(tmp_dir, "unreadable", NULL);
	g_autofree char *want =
	    g_strdup_printf("%s: cannot be read: Permission denied", path);
	struct config *config;

	if (geteuid() == 0) {
		g_test_skip("root reads a file of mode 000");
		return;
	}
	config = config_load(path, &error);
	g_assert_null(config);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_FILE);
	g_assert_cmpstr(error->message, ==, want);
}

/* A line number from a file, not only from text. */
static void test_file_line(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(tmp_dir, "bad.conf", NULL);
	g_autofree char *want = g_strdup_printf(
	    "%s:4: [user alice] heart-rate: \"C4:7C:8D\" is not a Bluetooth "
	    "address (expected six hex pairs, e.g. C4:7C:8D:6A:12:34)",
	    path);
	struct config *config;

	g_assert_true(g_file_set_contents(
	    path, "# house\n\n[user alice]\nheart-rate=C4:7C:8D\n", -1, NULL));
	config = config_load(path, &error);
	g_assert_null(config);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE);
	g_assert_cmpstr(error->message, ==, want);
}

/* deploy/recoveryd.conf.example must load as shipped. */
/* deploy/satellite/recoveryd.conf: a satellite with what it needs and no
 * more (README, "Satellites"). */
static void test_satellite_example(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = NULL;
	g_autofree char *here = g_path_get_dirname(__FILE__);
	g_autofree char *path = g_build_filename(
	    here, "..", "..", "deploy", "satellite", "recoveryd.conf", NULL);

	config = config_load(path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(config->role, ==, CONFIG_ROLE_SATELLITE);
	g_assert_cmpstr(config->satellite_name, ==, "bedroom");
	g_assert_cmpuint(config->person_count, ==, 2);
	g_assert_cmpstr(config_find_person(config, "alice")->heart_rate, !=,
			"");
	g_assert_cmpstr(config_find_person(config, "bob")->scale, !=, "");
}

static void test_example(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(owned_config) config = NULL;
	g_autofree char *here = g_path_get_dirname(__FILE__);
	g_autofree char *path = g_build_filename(
	    here, "..", "..", "deploy", "recoveryd.conf.example", NULL);
	const struct config_person *alice, *bob;

	config = config_load(path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpuint(config->person_count, ==, 2);
	alice = config_find_person(config, "alice");
	bob = config_find_person(config, "bob");
	g_assert_nonnull(alice);
	g_assert_nonnull(bob);
	g_assert_cmpstr(alice->heart_rate, !=, "");
	g_assert_cmpstr(alice->bed_sensor, !=, "");
	g_assert_cmpstr(bob->heart_rate, !=, "");
	g_assert_cmpstr(bob->bed_sensor, ==, "");
	g_assert_cmpstr(alice->scale, ==, bob->scale);
	g_assert_cmpint(alice->scale_protocol, ==, CONFIG_SCALE_XIAOMI);
	g_assert_cmpint(bob->scale_protocol, ==, CONFIG_SCALE_XIAOMI);
	g_assert_cmpfloat(alice->weight_min_kg, >, 0);
	g_assert_cmpfloat(alice->weight_max_kg, <=, bob->weight_min_kg);
	g_assert_false(config->tls);
}

/* Every key of every group appears in the example, set or as a commented
 * "#key=" line, so a newcomer meets each one there. */
static void test_example_every_key(void)
{
	static const char *const gateway[] = {
		"adapter",  "power-on-adapter", "database",
		"timezone", "retention-days",	"require-clock-sync",
	};
	static const char *const mqtt[] = {
		"host",		  "port",	"tls",
		"ca-file",	  "ca-dir",	"cert-file",
		"key-file",	  "username",	"password-file",
		"allow-insecure", "base-topic", "discovery-prefix",
		"dashboard-url",  "client-id",	"protocol",
		"keepalive",
	};
	static const char *const antennas[] = { "topics" };
	static const char *const user[] = {
		"display-name",
		"heart-rate",
		"scale",
		"scale-protocol",
		"scale-user",
		"weight-range",
		"bed-sensor",
		"sleep-need",
		"morning-alert",
		"morning-latest",
		"bedtime",
		"wake",
		"hr-max",
		"sex",
		"goal",
		"club-days",
		"alert-wait-checkin",
	};
	static const struct {
		const char *group;
		const char *const *keys;
		size_t count;
	} groups[] = {
		{ "[gateway]", gateway, G_N_ELEMENTS(gateway) },
		{ "[mqtt]", mqtt, G_N_ELEMENTS(mqtt) },
		{ "[antennas]", antennas, G_N_ELEMENTS(antennas) },
		{ "[user alice]", user, G_N_ELEMENTS(user) },
	};
	g_autofree char *here = g_path_get_dirname(__FILE__);
	g_autofree char *path = g_build_filename(
	    here, "..", "..", "deploy", "recoveryd.conf.example", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
		for (size_t k = 0; k < groups[g].count; k++) {
			g_autofree char *set =
			    g_strconcat(groups[g].keys[k], "=", NULL);
			g_autofree char *shown =
			    g_strconcat("#", groups[g].keys[k], "=", NULL);
			bool in = false, found = false;

			for (size_t i = 0; lines[i] && !found; i++) {
				if (lines[i][0] == '[')
					in = !strcmp(lines[i], groups[g].group);
				else if (in)
					found =
					    g_str_has_prefix(lines[i], set) ||
					    g_str_has_prefix(lines[i], shown);
			}
			if (!found)
				g_error("%s has no %s line in %s", path,
					groups[g].keys[k], groups[g].group);
		}
	}
}

/* ---- setup -------------------------------------------------------------- */

static void write_file(const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(tmp_dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

int main(int argc, char **argv)
{
	g_autofree char *certs = NULL;
	g_autofree char *unreadable = NULL;
	int r;

	g_test_init(&argc, &argv, NULL);

	tmp_dir = test_tmp_dir_new("test-config-XXXXXX");
	write_file("password", "s3cret\n");
	write_file("ca.crt", "-----BEGIN CERTIFICATE-----\n");
	write_file("client.crt", "-----BEGIN CERTIFICATE-----\n");
	write_file("client.key", "-----BEGIN PRIVATE KEY-----\n");
	write_file("empty", "");
	write_file("unreadable", "s3cret\n");
	unreadable = g_build_filename(tmp_dir, "unreadable", NULL);
	g_assert_cmpint(g_chmod(unreadable, 0), ==, 0);
	certs = g_build_filename(tmp_dir, "certs", NULL);
	g_assert_cmpint(g_mkdir(certs, 0700), ==, 0);
	write_file("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");

	g_test_add_func("/config/full/data", test_full_data);
	g_test_add_func("/config/full/file-crlf", test_full_file);
	g_test_add_func("/config/defaults/minimal", test_defaults);
	g_test_add_func("/config/scale/protocol-shared",
			test_scale_protocol_shared);
	g_test_add_func("/config/defaults/new", test_new_defaults);
	g_test_add_func("/config/people-optional", test_people_optional);
	g_test_add_func("/config/antennas/topics", test_antenna_topics);
	g_test_add_func("/config/satellite/role", test_satellite_role);
	for (size_t i = 0; i < G_N_ELEMENTS(tls_vectors); i++)
		g_test_add_data_func(tls_vectors[i].name, &tls_vectors[i],
				     test_tls);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_vectors); i++)
		g_test_add_data_func(bad_vectors[i].name, &bad_vectors[i],
				     test_bad);
	g_test_add_func("/config/file/missing", test_file_missing);
	g_test_add_func("/config/file/directory", test_file_directory);
	g_test_add_func("/config/file/unreadable", test_file_unreadable);
	g_test_add_func("/config/file/line", test_file_line);
	g_test_add_func("/config/example/loads", test_example);
	g_test_add_func("/config/example/satellite", test_satellite_example);
	g_test_add_func("/config/example/every-key", test_example_every_key);

	r = g_test_run();
	test_remove_tree(tmp_dir);
	g_free(tmp_dir);
	return r;
}

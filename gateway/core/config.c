// SPDX-License-Identifier: MIT
#include "gateway/core/config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bluetooth/bluetooth.h>

#include "gateway/common/quote.h"
#include "gateway/core/clock.h"
#include "mqtt/topic.h"

#define DEFAULT_DATABASE       "/var/lib/recoveryd/recoveryd.db"
#define DEFAULT_HOST	       "localhost"
#define DEFAULT_DISCOVERY      "homeassistant"
#define DEFAULT_RETENTION_DAYS 90
#define DEFAULT_PROTOCOL       311
#define DEFAULT_KEEPALIVE_S    30
#define DEFAULT_SLEEP_NEED_MIN 480
#define DEFAULT_ALERT_LATEST_S (11 * 3600)
#define DEFAULT_BEDTIME_MIN    (23 * 60)
#define DEFAULT_WAKE_MIN       (7 * 60)
#define DEFAULT_HR_MAX_BPM     190
#define TLS_PORT	       8883
#define CONFIG_FILE_MAX	       (1024 * 1024)
#define WEIGHT_MIN_KG	       20.0
#define WEIGHT_MAX_KG	       300.0
#define CLIENT_ID_MAX	       64
#define URL_MAX		       2000

/* No typedef in the header: every caller names its variable "config". */
typedef struct config owned_config;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(owned_config, config_free)

GQuark config_error_quark(void)
{
	return g_quark_from_static_string("config-error-quark");
}

/* ---- messages ---------------------------------------------------------- */

/* @text in double quotes, '"' and '\' escaped, control characters as
 * \xNN, cut at QUOTE_SHOWN bytes (between characters) with its length
 * named after it, so a message stays a line a terminal can show. */
static char *quote(const char *text)
{
	return quote_text(text, -1, QUOTE_ESCAPED);
}

/* Sets @error to "PATH:LINE: MESSAGE" ("PATH: MESSAGE" when @line is 0). */
G_GNUC_PRINTF(5, 6)
static gboolean fail(GError **error, int code, const char *path, int line,
		     const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		g_set_error(error, CONFIG_ERROR, code, "%s:%d: %s", path, line,
			    msg);
	else
		g_set_error(error, CONFIG_ERROR, code, "%s: %s", path, msg);
	return FALSE;
}

/* ---- lines ------------------------------------------------------------- */

/*
 * GKeyFile reads the values but keeps no line numbers and only the last of
 * a repeated key, so the text is also scanned here, line by line, with
 * GKeyFile's own rules (gkeyfile.c, g_key_file_parse_line): leading blanks
 * skipped; '#' or nothing is a comment; "[name]" with only blanks after is
 * a group; "key=value" with a non-empty key is a key; anything else does
 * not parse.
 */
enum line_kind {
	LINE_GROUP,
	LINE_KEY,
	LINE_BAD,
};

struct line {
	int number;
	enum line_kind kind;
	char *text;  /* without leading blanks, for messages */
	char *group; /* LINE_GROUP: its name; LINE_KEY: its group's */
	char *key;   /* LINE_KEY */
};

static void line_clear(void *data)
{
	struct line *l = data;

	g_free(l->text);
	g_free(l->group);
	g_free(l->key);
}

/* g_key_file_is_group_name: not empty, no brackets, no control bytes. */
static bool group_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '[' || *p == ']' || g_ascii_iscntrl(*p))
			return false;
	return true;
}

/* g_key_file_is_key_name: "key" or "key[locale]" (a translation, which is
 * no key of ours but must be told from a line that does not parse). */
static bool key_name_ok(const char *key)
{
	const char *bracket = strpbrk(key, "[]");
	const char *p;

	if (!*key)
		return false;
	if (!bracket)
		return true;
	if (*bracket != '[' || bracket == key)
		return false;
	for (p = bracket + 1; *p && *p != ']'; p++)
		if (!g_ascii_isalnum(*p) && !strchr("-_.@", *p))
			return false;
	return *p == ']' && p[1] == '\0';
}

static bool only_blanks(const char *p)
{
	return p[strspn(p, " \t")] == '\0';
}

/* Every line that is not blank or a comment, in file order. @data is valid
 * UTF-8 without NUL bytes. */
static GArray *scan_lines(const char *data, size_t len)
{
	GArray *lines = g_array_new(FALSE, TRUE, sizeof(struct line));
	const char *group = NULL;
	size_t pos = 0;
	int number = 0;

	g_array_set_clear_func(lines, line_clear);
	while (pos < len) {
		const char *start = data + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		g_autofree char *raw = NULL;
		struct line l = { 0 };
		const char *s, *close, *eq;

		pos += n + (nl ? 1 : 0);
		number++;
		/* GKeyFile drops one '\r' before the '\n'. */
		if (n > 0 && start[n - 1] == '\r')
			n--;
		raw = g_strndup(start, n);
		s = raw;
		while (g_ascii_isspace(*s))
			s++;
		if (*s == '\0' || *s == '#')
			continue;

		l.number = number;
		l.text = g_strdup(s);
		close = *s == '[' ? strchr(s, ']') : NULL;
		eq = strchr(s, '=');
		if (close && only_blanks(close + 1)) {
			l.group = g_strndup(s + 1, (size_t)(close - s - 1));
			l.kind = group_name_ok(l.group) ? LINE_GROUP : LINE_BAD;
			if (l.kind == LINE_GROUP)
				group = l.group;
		} else if (eq && eq != s && group) {
			l.key = g_strndup(s, (size_t)(eq - s));
			g_strchomp(l.key);
			l.group = g_strdup(group);
			l.kind = key_name_ok(l.key) ? LINE_KEY : LINE_BAD;
		} else {
			l.kind = LINE_BAD;
		}
		g_array_append_val(lines, l);
	}
	return lines;
}

static gboolean bad_line(const char *path, const struct line *l, bool in_group,
			 GError **error)
{
	g_autofree char *text = quote(l->text);

	if (l->key) {
		g_autofree char *key = quote(l->key);

		return fail(error, CONFIG_ERROR_PARSE, path, l->number,
			    "%s: %s is not a key name (expected letters, "
			    "digits and '-' before the '=', e.g. heart-rate)",
			    text, key);
	}
	if (!in_group && strchr(l->text, '=') && l->text[0] != '=')
		return fail(error, CONFIG_ERROR_PARSE, path, l->number,
			    "%s comes before any group (expected [gateway], "
			    "[mqtt] or [user NAME] above it)",
			    text);
	if (l->group)
		return fail(error, CONFIG_ERROR_PARSE, path, l->number,
			    "%s is not a group header (expected a name "
			    "without brackets, e.g. [user alice])",
			    text);
	return fail(error, CONFIG_ERROR_PARSE, path, l->number,
		    "%s is not a [group] header, a key=value line or a # "
		    "comment",
		    text);
}

/* The line of @key in @group, or 0. */
static int key_line(GArray *lines, const char *group, const char *key)
{
	for (guint i = 0; i < lines->len; i++) {
		const struct line *l = &g_array_index(lines, struct line, i);

		if (l->kind == LINE_KEY && !strcmp(l->group, group) &&
		    !strcmp(l->key, key))
			return l->number;
	}
	return 0;
}

/* ---- values ------------------------------------------------------------ */

struct loader {
	const char *path;
	GArray *lines; /* struct line */
	GKeyFile *keyfile;
	struct config *config;
	GPtrArray *person_groups; /* borrowed: the group of people[i] */
	bool tls_set;
	unsigned flags; /* enum config_load_flags */
};

/* One key=value being read, for messages. */
struct place {
	struct loader *ld;
	int line;
	const char *group;
	const char *key;
	const char *value;
};

struct key_spec;

/* Reads @at->value into the field of @base that @spec names. */
typedef gboolean (*value_fn)(const struct place *at,
			     const struct key_spec *spec, void *base,
			     GError **error);

struct key_spec {
	const char *name;
	value_fn parse;
	size_t offset; /* of the field in struct config / config_person */
	int min, max;  /* whole numbers */
	const char *expected; /* what the value may be, for messages */
};

/* "PATH:LINE: [GROUP] KEY: "VALUE" MESSAGE (expected EXPECTED)". */
G_GNUC_PRINTF(4, 5)
static gboolean bad_value(const struct place *at, int code, GError **error,
			  const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	g_autofree char *value = quote(at->value);
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return fail(error, code, at->ld->path, at->line, "[%s] %s: %s %s",
		    at->group, at->key, value, msg);
}

static gboolean not_a(const struct place *at, const struct key_spec *spec,
		      const char *what, GError **error)
{
	return bad_value(at, CONFIG_ERROR_VALUE, error,
			 "is not %s (expected %s)", what, spec->expected);
}

static void *field_of(void *base, const struct key_spec *spec)
{
	return G_STRUCT_MEMBER_P(base, spec->offset);
}

static void set_string(void *base, const struct key_spec *spec,
		       const char *value)
{
	char **field = field_of(base, spec);

	g_free(*field);
	*field = g_strdup(value);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if (g_ascii_iscntrl(*s))
			return true;
	return false;
}

/* Free text (display-name, goal, username): any UTF-8 but control
 * characters, which would break the one-line messages and payloads. */
static gboolean parse_string(const struct place *at,
			     const struct key_spec *spec, void *base,
			     const char *expected, GError **error)
{
	if (has_control(at->value))
		return not_a(at, spec, expected, error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_text(const struct place *at, const struct key_spec *spec,
			   void *base, GError **error)
{
	return parse_string(at, spec, base, "plain text", error);
}

static gboolean parse_path(const struct place *at, const struct key_spec *spec,
			   void *base, GError **error)
{
	return parse_string(at, spec, base, "a file name", error);
}

static gboolean parse_bool(const struct place *at, const struct key_spec *spec,
			   void *base, GError **error)
{
	bool *field = field_of(base, spec);

	/* Only GKeyFile's own spelling: "1", "yes" or "True" in one place
	 * would invite "on" in the next. */
	if (!strcmp(at->value, "true"))
		*field = true;
	else if (!strcmp(at->value, "false"))
		*field = false;
	else
		return not_a(at, spec, "a boolean", error);
	return TRUE;
}

static gboolean parse_tls(const struct place *at, const struct key_spec *spec,
			  void *base, GError **error)
{
	if (!parse_bool(at, spec, base, error))
		return FALSE;
	at->ld->tls_set = true;
	return TRUE;
}

static gboolean parse_int(const struct place *at, const struct key_spec *spec,
			  void *base, GError **error)
{
	size_t digits = strspn(at->value, "0123456789");
	int *field = field_of(base, spec);
	long n;

	if (digits == 0 || at->value[digits] != '\0')
		return not_a(at, spec, "a whole number", error);
	n = digits > 9 ? G_MAXLONG : strtol(at->value, NULL, 10);
	if (n < spec->min || n > spec->max)
		return bad_value(at, CONFIG_ERROR_VALUE, error,
				 "is out of range (expected %s)",
				 spec->expected);
	*field = (int)n;
	return TRUE;
}

/* Two decimal digits at @p, at most @max. */
static bool two_digits(const char *p, int max, int *ret)
{
	int v;

	if (!g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]))
		return false;
	v = (p[0] - '0') * 10 + (p[1] - '0');
	if (v > max)
		return false;
	*ret = v;
	return true;
}

/* "HH:MM", or with @seconds "HH:MM:SS", as seconds of the day. */
static bool parse_clock(const char *text, bool seconds, int *ret_s)
{
	int h, m, s = 0;

	if (!two_digits(text, 23, &h) || text[2] != ':' ||
	    !two_digits(text + 3, 59, &m))
		return false;
	if (seconds && text[5] == ':') {
		if (!two_digits(text + 6, 59, &s) || text[8] != '\0')
			return false;
	} else if (text[5] != '\0') {
		return false;
	}
	*ret_s = h * 3600 + m * 60 + s;
	return true;
}

static gboolean parse_time_s(const struct place *at,
			     const struct key_spec *spec, void *base,
			     GError **error)
{
	int *field = field_of(base, spec);

	if (!parse_clock(at->value, true, field))
		return not_a(at, spec, "a time of day", error);
	return TRUE;
}

static gboolean parse_time_min(const struct place *at,
			       const struct key_spec *spec, void *base,
			       GError **error)
{
	int *field = field_of(base, spec);
	int s;

	if (!parse_clock(at->value, false, &s))
		return not_a(at, spec, "a time of day", error);
	*field = s / 60;
	return TRUE;
}

static gboolean parse_alert(const struct place *at, const struct key_spec *spec,
			    void *base, GError **error)
{
	int *field = field_of(base, spec);

	if (!strcmp(at->value, "wake")) {
		*field = CONFIG_ALERT_AT_WAKE;
		return TRUE;
	}
	if (!parse_clock(at->value, true, field))
		return not_a(at, spec, "wake or a time of day", error);
	return TRUE;
}

static gboolean parse_address(const struct place *at,
			      const struct key_spec *spec, void *base,
			      GError **error)
{
	char *field = field_of(base, spec);

	if (bachk(at->value) < 0)
		return not_a(at, spec, "a Bluetooth address", error);
	if (!strcmp(at->value, "00:00:00:00:00:00"))
		return bad_value(at, CONFIG_ERROR_VALUE, error,
				 "is no device's address (expected the "
				 "address recoveryctl scan shows, e.g. "
				 "C4:7C:8D:6A:12:34)");
	/* bachk took exactly 17 characters: the field holds them. */
	for (size_t i = 0; i < 18; i++)
		field[i] = g_ascii_toupper(at->value[i]);
	return TRUE;
}

static gboolean parse_adapter(const struct place *at,
			      const struct key_spec *spec, void *base,
			      GError **error)
{
	size_t digits = strspn(at->value + 3, "0123456789");

	if (strncmp(at->value, "hci", 3) || digits == 0 || digits > 3 ||
	    at->value[3 + digits] != '\0')
		return not_a(at, spec, "an adapter name", error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_timezone(const struct place *at,
			       const struct key_spec *spec, void *base,
			       GError **error)
{
	g_autoptr(clock_zone) zone = clock_zone_new(at->value, NULL);

	if (!zone)
		return not_a(at, spec, "a known time zone", error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_host(const struct place *at, const struct key_spec *spec,
			   void *base, GError **error)
{
	for (const char *p = at->value; *p; p++)
		if (g_ascii_isspace(*p) || g_ascii_iscntrl(*p) || *p == '/')
			return not_a(at, spec, "a host name or address", error);
	if (strlen(at->value) > 253)
		return not_a(at, spec, "a host name or address", error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_base_topic(const struct place *at,
				 const struct key_spec *spec, void *base,
				 GError **error)
{
	if (!mqtt_topic_base_valid(at->value))
		return not_a(at, spec, "a base topic", error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_topic(const struct place *at, const struct key_spec *spec,
			    void *base, GError **error)
{
	if (!mqtt_topic_name_valid(at->value))
		return not_a(at, spec, "an MQTT topic", error);
	set_string(base, spec, at->value);
	return TRUE;
}

/* A web address for Home Assistant's "Visit" link: http(s), a host, and no
 * spaces or control characters (HA refuses the device otherwise). */
static gboolean parse_url(const struct place *at, const struct key_spec *spec,
			  void *base, GError **error)
{
	const char *v = at->value;
	const char *host = g_str_has_prefix(v, "http://")    ? v + 7
			   : g_str_has_prefix(v, "https://") ? v + 8
							     : NULL;

	if (!host || !*host || *host == '/' || strlen(v) > URL_MAX)
		return not_a(at, spec, "a web address", error);
	for (const char *p = v; *p; p++)
		if (!g_ascii_isgraph(*p))
			return not_a(at, spec, "a web address", error);
	set_string(base, spec, v);
	return TRUE;
}

/* Comma-separated subscription filters, each valid and given once. */
static gboolean parse_antenna_topics(const struct place *at,
				     const struct key_spec *spec, void *base,
				     GError **error)
{
	g_auto(GStrv) parts = g_strsplit(at->value, ",", -1);
	g_autoptr(GPtrArray) topics = g_ptr_array_new_with_free_func(g_free);
	char ***field = field_of(base, spec);

	for (size_t i = 0; parts[i]; i++) {
		const char *f = g_strstrip(parts[i]);
		g_autofree char *q = quote(f);

		if (!*f)
			return bad_value(at, CONFIG_ERROR_VALUE, error,
					 "has an empty filter at position %zu "
					 "(expected %s)",
					 i + 1, spec->expected);
		if (!mqtt_topic_filter_valid(f))
			return bad_value(at, CONFIG_ERROR_VALUE, error,
					 "has %s, which is not an MQTT topic "
					 "filter ('+' and '#' only as whole "
					 "levels, '#' last; expected %s)",
					 q, spec->expected);
		for (guint j = 0; j < topics->len; j++)
			if (!strcmp(topics->pdata[j], f))
				return bad_value(at, CONFIG_ERROR_VALUE, error,
						 "has %s twice (expected each "
						 "filter once)",
						 q);
		if (topics->len == (guint)spec->max)
			return bad_value(at, CONFIG_ERROR_VALUE, error,
					 "has more than %d filters (expected "
					 "at most %d)",
					 spec->max, spec->max);
		g_ptr_array_add(topics, g_strdup(f));
	}
	g_ptr_array_add(topics, NULL);
	g_strfreev(*field);
	*field = (char **)g_ptr_array_steal(topics, NULL);
	return TRUE;
}

static gboolean parse_client_id(const struct place *at,
				const struct key_spec *spec, void *base,
				GError **error)
{
	if (strlen(at->value) > CLIENT_ID_MAX)
		return not_a(at, spec, "a client id", error);
	for (const char *p = at->value; *p; p++)
		if (!g_ascii_isgraph(*p))
			return not_a(at, spec, "a client id", error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_role(const struct place *at, const struct key_spec *spec,
			   void *base, GError **error)
{
	enum config_role *field = field_of(base, spec);

	if (!strcmp(at->value, "home"))
		*field = CONFIG_ROLE_HOME;
	else if (!strcmp(at->value, "satellite"))
		*field = CONFIG_ROLE_SATELLITE;
	else
		return not_a(at, spec, "a role", error);
	return TRUE;
}

/* A satellite's name is one topic level under <base>/satellite/: the
 * characters of a user name. */
static gboolean parse_satellite_name(const struct place *at,
				     const struct key_spec *spec, void *base,
				     GError **error)
{
	if (!mqtt_topic_satellite_name_valid(at->value))
		return not_a(at, spec, "a satellite name", error);
	set_string(base, spec, at->value);
	return TRUE;
}

static gboolean parse_protocol(const struct place *at,
			       const struct key_spec *spec, void *base,
			       GError **error)
{
	int *field = field_of(base, spec);

	if (!strcmp(at->value, "3.1.1"))
		*field = 311;
	else if (!strcmp(at->value, "5"))
		*field = 5;
	else
		return not_a(at, spec, "an MQTT version", error);
	return TRUE;
}

static gboolean parse_scale_protocol(const struct place *at,
				     const struct key_spec *spec, void *base,
				     GError **error)
{
	enum config_scale_protocol *field = field_of(base, spec);
	struct config_person *p = base; /* a [user] key only */

	if (!strcmp(at->value, "standard"))
		*field = CONFIG_SCALE_STANDARD;
	else if (!strcmp(at->value, "xiaomi"))
		*field = CONFIG_SCALE_XIAOMI;
	else if (!strcmp(at->value, "qn"))
		*field = CONFIG_SCALE_QN;
	else
		return not_a(at, spec, "a scale protocol", error);
	p->scale_protocol_set = true;
	return TRUE;
}

static gboolean parse_sex(const struct place *at, const struct key_spec *spec,
			  void *base, GError **error)
{
	enum load_sex *field = field_of(base, spec);

	if (!strcmp(at->value, "female"))
		*field = LOAD_SEX_FEMALE;
	else if (!strcmp(at->value, "male"))
		*field = LOAD_SEX_MALE;
	else if (!strcmp(at->value, "unspecified"))
		*field = LOAD_SEX_UNSPECIFIED;
	else
		return not_a(at, spec, "one of the choices", error);
	return TRUE;
}

/* A weight in kg: up to three digits, optionally a point and up to two
 * more. No signs, exponents, "nan" or "inf". */
static bool parse_kg(const char *text, double *ret)
{
	size_t whole = strspn(text, "0123456789");
	const char *p = text + whole;

	if (whole == 0 || whole > 3)
		return false;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");

		if (frac == 0 || frac > 2)
			return false;
		p += 1 + frac;
	}
	if (*p != '\0')
		return false;
	*ret = g_ascii_strtod(text, NULL);
	return true;
}

static gboolean parse_weight_range(const struct place *at,
				   const struct key_spec *spec, void *base,
				   GError **error)
{
	struct config_person *p = base;
	const char *dash = strchr(at->value, '-');
	g_autofree char *lo = NULL;
	g_autofree char *hi = NULL;
	double min, max;

	if (!dash)
		return not_a(at, spec, "a weight range", error);
	lo = g_strstrip(g_strndup(at->value, (size_t)(dash - at->value)));
	hi = g_strstrip(g_strdup(dash + 1));
	if (!parse_kg(lo, &min) || !parse_kg(hi, &max))
		return not_a(at, spec, "a weight range", error);
	if (min < WEIGHT_MIN_KG || max > WEIGHT_MAX_KG)
		return bad_value(at, CONFIG_ERROR_VALUE, error,
				 "is outside 20-300 kg (expected %s)",
				 spec->expected);
	if (min >= max)
		return bad_value(at, CONFIG_ERROR_VALUE, error,
				 "has its minimum not below its maximum "
				 "(expected %s)",
				 spec->expected);
	p->weight_min_kg = min;
	p->weight_max_kg = max;
	return TRUE;
}

static gboolean parse_club_days(const struct place *at,
				const struct key_spec *spec, void *base,
				GError **error)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu",
					    "fri", "sat", "sun" };
	uint8_t *field = field_of(base, spec);
	g_auto(GStrv) names = g_strsplit(at->value, ",", -1);
	uint8_t bits = 0;

	for (size_t i = 0; names[i]; i++) {
		const char *name = g_strstrip(names[i]);
		size_t d;

		for (d = 0; d < G_N_ELEMENTS(days); d++)
			if (!g_ascii_strcasecmp(name, days[d]))
				break;
		if (d == G_N_ELEMENTS(days)) {
			g_autofree char *q = quote(name);

			return bad_value(at, CONFIG_ERROR_VALUE, error,
					 "names %s, which is not a day "
					 "(expected %s)",
					 q, spec->expected);
		}
		bits |= (uint8_t)(1u << d);
	}
	*field = bits;
	return TRUE;
}

/* ---- groups ------------------------------------------------------------ */

#define C(f)	offsetof(struct config, f)
#define P(f)	offsetof(struct config_person, f)
#define ADDRESS "six hex pairs, e.g. C4:7C:8D:6A:12:34"
#define TIME_S	"HH:MM or HH:MM:SS, 00:00-23:59:59, e.g. 07:00"
#define FILE_EG "a file name, e.g. /etc/recoveryd/"

static const struct key_spec gateway_keys[] = {
	{ "adapter", parse_adapter, C(adapter), 0, 0,
	  "hciN, e.g. hci0; leave it out for the first powered adapter" },
	{ "power-on-adapter", parse_bool, C(power_on_adapter), 0, 0,
	  "true or false" },
	{ "database", parse_path, C(database), 0, 0,
	  "a file name, e.g. " DEFAULT_DATABASE },
	{ "timezone", parse_timezone, C(timezone), 0, 0,
	  "an IANA name such as Europe/Berlin; timedatectl "
	  "list-timezones shows them" },
	{ "retention-days", parse_int, C(retention_days), 7, 3650,
	  "7-3650 days" },
	{ "require-clock-sync", parse_bool, C(require_clock_sync), 0, 0,
	  "true or false" },
	{ "role", parse_role, C(role), 0, 0, "home or satellite" },
	{ "name", parse_satellite_name, C(satellite_name), 0, 0,
	  "1-32 letters, digits, '-' or '_', e.g. bedroom" },
};

static const struct key_spec mqtt_keys[] = {
	{ "host", parse_host, C(host), 0, 0,
	  "a host name or address, e.g. localhost or 192.168.1.10" },
	{ "port", parse_int, C(port), 1, 65535, "1-65535, e.g. 1883 or 8883" },
	{ "tls", parse_tls, C(tls), 0, 0, "true or false" },
	{ "ca-file", parse_path, C(ca_file), 0, 0, FILE_EG "ca.crt" },
	{ "ca-dir", parse_path, C(ca_dir), 0, 0,
	  "a directory, e.g. /etc/ssl/certs" },
	{ "cert-file", parse_path, C(cert_file), 0, 0, FILE_EG "client.crt" },
	{ "key-file", parse_path, C(key_file), 0, 0, FILE_EG "client.key" },
	{ "username", parse_text, C(username), 0, 0,
	  "a user name without control characters" },
	{ "password-file", parse_path, C(password_file), 0, 0,
	  FILE_EG "mqtt-password" },
	{ "allow-insecure", parse_bool, C(allow_insecure), 0, 0,
	  "true or false" },
	{ "base-topic", parse_base_topic, C(base_topic), 0, 0,
	  "topic levels without + or # or empty levels, not under "
	  "homeassistant, e.g. recovery" },
	{ "discovery-prefix", parse_topic, C(discovery_prefix), 0, 0,
	  "a topic without + or #, e.g. homeassistant" },
	{ "dashboard-url", parse_url, C(dashboard_url), 0, 0,
	  "an http:// or https:// address, e.g. https://recovery.local:8081/" },
	{ "client-id", parse_client_id, C(client_id), 0, 0,
	  "1-64 printable characters without spaces" },
	{ "protocol", parse_protocol, C(protocol), 0, 0, "3.1.1 or 5" },
	{ "keepalive", parse_int, C(keepalive_s), 5, 3600, "5-3600 seconds" },
};

static const struct key_spec antenna_keys[] = {
	{ "topics", parse_antenna_topics, C(antenna_topics), 0,
	  CONFIG_ANTENNA_TOPICS_MAX,
	  "MQTT topic filters separated by commas, e.g. "
	  "home/OpenMQTTGateway/BTtoMQTT/+,home/TheengsGateway/BTtoMQTT/+" },
};

static const struct key_spec user_keys[] = {
	{ "display-name", parse_text, P(display_name), 0, 0,
	  "a name without control characters" },
	{ "heart-rate", parse_address, P(heart_rate), 0, 0, ADDRESS },
	{ "scale", parse_address, P(scale), 0, 0, ADDRESS },
	{ "scale-protocol", parse_scale_protocol, P(scale_protocol), 0, 0,
	  "standard, xiaomi or qn" },
	{ "scale-user", parse_int, P(scale_user), 1, 254,
	  "1-254, the user number chosen on the scale" },
	{ "scale-consent", parse_int, P(scale_consent), 0, 9999,
	  "0-9999, the consent code (PIN) of the scale's user" },
	{ "weight-range", parse_weight_range, 0, 0, 0,
	  "MIN-MAX in kg within 20-300, MIN below MAX, e.g. 55-70 or "
	  "55.5-70" },
	{ "bed-sensor", parse_address, P(bed_sensor), 0, 0, ADDRESS },
	{ "sleep-need", parse_int, P(sleep_need_min), 240, 720,
	  "240-720 minutes" },
	{ "morning-alert", parse_alert, P(alert_s), 0, 0,
	  "wake, or a time HH:MM or HH:MM:SS, e.g. 07:00" },
	{ "morning-latest", parse_time_s, P(alert_latest_s), 0, 0, TIME_S },
	{ "alert-wait-checkin", parse_int, P(alert_wait_checkin_min), 0, 240,
	  "0-240 minutes" },
	{ "bedtime", parse_time_min, P(bedtime_min), 0, 0,
	  "HH:MM, 00:00-23:59, e.g. 23:00" },
	{ "wake", parse_time_min, P(wake_min), 0, 0,
	  "HH:MM, 00:00-23:59, e.g. 07:00" },
	{ "hr-max", parse_int, P(hr_max_bpm), 120, 230, "120-230 bpm" },
	{ "sex", parse_sex, P(sex), 0, 0, "female, male or unspecified" },
	{ "goal", parse_text, P(goal), 0, 0,
	  "a short text without control characters" },
	{ "club-days", parse_club_days, P(club_days), 0, 0,
	  "mon, tue, wed, thu, fri, sat or sun, separated by commas, "
	  "e.g. tue,sat" },
};

#undef C
#undef P
#undef ADDRESS
#undef TIME_S
#undef FILE_EG

enum group_kind {
	GROUP_GATEWAY,
	GROUP_MQTT,
	GROUP_ANTENNAS,
	GROUP_USER,
};

/* The group whose keys are being read. */
struct section {
	enum group_kind kind;
	const char *group;   /* as in the file */
	size_t person_index; /* GROUP_USER */
};

static const struct key_spec *keys_of(enum group_kind kind, size_t *ret_n)
{
	switch (kind) {
	case GROUP_GATEWAY:
		*ret_n = G_N_ELEMENTS(gateway_keys);
		return gateway_keys;
	case GROUP_MQTT:
		*ret_n = G_N_ELEMENTS(mqtt_keys);
		return mqtt_keys;
	case GROUP_ANTENNAS:
		*ret_n = G_N_ELEMENTS(antenna_keys);
		return antenna_keys;
	case GROUP_USER:
		*ret_n = G_N_ELEMENTS(user_keys);
		return user_keys;
	default:
		*ret_n = 0;
		return NULL;
	}
}

static void person_init(struct config_person *p, const char *name, int line)
{
	*p = (struct config_person){
		.name = g_strdup(name),
		.scale_protocol = CONFIG_SCALE_STANDARD,
		.sleep_need_min = DEFAULT_SLEEP_NEED_MIN,
		.alert_s = CONFIG_ALERT_AT_WAKE,
		.alert_latest_s = DEFAULT_ALERT_LATEST_S,
		.bedtime_min = DEFAULT_BEDTIME_MIN,
		.wake_min = DEFAULT_WAKE_MIN,
		.hr_max_bpm = DEFAULT_HR_MAX_BPM,
		.sex = LOAD_SEX_UNSPECIFIED,
		.line = line,
	};
}

/* A group header: known, not repeated, and for a person a valid name. */
static gboolean enter_group(struct loader *ld, const struct line *l,
			    GHashTable *seen, struct section *ret,
			    GError **error)
{
	struct config *config = ld->config;
	g_autofree char *id = NULL;
	g_autofree char *name = NULL;
	int first;

	if (!strcmp(l->group, "gateway")) {
		ret->kind = GROUP_GATEWAY;
		id = g_strdup(l->group);
	} else if (!strcmp(l->group, "mqtt")) {
		ret->kind = GROUP_MQTT;
		id = g_strdup(l->group);
	} else if (!strcmp(l->group, "antennas")) {
		ret->kind = GROUP_ANTENNAS;
		id = g_strdup(l->group);
	} else if (!strncmp(l->group, "user", 4) &&
		   (l->group[4] == '\0' || g_ascii_isspace(l->group[4]))) {
		g_autofree char *q = NULL;

		ret->kind = GROUP_USER;
		name = g_strstrip(g_strdup(l->group + 4));
		if (!*name)
			return fail(error, CONFIG_ERROR_KEY, ld->path,
				    l->number,
				    "[%s] has no name (expected [user NAME], "
				    "e.g. [user alice])",
				    l->group);
		if (!mqtt_topic_user_valid(name)) {
			q = quote(name);
			return fail(error, CONFIG_ERROR_VALUE, ld->path,
				    l->number,
				    "[%s]: %s is not a user name (expected "
				    "1-%d letters, digits, '-' or '_', and not "
				    "\"device\" or \"satellite\")",
				    l->group, q, MQTT_TOPIC_USER_MAX);
		}
		id = g_strconcat("user ", name, NULL);
	} else {
		return fail(error, CONFIG_ERROR_KEY, ld->path, l->number,
			    "unknown group [%s] (expected [gateway], [mqtt], "
			    "[antennas] or [user NAME])",
			    l->group);
	}

	first = GPOINTER_TO_INT(g_hash_table_lookup(seen, id));
	if (first) {
		if (ret->kind == GROUP_USER)
			return fail(error, CONFIG_ERROR_KEY, ld->path,
				    l->number,
				    "[%s]: user %s is given twice (first on "
				    "line %d; expected one [user NAME] "
				    "section per person)",
				    l->group, name, first);
		return fail(error, CONFIG_ERROR_KEY, ld->path, l->number,
			    "[%s] is given twice (first on line %d; expected "
			    "each group once)",
			    l->group, first);
	}
	g_hash_table_insert(seen, g_steal_pointer(&id),
			    GINT_TO_POINTER(l->number));

	ret->group = l->group;
	if (ret->kind == GROUP_USER) {
		ret->person_index = config->person_count;
		config->people = g_renew(struct config_person, config->people,
					 config->person_count + 1);
		person_init(&config->people[config->person_count], name,
			    l->number);
		config->person_count++;
		g_ptr_array_add(ld->person_groups, l->group);
	}
	return TRUE;
}

static char *key_list(const struct key_spec *keys, size_t n)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append(s, i + 1 == n ? " or " : ", ");
		g_string_append(s, keys[i].name);
	}
	return g_string_free(s, FALSE);
}

/* A key=value line: a known key, not repeated, with a value it takes. */
static gboolean take_key(struct loader *ld, const struct line *l,
			 const struct section *sec, GHashTable *seen,
			 GError **error)
{
	const struct key_spec *keys, *spec = NULL;
	g_autofree char *id = NULL;
	g_autofree char *value = NULL;
	g_autoptr(GError) local = NULL;
	struct place at;
	void *base;
	size_t n;
	int first;

	keys = keys_of(sec->kind, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, l->key))
			spec = &keys[i];
	if (!spec) {
		g_autofree char *list = key_list(keys, n);
		g_autofree char *q = quote(l->key);

		return fail(error, CONFIG_ERROR_KEY, ld->path, l->number,
			    "[%s] unknown key %s (expected %s)", sec->group, q,
			    list);
	}

	id = g_strconcat(sec->group, "\n", l->key, NULL);
	first = GPOINTER_TO_INT(g_hash_table_lookup(seen, id));
	if (first)
		return fail(error, CONFIG_ERROR_KEY, ld->path, l->number,
			    "[%s] %s: given twice (first on line %d; expected "
			    "each key once per group)",
			    sec->group, l->key, first);
	g_hash_table_insert(seen, g_steal_pointer(&id),
			    GINT_TO_POINTER(l->number));

	at = (struct place){
		.ld = ld, .line = l->number, .group = sec->group, .key = l->key
	};
	value = g_key_file_get_string(ld->keyfile, sec->group, l->key, &local);
	/* GLib 2.74 returns the text and sets the error for a bad escape. */
	if (!value || local) {
		g_autofree char *raw =
		    g_key_file_get_value(ld->keyfile, sec->group, l->key, NULL);

		at.value = raw ? raw : "";
		return bad_value(&at, CONFIG_ERROR_VALUE, error,
				 "has a backslash escape that cannot be read "
				 "(expected \\s, \\n, \\t, \\r or \\\\)");
	}
	/* GKeyFile strips the blanks before a value, not those after it,
	 * which nobody sees in an editor. */
	g_strchomp(value);
	at.value = value;
	if (!*value)
		return bad_value(&at, CONFIG_ERROR_VALUE, error,
				 "is empty (expected %s; leave the line out "
				 "for the default)",
				 spec->expected);

	if (sec->kind == GROUP_USER)
		base = &ld->config->people[sec->person_index];
	else
		base = ld->config;
	return spec->parse(&at, spec, base, error);
}

static gboolean read_groups(struct loader *ld, GError **error)
{
	g_autoptr(GHashTable) groups =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) keys =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct section sec = { 0 };

	for (guint i = 0; i < ld->lines->len; i++) {
		const struct line *l =
		    &g_array_index(ld->lines, struct line, i);

		switch (l->kind) {
		case LINE_GROUP:
			if (!enter_group(ld, l, groups, &sec, error))
				return FALSE;
			break;
		case LINE_KEY:
			if (!take_key(ld, l, &sec, keys, error))
				return FALSE;
			break;
		case LINE_BAD:
		default:
			return bad_line(ld->path, l, sec.group != NULL, error);
		}
	}
	return TRUE;
}

/* ---- cross checks ------------------------------------------------------ */

static const struct {
	const char *key;
	size_t offset;
	const char *what;
} device_keys[] = {
	{ "heart-rate", offsetof(struct config_person, heart_rate),
	  "heart-rate strap" },
	{ "scale", offsetof(struct config_person, scale), "scale" },
	{ "bed-sensor", offsetof(struct config_person, bed_sensor),
	  "bed sensor" },
};

static const char *device_address(const struct config_person *p, size_t kind)
{
	return (const char *)p + device_keys[kind].offset;
}

static const char *scale_protocol_name(enum config_scale_protocol protocol)
{
	switch (protocol) {
	case CONFIG_SCALE_STANDARD:
		return "standard";
	case CONFIG_SCALE_XIAOMI:
		return "xiaomi";
	case CONFIG_SCALE_QN:
		return "qn";
	default:
		return "?";
	}
}

/* One address, one kind of device: @p's device @kind against everything
 * configured before it (earlier people, and @p's earlier keys). */
static gboolean check_device(const struct loader *ld, size_t pi, size_t kind,
			     GError **error)
{
	const struct config *config = ld->config;
	const struct config_person *p = &config->people[pi];
	const char *group = g_ptr_array_index(ld->person_groups, pi);
	const char *address = device_address(p, kind);
	int line = key_line(ld->lines, group, device_keys[kind].key);

	for (size_t qi = 0; qi <= pi; qi++) {
		const struct config_person *q = &config->people[qi];
		const char *qgroup = g_ptr_array_index(ld->person_groups, qi);
		size_t kinds = qi < pi ? G_N_ELEMENTS(device_keys) : kind;

		for (size_t k = 0; k < kinds; k++) {
			int qline;

			if (k == kind || strcmp(device_address(q, k), address))
				continue;
			qline = key_line(ld->lines, qgroup, device_keys[k].key);
			return fail(error, CONFIG_ERROR_CONFLICT, ld->path,
				    line,
				    "[%s] %s: \"%s\" is already %s's %s on "
				    "line %d (expected one kind of device per "
				    "address)",
				    group, device_keys[kind].key, address,
				    q->name, device_keys[k].what, qline);
		}
	}
	return TRUE;
}

/* A scale shared by @p and someone before: one protocol, distinct user
 * numbers. */
static gboolean check_scale(const struct loader *ld, size_t pi, GError **error)
{
	const struct config *config = ld->config;
	const struct config_person *p = &config->people[pi];
	const char *group = g_ptr_array_index(ld->person_groups, pi);

	for (size_t qi = 0; qi < pi; qi++) {
		const struct config_person *q = &config->people[qi];
		const char *qgroup = g_ptr_array_index(ld->person_groups, qi);

		if (strcmp(p->scale, q->scale))
			continue;
		/* Not given is no protocol: the scale is recognised by what
		 * it advertises, or by the other line's override. */
		if (p->scale_protocol_set && q->scale_protocol_set &&
		    p->scale_protocol != q->scale_protocol) {
			int line = key_line(ld->lines, group, "scale-protocol");
			int qline = key_line(ld->lines, qgroup, "scale");

			return fail(
			    error, CONFIG_ERROR_CONFLICT, ld->path, line,
			    "[%s] scale-protocol: \"%s\" differs "
			    "from %s's %s on the same scale %s "
			    "(line %d; expected one protocol per "
			    "scale)",
			    group, scale_protocol_name(p->scale_protocol),
			    q->name, scale_protocol_name(q->scale_protocol),
			    p->scale, qline);
		}
		if (p->scale_user && p->scale_user == q->scale_user)
			return fail(error, CONFIG_ERROR_CONFLICT, ld->path,
				    key_line(ld->lines, group, "scale-user"),
				    "[%s] scale-user: \"%d\" is already %s's "
				    "on the same scale %s (line %d; expected "
				    "one user number per person on a scale)",
				    group, p->scale_user, q->name, p->scale,
				    key_line(ld->lines, qgroup, "scale-user"));
	}
	return TRUE;
}

/* A scale-protocol= on one person's line is the scale's, so every line
 * naming that scale gets it (check_scale() saw they agree). */
static void share_scale_protocols(struct config *config)
{
	for (size_t pi = 0; pi < config->person_count; pi++) {
		struct config_person *p = &config->people[pi];

		for (size_t qi = 0; qi < config->person_count; qi++) {
			const struct config_person *q = &config->people[qi];

			if (*p->scale && !p->scale_protocol_set &&
			    q->scale_protocol_set &&
			    !strcmp(p->scale, q->scale)) {
				p->scale_protocol = q->scale_protocol;
				p->scale_protocol_set = true;
			}
		}
	}
}

static gboolean check_people(const struct loader *ld, GError **error)
{
	const struct config *config = ld->config;

	if (config->person_count == 0 &&
	    !(ld->flags & CONFIG_LOAD_PEOPLE_OPTIONAL))
		return fail(error, CONFIG_ERROR_MISSING, ld->path, 0,
			    "no [user NAME] section (expected at least one "
			    "person, e.g. [user alice] with heart-rate=)");
	for (size_t pi = 0; pi < config->person_count; pi++) {
		const struct config_person *p = &config->people[pi];

		for (size_t k = 0; k < G_N_ELEMENTS(device_keys); k++)
			if (*device_address(p, k) &&
			    !check_device(ld, pi, k, error))
				return FALSE;
		if (*p->scale && !check_scale(ld, pi, error))
			return FALSE;
	}
	return TRUE;
}

/* "[mqtt] @key: given without @needs=" when @have is set and @needs not. */
static gboolean require_key(const struct loader *ld, const char *have,
			    const char *key, const char *needs_value,
			    const char *needs_key, const char *why,
			    GError **error)
{
	if (!have || needs_value)
		return TRUE;
	return fail(error, CONFIG_ERROR_MISSING, ld->path,
		    key_line(ld->lines, "mqtt", key),
		    "[mqtt] %s: given without %s= (expected %s)", key,
		    needs_key, why);
}

/* An antenna filter that covers our own topics would feed recoveryd its
 * own messages (and Home Assistant's) as advertisements. */
static gboolean check_antennas(const struct loader *ld, GError **error)
{
	const struct config *config = ld->config;
	g_autofree char *status =
	    g_strconcat(config->base_topic, "/status", NULL);
	g_autofree char *checkin =
	    g_strconcat(config->base_topic, "/user/checkin/set", NULL);
	g_autofree char *ha =
	    g_strconcat(config->discovery_prefix, "/status", NULL);

	for (char **f = config->antenna_topics; f && *f; f++) {
		if (!mqtt_topic_matches(*f, status) &&
		    !mqtt_topic_matches(*f, checkin) &&
		    !mqtt_topic_matches(*f, ha))
			continue;
		return fail(
		    error, CONFIG_ERROR_CONFLICT, ld->path,
		    key_line(ld->lines, "antennas", "topics"),
		    "[antennas] topics: \"%s\" covers recoveryd's own "
		    "topics under %s/ or %s/ (expected the antennas' "
		    "topics only, e.g. home/OpenMQTTGateway/BTtoMQTT/+)",
		    *f, config->base_topic, config->discovery_prefix);
	}
	return TRUE;
}

/* name= and role=satellite go together. */
static gboolean check_role(const struct loader *ld, GError **error)
{
	const struct config *config = ld->config;

	if (config->role == CONFIG_ROLE_SATELLITE && !config->satellite_name)
		return fail(error, CONFIG_ERROR_MISSING, ld->path,
			    key_line(ld->lines, "gateway", "role"),
			    "[gateway] role: \"satellite\" given without "
			    "name= (expected the satellite's name, e.g. "
			    "name=bedroom: its topics are "
			    "<base>/satellite/NAME/)");
	if (config->role == CONFIG_ROLE_SATELLITE) {
		g_autofree char *sat = mqtt_topic_satellite_base(
		    config->base_topic, config->satellite_name);

		if (!sat)
			return fail(error, CONFIG_ERROR_VALUE, ld->path,
				    key_line(ld->lines, "gateway", "name"),
				    "[gateway] name: %s/satellite/%s is too "
				    "long a topic (expected at most %d bytes: "
				    "a shorter name or base-topic=)",
				    config->base_topic, config->satellite_name,
				    MQTT_TOPIC_BASE_MAX);
	}
	if (config->role == CONFIG_ROLE_HOME && config->satellite_name)
		return fail(error, CONFIG_ERROR_CONFLICT, ld->path,
			    key_line(ld->lines, "gateway", "name"),
			    "[gateway] name: names a satellite, but this "
			    "gateway is role=home (expected role=satellite "
			    "with name=, or no name=)");
	return TRUE;
}

static gboolean check_mqtt(struct loader *ld, GError **error)
{
	struct config *config = ld->config;
	const char *tls_key = config->ca_file	  ? "ca-file"
			      : config->ca_dir	  ? "ca-dir"
			      : config->cert_file ? "cert-file"
						  : NULL;

	if (!require_key(
		ld, config->password_file, "password-file", config->username,
		"username",
		"username= with password-file=, the broker checks them "
		"together",
		error) ||
	    !require_key(ld, config->key_file, "key-file", config->cert_file,
			 "cert-file", "cert-file= and key-file= together",
			 error) ||
	    !require_key(ld, config->cert_file, "cert-file", config->key_file,
			 "key-file", "cert-file= and key-file= together",
			 error))
		return FALSE;

	if (!ld->tls_set)
		config->tls = tls_key || config->port == TLS_PORT;
	else if (!config->tls && tls_key)
		return fail(error, CONFIG_ERROR_CONFLICT, ld->path,
			    key_line(ld->lines, "mqtt", "tls"),
			    "[mqtt] tls: \"false\" contradicts %s= on line %d "
			    "(expected tls=true, or no ca-file, ca-dir or "
			    "cert-file)",
			    tls_key, key_line(ld->lines, "mqtt", tls_key));
	return TRUE;
}

/* @path opened for reading: a file descriptor, or -errno, -EISDIR for a
 * directory, -EINVAL for anything but a regular file. O_NONBLOCK: a FIFO
 * must not hang --check-config. */
static int open_regular(const char *path)
{
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * Opens and reads @path as recoveryd will: a regular file, readable, not
 * empty. Reading, not access(2): root may open a file of mode 000, but not
 * read a directory. Returns 0 or a negative errno: -EINVAL when it is not a
 * regular file, -ENODATA when it is empty.
 */
static int probe_file(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd, r = 0;

	fd = open_regular(path);
	if (fd < 0)
		return fd;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		r = -errno;
	else if (n == 0)
		r = -ENODATA;
	/* It may be the password. */
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

static int probe_dir(const char *path)
{
	DIR *dir = opendir(path);
	int r = 0;

	if (!dir)
		return -errno;
	errno = 0;
	if (!readdir(dir) && errno)
		r = -errno;
	closedir(dir);
	return r;
}

static gboolean check_files(const struct loader *ld, GError **error)
{
	const struct config *config = ld->config;
	const struct {
		const char *key;
		const char *path;
		bool dir;
		const char *contents;
	} files[] = {
		{ "password-file", config->password_file, false,
		  "a file with the password on its first line" },
		{ "ca-file", config->ca_file, false,
		  "a PEM file of CA certificates" },
		{ "ca-dir", config->ca_dir, true, NULL },
		{ "cert-file", config->cert_file, false,
		  "a PEM client certificate" },
		{ "key-file", config->key_file, false, "a PEM private key" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *q = NULL;
		const char *why;
		int r;

		if (!files[i].path)
			continue;
		r = files[i].dir ? probe_dir(files[i].path)
				 : probe_file(files[i].path);
		if (r == 0)
			continue;
		why = r == -EINVAL    ? "is not a regular file"
		      : r == -ENODATA ? "is empty"
				      : NULL;
		q = quote(files[i].path);
		if (why)
			return fail(error, CONFIG_ERROR_FILE, ld->path,
				    key_line(ld->lines, "mqtt", files[i].key),
				    "[mqtt] %s: %s %s (expected %s)",
				    files[i].key, q, why, files[i].contents);
		return fail(error, CONFIG_ERROR_FILE, ld->path,
			    key_line(ld->lines, "mqtt", files[i].key),
			    "[mqtt] %s: %s cannot be read: %s (expected %s)",
			    files[i].key, q, g_strerror(-r),
			    files[i].dir ? "a directory recoveryd can read"
					 : "a file recoveryd can read");
	}
	return TRUE;
}

/* ---- entry points ------------------------------------------------------ */

struct config *config_new_defaults(void)
{
	struct config *config = g_new0(struct config, 1);

	config->power_on_adapter = true;
	config->database = g_strdup(DEFAULT_DATABASE);
	config->retention_days = DEFAULT_RETENTION_DAYS;
	config->host = g_strdup(DEFAULT_HOST);
	config->base_topic = g_strdup(MQTT_TOPIC_DEFAULT_BASE);
	config->discovery_prefix = g_strdup(DEFAULT_DISCOVERY);
	config->protocol = DEFAULT_PROTOCOL;
	config->keepalive_s = DEFAULT_KEEPALIVE_S;
	return config;
}

void config_clear_people(struct config *config)
{
	for (size_t i = 0; i < config->person_count; i++) {
		struct config_person *p = &config->people[i];

		g_free(p->name);
		g_free(p->display_name);
		g_free(p->goal);
	}
	g_clear_pointer(&config->people, g_free);
	config->person_count = 0;
}

void config_free(struct config *config)
{
	if (!config)
		return;
	config_clear_people(config);
	g_free(config->path);
	g_free(config->adapter);
	g_free(config->database);
	g_free(config->timezone);
	g_free(config->host);
	g_free(config->ca_file);
	g_free(config->ca_dir);
	g_free(config->cert_file);
	g_free(config->key_file);
	g_free(config->username);
	g_free(config->password_file);
	g_free(config->base_topic);
	g_free(config->satellite_name);
	g_free(config->discovery_prefix);
	g_free(config->dashboard_url);
	g_free(config->client_id);
	g_strfreev(config->antenna_topics);
	g_free(config);
}

const struct config_person *config_find_person(const struct config *config,
					       const char *name)
{
	if (!config || !name)
		return NULL;
	for (size_t i = 0; i < config->person_count; i++)
		if (!strcmp(config->people[i].name, name))
			return &config->people[i];
	return NULL;
}

/* The 1-based line of byte @offset of @data. */
static int line_at(const char *data, size_t offset)
{
	int line = 1;

	for (size_t i = 0; i < offset; i++)
		if (data[i] == '\n')
			line++;
	return line;
}

struct config *config_load_data(const char *path, const char *data, size_t len,
				GError **error)
{
	return config_load_data_full(path, data, len, CONFIG_LOAD_DEFAULT,
				     error);
}

struct config *config_load_data_full(const char *path, const char *data,
				     size_t len, unsigned flags, GError **error)
{
	g_autoptr(owned_config) config = config_new_defaults();
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GPtrArray) person_groups = g_ptr_array_new();
	g_autoptr(GError) local = NULL;
	const char *end;
	struct loader ld;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(data != NULL || len == 0, NULL);

	/* Checked first, so every line below is text GKeyFile reads as we
	 * do, and every message can quote it. */
	if (!g_utf8_validate_len(data, len, &end)) {
		size_t at = (size_t)(end - data);

		fail(error, CONFIG_ERROR_PARSE, path, line_at(data, at),
		     data[at] == '\0' ? "contains a NUL byte (expected text)"
				      : "is not UTF-8 text (expected a text "
					"file in UTF-8)");
		return NULL;
	}

	config->path = g_strdup(path);
	lines = scan_lines(data, len);
	ld = (struct loader){
		.path = path,
		.lines = lines,
		.keyfile = keyfile,
		.config = config,
		.person_groups = person_groups,
		.flags = flags,
	};

	/* The scan finds what GKeyFile would refuse, with its line. */
	for (guint i = 0; i < lines->len; i++) {
		const struct line *l = &g_array_index(lines, struct line, i);

		if (l->kind == LINE_BAD) {
			bool in_group = false;

			for (guint j = 0; j < i && !in_group; j++)
				in_group =
				    g_array_index(lines, struct line, j).kind ==
				    LINE_GROUP;
			bad_line(path, l, in_group, error);
			return NULL;
		}
	}
	if (!g_key_file_load_from_data(keyfile, data, len, G_KEY_FILE_NONE,
				       &local)) {
		/* What the scan lets through: an "Encoding=" other than
		 * UTF-8 at the top, which GKeyFile refuses. */
		int line = 0;

		for (guint i = 0; i < lines->len && !line; i++) {
			const struct line *l =
			    &g_array_index(lines, struct line, i);

			if (l->kind == LINE_KEY && !strcmp(l->key, "Encoding"))
				line = l->number;
		}
		fail(error, CONFIG_ERROR_PARSE, path, line, "%s",
		     local->message);
		return NULL;
	}

	if (!read_groups(&ld, error) || !check_people(&ld, error) ||
	    !check_role(&ld, error) || !check_mqtt(&ld, error) ||
	    !check_antennas(&ld, error) || !check_files(&ld, error))
		return NULL;
	share_scale_protocols(config);
	return g_steal_pointer(&config);
}

/* Reads @path whole, up to CONFIG_FILE_MAX bytes. 0 or a negative errno,
 * -EFBIG when longer. */
static int read_config_file(const char *path, char **ret_data, size_t *ret_len)
{
	g_autofree char *data = NULL;
	size_t len = 0;
	int fd, r = 0;

	fd = open_regular(path);
	if (fd < 0)
		return fd;
	data = g_malloc(CONFIG_FILE_MAX + 1);
	while (len <= CONFIG_FILE_MAX) {
		ssize_t n = read(fd, data + len, CONFIG_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (r == 0 && len > CONFIG_FILE_MAX)
		r = -EFBIG;
	close(fd);
	if (r < 0)
		return r;
	*ret_data = g_steal_pointer(&data);
	*ret_len = len;
	return 0;
}

struct config *config_load(const char *path, GError **error)
{
	return config_load_full(path, CONFIG_LOAD_DEFAULT, error);
}

struct config *config_load_full(const char *path, unsigned flags,
				GError **error)
{
	g_autofree char *data = NULL;
	size_t len = 0;
	int r;

	g_return_val_if_fail(path != NULL, NULL);

	r = read_config_file(path, &data, &len);
	if (r == -EFBIG) {
		fail(error, CONFIG_ERROR_FILE, path, 0,
		     "is larger than 1 MiB (expected a configuration file)");
		return NULL;
	}
	if (r == -EINVAL) {
		fail(error, CONFIG_ERROR_FILE, path, 0,
		     "is not a regular file (expected a configuration file)");
		return NULL;
	}
	if (r < 0) {
		fail(error, CONFIG_ERROR_FILE, path, 0, "cannot be read: %s",
		     g_strerror(-r));
		return NULL;
	}
	return config_load_data_full(path, data, len, flags, error);
}

// SPDX-License-Identifier: MIT
#include "tests/integration/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <mosquitto.h>

#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS	 5000
#define PORT_ATTEMPTS	 3

struct broker {
	char *binary;
	char *dir;
	char *conf_path;
	char *log_path;
	char *out_path; /* the child's stdout and stderr */
	struct broker_config config;
	char *users_file;
	char *acl_file;
	int port;
	int probe_port;
	GPid pid; /* 0: not running */
};

GQuark broker_error_quark(void)
{
	return g_quark_from_static_string("broker-error-quark");
}

static char *find_binary(void)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/local/sbin",
					    "/sbin" };
	const char *env = g_getenv("MOSQUITTO");
	char *path;

	if (env && *env)
		return g_file_test(env, G_FILE_TEST_IS_EXECUTABLE)
			   ? g_strdup(env)
			   : NULL;
	path = g_find_program_in_path("mosquitto");
	if (path)
		return path;
	/* Debian installs it in /usr/sbin, often not in a user's PATH. */
	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		path = g_build_filename(dirs[i], "mosquitto", NULL);
		if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
			return path;
		g_free(path);
	}
	return NULL;
}

/* A port nobody listens on now; the broker binds it a moment later, and
 * broker_new tries other ports if someone else was faster. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	g_assert_cmpint(fd, >=, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	g_assert_cmpint(port, >, 0);
	return port;
}

static bool accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void write_conf(broker *b)
{
	const struct broker_config *cfg = &b->config;
	g_autoptr(GString) s = g_string_new("# tests/integration/broker.c\n");
	struct passwd *pw = getpwuid(geteuid());
	g_autoptr(GError) error = NULL;

	g_string_append(s, "per_listener_settings false\n"
			   "log_type error\nlog_type warning\n"
			   "log_type notice\nlog_type information\n"
			   "connection_messages true\n"
			   /* No cap on QoS 1 messages in flight to a
			    * subscriber: beyond the cap the broker keeps
			    * messages in memory, which a killed broker
			    * loses after it acknowledged them. */
			   "max_inflight_messages 0\n");
	/* Run as root, mosquitto would switch to user "mosquitto", who
	 * cannot read our private directory. */
	if (pw)
		g_string_append_printf(s, "user %s\n", pw->pw_name);
	g_string_append_printf(s, "log_dest file %s\n", b->log_path);
	if (cfg->persistence)
		g_string_append_printf(s,
				       "persistence true\n"
				       "persistence_location %s/\n",
				       b->dir);
	else
		g_string_append(s, "persistence false\n");
	g_string_append_printf(s, "allow_anonymous %s\n",
			       cfg->allow_anonymous ? "true" : "false");
	if (b->users_file)
		g_string_append_printf(s, "password_file %s\n", b->users_file);
	if (b->acl_file)
		g_string_append_printf(s, "acl_file %s\n", b->acl_file);
	g_string_append_printf(s, "listener %d 127.0.0.1\n", b->port);
	if (cfg->certfile) {
		g_string_append_printf(s, "certfile %s\nkeyfile %s\n",
				       cfg->certfile, cfg->keyfile);
		if (cfg->cafile)
			g_string_append_printf(s, "cafile %s\n", cfg->cafile);
		g_string_append_printf(s, "require_certificate %s\n",
				       cfg->require_certificate ? "true"
								: "false");
	}
	if (b->probe_port != b->port)
		g_string_append_printf(s, "listener %d 127.0.0.1\n",
				       b->probe_port);
	if (cfg->extra)
		g_string_append_printf(s, "%s\n", cfg->extra);
	if (!g_file_set_contents(b->conf_path, s->str, (gssize)s->len, &error))
		g_error("writing %s: %s", b->conf_path, error->message);
}

static gboolean make_users(broker *b, GError **error)
{
	const char *const *u = b->config.users;
	g_autofree char *passwd = g_find_program_in_path("mosquitto_passwd");

	if (!u || !u[0])
		return TRUE;
	if (!passwd) {
		g_set_error(error, BROKER_ERROR, BROKER_ERROR_MISSING,
			    "mosquitto_passwd not found");
		return FALSE;
	}
	b->users_file = g_build_filename(b->dir, "passwd", NULL);
	for (size_t i = 0; u[i] && u[i + 1]; i += 2) {
		const char *argv[8];
		g_autofree char *out = NULL, *err = NULL;
		int n = 0, status;

		argv[n++] = passwd;
		argv[n++] = "-b";
		if (i == 0)
			argv[n++] = "-c";
		argv[n++] = b->users_file;
		argv[n++] = u[i];
		argv[n++] = u[i + 1];
		argv[n] = NULL;
		g_auto(GStrv) args = broker_argv(argv);

		if (!g_spawn_sync(NULL, args, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				  &out, &err, &status, error))
			return FALSE;
		if (!g_spawn_check_wait_status(status, error)) {
			g_prefix_error(error, "mosquitto_passwd: %s: ", err);
			return FALSE;
		}
	}
	return TRUE;
}

static void child_setup(gpointer data)
{
	/* The broker must not outlive a test that crashes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static bool reap(broker *b, bool block)
{
	int status;
	pid_t r;

	if (!b->pid)
		return true;
	do
		r = waitpid(b->pid, &status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == b->pid || (r < 0 && errno == ECHILD)) {
		g_spawn_close_pid(b->pid);
		b->pid = 0;
		return true;
	}
	return false;
}

char **broker_argv(const char *const *args)
{
	size_t n = 0;
	char **v;

	while (args[n])
		n++;
	v = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = g_strdup(args[i]);
	return v;
}

char *broker_log_tail(broker *b)
{
	g_autoptr(GString) s = g_string_new(NULL);
	const char *paths[] = { b->out_path, b->log_path };

	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
		g_autofree char *text = NULL;
		gsize len = 0;

		if (g_file_get_contents(paths[i], &text, &len, NULL) && len)
			g_string_append(s,
					len > 2000 ? text + len - 2000 : text);
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* One try: spawn, then wait until both listeners accept or it dies. */
static gboolean spawn_and_wait(broker *b, GError **error)
{
	const char *argv[] = { b->binary, "-c", b->conf_path, NULL };
	g_auto(GStrv) args = broker_argv(argv);
	int out =
	    open(b->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int64_t deadline = g_get_monotonic_time() +
			   (int64_t)START_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
	gboolean ok;

	g_assert_cmpint(out, >=, 0);
	ok = g_spawn_async_with_fds(NULL, args, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
				    child_setup, NULL, &b->pid, -1, out, out,
				    error);
	close(out);
	if (!ok)
		return FALSE;
	while (g_get_monotonic_time() < deadline) {
		if (reap(b, false))
			break;
		if (accepts(b->port) && accepts(b->probe_port))
			return TRUE;
		g_usleep(10 * 1000);
	}
	if (b->pid) {
		kill(b->pid, SIGKILL);
		reap(b, true);
	}
	{
		g_autofree char *tail = broker_log_tail(b);

		g_set_error(error, BROKER_ERROR, BROKER_ERROR_FAILED,
			    "mosquitto did not start on port %d:\n%s", b->port,
			    tail);
	}
	return FALSE;
}

broker *broker_new(const struct broker_config *config, GError **error)
{
	static const struct broker_config defaults = { .allow_anonymous =
							   true };
	g_autoptr(broker) b = g_new0(struct broker, 1);
	g_autoptr(GError) last = NULL;

	b->config = config ? *config : defaults;
	b->binary = find_binary();
	if (!b->binary) {
		g_set_error(error, BROKER_ERROR, BROKER_ERROR_MISSING,
			    "mosquitto not found (install it, or set "
			    "MOSQUITTO=/path/to/mosquitto)");
		return NULL;
	}
	b->dir = g_dir_make_tmp("broker-XXXXXX", error);
	if (!b->dir)
		return NULL;
	b->conf_path = g_build_filename(b->dir, "mosquitto.conf", NULL);
	b->log_path = g_build_filename(b->dir, "mosquitto.log", NULL);
	b->out_path = g_build_filename(b->dir, "stderr.log", NULL);
	if (!make_users(b, error))
		return NULL;
	if (b->config.acl) {
		b->acl_file = g_build_filename(b->dir, "acl", NULL);
		if (!g_file_set_contents(b->acl_file, b->config.acl, -1, error))
			return NULL;
	}
	/* The ports were free a moment ago; another test may take one in
	 * between, then the broker exits and we pick others. */
	for (int i = 0; i < PORT_ATTEMPTS; i++) {
		b->port = free_port();
		b->probe_port = b->config.certfile ? free_port() : b->port;
		if (b->probe_port == b->port && b->config.certfile)
			continue;
		write_conf(b);
		g_clear_error(&last);
		if (spawn_and_wait(b, &last))
			return g_steal_pointer(&b);
	}
	g_propagate_error(error, g_steal_pointer(&last));
	return NULL;
}

gboolean broker_start(broker *b, GError **error)
{
	if (b->pid)
		return TRUE;
	return spawn_and_wait(b, error);
}

void broker_stop(broker *b)
{
	int64_t deadline = g_get_monotonic_time() +
			   (int64_t)STOP_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

	if (!b->pid)
		return;
	kill(b->pid, SIGTERM);
	while (!reap(b, false)) {
		if (g_get_monotonic_time() > deadline) {
			broker_kill(b);
			return;
		}
		g_usleep(5 * 1000);
	}
}

void broker_kill(broker *b)
{
	if (!b->pid)
		return;
	kill(b->pid, SIGKILL);
	reap(b, true);
}

bool broker_running(broker *b)
{
	return b->pid && !reap(b, false);
}

int broker_port(broker *b)
{
	return b->port;
}

int broker_probe_port(broker *b)
{
	return b->probe_port;
}

const char *broker_dir(broker *b)
{
	return b->dir;
}

void broker_free(broker *b)
{
	if (!b)
		return;
	broker_kill(b);
	if (b->dir) {
		g_autoptr(GDir) d = g_dir_open(b->dir, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *path =
			    g_build_filename(b->dir, name, NULL);

			g_remove(path);
		}
		g_rmdir(b->dir);
	}
	g_free(b->binary);
	g_free(b->dir);
	g_free(b->conf_path);
	g_free(b->log_path);
	g_free(b->out_path);
	g_free(b->users_file);
	g_free(b->acl_file);
	g_free(b);
}

bool broker_check(const GError *error)
{
	if (!error)
		return true;
	if (g_error_matches(error, BROKER_ERROR, BROKER_ERROR_MISSING)) {
		g_test_skip(error->message);
		return false;
	}
	g_error("broker: %s", error->message);
}

/* --- the probe ------------------------------------------------------------ */

struct probe {
	struct mosquitto *mosq;
	GMutex lock;
	GCond cond;
	char **topics;
	GPtrArray *messages; /* struct probe_message * */
	bool subscribed;
	GHashTable *done_mids; /* published and written or acknowledged */
};

void probe_message_free(struct probe_message *m)
{
	if (!m)
		return;
	g_free(m->topic);
	g_free(m->payload);
	g_free(m);
}

static struct probe_message *message_copy(const char *topic,
					  const void *payload, size_t len,
					  bool retain, int64_t at_us)
{
	struct probe_message *m = g_new0(struct probe_message, 1);

	m->topic = g_strdup(topic);
	m->payload = g_malloc(len + 1);
	if (len)
		memcpy(m->payload, payload, len);
	m->payload[len] = '\0';
	m->len = len;
	m->retain = retain;
	m->received_us = at_us;
	return m;
}

static void probe_on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	probe *p = obj;

	if (rc != 0)
		return;
	mosquitto_subscribe_multiple(mosq, NULL, (int)g_strv_length(p->topics),
				     p->topics, 0, 0, NULL);
}

static void probe_on_subscribe(struct mosquitto *mosq, void *obj, int mid,
			       int count, const int *granted)
{
	probe *p = obj;

	g_mutex_lock(&p->lock);
	p->subscribed = true;
	g_cond_broadcast(&p->cond);
	g_mutex_unlock(&p->lock);
}

static void probe_on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	probe *p = obj;

	g_mutex_lock(&p->lock);
	p->subscribed = false;
	g_mutex_unlock(&p->lock);
}

static void probe_on_message(struct mosquitto *mosq, void *obj,
			     const struct mosquitto_message *msg)
{
	probe *p = obj;
	int64_t now = g_get_monotonic_time();

	g_mutex_lock(&p->lock);
	g_ptr_array_add(
	    p->messages,
	    message_copy(msg->topic, msg->payload,
			 msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0,
			 msg->retain, now));
	g_cond_broadcast(&p->cond);
	g_mutex_unlock(&p->lock);
}

static void probe_on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	probe *p = obj;

	g_mutex_lock(&p->lock);
	g_hash_table_add(p->done_mids, GINT_TO_POINTER(mid));
	g_cond_broadcast(&p->cond);
	g_mutex_unlock(&p->lock);
}

static bool wait_locked(probe *p, bool (*done)(probe *, const void *),
			const void *arg, unsigned timeout_ms)
{
	int64_t deadline = g_get_monotonic_time() +
			   (int64_t)timeout_ms * G_TIME_SPAN_MILLISECOND;
	bool ok;

	g_mutex_lock(&p->lock);
	while (!(ok = done(p, arg)))
		if (!g_cond_wait_until(&p->cond, &p->lock, deadline)) {
			ok = done(p, arg);
			break;
		}
	g_mutex_unlock(&p->lock);
	return ok;
}

static bool is_subscribed(probe *p, const void *arg)
{
	return p->subscribed;
}

static bool has_count(probe *p, const void *arg)
{
	return p->messages->len >= *(const unsigned *)arg;
}

static bool has_mid(probe *p, const void *arg)
{
	return g_hash_table_contains(p->done_mids,
				     GINT_TO_POINTER(*(const int *)arg));
}

probe *probe_new(int port, const char *username, const char *password,
		 const char *const *topics, GError **error)
{
	static int counter;
	g_autofree char *id =
	    g_strdup_printf("probe-%d-%d", (int)getpid(), ++counter);
	probe *p = g_new0(struct probe, 1);
	int rc;

	mosquitto_lib_init();
	g_mutex_init(&p->lock);
	g_cond_init(&p->cond);
	p->topics = broker_argv(topics);
	p->messages =
	    g_ptr_array_new_with_free_func((GDestroyNotify)probe_message_free);
	p->done_mids = g_hash_table_new(NULL, NULL);
	p->mosq = mosquitto_new(id, true, p);
	g_assert_nonnull(p->mosq);
	if (username)
		mosquitto_username_pw_set(p->mosq, username, password);
	mosquitto_connect_callback_set(p->mosq, probe_on_connect);
	mosquitto_subscribe_callback_set(p->mosq, probe_on_subscribe);
	mosquitto_disconnect_callback_set(p->mosq, probe_on_disconnect);
	mosquitto_message_callback_set(p->mosq, probe_on_message);
	mosquitto_publish_callback_set(p->mosq, probe_on_publish);
	mosquitto_reconnect_delay_set(p->mosq, 1, 1, false);
	rc = mosquitto_connect(p->mosq, "127.0.0.1", port, 30);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_start(p->mosq);
	if (rc != MOSQ_ERR_SUCCESS) {
		g_set_error(error, BROKER_ERROR, BROKER_ERROR_FAILED,
			    "probe: %s", mosquitto_strerror(rc));
		probe_free(p);
		return NULL;
	}
	if (!probe_wait_ready(p, 5000)) {
		g_set_error(error, BROKER_ERROR, BROKER_ERROR_FAILED,
			    "probe: not subscribed within 5 s");
		probe_free(p);
		return NULL;
	}
	return p;
}

void probe_free(probe *p)
{
	if (!p)
		return;
	if (p->mosq) {
		mosquitto_disconnect(p->mosq);
		mosquitto_loop_stop(p->mosq, false);
		mosquitto_destroy(p->mosq);
	}
	mosquitto_lib_cleanup();
	g_strfreev(p->topics);
	g_ptr_array_unref(p->messages);
	g_hash_table_destroy(p->done_mids);
	g_mutex_clear(&p->lock);
	g_cond_clear(&p->cond);
	g_free(p);
}

bool probe_wait_ready(probe *p, unsigned timeout_ms)
{
	return wait_locked(p, is_subscribed, NULL, timeout_ms);
}

bool probe_wait_count(probe *p, unsigned count, unsigned timeout_ms)
{
	return wait_locked(p, has_count, &count, timeout_ms);
}

unsigned probe_count(probe *p)
{
	unsigned n;

	g_mutex_lock(&p->lock);
	n = p->messages->len;
	g_mutex_unlock(&p->lock);
	return n;
}

struct probe_message *probe_get(probe *p, unsigned i)
{
	struct probe_message *copy = NULL;

	g_mutex_lock(&p->lock);
	if (i < p->messages->len) {
		const struct probe_message *m = p->messages->pdata[i];

		copy = message_copy(m->topic, m->payload, m->len, m->retain,
				    m->received_us);
	}
	g_mutex_unlock(&p->lock);
	return copy;
}

void probe_clear(probe *p)
{
	g_mutex_lock(&p->lock);
	g_ptr_array_set_size(p->messages, 0);
	g_mutex_unlock(&p->lock);
}

bool probe_publish(probe *p, const char *topic, const char *payload, int qos,
		   bool retain)
{
	int mid = 0;

	if (mosquitto_publish(p->mosq, &mid, topic, (int)strlen(payload),
			      payload, qos, retain) != MOSQ_ERR_SUCCESS)
		return false;
	return wait_locked(p, has_mid, &mid, 5000);
}

bool probe_new_with_broker(const struct broker_config *config,
			   const char *const *topics, broker **ret_broker,
			   probe **ret_probe)
{
	g_autoptr(GError) error = NULL;

	*ret_broker = broker_new(config, &error);
	if (!broker_check(error))
		return false;
	*ret_probe = probe_new(broker_probe_port(*ret_broker), NULL, NULL,
			       topics, &error);
	g_assert_no_error(error);
	return true;
}

int probe_wait_message(probe *p, unsigned from, const char *topic,
		       const char *needle, unsigned timeout_ms)
{
	int64_t end = g_get_monotonic_time() + timeout_ms * (int64_t)1000;

	do {
		unsigned n = probe_count(p);

		for (unsigned i = from; i < n; i++) {
			g_autoptr(probe_message) m = probe_get(p, i);

			if (m && strcmp(m->topic, topic) == 0 &&
			    (!needle || strstr(m->payload, needle)))
				return (int)i;
		}
		g_usleep(20000);
	} while (g_get_monotonic_time() < end);
	return -1;
}

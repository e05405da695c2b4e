// SPDX-License-Identifier: MIT
#include "mqtt/password.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mqtt/client.h"

/* Room for the longest password, "\r\n", and one byte more to tell a file
 * that is too long from one that is exactly full. */
#define BUF_LEN (MQTT_PASSWORD_MAX + 3)

static gboolean refuse(GError **error, const char *path, const char *why)
{
	g_set_error(error, MQTT_CLIENT_ERROR, MQTT_CLIENT_ERROR_FILE,
		    "password file %s: %s", path, why);
	return FALSE;
}

void mqtt_password_free(char *password)
{
	if (!password)
		return;
	explicit_bzero(password, strlen(password));
	g_free(password);
}

/* Reads at most @cap bytes; returns the count, or -1 with errno set. */
static ssize_t read_up_to(int fd, char *buf, size_t cap)
{
	size_t total = 0;

	while (total < cap) {
		ssize_t n = read(fd, buf + total, cap - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		total += (size_t)n;
	}
	return (ssize_t)total;
}

gboolean mqtt_password_read(const char *path, char **ret_password,
			    bool *ret_exposed, GError **error)
{
	char *buf;
	struct stat st;
	ssize_t n;
	size_t len;
	gboolean ok = FALSE;
	int fd;

	if (!path || !ret_password || !ret_exposed) {
		g_set_error_literal(error, MQTT_CLIENT_ERROR,
				    MQTT_CLIENT_ERROR_INVALID,
				    "no password file given");
		return FALSE;
	}

	/* One open and fstat, not stat then open: the mode we report is the
	 * mode of the file we read. O_NONBLOCK: a FIFO must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return refuse(error, path, g_strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return refuse(error, path, g_strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(error, path, "not a regular file");
	}

	buf = g_malloc(BUF_LEN);
	n = read_up_to(fd, buf, BUF_LEN);
	if (n < 0) {
		refuse(error, path, g_strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if (len == BUF_LEN) {
		refuse(error, path,
		       "longer than " G_STRINGIFY(MQTT_PASSWORD_MAX) " bytes");
		goto out;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > MQTT_PASSWORD_MAX) {
		refuse(error, path,
		       "longer than " G_STRINGIFY(MQTT_PASSWORD_MAX) " bytes");
		goto out;
	}
	if (len == 0) {
		refuse(error, path, "empty");
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		refuse(error, path, "contains a NUL byte");
		goto out;
	}
	if (!g_utf8_validate(buf, (gssize)len, NULL)) {
		refuse(error, path, "not UTF-8");
		goto out;
	}
	buf[len] = '\0';
	*ret_exposed = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	*ret_password = g_steal_pointer(&buf);
	ok = TRUE;
out:
	if (buf) {
		explicit_bzero(buf, BUF_LEN);
		g_free(buf);
	}
	close(fd);
	return ok;
}

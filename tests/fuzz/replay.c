// SPDX-License-Identifier: MIT
/*
 * Replays fuzz inputs through a libFuzzer entry point without libFuzzer, so
 * every normal (and sanitizer) build runs the checked-in seeds and any
 * crash reproducer: `fuzz-X-replay DIR|FILE...`. Fails when it finds no
 * input at all, so a moved seed directory cannot pass silently.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	uint8_t *buf;
	size_t len;
	FILE *f = fopen(path, "rb");
	long end;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	rewind(f);
	len = (size_t)end;
	/* malloc(len) exactly, so ASan catches a read one past the end. */
	buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: not found\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) != 0)
				return 1;
			count++;
			continue;
		}
		dir = opendir(argv[i]);
		if (!dir)
			return 1;
		while ((de = readdir(dir))) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
				 de->d_name);
			if (replay_file(path) != 0) {
				closedir(dir);
				return 1;
			}
			count++;
		}
		closedir(dir);
	}
	printf("replayed %u inputs\n", count);
	return count ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Why a payload was rejected, precise enough for a person debugging a
 * device: which field, at which byte offset, and what was expected.
 * Every string member points to static storage.
 */
enum parse_fault {
	PARSE_FAULT_NONE = 0,
	PARSE_FAULT_TRUNCATED, /* -EBADMSG: fewer bytes than the field needs */
	PARSE_FAULT_OUT_OF_RANGE, /* -EINVAL: value outside what the spec allows
				   */
	PARSE_FAULT_RESERVED,	  /* -ENOTSUP: a reserved/unsupported format */
	PARSE_FAULT_TOO_MANY,	  /* -E2BIG: more items than we can hold */
	PARSE_FAULT_ENCRYPTED,	  /* -ENOKEY: payload needs a key we lack */
	PARSE_FAULT_MALFORMED,	  /* -EBADMSG: checksum or signature wrong */
};

struct parse_error {
	enum parse_fault fault;
	const char *field; /* e.g. "timestamp" */
	size_t offset;	   /* byte offset where the field starts */
	size_t need;	   /* TRUNCATED: bytes the field needs */
	size_t left;	   /* TRUNCATED: bytes that were left */
	uint32_t value; /* OUT_OF_RANGE, RESERVED, MALFORMED: offending value */
	const char *expected; /* OUT_OF_RANGE, RESERVED, TOO_MANY, MALFORMED:
			       * what is ok */
};

/*
 * Returns the negative errno that goes with @fault (0 for NONE).
 */
int parse_fault_errno(enum parse_fault fault);

/*
 * Writes a one-line, human-readable description of @err into @buf (always
 * NUL-terminated when @size > 0), e.g. "truncated at offset 3 reading
 * timestamp (7 bytes needed, 2 left)". Returns what snprintf() returns.
 */
int parse_error_format(const struct parse_error *err, char *buf, size_t size);

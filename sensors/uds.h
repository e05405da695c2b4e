/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/parse-error.h"

/*
 * User Data Service (0x181C) User Control Point (0x2A9F), per the SIG's UDS
 * 1.0 specification, section 3.4: a client registers a user with a consent
 * code and is given the user's index; on each later connection it writes
 * Consent (index and code) before the server tags measurements with that
 * index. Every request is answered by an indication of a Response Code.
 * Pure build and parse; the order of requests is scale-session.c's.
 */

#define UDS_SERVICE_UUID       0x181C
#define UDS_CONTROL_POINT      0x2A9F
#define UDS_CONSENT_CODE_MAX   9999 /* 0x0000-0x270F */
#define UDS_REGISTER_SIZE      3
#define UDS_CONSENT_SIZE       4
#define UDS_USER_INDEX_UNKNOWN 0xFF /* "unknown user" in the spec */

enum uds_op {
	UDS_OP_REGISTER_NEW_USER = 0x01, /* consent code le16 */
	UDS_OP_CONSENT = 0x02,		 /* user index, consent code le16 */
	UDS_OP_RESPONSE = 0x20,		 /* request op, result [, param] */
};

enum uds_result {
	UDS_RESULT_SUCCESS = 0x01,
	UDS_RESULT_OP_NOT_SUPPORTED = 0x02,
	UDS_RESULT_INVALID_PARAMETER = 0x03,
	UDS_RESULT_OPERATION_FAILED = 0x04,
	UDS_RESULT_NOT_AUTHORIZED = 0x05,
};

struct uds_response {
	uint8_t request_op; /* the request it answers (enum uds_op) */
	uint8_t result;	    /* enum uds_result, or what the scale sent */
	/* Register New User answered with success: the new user's index. */
	bool has_user_index;
	uint8_t user_index;
};

/*
 * Builds Register New User with @consent_code. Returns 0, or -EINVAL for a
 * code above UDS_CONSENT_CODE_MAX (@ret untouched).
 */
int uds_build_register(uint16_t consent_code, uint8_t ret[UDS_REGISTER_SIZE]);

/*
 * Builds Consent for @user_index with @consent_code. Returns 0, or -EINVAL
 * for a code above UDS_CONSENT_CODE_MAX or the index 0xFF (@ret untouched).
 */
int uds_build_consent(uint8_t user_index, uint16_t consent_code,
		      uint8_t ret[UDS_CONSENT_SIZE]);

/*
 * Parses a User Control Point indication. Returns 0 with @ret filled, or
 * with @ret untouched and @ret_err (may be NULL) naming the field:
 * -EBADMSG for a short frame or an op code other than Response Code, or a
 * successful registration without its user index; -EINVAL for the index
 * 0xFF.
 */
int uds_parse_response(const uint8_t *data, size_t len,
		       struct uds_response *ret, struct parse_error *ret_err);

/* What a result code means, in words for a log line ("user not
 * authorized: wrong consent code"); static storage, never NULL. */
const char *uds_result_text(uint8_t result);

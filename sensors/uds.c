// SPDX-License-Identifier: MIT
#include "sensors/uds.h"

#include <errno.h>

#include "sensors/cursor.h"

int uds_build_register(uint16_t consent_code, uint8_t ret[UDS_REGISTER_SIZE])
{
	if (consent_code > UDS_CONSENT_CODE_MAX)
		return -EINVAL;
	ret[0] = UDS_OP_REGISTER_NEW_USER;
	ret[1] = (uint8_t)consent_code;
	ret[2] = (uint8_t)(consent_code >> 8);
	return 0;
}

int uds_build_consent(uint8_t user_index, uint16_t consent_code,
		      uint8_t ret[UDS_CONSENT_SIZE])
{
	if (consent_code > UDS_CONSENT_CODE_MAX ||
	    user_index == UDS_USER_INDEX_UNKNOWN)
		return -EINVAL;
	ret[0] = UDS_OP_CONSENT;
	ret[1] = user_index;
	ret[2] = (uint8_t)consent_code;
	ret[3] = (uint8_t)(consent_code >> 8);
	return 0;
}

/*
 * 0 op code 0x20, 1 request op code, 2 result, 3.. response parameter: the
 * new user's index after a successful Register New User (UDS 1.0 table
 * 3.12). Other requests' parameters are not read.
 */
int uds_parse_response(const uint8_t *data, size_t len,
		       struct uds_response *ret, struct parse_error *ret_err)
{
	struct uds_response r = { 0 };
	struct cursor c;
	uint8_t op;

	cursor_init(&c, data, len, ret_err);
	if (!cursor_u8(&c, "op code", &op))
		return cursor_truncated();
	if (op != UDS_OP_RESPONSE)
		return cursor_fail(&c, PARSE_FAULT_MALFORMED, "op code", 0, op,
				   "0x20 (Response Code)");
	if (!cursor_u8(&c, "request op code", &r.request_op))
		return cursor_truncated();
	if (!cursor_u8(&c, "response value", &r.result))
		return cursor_truncated();
	if (r.request_op == UDS_OP_REGISTER_NEW_USER &&
	    r.result == UDS_RESULT_SUCCESS) {
		if (!cursor_u8(&c, "user index", &r.user_index))
			return cursor_truncated();
		if (r.user_index == UDS_USER_INDEX_UNKNOWN)
			return cursor_fail(&c, PARSE_FAULT_OUT_OF_RANGE,
					   "user index", 3, r.user_index,
					   "0-254");
		r.has_user_index = true;
	}
	*ret = r;
	return 0;
}

const char *uds_result_text(uint8_t result)
{
	switch (result) {
	case UDS_RESULT_SUCCESS:
		return "success";
	case UDS_RESULT_OP_NOT_SUPPORTED:
		return "op code not supported";
	case UDS_RESULT_INVALID_PARAMETER:
		return "invalid parameter (no such user index, or the "
		       "consent code out of range)";
	case UDS_RESULT_OPERATION_FAILED:
		return "operation failed (the scale's user list may be full)";
	case UDS_RESULT_NOT_AUTHORIZED:
		return "user not authorized (wrong consent code)";
	default:
		return "an unknown response value";
	}
}

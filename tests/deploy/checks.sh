# SPDX-License-Identifier: MIT
#
# The verdict helpers the tests/deploy scripts share (sourced, not run):
# skip says why and exits 77; fail and pass print one line each, fail
# counts into $failures for the script's own exit status at its end.

failures=0

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

pass() {
	echo "ok: $*"
}

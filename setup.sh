#!/bin/sh
# inkflow's two entry points on a fresh Debian 12 machine (as root):
#   ./setup.sh demo   install build packages, build, run the main job on a copy
#                     of the sample mailboxes (run/), print what it did
#   ./setup.sh test   install build and test packages, run the whole test
#                     suite plain, cppcheck and clang-tidy (make lint), the
#                     tests under valgrind (make valgrind), the whole suite
#                     under AddressSanitizer + UBSan, then fuzz each
#                     libFuzzer target for 60 s
# Both install only what is missing and can be run again at any time.
set -eu
cd "$(dirname "$0")"

BUILD_PKGS="gcc make pkg-config libc6-dev libetpan-dev libxml2-dev libsqlite3-dev
  libcurl4-gnutls-dev libjansson-dev libgnutls28-dev nettle-dev libhpdf-dev fonts-dejavu-core
  libtiff-dev libpng-dev libjpeg62-turbo-dev libqpdf-dev libytnef0-dev libunistring-dev"
TEST_PKGS="libcmocka-dev python3 python3-icalendar sqlite3 poppler-utils qpdf clang libclang-rt-14-dev radicale
  cppcheck clang-tidy valgrind"

install_missing() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "setup: installing$missing"
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
			echo "setup: missing packages:$missing; run as root or install them" >&2
			exit 1
		fi
	else
		SUDO=
	fi
	$SUDO apt-get update -qq || { echo "setup: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing \
		>/dev/null || { echo "setup: apt-get install$missing failed" >&2; exit 1; }
}

case "${1:-}" in
demo)
	# shellcheck disable=SC2086
	install_missing $BUILD_PKGS
	make -s
	make -s demo
	;;
test)
	# shellcheck disable=SC2086
	install_missing $BUILD_PKGS $TEST_PKGS
	tests/lab/maillab install
	make -s
	echo "== tests (plain build)"
	make -s check
	echo "== static analysis (cppcheck, clang-tidy)"
	make -s -j2 lint
	echo "== tests under valgrind (unit programs and the whole integration suite)"
	make -s valgrind
	echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
	make -s SAN=1 check
	echo "== fuzzing (libFuzzer, 60 s per target, two targets at a time)"
	# The Makefile's default targets, dealt out to two lanes (2 cores).
	fuzz_all=$(sed -n 's/^FUZZ_TARGETS *?= *//p' Makefile)
	fuzz_1= fuzz_2= fuzz_bins= n=0
	for t in $fuzz_all; do
		if [ $((n % 2)) -eq 0 ]; then fuzz_1="$fuzz_1 $t"; else fuzz_2="$fuzz_2 $t"; fi
		fuzz_bins="$fuzz_bins build-fuzz/fuzz_$t"
		n=$((n + 1))
	done
	# shellcheck disable=SC2086
	make -s -j2 $fuzz_bins
	make -s fuzz FUZZ_SECONDS=60 FUZZ_TARGETS="$fuzz_1" & fuzz_pid=$!
	make -s fuzz FUZZ_SECONDS=60 FUZZ_TARGETS="$fuzz_2" || fuzz_failed=1
	wait $fuzz_pid || fuzz_failed=1
	[ -z "${fuzz_failed:-}" ] || { echo "setup: fuzzing found a failure (above)" >&2; exit 1; }
	;;
*)
	echo "usage: ./setup.sh demo|test" >&2
	exit 1
	;;
esac

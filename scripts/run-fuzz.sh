#!/bin/sh
# Fuzzes the shim's parsers (THREADLEAK_OPTIONS, suppression files) with libFuzzer for a bounded
# time: configures a clang build (the main build uses g++, which has no libFuzzer), builds the
# fuzz targets of tests/fuzz with -fsanitize=fuzzer,address,undefined and runs each for SECONDS
# (default 30) from the seed corpus in tests/fuzz/corpus. A crash leaves its input in BUILD_DIR
# (crash-*); add it to the corpus once fixed.
#
# Usage: scripts/run-fuzz.sh [SECONDS] [BUILD_DIR]      (BUILD_DIR default: build-fuzz)
# To fuzz one target without limit:
#   BUILD_DIR/tests/fuzz/options_fuzzer BUILD_DIR/tests/fuzz/corpus-options tests/fuzz/corpus/options
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-30}
build_dir=${2:-build-fuzz}
case $seconds in ''|*[!0-9]*) echo "usage: scripts/run-fuzz.sh [SECONDS] [BUILD_DIR]" >&2; exit 2 ;; esac
command -v clang++ >/dev/null 2>&1 || {
  echo "run-fuzz: clang++ is needed for libFuzzer (apt-get install clang)" >&2
  exit 2
}
# CMake's output only when it fails, and nothing left beside the sources.
configure_log=$(mktemp)
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTHREADLEAK_FUZZ_SECONDS="$seconds" >"$configure_log" 2>&1 || {
  cat "$configure_log" >&2
  rm -f "$configure_log"
  exit 1
}
rm -f "$configure_log"
cmake --build "$build_dir" -j "$(nproc)" --target options_fuzzer suppressions_fuzzer
ctest --test-dir "$build_dir" -L fuzz --output-on-failure

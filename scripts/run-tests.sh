#!/bin/sh
# Sets up (scripts/setup.sh) and runs the whole test suite: unit, symbolizer and end-to-end.
# Usage: scripts/run-tests.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build_dir=${1:-build}
scripts/setup.sh "$build_dir"
cmake --build "$build_dir" -j "$(nproc)"  # everything, the tests too
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"

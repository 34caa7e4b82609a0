#!/bin/sh
# Installs the Debian packages threadleak needs (when missing) and builds the tool and the bundled
# example into ./build (scripts/run-tests.sh builds the tests).
# Usage: scripts/setup.sh [BUILD_DIR]
set -eu

cd "$(dirname "$0")/.."
build_dir=${1:-build}

# libiberty-dev: the C++ and Rust demanglers. rustc and golang-go only build test programs (Rust
# names, Go with cgo); the tests that need them are skipped without them. libjemalloc2: the
# reachability test's run under another allocator (skipped without it).
# libxml2-dev: JUnit XML. protobuf-c-compiler, libprotobuf-c-dev, zlib1g-dev: pprof profiles
# (format=pprof, `threadleak report --format pprof`). graphviz draws the HTML report's wait-for
# graph. For the report tool's tests only: libxml2-utils (xmllint, the JUnit schema check),
# python3-jsonschema (the SARIF schema check), chromium (a screenshot of the HTML report);
# golang-go's `go tool pprof`.
# The runtimes whose threads the built-in rules name, and the services of the staging-mode tests
# (tests/runtimes; each test is skipped without its package, none takes more than a few seconds).
packages="g++ cmake make pkg-config binutils libunwind-dev libdw-dev libelf-dev libgtest-dev
nlohmann-json3-dev libiberty-dev rustc golang-go protobuf-c-compiler libprotobuf-c-dev zlib1g-dev
graphviz libxml2-dev libxml2-utils python3-jsonschema chromium
libjemalloc2 libgoogle-perftools4 libopenblas-dev libtbb-dev libglib2.0-dev libgrpc-dev python3 nodejs
redis-server memcached"

missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup: error: need root (or sudo) to install:$missing" >&2
    exit 1
  fi
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
# The tool and the bundled example only: the tests are built by scripts/run-tests.sh, so the first
# report comes without waiting for the whole suite to compile.
cmake --build "$build_dir" -j "$(nproc)" --target threadleak_wrapper leaky_worker

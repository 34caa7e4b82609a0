#!/bin/sh
# bench/run.sh — the benchmark of issue 7: each workload without a tool, under threadleak, built
# with -fsanitize=thread, and under valgrind --tool=drd / --tool=helgrind; prints one Markdown
# table of medians and slowdowns, then start-up cost, exit-report time and memory per thread.

usage() {
  cat <<USAGE
usage: bench/run.sh [--quick] [--no-build] [RUNNER OPTIONS] [BUILD_DIR]

Builds the shim and the workloads into BUILD_DIR (default: build, next to bench/) unless
--no-build, then runs them and prints the table (Markdown, on stdout; progress on stderr).

  --quick              small counts and one run of each variant: checks that everything runs
                       (the bench_smoke test); its numbers mean nothing
  --no-build           use BUILD_DIR as it is
  --runs N             runs of baseline and threadleak (default 11)
  --slices N           turns each of baseline and threadleak run side by side, a few tens of
                       milliseconds each (default 240; 0: none); decides the "met?" column
  --tsan-runs N        runs under ThreadSanitizer (default 3)
  --valgrind-runs N    runs under DRD and Helgrind (default 3)
  --variants LIST      comma-separated subset of baseline,threadleak,tsan,drd,helgrind,
                       callgrind (instructions added per operation)
  --only LIST          comma-separated workload names (substrings), e.g. mutex,task_queue
  --timeout S          seconds allowed per run (default 120)
  --quiet              no progress lines
  --raw FILE           also write every run's numbers to FILE (JSON)
  -h, --help           show this help

The full run takes about 15 minutes on 2 cores (the table of target rows with --runs 21 and
callgrind: 8-12). Timings are reported, never asserted.
USAGE
}

die() {
  echo "bench/run.sh: error: $*" >&2
  exit 2
}

THREADLEAK_BENCH_COMMAND="bench/run.sh${*:+ $*}"  # shown above the table
export THREADLEAK_BENCH_COMMAND
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P) || die "cannot locate bench/"
source_dir=$(dirname -- "$here")
build_dir=""
build=1
set_build_dir() {
  [ -z "$build_dir" ] || die "more than one BUILD_DIR: '$build_dir' and '$1'"
  build_dir=$1
}

# Options for the runner are passed through; only BUILD_DIR and the build flags are ours.
runner_args=""
add_runner_arg() {
  runner_args="$runner_args $(printf '%s' "$1" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")"
}
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --no-build) build=0; shift ;;
    --quick|--quiet) add_runner_arg "$1"; shift ;;
    --runs|--slices|--tsan-runs|--valgrind-runs|--variants|--only|--timeout|--raw)
      [ $# -ge 2 ] || die "$1 needs a value"
      add_runner_arg "$1"; add_runner_arg "$2"; shift 2 ;;
    --) shift; [ $# -le 1 ] || die "too many arguments"; [ $# -eq 0 ] || set_build_dir "$1"; break ;;
    -*) die "unknown option '$1' (see bench/run.sh --help)" ;;
    *) set_build_dir "$1"; shift ;;
  esac
done
build_dir=${build_dir:-$source_dir/build}

command -v python3 >/dev/null 2>&1 || die "python3 is needed to run the benchmark"
if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 ||
      die "configuring $build_dir failed"
  fi
  cmake --build "$build_dir" --target bench_workloads -j "$(nproc)" >&2 ||
    die "building the benchmark in $build_dir failed"
fi
[ -x "$build_dir/bench/bin/mutex_pthread" ] ||
  die "no workloads in $build_dir/bench/bin (build the bench_workloads target, or drop --no-build)"

eval "set -- $runner_args"
exec python3 "$here/bench.py" "$@" "$build_dir"

#!/bin/sh
# The self-check of issue 8: builds the project with AddressSanitizer and UndefinedBehavior-
# Sanitizer (cmake/Sanitizers.cmake: everything except the preloaded shim, which stays plain)
# into its own build directory, runs the unit, symbolizer, end-to-end, shim and reliability
# suites there, then fuzzes the option and suppression parsers for a short bounded time
# (scripts/run-fuzz.sh, when clang is installed).
#
# Usage: scripts/run-sanitized-tests.sh [BUILD_DIR] [FUZZ_SECONDS]
#        (defaults: build-asan, 20 seconds per fuzz target; FUZZ_SECONDS=0 skips fuzzing)
set -eu
cd "$(dirname "$0")/.."
build_dir=${1:-build-asan}
fuzz_seconds=${2:-20}

# (THREADLEAK_BENCH_TSAN=OFF: the ThreadSanitizer benchmarks cannot take ASan and are not tests.)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTHREADLEAK_SANITIZE=address,undefined -DTHREADLEAK_BENCH_TSAN=OFF
cmake --build "$build_dir" -j "$(nproc)"

# The plain shim is preloaded ahead of the instrumented programs' ASan runtime: allow that
# order (the shim's hooks then call into ASan's interceptors). Any sanitizer report fails the
# test whose process made it. intercept_tls_get_addr=0: GCC 12's LeakSanitizer misreads the
# dynamic TLS of modules loaded with dlopen (libunwind) on glibc 2.36 and its
# tracer crashes at exit ("Tracer caught signal 11") — with or without threadleak's own code.
ASAN_OPTIONS="verify_asan_link_order=0:intercept_tls_get_addr=0:halt_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

# Not under ASan (they run in the plain build):
# - the scale tests: 10,000 threads with ASan's per-thread state measure ASan, not threadleak;
# - tests that leave a thread a few KiB from the end of its stack, or handle a signal on a 4 KiB
#   alternate stack: ASan's frames are larger (there, ASan's own SIGSEGV handler then faults on
#   the same full stack, again and again, until the test's time runs out);
# - fork from a parent whose other threads keep allocating: GCC 12's ASan allocator is not
#   fork-safe, and the child deadlocks in malloc with or without threadleak (the same holds for
#   a child forked from a worker while hammer threads allocate);
# - dumps during thread churn: tens of thousands of short threads a second, each with ASan's
#   shadow and fake stacks, run the instrumented program out of mappings (ASan's own
#   "ReserveShadowMemoryRange failed", with or without the dumps);
# - exit() in a vfork child: ASan's own exit handlers run in the memory the child shares with
#   its parent, and the parent's ASan runtime is broken afterwards (a CHECK failure at its next
#   dlopen), with or without threadleak;
# - a seccomp filter that kills on open: LeakSanitizer's exit-time check opens /proc;
# - how soon a process whose main called pthread_exit ends, against the same without the tool:
#   a timing check, which ASan's slower thread exits on a loaded machine outgrow (the plain
#   build checks it);
# - a leaked thread holding glibc malloc's arena lock (malloc_stats), and exit() from a signal
#   handler that interrupted malloc: ASan's allocator replaces glibc's (its malloc_stats holds no
#   arena lock), and its exit-time leak check allocates, which a handler that interrupted its
#   allocator cannot do, with or without threadleak;
# - jemalloc and tcmalloc preloaded into an instrumented program: they replace ASan's allocator;
# - an instrumented library preloaded into node, or the instrumented report module loaded into
#   redis-server: ASan refuses to start after the program ("ASan runtime does not come first"),
#   with or without threadleak's own code;
# - a library's dlsym(RTLD_NEXT, "pthread_create") while ASan's pthread_create stands between the
#   shim and libc: the lookup keeps libc's answer by design, so the thread's creator is unknown;
# - since the leak check runs after the loader's finalizer (README "When the check runs"),
#   LeakSanitizer's own exit check (an atexit handler) runs first, and reports the test programs'
#   deliberate leaks (a raw clone's stack, a blocked future's state, a leaked std::thread's state
#   in a GoogleTest program, when the thread has not taken it yet; the reachability corpus's
#   detached sender's std::thread state, in the test that turns the scan off: 2 runs in 8 here)
#   before threadleak can: the programs that leak memory on purpose;
# - verdicts: the reachability proof needs glibc's malloc, and under ASan's allocator every
#   verdict falls back to "possibly" (said in the report), so tests that expect "definitely"
#   (the wait-for graph scenarios, the suppressed-thread summary, the C11 waiter) and the report
#   tool's expectations built on them; ASan's own SIGSEGV handler (dump_on_fatal leaves a
#   program's handler alone); the plain build runs them all.
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" -LE 'scale|bench' \
  -E 'NearItsStackLimit|SmallAltstack|ASmallAlternateSignalStack|ForkWhileOtherThreadsAreInsideTheTool|DumpsDuringHeavyThreadChurn|VforkChildCallingExit|SeccompSandboxed|ChildForkedFromAWorker|ExitFromMainEndsWhenTheLastThreadDoes|HoldingMallocsLock|ExitFromASignalHandlerThatInterruptedMalloc|RuntimeRules.*/(Jemalloc|Tcmalloc)|OneRealLeakOfTheProgramIsReportedAlone/Node|ServiceUnderStaging|RtldNext.(LeakedLibraryThread|CreatedByRule)|CProgram.RawClone|DefaultOptionsHookApplies|LeakIsReported/blocked_future|ThreadOfAnUnloadedLibrary|SurvivorsThatAreAllSuppressed|FatalSignals.Crash|WaitGraphTest.(Json|Text)/(writer_behind_reader|lonely_condvar|signaller_sleeping|static_condvar|interrupted_condvar)|TextReportOmitsSuppressedThreads|C11Threads.LeakedWaiter|ReportTool.(Sarif|Github)|Attribution.ExitReportNamesTheTestWhoseBodyCreatedTheThread|Reachability.ScanCanBeTurnedOff'

if [ "$fuzz_seconds" -gt 0 ]; then
  if command -v clang++ >/dev/null 2>&1; then
    scripts/run-fuzz.sh "$fuzz_seconds" "$build_dir-fuzz"
  else
    echo "run-sanitized-tests: clang++ not installed; fuzzing skipped" >&2
  fi
fi

// The shim must not change what programs do, and its exit path must never hang: each scenario
// runs in its own process under the shim (programs/hook_behaviour.cc, programs/c_program.c).
#include <gtest/gtest.h>

#include <unistd.h>

#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/support.h"

namespace {

using e2e::Field;
using e2e::RunResult;
using e2e::TempDir;

struct ShimRun {
  TempDir dir;
  RunResult result;
  std::string output;

  explicit ShimRun(std::vector<std::string> argv) {
    result = e2e::RunUnderShim(THREADLEAK_SHIM_PATH, argv, dir);
    output = result.output;
  }

  // The one report of process `pid`, or an empty object (with a test failure) when missing.
  nlohmann::json Report(pid_t pid) {
    std::string error;
    auto report = e2e::ReadReport(e2e::ReportPath(dir, pid), &error);
    EXPECT_TRUE(report.has_value()) << error << "\n" << output;
    return report.value_or(nlohmann::json::object());
  }
};

// Runs `scenario` without and with the shim: both must exit 0 and print the same. Returns what the
// run without the shim printed.
std::string SameOutputWithAndWithoutTheShim(const std::string& scenario) {
  e2e::TempDir plain_dir;
  RunResult plain =
      e2e::RunProgram({HOOK_BEHAVIOUR, scenario}, {}, plain_dir.path() + "/output.txt");
  ShimRun shim({HOOK_BEHAVIOUR, scenario});
  EXPECT_TRUE(plain.exited && plain.exit_status == 0) << plain.Describe() << "\n" << plain.output;
  EXPECT_TRUE(shim.result.exited && shim.result.exit_status == 0) << shim.result.Describe() << "\n"
                                                                  << shim.output;
  EXPECT_EQ(shim.output, plain.output);
  return plain.output;
}

TEST(HookBehaviour, ReturnValuesAndErrnoAreLibcs) {
  ShimRun run({HOOK_BEHAVIOUR, "return_values"});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  EXPECT_TRUE(e2e::ReportFiles(run.dir).empty());
}

TEST(HookBehaviour, ThreadWaitingOnStaticConditionVariableDoesNotHangExit) {
  ShimRun run({HOOK_BEHAVIOUR, "static_cv"});
  ASSERT_FALSE(run.result.timed_out) << "exit hung in the static condvar's destructor";
  EXPECT_EQ(run.result.exit_status, 66) << run.result.Describe() << "\n" << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  ASSERT_EQ(Field(report, "leaks"), 1);
  EXPECT_EQ(report["threads"][0]["state"], "cond");
}

TEST(HookBehaviour, ThreadHoldingStdinLockDoesNotHangExitAndOutputIsFlushed) {
  ShimRun run({HOOK_BEHAVIOUR, "stdin_reader"});
  ASSERT_FALSE(run.result.timed_out) << "exit hung on the stdin lock";
  EXPECT_EQ(run.result.exit_status, 66) << run.result.Describe();
  EXPECT_NE(run.output.find("buffered output survives the report"), std::string::npos)
      << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  ASSERT_EQ(Field(report, "leaks"), 1);
  EXPECT_EQ(report["threads"][0]["state"], "io");
  EXPECT_EQ(report["threads"][0]["syscall"], "read");
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], "StdinReader"))
      << e2e::Summarize(report);
}

// The thread calling exit() destroys a static condition variable the leaked thread waits on: its
// exit cannot finish, and the report names where it stops (marked "exiting", not a leak); main,
// joining that thread, is no leak either.
TEST(HookBehaviour, ExitFromAThreadReportsOnlyTheLeakAndWhereTheExitStops) {
  ShimRun run({HOOK_BEHAVIOUR, "exit_from_thread"});
  EXPECT_EQ(run.result.exit_status, 66) << run.result.Describe() << "\n" << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  int leaked = 0, exiting = 0;
  for (const nlohmann::json& thread : report["threads"]) {
    EXPECT_NE(thread["tid"], run.result.pid) << e2e::Summarize(report);
    if (thread.value("exiting", false)) {
      ++exiting;
      EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "pthread_cond_destroy"))
          << e2e::Summarize(report);
    } else {
      ++leaked;
      EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "BlockForever")) << e2e::Summarize(report);
    }
  }
  EXPECT_EQ(leaked, 1);
  EXPECT_EQ(exiting, 1);
}

// Issue 14: the check runs after every destructor, so threads joined late in the exit — by a
// global std::jthread's destructor, an atexit handler, a static pool's destructor, a library's
// finalizer — are no leaks, and their output is there, as without the tool.
class LateJoin : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(LateJoin, ExitsCleanlyWithTheDestructorsOutput) {
  const auto [scenario, said] = GetParam();
  ShimRun run({HOOK_BEHAVIOUR, scenario});
  ASSERT_FALSE(run.result.timed_out) << run.result.Describe();
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  EXPECT_NE(run.output.find(said), std::string::npos) << run.output;
  EXPECT_TRUE(e2e::ReportFiles(run.dir).empty()) << run.output;
  TempDir bare_dir;
  e2e::RunResult bare =
      e2e::RunProgram({HOOK_BEHAVIOUR, scenario}, {}, bare_dir.path() + "/output.txt");
  EXPECT_TRUE(bare.exited && bare.exit_status == 0) << bare.Describe();
  EXPECT_NE(bare.output.find(said), std::string::npos) << bare.output;
}

INSTANTIATE_TEST_SUITE_P(
    Joins, LateJoin,
    ::testing::Values(std::pair{"global_jthread", "jthread stopped"},
                      std::pair{"atexit_join", "joined in an atexit handler"},
                      std::pair{"static_pool", "pool worker joined in a destructor"},
                      std::pair{"library_pool", "library workers joined in its finalizer"}),
    [](const auto& info) { return std::string(info.param.first); });

// The syscall() hook reads the word where a seventh argument would be, as libc does, and never
// writes it: here it is the first word of a read-only page above the caller's stack.
TEST(HookBehaviour, SyscallLeavesTheCallersStackAlone) {
  ShimRun run({HOOK_BEHAVIOUR, "syscall_stack"});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  EXPECT_NE(run.output.find("woken=0 wait=-1 errno=EAGAIN pid_matches=1 word=5eed"),
            std::string::npos)
      << run.output;
}

// The key hooks (pthread_key_create, __pthread_key_create, tss_create and the deletes) return
// what libc returns, keep errno, and leave destructors and fork children as they are.
TEST(HookBehaviour, KeysAreMadeAndDeletedAsWithoutTheShim) {
  const std::string output = SameOutputWithAndWithoutTheShim("keys");
  EXPECT_NE(output.find("created=0,0,0,0 errno=77 deleted=0,22 child=5 destructions=1 "
                        "distinct=1"),
            std::string::npos)
      << output;
}

// The rename hooks (pthread_setname_np, prctl, syscall(SYS_prctl)) return what libc returns and
// keep errno; names are libc's.
TEST(HookBehaviour, ThreadsAreRenamedAsWithoutTheShim) {
  const std::string output = SameOutputWithAndWithoutTheShim("names");
  EXPECT_NE(output.find("raw_prctl: status=0 errno=77 name=by-raw-prctl\n"
                        "prctl_after_create: status=0 errno=77 name=renamed-late\n"
                        "too long: status=34 errno=77; prctl: status=0 errno=77\n"
                        "inherited=a-name-much-too\n"),
            std::string::npos)
      << output;
}

// The tool keeps names without reading them on every create and exit (core/lifecycle.cc): after
// a rename by any of the hooked ways, a report still names a thread's creator by the name it had
// when it created, and a finished thread by the name it had when it ended.
TEST(HookBehaviour, ReportsCreatorsAndFinishedThreadsByTheirNamesAfterEachWayOfRenaming) {
  ShimRun run({HOOK_BEHAVIOUR, "names_leak"});
  ASSERT_TRUE(run.result.exited) << run.result.Describe() << "\n" << run.output;
  EXPECT_EQ(run.result.exit_status, 66) << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  std::multiset<std::string> finished, creators_of_blocked;
  for (const nlohmann::json& thread : Field(report, "threads")) {
    if (thread["state"] == "finished") {
      finished.insert(e2e::StringField(thread, "name"));
    } else {
      creators_of_blocked.insert(e2e::StringField(thread["created_by"], "name"));
    }
  }
  const std::multiset<std::string> namers = {"by-setname", "by-other", "by-prctl", "by-raw-prctl"};
  // The late renamer created its child under the name it inherited from main.
  std::multiset<std::string> creators_expected = namers;
  creators_expected.insert("hook_behaviour");
  EXPECT_EQ(creators_of_blocked, creators_expected) << e2e::Summarize(report);
  std::multiset<std::string> finished_expected = namers;
  finished_expected.insert("renamed-late");     // renamed after its last creation: read at its end
  finished_expected.insert("a-name-much-too");  // the heir: main's name, inherited
  EXPECT_EQ(finished, finished_expected) << e2e::Summarize(report);
}

TEST(HookBehaviour, ThreadsThatComeAndGoAreNeverReported) {
  ShimRun run({HOOK_BEHAVIOUR, "churn"});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  EXPECT_TRUE(e2e::ReportFiles(run.dir).empty());
}

TEST(HookBehaviour, CancelledAndPthreadExitThreadsAreJoinedCleanly) {
  ShimRun run({HOOK_BEHAVIOUR, "cancel_and_exit"});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  EXPECT_TRUE(e2e::ReportFiles(run.dir).empty());
}

TEST(HookBehaviour, ForkedChildReportsOnlyItsOwnLeak) {
  ShimRun run({HOOK_BEHAVIOUR, "fork_child_leaks"});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  std::vector<std::string> reports = e2e::ReportFiles(run.dir);
  ASSERT_EQ(reports.size(), 1u) << run.output;
  EXPECT_EQ(reports[0].find(e2e::ReportPath(run.dir, run.result.pid)), std::string::npos)
      << "the parent must not report";
  std::string error;
  auto report = e2e::ReadReport(reports[0], &error);
  ASSERT_TRUE(report.has_value()) << error;
  ASSERT_EQ(Field(*report, "leaks"), 1);
  EXPECT_TRUE(e2e::StackHasFunction((*report)["threads"][0]["stack"], "BlockForever"));
  EXPECT_NE(run.output.find("child status 66"), std::string::npos) << run.output;
}

// The tool's own work in the pthread_create hook (starting its thread, reading a test
// framework's state) must not show in errno: the same values as without the shim.
TEST(CProgram, ErrnoAcrossPthreadCreateIsLibcs) {
  TempDir bare_dir;
  RunResult bare = e2e::RunProgram({C_PROGRAM, "errno_across_create"},
                                   {{"LD_PRELOAD", std::nullopt}}, bare_dir.path() + "/output.txt");
  ShimRun run({C_PROGRAM, "errno_across_create"});
  ASSERT_TRUE(bare.exited && bare.exit_status == 0) << bare.Describe() << "\n" << bare.output;
  EXPECT_NE(bare.output.find("create 0: result 0 errno"), std::string::npos) << bare.output;
  EXPECT_EQ(run.output, bare.output);
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe();
}

// After a tracer stopped and let go of a sleeping thread, the kernel shows its sleep as
// restart_syscall: still the sleep its hook recorded, not a stale slot.
TEST(CProgram, AWaitResumedAfterAPtraceStopKeepsItsState) {
  ShimRun run({C_PROGRAM, "ptrace_interrupted_sleep"});
  if (run.output.find("tracer status 0, sleeper in syscall 219") == std::string::npos) {
    GTEST_SKIP() << "the tracer could not stop the thread here (Yama?): " << run.output;
  }
  EXPECT_EQ(run.result.exit_status, 66) << run.result.Describe() << "\n" << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_EQ(report["threads"][0]["state"], "sleep") << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], "sleep_for_an_hour"))
      << e2e::Summarize(report);
}

TEST(CProgram, OldCondvarAbiWorks) {
  ShimRun run({C_PROGRAM, "old_abi_ok"});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
  EXPECT_TRUE(e2e::ReportFiles(run.dir).empty());
}

TEST(CProgram, OldCondvarAbiWaiterIsReportedAsCond) {
  ShimRun run({C_PROGRAM, "old_abi_leak"});
  EXPECT_EQ(run.result.exit_status, 66) << run.result.Describe() << "\n" << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  ASSERT_EQ(Field(report, "leaks"), 1);
  EXPECT_EQ(report["threads"][0]["state"], "cond");
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], "old_abi_waiter"))
      << e2e::Summarize(report);
}

TEST(CProgram, RawCloneThreadIsFoundWithAnUnknownCreator) {
  ShimRun run({C_PROGRAM, "raw_clone_leak"});
  EXPECT_EQ(run.result.exit_status, 66) << run.result.Describe() << "\n" << run.output;
  nlohmann::json report = run.Report(run.result.pid);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const nlohmann::json& thread = report["threads"][0];
  EXPECT_EQ(thread["state"], "io");
  EXPECT_TRUE(thread["created_by"]["tid"].is_null());
  EXPECT_TRUE(thread["created_by"]["stack"].empty());
}

TEST(CProgram, CxxExceptionsInALoadedLibraryBehave) {
  ShimRun run({C_PROGRAM, "cxx_exceptions", CXX_EXCEPTIONS_LIBRARY});
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.output;
}

// --- where the program's lock calls are bound (preload/startup/straight_to_libc.h) ------------

// What LockSlots prints for `object`'s slot of `function` through `relocation`, or "".
std::string Holder(const std::vector<std::string>& slots, const std::string& object,
                   const std::string& relocation, const std::string& function) {
  for (const std::string& line : slots) {
    std::istringstream fields(line);
    std::string name, type, called, holder;
    fields >> name >> type >> called >> holder;
    if (name == object && type == relocation && called == function) return holder;
  }
  return "";
}

// Runs `program` (programs/lock_binding.c) with `env`; returns what each GOT slot of
// pthread_mutex_lock and mtx_lock holds, one "object relocation function holder" line per slot,
// after checking that every lock worked and that the function has one address wherever the
// program looks (a GOT slot, a pointer in data, dlsym).
std::vector<std::string> LockSlots(e2e::EnvChanges env, const std::vector<std::string>& extra = {},
                                   const char* program = LOCK_BINDING,
                                   const std::vector<std::string>& launcher = {}) {
  e2e::TempDir dir;
  env["THREADLEAK_OPTIONS"] =
      "format=json:log_path=" + dir.path() + "/report" + env["THREADLEAK_OPTIONS"].value_or("");
  std::vector<std::string> argv = launcher;
  argv.insert(argv.end(), {program, LOCK_BINDING_LATE});
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult run = e2e::RunProgram(argv, env, dir.path() + "/out");
  EXPECT_TRUE(run.exited && run.exit_status == 0) << run.Describe() << "\n" << run.output;
  EXPECT_NE(run.output.find("one address yes\n"), std::string::npos) << run.output;
  // A library's own hook of its own PLT slot (lock_binding_hooked.c) keeps every call.
  EXPECT_NE(run.output.find("hooked calls counted 5\n"), std::string::npos) << run.output;
  std::vector<std::string> slots;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("failures ", 0) != 0 && line.rfind("one address ", 0) != 0 &&
        line.rfind("hooked calls ", 0) != 0) {
      slots.push_back(line);
    }
  }
  EXPECT_EQ(slots.size(), 8u) << run.output;
  EXPECT_EQ(Holder(slots, "liblock_binding_hooked.so", "JUMP_SLOT", "pthread_mutex_lock"),
            "liblock_binding_hooked.so");
  return slots;
}

e2e::EnvChanges UnderShim(const std::string& options = "") {
  return {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", options}};
}

// The PLT slots of the objects loaded with the program: the program's own, still unbound when
// the shim starts (it is linked -z lazy), and a library's bound at start-up (-z now: to the hook,
// in a read-only page) are rebound; a lazily bound library's are left to bind to the hook.
struct PltSlot {
  const char* object;
  const char* function;
};
constexpr PltSlot kReboundPltSlots[] = {
    {"program", "pthread_mutex_lock"},
    {"program", "mtx_lock"},
    {"liblock_binding_now.so", "pthread_mutex_lock"},
};
constexpr PltSlot kLazyLibraryPltSlots[] = {
    {"liblock_binding_lazy.so", "pthread_mutex_lock"},
    {"liblock_binding_lazy.so", "mtx_lock"},
};

TEST(LockBinding, TheProgramsLockCallsGoStraightToLibcAsWithoutTheShim) {
  const std::vector<std::string> plain = LockSlots({});
  const std::vector<std::string> shim = LockSlots(UnderShim());
  // What the slot holds without the shim: libc's function (a sanitizer runtime's interceptor in
  // the sanitized build: the hook's next definition, and so what it is bound to).
  for (const PltSlot& slot : kReboundPltSlots) {
    const std::string without = Holder(plain, slot.object, "JUMP_SLOT", slot.function);
    EXPECT_TRUE(without == "libc" || without.starts_with("lib")) << slot.object << ": " << without;
    EXPECT_NE(without, "libthreadleak.so");
    EXPECT_EQ(Holder(shim, slot.object, "JUMP_SLOT", slot.function), without)
        << slot.object << " " << slot.function << "\n"
        << ::testing::PrintToString(shim);
  }
  for (const PltSlot& slot : kLazyLibraryPltSlots) {
    EXPECT_EQ(Holder(shim, slot.object, "JUMP_SLOT", slot.function), "libthreadleak.so")
        << slot.object << " " << slot.function;
  }
  // The function's address stays the hook's (one address everywhere, LockSlots checks), and a
  // library loaded later calls through the hook: nothing rebinds after start-up.
  EXPECT_EQ(Holder(shim, "liblock_binding_address.so", "GLOB_DAT", "pthread_mutex_lock"),
            "libthreadleak.so");
  EXPECT_EQ(Holder(shim, "liblock_binding_late.so", "JUMP_SLOT", "pthread_mutex_lock"),
            "libthreadleak.so");
}

TEST(LockBinding, WithTheWatchdogEveryLockCallGoesThroughTheHook) {
  for (const std::string& line : LockSlots(UnderShim(":watchdog_ms=600000"))) {
    if (line.starts_with("liblock_binding_hooked.so ")) continue;  // its own hook
    EXPECT_TRUE(line.ends_with(" libthreadleak.so")) << line;
  }
}

// Under a seccomp filter (here: a writable mprotect refused, process_vm_writev fatal) nothing is
// rebound: the filter could kill the process for the calls rebinding makes.
TEST(LockBinding, UnderASeccompFilterNothingIsReboundAndTheProgramRunsOn) {
  const std::vector<std::string> slots = LockSlots(UnderShim(), {"--sandboxed"});
  for (const PltSlot& slot : kReboundPltSlots) {
    EXPECT_EQ(Holder(slots, slot.object, "JUMP_SLOT", slot.function), "libthreadleak.so")
        << slot.object << " " << slot.function;
  }
}

TEST(LockBinding, AnInterposerPreloadedBeforeTheShimKeepsTheProgramsCalls) {
  e2e::EnvChanges env = UnderShim();
  env["LD_PRELOAD"] = std::string(LOCK_INTERPOSER) + " " + THREADLEAK_SHIM_PATH;
  const std::vector<std::string> slots = LockSlots(env);
  for (const char* object : {"program", "liblock_binding_now.so", "liblock_binding_lazy.so"}) {
    EXPECT_EQ(Holder(slots, object, "JUMP_SLOT", "pthread_mutex_lock"), "liblock_interposer.so")
        << object;
  }
  // The shim's mtx_lock hook is the first definition: bound past it as without the interposer.
  EXPECT_EQ(Holder(slots, "program", "JUMP_SLOT", "mtx_lock"), "libc");
}

// A plugin that a library's constructor opened with RTLD_DEEPBIND before the shim's constructor
// ran binds its lazy slots to its own dependency's pthread_mutex_lock, which counts its calls.
TEST(LockBinding, APluginOpenedWithDeepBindKeepsItsOwnDependencysDefinition) {
  const e2e::EnvChanges plugin = {{"LOCK_DEEP_PLUGIN", LOCK_DEEP_PLUGIN}};
  e2e::EnvChanges shim = UnderShim();
  shim.merge(e2e::EnvChanges(plugin));
  for (const e2e::EnvChanges& env : {plugin, shim}) {
    e2e::TempDir dir;
    e2e::EnvChanges run_env = env;
    run_env["THREADLEAK_OPTIONS"] = "log_path=" + dir.path() + "/report";
    RunResult run = e2e::RunProgram({LOCK_DEEP}, run_env, dir.path() + "/out");
    if (run.output.find("incompatible with sanitizer runtime") != std::string::npos) {
      GTEST_SKIP() << "a sanitizer runtime refuses RTLD_DEEPBIND";
    }
    EXPECT_TRUE(run.exited && run.exit_status == 0) << run.Describe() << "\n" << run.output;
    EXPECT_EQ(run.output, "the plugin's own dependency saw 5 lock calls\n");
  }
}

// An auditor that sees every PLT call (la_pltenter) keeps the slots unbound: the shim binds
// none of them, whether the auditor comes from LD_AUDIT, the program's DT_AUDIT or the loader's
// command line (ld.so --audit: nothing in the environment says so); nor under LD_BIND_NOT,
// which asks the loader never to bind them.
TEST(LockBinding, UnboundSlotsStayUnboundForAnAuditorOrLdBindNot) {
  {
    // AddressSanitizer cannot place its shadow memory beside an auditor's namespace.
    e2e::TempDir dir;
    RunResult audited = e2e::RunProgram({LOCK_BINDING, LOCK_BINDING_LATE},
                                        {{"LD_AUDIT", LOCK_AUDITOR}}, dir.path() + "/out");
    if (audited.output.find("AddressSanitizer") != std::string::npos ||
        audited.output.find("ASan cannot proceed") != std::string::npos) {
      GTEST_SKIP() << "the sanitizer runtime cannot run beside an auditor";
    }
  }
  struct Case {
    const char* what;
    e2e::EnvChanges env;
    const char* program;
    std::vector<std::string> launcher;
  };
  const char* const loader = "/lib64/ld-linux-x86-64.so.2";
  std::vector<Case> cases = {
      {"LD_AUDIT", {{"LD_AUDIT", LOCK_AUDITOR}}, LOCK_BINDING, {}},
      {"DT_AUDIT", {}, LOCK_BINDING_AUDITED, {}},
      {"LD_BIND_NOT", {{"LD_BIND_NOT", "1"}}, LOCK_BINDING, {}},
  };
  if (access(loader, X_OK) == 0) {
    cases.push_back({"ld.so --audit", {}, LOCK_BINDING, {loader, "--audit", LOCK_AUDITOR}});
  }
  for (const Case& c : cases) {
    e2e::EnvChanges shim_env = c.env;
    shim_env.merge(UnderShim());
    const std::vector<std::string> plain = LockSlots(c.env, {}, c.program, c.launcher);
    const std::vector<std::string> shim = LockSlots(shim_env, {}, c.program, c.launcher);
    for (const PltSlot& slot : kReboundPltSlots) {
      const std::string holder = Holder(plain, slot.object, "JUMP_SLOT", slot.function);
      if (std::string(c.what) != "LD_BIND_NOT") {
        EXPECT_NE(holder, "libc") << c.what << ": the auditor keeps " << slot.object << " unbound";
      }
      if (holder == "libc") continue;  // bound without the shim (by the loader at start-up)
      EXPECT_EQ(Holder(shim, slot.object, "JUMP_SLOT", slot.function), holder)
          << c.what << ": " << slot.object << " " << slot.function << "\n"
          << ::testing::PrintToString(shim);
    }
  }
}

}  // namespace

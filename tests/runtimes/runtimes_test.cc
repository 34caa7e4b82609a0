// Built-in rules against the real runtimes Debian ships. For each runtime three runs:
// - leak-free, under the shim: exit status and output as without the tool, no report;
// - the same with default_suppressions=0: the runtime's own threads are there (so the first run
//   proved something), unless the runtime has none (tcmalloc, python3's interpreter);
// - the same program with one real leak of its own: exactly that leak reported.
// Threads created through dlsym(RTLD_NEXT, "pthread_create") are seen, with their creator.
#include <gtest/gtest.h>

#include <fstream>

#include "runtimes_support.h"

namespace runtimes {
namespace {

using e2e::Field;
using e2e::StringField;

// The path of a shared library in the usual directories, or "".
std::string FindLibrary(const std::string& name) {
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64",
                          "/usr/lib", "/usr/local/lib"}) {
    std::string path = std::string(dir) + "/" + name;
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return "";
}

struct RuntimeCase {
  std::string name;
  std::string missing;  // why the case cannot run here; empty when it can
  std::vector<std::string> clean;
  std::vector<std::string> leak;
  e2e::EnvChanges env;
  std::string preload;       // after the shim in every run (a malloc replacement)
  std::string leak_preload;  // after the shim in the leak run only (the leak of an interpreter)
  bool has_own_threads = true;
  std::string leak_creator = "StartOwnLeak";  // a function of the leaked thread's creation stack
};

void PrintTo(const RuntimeCase& c, std::ostream* out) {
  *out << c.name;
}

const char* kNodePoolScript =
    "require('crypto').pbkdf2('a', 'b', 1000, 32, 'sha256', (e, k) => console.log(k.length))";
const char* kPythonPoolScript =
    "import concurrent.futures\n"
    "with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:\n"
    "    print(sum(pool.map(lambda x: x * x, range(100))))\n";
const char* kPythonLeak =
    "\nimport threading\n"
    "threading.Thread(target=threading.Event().wait, daemon=True).start()\n";

std::vector<RuntimeCase> Cases() {
  std::vector<RuntimeCase> cases;
  auto program = [&](const char* name, const char* path, const char* package) {
    RuntimeCase c;
    c.name = name;
    if (*path == '\0') c.missing = std::string(package) + " is not installed (no headers at build)";
    c.clean = {path};
    c.leak = {path, "leak"};
    return c;
  };
  RuntimeCase jemalloc = program("Jemalloc", ALLOC_THREADS, "");
  jemalloc.preload = FindLibrary("libjemalloc.so.2");
  if (jemalloc.preload.empty()) jemalloc.missing = "libjemalloc2 is not installed";
  jemalloc.env = {{"MALLOC_CONF", "background_thread:true"}};
  cases.push_back(jemalloc);

  RuntimeCase tcmalloc = program("Tcmalloc", ALLOC_THREADS, "");
  tcmalloc.preload = FindLibrary("libtcmalloc.so.4");
  if (tcmalloc.preload.empty()) tcmalloc.missing = "libgoogle-perftools4 is not installed";
  tcmalloc.has_own_threads = false;  // gperftools' tcmalloc starts none
  cases.push_back(tcmalloc);

  cases.push_back(program("OpenMP", OPENMP_POOL, "libgomp (gcc -fopenmp)"));
  // OpenBLAS and TBB join their pools in their libraries' finalizers, which run before the
  // exit check (README "When the check runs"): even without the rules, nothing is left.
  RuntimeCase openblas = program("OpenBLAS", OPENBLAS_POOL, "libopenblas-dev");
  openblas.has_own_threads = false;
  cases.push_back(openblas);
  RuntimeCase tbb = program("TBB", TBB_POOL, "libtbb-dev");
  tbb.has_own_threads = false;
  cases.push_back(tbb);
  cases.push_back(program("GLib", GLIB_WORKERS, "libglib2.0-dev"));

  // gRPC stops its threads in grpc_shutdown, the documented end of a gRPC program: no rule.
  RuntimeCase grpc = program("GrpcShutdown", GRPC_CHANNEL, "libgrpc-dev");
  grpc.clean = {GRPC_CHANNEL, "shutdown"};
  grpc.leak = {GRPC_CHANNEL, "shutdown", "leak"};
  grpc.has_own_threads = false;
  cases.push_back(grpc);

  std::string node = FindInPath("node");
  for (bool pool : {false, true}) {
    RuntimeCase c;
    c.name = pool ? "NodeLibuvPool" : "NodeEmpty";
    if (node.empty()) c.missing = "node is not installed";
    c.clean = {node, "-e", pool ? kNodePoolScript : "0"};
    c.leak = c.clean;  // node cannot start a thread from a script: a preloaded library does
    c.leak_preload = OWN_LEAK_PRELOAD;
    cases.push_back(c);
  }

  std::string python = FindInPath("python3");
  for (bool pool : {false, true}) {
    RuntimeCase c;
    c.name = pool ? "PythonThreadPool" : "PythonEmpty";
    if (python.empty()) c.missing = "python3 is not installed";
    std::string script = pool ? kPythonPoolScript : "pass";
    c.clean = {python, "-c", script};
    c.leak = {python, "-c", script + kPythonLeak};  // a daemon thread, alive at exit
    c.has_own_threads = false;  // the interpreter starts none; the pool is joined
    c.leak_creator = "PyThread_start_new_thread";
    cases.push_back(c);
  }
  return cases;
}

class RuntimeRules : public ::testing::TestWithParam<RuntimeCase> {
 protected:
  void SetUp() override {
    if (!GetParam().missing.empty()) GTEST_SKIP() << GetParam().missing;
  }
};

TEST_P(RuntimeRules, LeakFreeProgramRunsAsWithoutTheTool) {
  const RuntimeCase& c = GetParam();
  e2e::TempDir dir;
  e2e::RunResult plain = RunWithoutShim(c.clean, dir, c.env, c.preload);
  Outcome outcome = RunUnderShim(c.clean, dir, "", c.env, c.preload);
  EXPECT_TRUE(plain.exited) << plain.Describe();
  EXPECT_EQ(outcome.run.exit_status, plain.exit_status) << outcome.run.output;
  EXPECT_EQ(outcome.run.output, plain.output);
  EXPECT_FALSE(outcome.report) << e2e::Summarize(*outcome.report);
}

TEST_P(RuntimeRules, WithoutBuiltInRulesTheRuntimesThreadsShow) {
  const RuntimeCase& c = GetParam();
  e2e::TempDir dir;
  Outcome outcome =
      RunUnderShim(c.clean, dir, "default_suppressions=0:linger_ms=100", c.env, c.preload);
  if (!c.has_own_threads) {
    EXPECT_EQ(outcome.run.exit_status, 0) << outcome.run.output;
    EXPECT_FALSE(outcome.report) << e2e::Summarize(*outcome.report);
    return;
  }
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  EXPECT_GT(Leaked(*outcome.report).size(), 0u);
  // Every one of them was seen being created (jemalloc's through dlsym(RTLD_NEXT)).
  for (const json& thread : Field(*outcome.report, "threads")) {
    EXPECT_TRUE(Field(Field(thread, "created_by"), "tid").is_number()) << thread.dump();
  }
}

TEST_P(RuntimeRules, OneRealLeakOfTheProgramIsReportedAlone) {
  const RuntimeCase& c = GetParam();
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim(
      c.leak, dir, "", c.env,
      c.preload + (c.preload.empty() || c.leak_preload.empty() ? "" : ":") + c.leak_preload);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  std::vector<json> leaked = Leaked(*outcome.report);
  ASSERT_EQ(leaked.size(), 1u) << e2e::Summarize(*outcome.report);
  EXPECT_TRUE(e2e::StackHasFunction(Field(Field(leaked[0], "created_by"), "stack"), c.leak_creator))
      << e2e::Summarize(*outcome.report);
  EXPECT_EQ(Field(*outcome.report, "leaks"), 1);
}

INSTANTIATE_TEST_SUITE_P(Debian, RuntimeRules, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

// Without grpc_shutdown, gRPC's executor and timer threads are alive at exit: the program's
// missing clean-up, which no built-in rule hides.
TEST(Grpc, ThreadsLeftByAMissingShutdownAreReported) {
  if (*GRPC_CHANNEL == '\0') GTEST_SKIP() << "libgrpc-dev is not installed (no headers at build)";
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({GRPC_CHANNEL}, dir, "linger_ms=100");
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  std::vector<json> leaked = Leaked(*outcome.report);
  ASSERT_FALSE(leaked.empty());
  for (const json& thread : leaked) {
    EXPECT_TRUE(e2e::StackHasFunction(Field(Field(thread, "created_by"), "stack"), "grpc"))
        << e2e::Summarize(*outcome.report);
  }
}

// --- dlsym(RTLD_NEXT, "pthread_create") --------------------------------------------------------

TEST(RtldNext, LibraryThreadsAreSeenAndOtherLookupsKeepTheirMeaning) {
  e2e::TempDir dir;
  e2e::RunResult plain = RunWithoutShim({RTLD_NEXT_PROGRAM, "clean"}, dir);
  Outcome outcome = RunUnderShim({RTLD_NEXT_PROGRAM, "clean"}, dir);
  EXPECT_EQ(plain.exit_status, 0) << plain.output;
  // RTLD_NEXT from the upper library still finds the lower one's function, not its own.
  EXPECT_NE(plain.output.find("next after upper: lower"), std::string::npos) << plain.output;
  EXPECT_NE(plain.output.find("dlerror after a found lookup: cleared"), std::string::npos)
      << plain.output;
  EXPECT_EQ(outcome.run.exit_status, plain.exit_status) << outcome.run.output;
  EXPECT_EQ(outcome.run.output, plain.output);
  EXPECT_FALSE(outcome.report) << e2e::Summarize(*outcome.report);
}

TEST(RtldNext, LeakedLibraryThreadNamesItsCreator) {
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({RTLD_NEXT_PROGRAM, "leak"}, dir);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  std::vector<json> leaked = Leaked(*outcome.report);
  ASSERT_EQ(leaked.size(), 1u) << e2e::Summarize(*outcome.report);
  EXPECT_EQ(StringField(leaked[0], "name"), "rtld-next");
  const json& creator = Field(leaked[0], "created_by");
  EXPECT_TRUE(Field(creator, "tid").is_number()) << creator.dump();
  EXPECT_TRUE(e2e::StackHasFunction(Field(creator, "stack"), "start_through_rtld_next"))
      << creator.dump();
}

TEST(RtldNext, CreatedByRuleTakesTheLibraryThread) {
  e2e::TempDir dir;
  std::string rules = dir.path() + "/rules.supp";
  std::ofstream(rules) << "created_by:start_through_rtld_next\n";
  Outcome outcome = RunUnderShim({RTLD_NEXT_PROGRAM, "leak"}, dir, "suppressions=" + rules);
  EXPECT_EQ(outcome.run.exit_status, 0) << outcome.run.output;
  EXPECT_FALSE(outcome.report) << e2e::Summarize(*outcome.report);
}

}  // namespace
}  // namespace runtimes

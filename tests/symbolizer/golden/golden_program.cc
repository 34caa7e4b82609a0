// golden_program PLUGIN.so DEPARTED.so OTHER.so
//
// Leaks six threads whose stacks hold the frames a symbolizer gets wrong first: functions
// inlined two deep, a function template, a lambda, an anonymous namespace, a library loaded with
// dlopen after start, and a library unloaded (dlclose) after it created a thread, with another
// library loaded in its place. Built at -O2: what is inlined is really inlined. Every thread
// parks in golden::Park, and the program returns once all six are blocked there, so the shim
// reports them at exit. golden_test.cc checks the report against golden_program.expected.
#include <dlfcn.h>
#include <sys/syscall.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/e2e/programs/common.h"
#include "tests/symbolizer/golden/golden.h"

namespace golden {

constexpr int kThreads = 6;

struct Parking {
  std::mutex mutex;
  std::condition_variable never;
  std::atomic<int> tids[kThreads] = {};
  std::atomic<int> next{0};
};

// Never destroyed: leaked threads wait on it until the process ends.
Parking& parking = *new Parking();

GOLDEN_NOINLINE void Park(const char* name) {
  e2e::NameThisThread(name);
  std::unique_lock<std::mutex> lock(parking.mutex);
  parking.tids[parking.next++].store(e2e::CurrentTid());
  for (;;) parking.never.wait(lock);  // golden: Park waits
}

GOLDEN_INLINE void Level2() {
  Park("inline-chain");  // golden: Level2 calls Park
  GOLDEN_KEEP_FRAME();
}

GOLDEN_INLINE void Level1() {
  Level2();  // golden: Level1 calls Level2
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void RunInlineChain() {
  Level1();  // golden: RunInlineChain calls Level1
  GOLDEN_KEEP_FRAME();
}

template <typename T>
GOLDEN_NOINLINE void RunTemplate(T value) {
  Park(value > 0 ? "template" : "template-neg");  // golden: RunTemplate calls Park
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void StartInlineChain() {
  std::thread(RunInlineChain).detach();  // golden: StartInlineChain creates
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void StartTemplate() {
  std::thread(RunTemplate<long>, 7L).detach();  // golden: StartTemplate creates
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void StartLambda() {
  std::thread([] {   // golden: StartLambda creates
    Park("lambda");  // golden: the lambda calls Park
    GOLDEN_KEEP_FRAME();
  })
      .detach();
  GOLDEN_KEEP_FRAME();
}

void* DepartedThread(void*) {
  Park("departed");  // golden: DepartedThread calls Park
  return nullptr;
}

}  // namespace golden

namespace {

GOLDEN_INLINE void HiddenStep() {
  golden::Park("anon-namespace");  // golden: HiddenStep calls Park
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void HiddenWorker(int) {
  HiddenStep();  // golden: HiddenWorker calls HiddenStep
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void StartHidden() {
  std::thread(HiddenWorker, 1).detach();  // golden: StartHidden creates
  GOLDEN_KEEP_FRAME();
}

void* Open(const char* path) {
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) e2e::Die(dlerror());
  return handle;
}

template <typename Fn>
Fn Symbol(void* handle, const char* name) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) e2e::Die(std::string("missing ") + name);
  return reinterpret_cast<Fn>(symbol);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) e2e::Die("usage: golden_program PLUGIN.so DEPARTED.so OTHER.so");
  golden::StartInlineChain();
  golden::StartTemplate();
  golden::StartLambda();
  StartHidden();
  Symbol<void (*)(golden_park_fn)>(Open(argv[1]), "golden_plugin_start")(golden::Park);

  void* departed = Open(argv[2]);
  Symbol<void (*)(void* (*)(void*))>(departed, "golden_departed_start")(golden::DepartedThread);
  for (int i = 0; i < golden::kThreads; ++i) {
    e2e::WaitUntilBlockedIn(golden::parking.tids[i], SYS_futex);
  }
  dlclose(departed);
  if (dlopen(argv[2], RTLD_NOW | RTLD_NOLOAD) != nullptr) e2e::Die("the library stayed loaded");
  // Most likely mapped where the departed library was.
  Symbol<int (*)(int)>(Open(argv[3]), "golden_other_unrelated")(1);
  return 0;
}

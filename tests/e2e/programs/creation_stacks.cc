// Threads created along many chains of calls, every one left blocked on a semaphore nobody
// posts, each named after its chain ("A1", "B2", ...). The shim remembers creation stacks it has
// walked and recognises them by their return addresses (preload/capture/creation_stack.h);
// creation_stack_test.cc checks that every thread's "created by" stack is its own chain's,
// whatever was remembered before: chains that share their inner frames and differ further out,
// a frame whose size changes between calls (alloca), another thread's stack, a coroutine's
// stack, a stack deeper than a report keeps, and std::thread from two places.
#include <alloca.h>
#include <pthread.h>
#include <semaphore.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

sem_t g_never;  // posted by nobody: every thread created here leaks, blocked on it

void* Blocked(void*) {
  sem_wait(&g_never);
  return nullptr;
}

// Keeps a call a real call (no tail call), so every frame the test looks for is on the stack.
#define KEEP_FRAME() asm volatile("" ::: "memory")

__attribute__((noinline)) void CreateNamed(const char* name) {
  pthread_t thread;
  if (pthread_create(&thread, nullptr, Blocked, nullptr) != 0) abort();
  pthread_setname_np(thread, name);
  KEEP_FRAME();
}

// Every chain ends in the same two frames, so their innermost return addresses agree.
__attribute__((noinline)) void SharedInnerSite(const char* name) {
  CreateNamed(name);
  KEEP_FRAME();
}

__attribute__((noinline)) void ChainAlpha(const char* name) {
  SharedInnerSite(name);
  KEEP_FRAME();
}

__attribute__((noinline)) void ChainBravo(const char* name) {
  SharedInnerSite(name);
  KEEP_FRAME();
}

// A frame whose size differs from call to call: its caller's return address moves.
__attribute__((noinline)) void ChainCharlie(const char* name, size_t scratch) {
  auto* bytes = static_cast<volatile char*>(alloca(scratch));
  bytes[0] = 1;
  bytes[scratch - 1] = 1;
  SharedInnerSite(name);
  KEEP_FRAME();
}

__attribute__((noinline)) void ChainDelta(const char* name) {
  SharedInnerSite(name);
  KEEP_FRAME();
}

__attribute__((noinline)) void* DeltaCreator(void*) {
  ChainDelta("D1");
  ChainDelta("D2");
  ChainAlpha("D3");  // Alpha's chain, from another thread's stack
  sem_wait(&g_never);
  return nullptr;
}

ucontext_t g_main_context;
ucontext_t g_fiber_context;

__attribute__((noinline)) void ChainEcho(const char* name) {
  SharedInnerSite(name);
  KEEP_FRAME();
}

void FiberBody() {
  ChainEcho("E1");
  ChainEcho("E2");
  swapcontext(&g_fiber_context, &g_main_context);
}

__attribute__((noinline)) void ChainFoxtrot(int depth, const char* name) {
  if (depth == 0) {
    SharedInnerSite(name);
  } else {
    ChainFoxtrot(depth - 1, name);
  }
  KEEP_FRAME();
}

__attribute__((noinline)) void ChainGolf(const char* name) {
  std::thread thread(Blocked, nullptr);
  pthread_setname_np(thread.native_handle(), name);
  thread.detach();
  KEEP_FRAME();
}

__attribute__((noinline)) void ChainHotel(const char* name) {
  std::thread thread(Blocked, nullptr);
  pthread_setname_np(thread.native_handle(), name);
  thread.detach();
  KEEP_FRAME();
}

}  // namespace

int main() {
  sem_init(&g_never, 0, 0);
  ChainAlpha("A1");
  ChainAlpha("A2");
  ChainBravo("B1");
  ChainAlpha("A3");
  ChainBravo("B2");
  ChainCharlie("C1", 64);
  ChainCharlie("C2", 8192);
  ChainCharlie("C3", 64);

  pthread_t creator;
  if (pthread_create(&creator, nullptr, DeltaCreator, nullptr) != 0) return 1;
  pthread_setname_np(creator, "creator");

  constexpr size_t kFiberStack = 256 << 10;
  std::vector<char> fiber_stack(kFiberStack);
  getcontext(&g_fiber_context);
  g_fiber_context.uc_stack.ss_sp = fiber_stack.data();
  g_fiber_context.uc_stack.ss_size = fiber_stack.size();
  g_fiber_context.uc_link = &g_main_context;
  makecontext(&g_fiber_context, FiberBody, 0);
  swapcontext(&g_main_context, &g_fiber_context);

  ChainFoxtrot(80, "F1");  // deeper than the 64 frames a creation stack keeps
  ChainFoxtrot(80, "F2");
  ChainFoxtrot(3, "F3");
  for (int i = 1; i <= 2; ++i) {
    ChainGolf(("G" + std::to_string(i)).c_str());
    ChainHotel(("H" + std::to_string(i)).c_str());
  }
  ChainAlpha("A4");
  // Let every thread reach its wait (and the creator its own), then leave them all.
  struct timespec pause = {0, 200 * 1000 * 1000};
  nanosleep(&pause, nullptr);
  std::puts("created");
  return 0;
}

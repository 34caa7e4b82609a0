// The three shapes of a synchronisation hook, shared by the pthread hooks (waits.cc) and their
// C11 twins (c11_threads.cc): a wait, a wait on an object another thread must wake, and a wake.
//
// Hot paths: no locks, no allocation, errno preserved.
#ifndef THREADLEAK_PRELOAD_HOOKS_WAIT_SHAPES_H_
#define THREADLEAK_PRELOAD_HOOKS_WAIT_SHAPES_H_

#include <cstdint>

#include "preload/core/guard.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/wait_scope.h"

namespace threadleak::hook_shapes {

template <typename Fn, typename... Args>
auto Waiting(uint32_t state, const void* object, Fn real, Args... args) {
  WaitScope wait(state, object, real);
  return real(args...);
}

// A wait on an object another thread must wake (condvar, semaphore, futex): a waiter may wake
// others later, so it counts as a thread that touched the object ("Who blocks whom" in the
// README). The last-noted check comes before the tool's guard: only a thread outside the tool
// notes an object, so one noted already needs nothing either way.
template <typename Fn, typename... Args>
auto WaitingForWake(uint32_t state, const void* object, Fn real, Args... args) {
  if (!NotedLast(object) && !t_in_tool) NoteTouchInTable(object);
  WaitScope wait(state, object, real);
  return real(args...);
}

// A wake's note past the two last objects, out of line: the common case in Waking then needs no
// frame of its own.
template <typename Fn, typename... Args>
__attribute__((noinline)) auto NoteThenWake(const void* object, Fn real, Args... args) {
  if (!t_in_tool) NoteTouchInTable(object);
  return real(args...);
}

template <auto kMember, typename... Args>
__attribute__((noinline)) auto ResolveThenWake(const void* object, Args... args) {
  return NoteThenWake(object, Real().*kMember, args...);
}

// A wake (signal, broadcast, post): the waker touched the object. Run for every task a thread
// pool hands out, so the common case — the object noted already, libc's table resolved — is a
// load of libc's function, two compares and a jump to it: no frame, no flag of the table's.
// `kMember` names libc's function in RealFunctions.
template <auto kMember, typename... Args>
auto Waking(const void* object, Args... args) {
  auto real = RealOrNull<kMember>();
  if (__builtin_expect(real == nullptr, 0)) return ResolveThenWake<kMember>(object, args...);
  if (NotedLast(object)) return real(args...);
  return NoteThenWake(object, real, args...);
}

}  // namespace threadleak::hook_shapes

#endif  // THREADLEAK_PRELOAD_HOOKS_WAIT_SHAPES_H_

// Detaching a just-created thread safely, for the test programs that churn threads.
//
// glibc 2.36's pthread_detach marks the thread detached, then reads its descriptor again; a
// thread that ends in between frees itself, and under heavy churn its stack can be unmapped
// before that read: pthread_detach crashes with SIGSEGV, with or without threadleak (the soak
// test found it: 2 crashes in 15 runs of std::thread(fn).detach() churn without the tool).
#ifndef THREADLEAK_TESTS_COMMON_START_DETACHED_H_
#define THREADLEAK_TESTS_COMMON_START_DETACHED_H_

#include <atomic>
#include <memory>
#include <thread>
#include <utility>

namespace test_support {

// std::thread(fn).detach(), except that fn starts only once detach() has returned, so the thread
// cannot end during it. (Still a detach through pthread_detach, which is what the tests check.)
template <typename Fn>
void StartAndDetach(Fn fn) {
  auto detached = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([detached, fn = std::move(fn)]() mutable {
    while (!detached->load(std::memory_order_acquire)) std::this_thread::yield();
    fn();
  });
  thread.detach();
  detached->store(true, std::memory_order_release);
}

}  // namespace test_support

#endif  // THREADLEAK_TESTS_COMMON_START_DETACHED_H_

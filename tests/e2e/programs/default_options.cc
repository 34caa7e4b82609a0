// Defines the default-options hook, as sanitizer users do, and leaks a thread. Linked with
// -rdynamic so the preloaded shim can find the hook.
#include <condition_variable>
#include <mutex>
#include <thread>

extern "C" const char* __threadleak_default_options() {
  return "exitcode=42:linger_ms=20";
}

int main() {
  static std::mutex mutex;
  static std::condition_variable never;
  std::thread([] {
    std::unique_lock lock(mutex);
    never.wait(lock, [] { return false; });
  }).detach();
  return 0;
}

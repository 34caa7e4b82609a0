// A C++ library loaded by a C program (c_program.c): its exceptions must be thrown and caught
// exactly as without the shim, on the loading thread and on threads it starts.
#include <stdexcept>
#include <string>
#include <thread>

namespace {

__attribute__((noinline)) void Throw(int depth) {
  if (depth == 0) throw std::runtime_error("deep");
  Throw(depth - 1);
}

int CheckOnThisThread() {
  int failures = 0;
  try {
    Throw(20);
    ++failures;
  } catch (const std::runtime_error& error) {
    if (std::string(error.what()) != "deep") ++failures;
  }
  try {
    throw 42;
  } catch (int value) {
    if (value != 42) ++failures;
  }
  return failures;
}

}  // namespace

extern "C" int run_exception_checks() {
  int failures = CheckOnThisThread();
  int thread_failures = 0;
  std::thread([&] { thread_failures = CheckOnThisThread(); }).join();
  return failures + thread_failures;
}

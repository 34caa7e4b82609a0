// A pc inside the caller, for unit tests that symbolize their own functions.
#ifndef THREADLEAK_TESTS_UNIT_RETURN_ADDRESS_H_
#define THREADLEAK_TESTS_UNIT_RETURN_ADDRESS_H_

#include <cstdint>

namespace threadleak::unit_tests {

// Its own return address: just after the call, inside the caller, on the line of the call.
// noinline, so the call stays a call.
__attribute__((noinline)) inline uintptr_t ReturnAddress() {
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}

}  // namespace threadleak::unit_tests

#endif  // THREADLEAK_TESTS_UNIT_RETURN_ADDRESS_H_

#include "preload/core/real_functions.h"

#include <dlfcn.h>

#include "preload/core/guard.h"

namespace threadleak {

constinit RealFunctions g_real_functions = {};
constinit std::atomic<bool> g_real_functions_resolved{false};

namespace {

void* Lookup(const char* symbol, const char* version) {
  return version != nullptr ? dlvsym(RTLD_NEXT, symbol, version) : dlsym(RTLD_NEXT, symbol);
}

}  // namespace

// Each entry is stored atomically: a hot hook reads its own entry without the resolved flag
// (RealOrNull).
void ResolveRealFunctions() {
  ToolScope scope;  // dlsym may allocate, and allocation may reach a hooked lock
#define THREADLEAK_RESOLVE_MEMBER(member, symbol, version, type)                              \
  __atomic_store_n(&g_real_functions.member, reinterpret_cast<type>(Lookup(symbol, version)), \
                   __ATOMIC_RELAXED);
  THREADLEAK_REAL_FUNCTIONS(THREADLEAK_RESOLVE_MEMBER)
#undef THREADLEAK_RESOLVE_MEMBER
  g_real_functions_resolved.store(true, std::memory_order_release);
}

}  // namespace threadleak

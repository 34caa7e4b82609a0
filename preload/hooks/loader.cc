// Hooks for the dynamic loader:
// - dlclose: remembers a library before it leaves, so stacks captured inside it can still be
//   named (departed_modules.h);
// - dlsym: a library that looks up pthread_create with dlsym(RTLD_NEXT, ...) (jemalloc does,
//   for its background threads) would get libc's function and create threads the shim never
//   sees; it gets the shim's instead, when libc's is what it would have found.
#include <dlfcn.h>
#include <pthread.h>

#include "preload/capture/departed_modules.h"
#include "preload/capture/unwinder.h"
#include "preload/core/guard.h"
#include "preload/core/real_functions.h"
#include "preload/core/runtime.h"
#include "preload/hooks/thread_creation.h"
#include "preload/startup/startup.h"

using namespace threadleak;

extern "C" __attribute__((visibility("default"))) int dlclose(void* handle) {
  if (t_in_tool) return Real().dlclose(handle);
  tl_module module;
  bool described;
  {
    ToolScope scope;
    described = DescribeLoadedModule(handle, &module);
  }
  int result = Real().dlclose(handle);
  if (result == 0 && described) {
    ToolScope scope;
    RememberIfDeparted(module);
  }
  return result;
}

#if defined(__x86_64__)

// libc's dlsym. RTLD_NEXT is relative to the object that called dlsym, which glibc finds from
// dlsym's return address: every lookup is therefore handed to libc with a jump, never a call,
// so libc sees the program's return address and answers as it would without the shim.
extern "C" {
__attribute__((visibility("hidden"))) constinit void* g_threadleak_real_dlsym = nullptr;
}

namespace {

int PthreadCreateForRtldNext(pthread_t* thread, const pthread_attr_t* attr,
                             void* (*start_routine)(void*), void* argument) {
  return CreateRecordedThread(thread, attr, start_routine, argument, ThreadKind::kPosix);
}

// String comparisons of our own: this runs inside other runtimes' start-up (AddressSanitizer
// looks up every function it intercepts with dlsym(RTLD_NEXT) before its own strcmp
// interceptor can call libc's), so it calls no string function a runtime may intercept.
bool SameString(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

const char* BaseName(const char* path) {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/') base = p + 1;
  }
  return base;
}

// Whether `function` lies in libc itself (not in an interposer such as a sanitizer runtime).
// dladdr neither allocates nor calls back into the program.
bool IsLibcFunction(const void* function) {
  Dl_info info;
  if (function == nullptr || dladdr(function, &info) == 0 || info.dli_fname == nullptr) {
    return false;
  }
  return SameString(BaseName(info.dli_fname), "libc.so.6");
}

}  // namespace

// For dlsym(RTLD_NEXT, name) from `caller` (dlsym's return address): a replacement answer, or
// null to let libc answer. Runs early (jemalloc looks pthread_create up inside its first
// malloc, perhaps before the shim's constructor): no allocation, no dlopen.
extern "C" __attribute__((visibility("hidden"), used)) void* threadleak_rtld_next_replacement(
    const char* name, const void* caller) {
  if (t_in_tool || name == nullptr || !SameString(name, "pthread_create")) return nullptr;
  // The shim's own lookups (real_functions.cc) must find libc's.
  if (IsToolAddress(reinterpret_cast<uintptr_t>(caller))) return nullptr;
  ToolScope scope;
  // The shim's pthread_create ends in the next definition after the shim. Only when that is
  // libc's own is handing it out the same as what the caller would get, plus the record; with
  // another interposer in between (a sanitizer runtime, whose own start-up makes this lookup),
  // the caller keeps libc's answer, and nothing of the shim is set up from inside it.
  if (!IsLibcFunction(reinterpret_cast<const void*>(Real().pthread_create))) return nullptr;
  EnsureRuntimeInitialized();
  if (RuntimeInert()) return nullptr;
  // A lookup that succeeds clears the error a failed one left for dlerror(); so does this.
  dlerror();
  return reinterpret_cast<void*>(&PthreadCreateForRtldNext);
}

extern "C" __attribute__((visibility("hidden"), used)) void* threadleak_resolve_real_dlsym() {
  ToolScope scope;
  void* real = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
  if (real == nullptr) real = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
  __atomic_store_n(&g_threadleak_real_dlsym, real, __ATOMIC_RELEASE);
  return real;
}

// rdi = handle, rsi = name. Lookups other than RTLD_NEXT ((void*)-1) jump straight to libc;
// RTLD_NEXT ones first ask threadleak_rtld_next_replacement, with the caller's return address
// (at 24(%rsp) after three pushes), and jump to libc when it has no answer.
extern "C" __attribute__((naked, visibility("default"))) void* dlsym(void*, const char*) noexcept {
  asm volatile(
      "cmpq $-1, %rdi\n\t"
      "jne 2f\n\t"
      "pushq %rdi\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      "pushq %rsi\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      "subq $8, %rsp\n\t"  // the call below needs a 16-byte aligned stack
      ".cfi_adjust_cfa_offset 8\n\t"
      "movq %rsi, %rdi\n\t"
      "movq 24(%rsp), %rsi\n\t"
      "call threadleak_rtld_next_replacement\n\t"
      "addq $8, %rsp\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "popq %rsi\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "popq %rdi\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "testq %rax, %rax\n\t"
      "jz 2f\n\t"
      "ret\n"
      "2:\n\t"
      "movq g_threadleak_real_dlsym(%rip), %rax\n\t"
      "testq %rax, %rax\n\t"
      "jz 3f\n\t"
      "jmp *%rax\n"
      "3:\n\t"
      "pushq %rdi\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      "pushq %rsi\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      "subq $8, %rsp\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      "call threadleak_resolve_real_dlsym\n\t"
      "addq $8, %rsp\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "popq %rsi\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "popq %rdi\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "jmp *%rax\n\t");
}

#endif

#include "preload/capture/call_on_stack.h"

namespace threadleak {

#if defined(__x86_64__)

// rdi = stack_top, rsi = fn, rdx = arg. The caller's stack pointer is kept in rbp (callee-saved:
// fn restores it), which is also the CFA register, so a debugger can walk back across the switch.
__attribute__((naked, noinline)) void CallOnStack(void*, void (*)(void*), void*) {
  asm volatile(
      "push %rbp\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      ".cfi_rel_offset %rbp, 0\n\t"
      "mov %rsp, %rbp\n\t"
      ".cfi_def_cfa_register %rbp\n\t"
      "and $-16, %rdi\n\t"
      "mov %rdi, %rsp\n\t"
      "mov %rdx, %rdi\n\t"
      "call *%rsi\n\t"
      "mov %rbp, %rsp\n\t"
      ".cfi_def_cfa_register %rsp\n\t"
      "pop %rbp\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      ".cfi_restore %rbp\n\t"
      "ret\n\t");
}

#else

void CallOnStack(void*, void (*fn)(void*), void* arg) {
  fn(arg);  // no switch on other architectures (the shim's unwinder is x86-64 only)
}

#endif

}  // namespace threadleak

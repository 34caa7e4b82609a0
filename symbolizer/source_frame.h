// One frame of a symbolized address: the symbolizer's answer (symbolizer.h), and what each
// module file's lookup fills (module_file.h). Apart from both so that neither includes the other.
#ifndef THREADLEAK_SYMBOLIZER_SOURCE_FRAME_H_
#define THREADLEAK_SYMBOLIZER_SOURCE_FRAME_H_

#include <cstdint>
#include <string>

namespace threadleak {

struct SourceFrame {
  uintptr_t pc = 0;      // the address as captured (the same for a call and its inlined calls)
  std::string function;  // demangled unless asked not to; empty when unknown
  std::string file;      // empty when unknown
  int line = 0;          // 0 when unknown
  std::string module;    // path of the ELF object, empty when unknown
  // pc minus the module's load bias: the address as in the ELF file, what `addr2line -e module`
  // takes. Meaningful only when `module` is set.
  uintptr_t module_offset = 0;
  std::string build_id;  // the module's GNU build-id in hex; empty when it has none or unknown
  // This frame is a call inlined into the next frame, which holds the code at `pc`; its file:line
  // is where the next frame (or, for the innermost, the address itself) is in the source.
  bool inlined = false;
  // pc is a return address (looked up at pc - 1); false for the interrupted frame of a stack.
  bool is_return_address = true;
};

}  // namespace threadleak

#endif  // THREADLEAK_SYMBOLIZER_SOURCE_FRAME_H_

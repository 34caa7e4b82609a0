// Turns program counters of this process into function, file:line and module, with elfutils'
// libdwfl. Set-up happens on the first lookup, never at start-up.
//
// Thread-safe (one internal lock: libdwfl is not). Not async-signal-safe: allocates.
#ifndef THREADLEAK_SYMBOLIZER_SYMBOLIZER_H_
#define THREADLEAK_SYMBOLIZER_SYMBOLIZER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace threadleak {

struct SourceFrame {
  uintptr_t pc = 0;      // the address as captured
  std::string function;  // demangled; empty when unknown
  std::string file;      // empty when unknown
  int line = 0;          // 0 when unknown
  std::string module;    // path of the ELF object, empty when unknown
  // pc minus the module's load bias: the address as in the ELF file, what `addr2line -e module`
  // takes (the start of the mapping instead when the file cannot be read).
  uintptr_t module_offset = 0;
};

class Symbolizer {
 public:
  // Symbolizes addresses of process `pid` (this process by default).
  explicit Symbolizer(pid_t pid = 0);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // `is_return_address`: pc is a return address, so the call is at pc - 1 (every frame but the
  // interrupted one). Modules loaded after the first lookup are found too.
  SourceFrame Symbolize(uintptr_t pc, bool is_return_address);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threadleak

#endif  // THREADLEAK_SYMBOLIZER_SYMBOLIZER_H_

// The ELF objects the dynamic loader has mapped into a process — the program, its libraries,
// libraries dlopen()ed since, the vDSO — read with dl_iterate_phdr in this process, from the
// loader's list through process_vm_readv in another: where each lies, its load
// bias, its file and its build-id (read from the loaded image, so it names what is mapped even
// if the file on disk has changed since).
//
// Not thread-safe: the caller holds the symbolizer's lock. Allocates; takes the loader's lock
// (dl_iterate_phdr) while it reads.
#ifndef THREADLEAK_SYMBOLIZER_PROCESS_MODULES_H_
#define THREADLEAK_SYMBOLIZER_PROCESS_MODULES_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace threadleak::symbolizer_internal {

struct LoadedModule {
  uintptr_t start = 0;  // lowest address of its PT_LOAD segments
  uintptr_t end = 0;    // one past the highest
  uintptr_t bias = 0;   // pc - bias is the address in the file
  // As the process loaded it: the program by the name it was started with, a library by the
  // path the loader opened (symlinks kept: "libstdc++.so.6", not "libstdc++.so.6.0.30"), a
  // relative dlopen() path resolved; "[vdso]" for the vDSO.
  std::string path;
  std::string build_id;  // hex; empty when it has none
  bool has_file = true;  // false for the vDSO, which only lives in memory
};

// A module as the loader lists it, before its path is settled.
struct RawModule {
  LoadedModule module;
  std::string loader_name;  // the loader's name for it: "" for the program
};

class ProcessModules {
 public:
  // Reads the list again if the loader has loaded or unloaded anything since the last read
  // (glibc's dlpi_adds and dlpi_subs counters). Returns true if it changed. In the report
  // writer, the list is the observed process's (TargetProcess(), preload/capture/process_memory.h):
  // its loader's link_map chain read from outside, once.
  bool Refresh();

  // The module whose [start, end) holds `address`, or null.
  const LoadedModule* Find(uintptr_t address) const;

 private:
  void ReadOtherProcess(pid_t pid);
  void SetModules(std::vector<RawModule> raw, uintptr_t vdso,
                  const std::function<std::string()>& program_path,
                  const std::function<std::string(const std::string&)>& real_path);

  std::vector<LoadedModule> modules_;  // sorted by start
  unsigned long long adds_ = 0;
  unsigned long long subs_ = 0;
  bool read_ = false;
  std::string program_path_;                                 // found once
  std::unordered_map<std::string, std::string> real_paths_;  // relative loader names -> real
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_PROCESS_MODULES_H_

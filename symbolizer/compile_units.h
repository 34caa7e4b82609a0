// Which compilation unit's code holds an address, by the unit's own address ranges.
//
// libdwfl finds a unit from .debug_aranges and counts the gaps between the ranges there as part
// of the unit before them ("we don't care about the little gaps"). Where some units have no
// aranges, an address in one of them is then given to another unit, and a line from the end of
// that unit's line table: Go's linker writes aranges only for the C units of a cgo program, so
// every runtime.* frame came out at /_/runtime/cgo/gcc_mmap.c:37. Here libdwfl's unit is taken
// only if its ranges (DW_AT_low_pc/high_pc, DW_AT_ranges) hold the address; otherwise the unit is
// looked up among the ranges of every unit, indexed once per module on the first such miss.
//
// Not thread-safe: the caller holds the symbolizer's lock. Allocates.
#ifndef THREADLEAK_SYMBOLIZER_COMPILE_UNITS_H_
#define THREADLEAK_SYMBOLIZER_COMPILE_UNITS_H_

#include <elfutils/libdwfl.h>

#include <vector>

namespace threadleak::symbolizer_internal {

class CompileUnits {
 public:
  // `module` must outlive the object.
  explicit CompileUnits(Dwfl_Module* module) : module_(module) {}

  // The unit whose code holds `address` (libdwfl's address: the module's bias applied), with the
  // bias to subtract for DWARF's own addresses in *bias; null when no unit's ranges hold it (code
  // without debug info, or no DWARF at all). `*from_libdwfl` says whether the unit is the one
  // libdwfl found, whose line lookups (dwfl_module_getsrc) are then valid.
  Dwarf_Die* Find(Dwarf_Addr address, Dwarf_Addr* bias, bool* from_libdwfl);

 private:
  struct Range {
    Dwarf_Addr low;   // DWARF address
    Dwarf_Addr high;  // one past the end
    size_t unit;      // index into units_
  };
  void Index();

  Dwfl_Module* module_;
  bool indexed_ = false;
  Dwarf_Addr bias_ = 0;
  std::vector<Dwarf_Die> units_;   // filled once; Find returns pointers into it
  std::vector<Range> ranges_;      // sorted by low
  std::vector<Dwarf_Addr> reach_;  // reach_[i]: the highest `high` among ranges_[0..i]
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_COMPILE_UNITS_H_

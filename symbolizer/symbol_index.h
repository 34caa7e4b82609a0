// A module's ELF symbol table, sorted once, for lookups by address in O(log n).
//
// dwfl_module_addrinfo scans the whole table on every call (libc's .symtab: ~250 us an address).
// This index answers the same question: the function symbol whose [value, value+size) covers the
// address, preferring global over weak over local among aliases; else the nearest sizeless symbol
// before it, as libdwfl would fall back on.
//
// Not thread-safe: the caller holds the symbolizer's lock. Names point into libdwfl's string
// tables and live as long as the module.
#ifndef THREADLEAK_SYMBOLIZER_SYMBOL_INDEX_H_
#define THREADLEAK_SYMBOLIZER_SYMBOL_INDEX_H_

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <vector>

namespace threadleak::symbolizer_internal {

class SymbolIndex {
 public:
  struct Hit {
    const char* name = nullptr;  // null when no symbol precedes the address
    bool covers = false;         // a sized symbol that spans the address
  };

  // Reads every defined function-like symbol of `module` (its .symtab, else .dynsym, plus
  // MiniDebugInfo); addresses are libdwfl's (the module's bias applied).
  explicit SymbolIndex(Dwfl_Module* module);

  Hit Find(Dwarf_Addr address) const;

 private:
  struct Symbol {
    Dwarf_Addr start;
    Dwarf_Addr end;  // start + size; equal to start when sizeless
    const char* name;
    int rank;  // lower is better among aliases
  };
  std::vector<Symbol> symbols_;      // sorted by start, then rank
  std::vector<Dwarf_Addr> max_end_;  // max_end_[i]: the highest end among symbols_[0..i]
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_SYMBOL_INDEX_H_

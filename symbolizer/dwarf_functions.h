// Names functions from DWARF, for addresses that no ELF symbol covers: a symbol stripped from
// .symtab while the debug info stayed, or a local function that only the DWARF describes.
//
// The name is that of the innermost DW_TAG_subprogram with code at the address, never of an
// inlined subroutine, so it names the same function an ELF symbol would. Each compilation unit is
// walked once and its functions kept in a table: dwarf_getscopes would walk the whole unit again
// on every lookup (DESIGN.md measured 4.7 ms an address in a 1.3 MB unit).
//
// Not thread-safe: the caller holds the symbolizer's lock. Allocates.
#ifndef THREADLEAK_SYMBOLIZER_DWARF_FUNCTIONS_H_
#define THREADLEAK_SYMBOLIZER_DWARF_FUNCTIONS_H_

#include <elfutils/libdw.h>

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace threadleak::symbolizer_internal {

class DwarfFunctions {
 public:
  // `cu` is the unit dwfl_module_addrdie returned for the address, `addr` the address in the
  // DWARF's own terms (the pc minus the bias dwfl_module_addrdie gave). The units must stay
  // loaded while this object lives (libdwfl keeps them until dwfl_end).
  //
  // Returns the demangled linkage name when the DWARF has one ("ns::Class::method(int)"), else
  // the name qualified by its enclosing namespaces and classes, without parameters
  // ("ns::Class::method"); empty when no subprogram covers `addr`.
  std::string Find(Dwarf_Die* cu, Dwarf_Addr addr);

 private:
  struct Range {
    Dwarf_Addr low;
    Dwarf_Addr high;  // one past the end
    Dwarf_Die die;    // a value type, valid while the unit is loaded
    size_t scope;     // index into Unit::scopes: where the DIE sits in the tree
  };
  struct Unit {
    std::vector<Range> ranges;
    std::vector<std::string> scopes;  // "", "ns::", "ns::Class::", ...
    std::unordered_map<std::string, size_t> scope_index;
    // Scope of every subprogram DIE seen, declarations included: an out-of-line member
    // definition sits at the top of the unit and names its class only through
    // DW_AT_specification.
    std::unordered_map<Dwarf_Off, size_t> decl_scopes;
  };

  const Unit& Index(Dwarf_Die* cu);
  static void Walk(Dwarf_Die* parent, const std::string& scope, int depth, Unit* unit);
  static size_t Intern(const std::string& scope, Unit* unit);
  static std::string Name(const Unit& unit, const Range& range);

  // Keyed by the address of the unit's DIE in the mapped .debug_info: unique across modules
  // and stable while the Dwfl lives.
  std::unordered_map<const void*, Unit> units_;
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_DWARF_FUNCTIONS_H_

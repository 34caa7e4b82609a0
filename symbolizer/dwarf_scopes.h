// The functions at an address according to DWARF: the inlined calls it sits in, innermost first,
// then the function whose code it is — what `eu-addr2line -i` prints, and what eu-stack finds
// with dwarf_getscopes. Used for inline frames, and to name a function no ELF symbol covers (a
// symbol stripped from .symtab while the debug info stayed, a local function only the DWARF
// describes).
//
// Indexed once, lazily, as sorted lists of non-overlapping segments, each naming the innermost
// scope over it, so that a lookup is a binary search; dwarf_getscopes would walk the whole unit
// again on every lookup (DESIGN.md measured 4.7 ms an address in a 1.3 MB unit). A unit's first
// lookup walks its top level for the functions (DW_TAG_subprogram) and their ranges, skipping
// class bodies, most of a C++ unit; a function's first lookup walks its body for the inlined
// calls (DW_TAG_inlined_subroutine). A report touches few functions of each unit, and pays for
// those. Where a member function is declared is found when a name needs it, by descending
// straight to the declaration. (A function defined inside another one, GNU C's nested functions,
// is not at the top level: an address no top-level function covers makes the whole unit be
// indexed at once.)
//
// Not thread-safe: the caller holds the symbolizer's lock. Allocates.
#ifndef THREADLEAK_SYMBOLIZER_DWARF_SCOPES_H_
#define THREADLEAK_SYMBOLIZER_DWARF_SCOPES_H_

#include <elfutils/libdw.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbolizer/demangle.h"

namespace threadleak::symbolizer_internal {

class DwarfScopes {
 public:
  struct Scope {
    std::string function;  // demangled (when asked) linkage name, else the qualified name
    bool inlined = false;  // a DW_TAG_inlined_subroutine: called from the next scope
    // Where the next scope calls this one (inlined scopes only): DW_AT_call_file/line.
    std::string call_file;
    int call_line = 0;
  };

  // `cu` is the unit dwfl_module_addrdie returned for the address, `addr` the address in the
  // DWARF's own terms (the pc minus the bias dwfl_module_addrdie gave). The units must stay
  // loaded while this object lives (libdwfl keeps them until dwfl_end).
  //
  // Innermost first: the inlined subroutines around `addr`, then the subprogram that holds them.
  // Names come from DW_AT_linkage_name (through `names`: demangled or not), else from DW_AT_name
  // qualified by the namespaces and classes around the declaration, without parameters
  // ("ns::Class::f"). Empty when no subprogram covers `addr`.
  std::vector<Scope> Find(Dwarf_Die* cu, Dwarf_Addr addr, NameCache& names);

 private:
  struct Node {
    Dwarf_Die die;   // a value type, valid while the unit is loaded
    int32_t parent;  // index of the enclosing node; -1 at a subprogram
    uint32_t scope;  // index into Unit::scopes: where the DIE sits in the tree
    bool inlined;
  };
  struct Segment {
    Dwarf_Addr start;  // the segment ends where the next one starts
    int32_t node;      // innermost node over the segment; -1 for a gap
  };
  struct Unit {
    std::vector<Node> nodes;
    // Sorted by start. The functions, until `whole` is set; then the innermost scope of all.
    std::vector<Segment> segments;
    bool whole = false;
    // By function node: the innermost of its inlined calls, built on the function's first lookup.
    std::unordered_map<int32_t, std::vector<Segment>> calls;
    std::vector<std::string> scopes;  // "", "ns::", "ns::Class::", ...
    std::unordered_map<std::string, uint32_t> scope_index;
    // Scope of a declaration, by DIE offset, found on demand: an out-of-line member definition
    // sits at the top of the unit and names its class only through DW_AT_specification.
    std::unordered_map<Dwarf_Off, std::string> decl_scopes;
    // The children of the DIEs ScopeOf went through, by the parent's offset, in offset order.
    std::unordered_map<Dwarf_Off, std::vector<Dwarf_Die>> children;
    std::unordered_map<int32_t, std::string> names;  // by node, once computed
    // By the DIE an inlined call's DW_AT_abstract_origin names: every inlined copy of a function
    // shares it.
    std::unordered_map<const void*, std::string> origin_names;
    Dwarf_Die cu_die;
    Dwarf_Files* files = nullptr;  // for DW_AT_call_file, read on first use
    size_t file_count = 0;
    bool files_read = false;
  };
  struct Interval;
  class Builder;

  Unit& Index(Dwarf_Die* cu);
  static const std::vector<Segment>& Calls(Unit& unit, int32_t function);
  static int32_t Innermost(const std::vector<Segment>& segments, Dwarf_Addr addr);
  static const std::string& NodeName(Unit& unit, int32_t node, NameCache& names);
  static std::string Name(Unit& unit, const Node& node, NameCache& names);
  static const std::vector<Dwarf_Die>& Children(Unit& unit, Dwarf_Die* parent);
  static const std::string& ScopeOf(Unit& unit, Dwarf_Die* decl, NameCache& names, int depth = 0);
  static std::string FunctionScope(Unit& unit, Dwarf_Die* function, NameCache& names, int depth);
  static std::string ClassName(Unit& unit, Dwarf_Die* parent, Dwarf_Die* type);
  static std::string CallFile(Unit& unit, Dwarf_Die* die);

  // Keyed by the address of the unit's DIE in the mapped .debug_info: unique within the file
  // and stable while its Dwfl lives.
  std::unordered_map<const void*, Unit> units_;
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_DWARF_SCOPES_H_

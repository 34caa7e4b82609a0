#include "symbolizer/dwarf_functions.h"

#include <dwarf.h>

#include "symbolizer/demangle.h"

namespace threadleak::symbolizer_internal {
namespace {

// DWARF trees are shallow (namespaces, classes, functions, blocks); the cap only guards the
// recursion against a corrupt file.
constexpr int kMaxDepth = 64;

// Abstract origins and specifications chain at most twice in practice (concrete instance ->
// abstract instance -> in-class declaration); the cap guards against a cycle.
constexpr int kMaxHops = 8;

const char* LinkageName(Dwarf_Die* die) {
  for (const int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    Dwarf_Attribute attr;
    if (dwarf_attr_integrate(die, at, &attr) != nullptr) {
      if (const char* name = dwarf_formstring(&attr)) return name;
    }
  }
  return nullptr;
}

// The DIE that declares `die`: follows DW_AT_abstract_origin and DW_AT_specification.
Dwarf_Die Declaration(Dwarf_Die die) {
  for (int hop = 0; hop < kMaxHops; ++hop) {
    Dwarf_Attribute ref;
    if (dwarf_attr(&die, DW_AT_abstract_origin, &ref) == nullptr &&
        dwarf_attr(&die, DW_AT_specification, &ref) == nullptr) {
      break;
    }
    Dwarf_Die next;
    if (dwarf_formref_die(&ref, &next) == nullptr) break;
    die = next;
  }
  return die;
}

}  // namespace

std::string DwarfFunctions::Find(Dwarf_Die* cu, Dwarf_Addr addr) {
  if (cu == nullptr) return {};
  const Unit& unit = Index(cu);
  // Subprograms nest only with GNU C nested functions; the smallest range is the innermost.
  const Range* best = nullptr;
  for (const Range& range : unit.ranges) {
    if (addr < range.low || addr >= range.high) continue;
    if (best == nullptr || range.high - range.low < best->high - best->low) best = &range;
  }
  return best == nullptr ? std::string() : Name(unit, *best);
}

const DwarfFunctions::Unit& DwarfFunctions::Index(Dwarf_Die* cu) {
  auto [it, inserted] = units_.try_emplace(cu->addr);
  if (inserted) {
    Intern("", &it->second);
    Walk(cu, "", 0, &it->second);
  }
  return it->second;
}

size_t DwarfFunctions::Intern(const std::string& scope, Unit* unit) {
  auto [it, inserted] = unit->scope_index.try_emplace(scope, unit->scopes.size());
  if (inserted) unit->scopes.push_back(scope);
  return it->second;
}

void DwarfFunctions::Walk(Dwarf_Die* parent, const std::string& scope, int depth, Unit* unit) {
  if (depth > kMaxDepth) return;
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    const int tag = dwarf_tag(&child);
    switch (tag) {
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type: {
        const char* name = dwarf_diename(&child);
        if (name == nullptr) name = tag == DW_TAG_namespace ? "(anonymous namespace)" : "{unnamed}";
        Walk(&child, scope + name + "::", depth + 1, unit);
        break;
      }
      case DW_TAG_subprogram: {
        const size_t scope_id = Intern(scope, unit);
        unit->decl_scopes.emplace(dwarf_dieoffset(&child), scope_id);
        Dwarf_Addr base = 0;
        Dwarf_Addr low = 0;
        Dwarf_Addr high = 0;
        // Declarations and abstract (inline-only) instances have no ranges and add nothing.
        for (ptrdiff_t offset = 0;
             (offset = dwarf_ranges(&child, offset, &base, &low, &high)) > 0;) {
          if (low < high) unit->ranges.push_back({low, high, child, scope_id});
        }
        // Local classes (lambdas' closures among them) declare member functions in here.
        if (dwarf_haschildren(&child) > 0) {
          const char* name = dwarf_diename(&child);
          Walk(&child, scope + (name != nullptr ? name : "") + "()::", depth + 1, unit);
        }
        break;
      }
      case DW_TAG_lexical_block:
        Walk(&child, scope, depth + 1, unit);
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

std::string DwarfFunctions::Name(const Unit& unit, const Range& range) {
  Dwarf_Die die = range.die;
  if (const char* linkage = LinkageName(&die)) return Demangle(linkage);
  // C functions, and C++ ones whose compiler left out the linkage name.
  const char* name = dwarf_diename(&die);
  if (name == nullptr) return {};
  Dwarf_Die decl = Declaration(die);
  const auto it = unit.decl_scopes.find(dwarf_dieoffset(&decl));
  return unit.scopes[it != unit.decl_scopes.end() ? it->second : range.scope] + name;
}

}  // namespace threadleak::symbolizer_internal

#include "symbolizer/dwarf_scopes.h"

#include <dwarf.h>

#include <algorithm>
#include <string_view>
#include <tuple>

namespace threadleak::symbolizer_internal {
namespace {

// DWARF trees are shallow (namespaces, classes, functions, blocks, a few levels of inlining); the
// cap only guards the recursion against a corrupt file.
constexpr int kMaxDepth = 96;

// Abstract origins and specifications chain at most twice in practice (concrete instance ->
// abstract instance -> in-class declaration); the cap guards against a cycle.
constexpr int kMaxHops = 8;

const char* StringAttr(Dwarf_Die* die, int name) {
  Dwarf_Attribute attr;
  if (dwarf_attr_integrate(die, name, &attr) == nullptr) return nullptr;
  return dwarf_formstring(&attr);
}

const char* LinkageName(Dwarf_Die* die) {
  if (const char* name = StringAttr(die, DW_AT_linkage_name)) return name;
  return StringAttr(die, DW_AT_MIPS_linkage_name);
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

int UnsignedAttr(Dwarf_Die* die, int name) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (dwarf_attr(die, name, &attr) == nullptr || dwarf_formudata(&attr, &value) != 0) return -1;
  return value > 0x7fffffff ? -1 : static_cast<int>(value);
}

}  // namespace

struct DwarfScopes::Interval {
  Dwarf_Addr low;
  Dwarf_Addr high;  // one past the end
  int32_t node;
  int32_t depth;  // nesting: 0 for a subprogram, its inlined calls 1, theirs 2, ...
};

// Walks DIE trees into nodes and intervals, then sweeps the intervals into segments.
class DwarfScopes::Builder {
 public:
  explicit Builder(Unit* unit) : unit_(unit) {}

  // `bodies`: walk into functions for their inlined calls too.
  void Walk(Dwarf_Die* parent, const std::string& scope, int32_t parent_node, int32_t node_depth,
            int depth, bool bodies) {
    if (depth > kMaxDepth) return;
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    do {
      switch (dwarf_tag(&child)) {
        case DW_TAG_namespace: {
          const char* name = dwarf_diename(&child);
          if (name == nullptr) name = "(anonymous namespace)";
          Walk(&child, scope + name + "::", parent_node, node_depth, depth + 1, bodies);
          break;
        }
        case DW_TAG_subprogram: {
          // Declarations and abstract (inline-only) instances have no code and add no node;
          // nothing inside them has code either.
          const int32_t node = AddNode(child, -1, &scope, false, node_depth);
          if (bodies && node >= 0) WalkBody(node, node_depth, depth);
          break;
        }
        case DW_TAG_inlined_subroutine: {
          const int32_t node = AddNode(child, parent_node, nullptr, true, node_depth);
          if (dwarf_haschildren(&child) > 0) {
            Walk(&child, scope, node >= 0 ? node : parent_node,
                 node >= 0 ? node_depth + 1 : node_depth, depth + 1, bodies);
          }
          break;
        }
        case DW_TAG_lexical_block:
          Walk(&child, scope, parent_node, node_depth, depth + 1, bodies);
          break;
        default:
          break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  // The inlined calls (and nested functions) inside function `node`.
  void WalkBody(int32_t node, int32_t node_depth, int depth) {
    Dwarf_Die die = unit_->nodes[node].die;
    if (dwarf_haschildren(&die) <= 0) return;
    const char* name = dwarf_diename(&die);
    const std::string scope =
        unit_->scopes[unit_->nodes[node].scope] + (name != nullptr ? name : "") + "()::";
    Walk(&die, scope, node, node_depth + 1, depth + 1, /*bodies=*/true);
  }

  // The intervals of function `node` itself, as the outermost scope of its body's segments.
  void AddRanges(int32_t node) {
    Dwarf_Die die = unit_->nodes[node].die;
    Ranges(&die, node, 0);
  }

  // Turns properly nested intervals into segments, each naming the innermost interval over it.
  // An interval that sticks out of the one around it (a corrupt or unusual file) is cut to fit.
  void Sweep(std::vector<Segment>& segments) {
    std::sort(intervals_.begin(), intervals_.end(), [](const Interval& a, const Interval& b) {
      return std::tie(a.low, a.depth, b.high) < std::tie(b.low, b.depth, a.high);
    });
    struct Open {
      Dwarf_Addr high;
      int32_t node;
    };
    std::vector<Open> open;
    segments.clear();
    auto emit = [&](Dwarf_Addr start, int32_t node) {
      if (!segments.empty() && segments.back().start == start) {
        segments.back().node = node;
      } else if (segments.empty() || segments.back().node != node) {
        segments.push_back({start, node});
      }
    };
    auto close_until = [&](Dwarf_Addr limit) {
      while (!open.empty() && open.back().high <= limit) {
        const Dwarf_Addr end = open.back().high;
        open.pop_back();
        emit(end, open.empty() ? -1 : open.back().node);
      }
    };
    for (const Interval& interval : intervals_) {
      close_until(interval.low);
      Dwarf_Addr high = interval.high;
      if (!open.empty()) high = std::min(high, open.back().high);
      if (high <= interval.low) continue;
      open.push_back({high, interval.node});
      emit(interval.low, interval.node);
    }
    close_until(~Dwarf_Addr{0});
    intervals_.clear();
  }

 private:
  uint32_t Intern(const std::string& scope) {
    auto [it, inserted] = unit_->scope_index.try_emplace(scope, unit_->scopes.size());
    if (inserted) unit_->scopes.push_back(scope);
    return it->second;
  }

  bool Ranges(Dwarf_Die* die, int32_t node, int32_t depth) {
    bool any = false;
    Dwarf_Addr base = 0;
    Dwarf_Addr low = 0;
    Dwarf_Addr high = 0;
    for (ptrdiff_t offset = 0; (offset = dwarf_ranges(die, offset, &base, &low, &high)) > 0;) {
      if (low >= high) continue;
      intervals_.push_back({low, high, node, depth});
      any = true;
    }
    return any;
  }

  // A node for `die` if it has code; -1 if it has none. `scope`: where a subprogram is defined.
  int32_t AddNode(Dwarf_Die die, int32_t parent, const std::string* scope, bool inlined,
                  int32_t depth) {
    if (dwarf_hasattr(&die, DW_AT_low_pc) == 0 && dwarf_hasattr(&die, DW_AT_ranges) == 0) {
      return -1;  // a declaration: cheaper to tell from the abbreviation than from dwarf_ranges
    }
    const auto node = static_cast<int32_t>(unit_->nodes.size());
    if (!Ranges(&die, node, depth)) return -1;
    unit_->nodes.push_back({die, parent, scope != nullptr ? Intern(*scope) : 0, inlined});
    return node;
  }

  Unit* unit_;
  std::vector<Interval> intervals_;
};

int32_t DwarfScopes::Innermost(const std::vector<Segment>& segments, Dwarf_Addr addr) {
  const auto it = std::upper_bound(
      segments.begin(), segments.end(), addr,
      [](Dwarf_Addr value, const Segment& segment) { return value < segment.start; });
  return it == segments.begin() ? -1 : std::prev(it)->node;
}

const std::vector<DwarfScopes::Segment>& DwarfScopes::Calls(Unit& unit, int32_t function) {
  auto [it, inserted] = unit.calls.try_emplace(function);
  if (inserted) {
    Builder builder(&unit);
    builder.AddRanges(function);
    builder.WalkBody(function, 0, 0);
    builder.Sweep(it->second);
  }
  return it->second;
}

std::vector<DwarfScopes::Scope> DwarfScopes::Find(Dwarf_Die* cu, Dwarf_Addr addr,
                                                  NameCache& names) {
  std::vector<Scope> chain;
  if (cu == nullptr) return chain;
  Unit& unit = Index(cu);
  int32_t node = Innermost(unit.segments, addr);
  if (node < 0 && !unit.whole) {
    // Perhaps a function nested in another: index everything, once.
    unit.whole = true;
    unit.calls.clear();
    Builder builder(&unit);
    builder.Walk(&unit.cu_die, "", -1, 0, 0, /*bodies=*/true);
    builder.Sweep(unit.segments);
    node = Innermost(unit.segments, addr);
  } else if (node >= 0 && !unit.whole) {
    const int32_t inner = Innermost(Calls(unit, node), addr);
    if (inner >= 0) node = inner;
  }
  // The parent links form a tree, so the walk ends; the cap guards against a corrupt index.
  for (int hops = 0; node >= 0 && hops <= kMaxDepth; ++hops) {
    const Node& n = unit.nodes[node];
    Scope scope;
    scope.function = NodeName(unit, node, names);
    scope.inlined = n.inlined;
    if (n.inlined) {
      Dwarf_Die die = n.die;
      scope.call_file = CallFile(unit, &die);
      scope.call_line = std::max(UnsignedAttr(&die, DW_AT_call_line), 0);
    }
    chain.push_back(std::move(scope));
    node = n.parent;
  }
  return chain;
}

DwarfScopes::Unit& DwarfScopes::Index(Dwarf_Die* cu) {
  auto [it, inserted] = units_.try_emplace(cu->addr);
  if (inserted) {
    Unit& unit = it->second;
    unit.cu_die = *cu;
    unit.scope_index.emplace("", 0);
    unit.scopes.emplace_back();
    Builder builder(&unit);
    builder.Walk(cu, "", -1, 0, 0, /*bodies=*/false);
    builder.Sweep(unit.segments);
  }
  return it->second;
}

const std::vector<Dwarf_Die>& DwarfScopes::Children(Unit& unit, Dwarf_Die* parent) {
  auto [it, inserted] = unit.children.try_emplace(dwarf_dieoffset(parent));
  if (inserted) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) == 0) {
      do {
        it->second.push_back(child);
      } while (dwarf_siblingof(&child, &child) == 0);
    }
  }
  return it->second;
}

// Descends from the unit's root to `decl`, through the one child at each level whose subtree holds
// its offset (DIEs are stored depth first, so a subtree spans from its root to the next sibling).
// Each DIE passed through has its children listed once, for binary searches after.
const std::string& DwarfScopes::ScopeOf(Unit& unit, Dwarf_Die* decl, NameCache& names, int depth) {
  const Dwarf_Off target = dwarf_dieoffset(decl);
  auto [it, inserted] = unit.decl_scopes.try_emplace(target);
  if (!inserted || depth > kMaxHops) return it->second;
  std::string scope;
  Dwarf_Die parent = unit.cu_die;
  for (int level = 0; level < kMaxDepth; ++level) {
    const std::vector<Dwarf_Die>& children = Children(unit, &parent);
    auto holder = std::upper_bound(children.begin(), children.end(), target,
                                   [](Dwarf_Off offset, const Dwarf_Die& die) {
                                     return offset < dwarf_dieoffset(const_cast<Dwarf_Die*>(&die));
                                   });
    if (holder == children.begin()) break;  // not in this unit: no scope
    --holder;
    Dwarf_Die next = *holder;
    if (dwarf_dieoffset(&next) == target) {
      unit.decl_scopes[target] = std::move(scope);
      break;
    }
    switch (dwarf_tag(&next)) {
      case DW_TAG_namespace: {
        const char* name = dwarf_diename(&next);
        scope += name != nullptr ? name : "(anonymous namespace)";
        scope += "::";
        break;
      }
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        scope += ClassName(unit, &parent, &next) + "::";
        break;
      case DW_TAG_subprogram:
        // A function's definition sits at the top of the unit, away from its namespace: its own
        // name says where it belongs.
        scope = FunctionScope(unit, &next, names, depth + 1) + "::";
        break;
      default:  // lexical blocks, inlined calls: no name of their own
        break;
    }
    parent = next;
  }
  return unit.decl_scopes[target];
}

// "ns::f(int)" for the function local classes are declared in, as the demangler writes it when
// there is a linkage name; else rebuilt, without parameters.
std::string DwarfScopes::FunctionScope(Unit& unit, Dwarf_Die* function, NameCache& names,
                                       int depth) {
  if (const char* linkage = LinkageName(function)) return names.Get(linkage);
  const char* name = StringAttr(function, DW_AT_name);
  Dwarf_Die decl = Declaration(*function);
  return ScopeOf(unit, &decl, names, depth) + (name != nullptr ? name : "");
}

// A class's name; for a lambda's closure (a class without a name in a function), the
// demangler's "{lambda(...)#N}", N counting the function's unnamed classes.
std::string DwarfScopes::ClassName(Unit& unit, Dwarf_Die* parent, Dwarf_Die* type) {
  if (const char* name = dwarf_diename(type)) return name;
  if (dwarf_tag(parent) != DW_TAG_subprogram) return "{unnamed}";
  int index = 0;
  for (const Dwarf_Die& sibling : Children(unit, parent)) {
    Dwarf_Die die = sibling;
    const int tag = dwarf_tag(&die);
    if ((tag == DW_TAG_class_type || tag == DW_TAG_structure_type) &&
        dwarf_diename(&die) == nullptr) {
      ++index;
    }
    if (die.addr == type->addr) break;
  }
  // The call operator's parameters: "()" when it has none besides `this`.
  const char* parameters = "(...)";
  for (const Dwarf_Die& member : Children(unit, type)) {
    Dwarf_Die die = member;
    const char* name = dwarf_diename(&die);
    if (dwarf_tag(&die) != DW_TAG_subprogram || name == nullptr ||
        std::string_view(name) != "operator()") {
      continue;
    }
    bool any = false;
    for (const Dwarf_Die& parameter : Children(unit, &die)) {
      Dwarf_Die p = parameter;
      any =
          any || (dwarf_tag(&p) == DW_TAG_formal_parameter && !dwarf_hasattr(&p, DW_AT_artificial));
    }
    if (!any) parameters = "()";
    break;
  }
  return std::string("{lambda") + parameters + "#" + std::to_string(index) + "}";
}

const std::string& DwarfScopes::NodeName(Unit& unit, int32_t node, NameCache& names) {
  const Node& n = unit.nodes[node];
  Dwarf_Die die = n.die;
  Dwarf_Attribute ref;
  Dwarf_Die origin;
  if (n.inlined && dwarf_attr(&die, DW_AT_abstract_origin, &ref) != nullptr &&
      dwarf_formref_die(&ref, &origin) != nullptr) {
    auto [it, inserted] = unit.origin_names.try_emplace(origin.addr);
    if (inserted) it->second = Name(unit, n, names);
    return it->second;
  }
  auto [it, inserted] = unit.names.try_emplace(node);
  if (inserted) it->second = Name(unit, n, names);
  return it->second;
}

std::string DwarfScopes::Name(Unit& unit, const Node& node, NameCache& names) {
  Dwarf_Die die = node.die;
  if (const char* linkage = LinkageName(&die)) return names.Get(linkage);
  // C functions, and C++ ones whose compiler left out the linkage name (GCC, in an anonymous
  // namespace). An inlined call's own place in the tree is its caller's: only its declaration
  // says where the function belongs.
  const char* name = StringAttr(&die, DW_AT_name);
  if (name == nullptr) return {};
  Dwarf_Die decl = Declaration(die);
  Dwarf_Die decl_cu;
  if (decl.addr == die.addr) return unit.scopes[node.scope] + name;  // declared where defined
  if (dwarf_diecu(&decl, &decl_cu, nullptr, nullptr) != nullptr &&
      decl_cu.addr == unit.cu_die.addr) {
    return ScopeOf(unit, &decl, names) + name;
  }
  return node.inlined ? std::string(name) : unit.scopes[node.scope] + name;
}

std::string DwarfScopes::CallFile(Unit& unit, Dwarf_Die* die) {
  const int index = UnsignedAttr(die, DW_AT_call_file);
  if (index < 0) return {};
  if (!unit.files_read) {
    unit.files_read = true;
    if (dwarf_getsrcfiles(&unit.cu_die, &unit.files, &unit.file_count) != 0) {
      unit.files = nullptr;
      unit.file_count = 0;
    }
  }
  if (unit.files == nullptr || static_cast<size_t>(index) >= unit.file_count) return {};
  const char* file = dwarf_filesrc(unit.files, index, nullptr, nullptr);
  return file != nullptr ? std::string(file) : std::string();
}

}  // namespace threadleak::symbolizer_internal

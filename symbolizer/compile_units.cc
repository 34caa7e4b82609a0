#include "symbolizer/compile_units.h"

#include <dwarf.h>

#include <algorithm>
#include <tuple>
#include <unordered_map>

namespace threadleak::symbolizer_internal {

Dwarf_Die* CompileUnits::Find(Dwarf_Addr address, Dwarf_Addr* bias, bool* from_libdwfl) {
  *from_libdwfl = false;
  Dwarf_Addr dwfl_bias = 0;
  if (Dwarf_Die* unit = dwfl_module_addrdie(module_, address, &dwfl_bias)) {
    if (dwarf_haspc(unit, address - dwfl_bias) > 0) {
      *bias = dwfl_bias;
      *from_libdwfl = true;
      return unit;
    }
  }
  if (!indexed_) Index();
  *bias = bias_;
  const Dwarf_Addr addr = address - bias_;
  // The last range that starts at or before the address; walk back while one could still reach
  // it (ranges of different units may nest: a unit's base range around another's code).
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](Dwarf_Addr value, const Range& r) { return value < r.low; });
  for (size_t k = static_cast<size_t>(it - ranges_.begin()); k-- > 0;) {
    if (reach_[k] <= addr) break;
    if (addr < ranges_[k].high) return &units_[ranges_[k].unit];
  }
  return nullptr;
}

void CompileUnits::Index() {
  indexed_ = true;
  Dwarf* dwarf = dwfl_module_getdwarf(module_, &bias_);
  if (dwarf == nullptr) return;
  std::unordered_map<Dwarf_Off, size_t> by_offset;
  std::vector<bool> has_ranges;
  Dwarf_CU* cu = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die unit;
  // Units with code: compile units, and the skeletons of split ones (they carry the ranges).
  while (dwarf_get_units(dwarf, cu, &cu, &version, &unit_type, &unit, nullptr) == 0) {
    if (unit_type != DW_UT_compile && unit_type != DW_UT_skeleton) continue;
    const size_t index = units_.size();
    units_.push_back(unit);
    by_offset.emplace(dwarf_dieoffset(&unit), index);
    bool any = false;
    Dwarf_Addr base = 0;
    Dwarf_Addr low = 0;
    Dwarf_Addr high = 0;
    for (ptrdiff_t offset = 0; (offset = dwarf_ranges(&unit, offset, &base, &low, &high)) > 0;) {
      if (low >= high) continue;
      ranges_.push_back({low, high, index});
      any = true;
    }
    has_ranges.push_back(any);
  }
  // A unit whose DIE says nothing of its code may still be in .debug_aranges: take those exact
  // ranges (never the gaps between them).
  Dwarf_Aranges* aranges = nullptr;
  size_t count = 0;
  if (dwarf_getaranges(dwarf, &aranges, &count) == 0) {
    for (size_t i = 0; i < count; ++i) {
      Dwarf_Addr start = 0;
      Dwarf_Word length = 0;
      Dwarf_Off offset = 0;
      if (dwarf_getarangeinfo(dwarf_onearange(aranges, i), &start, &length, &offset) != 0 ||
          length == 0) {
        continue;
      }
      const auto found = by_offset.find(offset);
      if (found != by_offset.end() && !has_ranges[found->second]) {
        ranges_.push_back({start, start + length, found->second});
      }
    }
  }
  std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) {
    return std::tie(a.low, a.high) < std::tie(b.low, b.high);
  });
  reach_.reserve(ranges_.size());
  Dwarf_Addr reach = 0;
  for (const Range& range : ranges_) {
    reach = std::max(reach, range.high);
    reach_.push_back(reach);
  }
}

}  // namespace threadleak::symbolizer_internal

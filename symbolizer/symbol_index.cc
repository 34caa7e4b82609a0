#include "symbolizer/symbol_index.h"

#include <algorithm>
#include <tuple>

namespace threadleak::symbolizer_internal {
namespace {

int Rank(const GElf_Sym& sym) {
  switch (GELF_ST_BIND(sym.st_info)) {
    case STB_GLOBAL:
      return 0;
    case STB_WEAK:
      return 1;
    default:
      return 2;
  }
}

bool IsCodeSymbol(const GElf_Sym& sym, GElf_Word shndx) {
  if (shndx == SHN_UNDEF || shndx == SHN_ABS) return false;
  switch (GELF_ST_TYPE(sym.st_info)) {
    case STT_FUNC:
    case STT_GNU_IFUNC:
    case STT_NOTYPE:  // assembler labels (libc's syscall stubs have some)
      return true;
    default:
      return false;
  }
}

}  // namespace

SymbolIndex::SymbolIndex(Dwfl_Module* module) {
  const int count = dwfl_module_getsymtab(module);
  for (int i = 1; i < count; ++i) {
    GElf_Sym sym;
    GElf_Addr address = 0;
    GElf_Word shndx = 0;
    const char* name = dwfl_module_getsym_info(module, i, &sym, &address, &shndx, nullptr, nullptr);
    if (name == nullptr || name[0] == '\0' || !IsCodeSymbol(sym, shndx)) continue;
    symbols_.push_back({address, address + sym.st_size, name, Rank(sym)});
  }
  // Among aliases at one address: sized first, then by binding; the table's order after that.
  std::stable_sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    const bool a_sized = a.end > a.start;
    const bool b_sized = b.end > b.start;
    return std::tie(a.start, b_sized, a.rank) < std::tie(b.start, a_sized, b.rank);
  });
  max_end_.reserve(symbols_.size());
  Dwarf_Addr max_end = 0;
  for (const Symbol& symbol : symbols_) {
    max_end = std::max(max_end, symbol.end);
    max_end_.push_back(max_end);
  }
}

SymbolIndex::Hit SymbolIndex::Find(Dwarf_Addr address) const {
  // The last symbol that starts at or before the address.
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](Dwarf_Addr value, const Symbol& s) { return value < s.start; });
  if (it == symbols_.begin()) return {};
  const size_t last = static_cast<size_t>(it - symbols_.begin()) - 1;
  // Walk back while some symbol could still reach the address: the nearest, or a sized symbol
  // that encloses smaller ones (a function with local labels inside).
  for (size_t k = last + 1; k-- > 0;) {
    if (max_end_[k] <= address) break;
    const Symbol& s = symbols_[k];
    if (address < s.end) {
      size_t best = k;  // the best alias at that start that covers the address too
      while (best > 0 && symbols_[best - 1].start == s.start && symbols_[best - 1].end > address) {
        --best;
      }
      return {symbols_[best].name, true};
    }
  }
  // No sized symbol covers it. Like libdwfl, fall back on the nearest sizeless symbol (an
  // assembler label), unless a sized symbol lies between it and the address: then the address
  // is past that function's end, in code no symbol names.
  size_t nearest = last;
  while (nearest > 0 && symbols_[nearest - 1].start == symbols_[last].start) --nearest;
  for (size_t k = nearest; k <= last; ++k) {
    if (symbols_[k].end > symbols_[k].start) return {};
  }
  return {symbols_[nearest].name, false};
}

}  // namespace threadleak::symbolizer_internal

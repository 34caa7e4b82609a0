#include "preload/report/analysis/quick_count.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

#include "symbolizer/demangle.h"

namespace threadleak {
namespace {

// Among aliases covering an address: global over weak over local, as the symbolizer prefers.
int Rank(unsigned char binding) {
  return binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 1 : 2;
}

struct Wanted {
  uintptr_t address = 0;  // in the ELF file (pc - bias, and - 1 for a return address)
  SourceFrame* frame = nullptr;
  int rank = 3;
  std::string name;
};

// One pass over the module's symbol table for every address wanted in it.
void NameInModule(const std::string& path, std::vector<Wanted>* wanted) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  Elf_Scn* table = nullptr;
  for (Elf_Scn* section = nullptr; elf != nullptr && (section = elf_nextscn(elf, section));) {
    GElf_Shdr header;
    if (gelf_getshdr(section, &header) == nullptr) continue;
    if (header.sh_type == SHT_SYMTAB) {
      table = section;
      break;
    }
    if (header.sh_type == SHT_DYNSYM) table = section;  // unless a .symtab follows
  }
  GElf_Shdr header;
  Elf_Data* data = table != nullptr ? elf_getdata(table, nullptr) : nullptr;
  if (data != nullptr && gelf_getshdr(table, &header) != nullptr && header.sh_entsize != 0) {
    std::sort(wanted->begin(), wanted->end(),
              [](const Wanted& a, const Wanted& b) { return a.address < b.address; });
    const size_t count = header.sh_size / header.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym symbol;
      if (gelf_getsym(data, static_cast<int>(i), &symbol) == nullptr) continue;
      const unsigned char type = GELF_ST_TYPE(symbol.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || symbol.st_shndx == SHN_UNDEF ||
          symbol.st_size == 0) {
        continue;
      }
      // The wanted addresses this symbol's range holds.
      auto first =
          std::lower_bound(wanted->begin(), wanted->end(), symbol.st_value,
                           [](const Wanted& w, GElf_Addr value) { return w.address < value; });
      const int rank = Rank(GELF_ST_BIND(symbol.st_info));
      for (auto it = first; it != wanted->end() && it->address < symbol.st_value + symbol.st_size;
           ++it) {
        if (rank >= it->rank) continue;
        const char* name = elf_strptr(elf, header.sh_link, symbol.st_name);
        if (name == nullptr || *name == '\0') continue;
        it->rank = rank;
        it->name = name;
      }
    }
  }
  if (elf != nullptr) elf_end(elf);
  close(fd);
}

}  // namespace

void NameFromSymbolTables(std::vector<SourceFrame>* frames, bool demangle) {
  elf_version(EV_CURRENT);
  std::map<std::string, std::vector<Wanted>> by_module;
  for (SourceFrame& frame : *frames) {
    if (frame.module.empty() || !frame.function.empty()) continue;
    const uintptr_t address = frame.module_offset - (frame.is_return_address ? 1 : 0);
    Wanted& wanted = by_module[frame.module].emplace_back();
    wanted.address = address;
    wanted.frame = &frame;
  }
  std::map<std::string, std::string> shown;  // a name as found -> as frames show it
  for (auto& [path, wanted] : by_module) {
    NameInModule(path, &wanted);
    for (Wanted& w : wanted) {
      if (w.name.empty()) continue;
      auto [it, inserted] = shown.try_emplace(w.name);
      if (inserted) {
        it->second = demangle ? symbolizer_internal::Demangle(w.name.c_str())
                              : symbolizer_internal::WithoutVersion(w.name.c_str());
      }
      w.frame->function = it->second;
    }
  }
}

size_t CountLeaksQuickly(const tl_snapshot& snapshot, const std::vector<SuppressionRule>& rules,
                         Symbolizer& symbolizer, bool demangle) {
  auto cleared_by_rules = [&rules](const SymbolizedThread& thread, FramesKnown known) {
    for (const SuppressionRule& rule : rules) {
      if (RuleDecidable(rule, known) && RuleMatches(rule, thread)) return true;
    }
    return false;
  };
  // Step 1: located frames (module and offset), and the rules that need nothing more.
  FrameOptions located;
  located.symbolize = false;
  const std::vector<SymbolizedThread> threads = SymbolizeThreads(snapshot, symbolizer, located);
  std::vector<const SymbolizedThread*> left;
  for (const SymbolizedThread& thread : threads) {
    if (thread.raw->flags & TL_THREAD_EXITING) continue;  // where the exit stopped: no leak
    if (!cleared_by_rules(thread, FramesKnown::kModules)) left.push_back(&thread);
  }
  const bool names_help = std::any_of(rules.begin(), rules.end(), [](const SuppressionRule& r) {
    return !RuleDecidable(r, FramesKnown::kModules) &&
           RuleDecidable(r, FramesKnown::kSymbolTableNames);
  });
  if (left.empty() || !names_help) return left.size();

  // Step 2: the same frames named from the symbol tables, for the threads left, all at once (one
  // pass over each module's table), once per distinct stack (threads share their Frames).
  std::vector<SourceFrame> frames;
  std::map<const std::vector<SourceFrame>*, std::pair<size_t, size_t>> spans;
  for (const SymbolizedThread* thread : left) {
    for (const Frames* stack : {&thread->stack, &thread->creation}) {
      if (spans.try_emplace(&stack->get(), frames.size(), stack->size()).second) {
        frames.insert(frames.end(), stack->begin(), stack->end());
      }
    }
  }
  NameFromSymbolTables(&frames, demangle);
  std::map<const std::vector<SourceFrame>*, Frames> named;
  for (const auto& [stack, at] : spans) {
    const auto begin = frames.begin() + static_cast<ptrdiff_t>(at.first);
    named.emplace(
        stack, Frames(std::vector<SourceFrame>(begin, begin + static_cast<ptrdiff_t>(at.second))));
  }
  size_t count = 0;
  for (const SymbolizedThread* thread : left) {
    const SymbolizedThread with_names{thread->raw, named.at(&thread->stack.get()),
                                      named.at(&thread->creation.get())};
    if (!cleared_by_rules(with_names, FramesKnown::kSymbolTableNames)) ++count;
  }
  return count;
}

}  // namespace threadleak

#include "preload/test_frameworks/elf_symbol.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>

namespace threadleak {
namespace {

// A whole file mapped read-only; every access is bounds-checked, so a truncated or hostile
// file yields "not found", never a fault past its end.
class MappedFile {
 public:
  explicit MappedFile(const char* path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return;
    struct stat info;
    if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
      void* memory =
          mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (memory != MAP_FAILED) {
        data_ = static_cast<const uint8_t*>(memory);
        size_ = static_cast<size_t>(info.st_size);
      }
    }
    close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // `count` objects of type T at `offset`, or null when they do not lie inside the file.
  template <typename T>
  const T* At(uint64_t offset, uint64_t count = 1) const {
    if (data_ == nullptr || offset > size_ || count > (size_ - offset) / sizeof(T)) return nullptr;
    if (offset % alignof(T) != 0) return nullptr;
    return reinterpret_cast<const T*>(data_ + offset);
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

const Elf64_Ehdr* Header(const MappedFile& file) {
  const auto* header = file.At<Elf64_Ehdr>(0);
  if (header == nullptr || memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
      header->e_ident[EI_CLASS] != ELFCLASS64) {
    return nullptr;
  }
  return header;
}

// The load bias of a file whose mapping at file offset 0 starts at `first_segment`: that mapping
// holds its lowest PT_LOAD segment, placed at the page of its p_vaddr plus the bias.
bool BiasFromFirstSegment(const MappedFile& file, uintptr_t first_segment, uintptr_t* bias) {
  const Elf64_Ehdr* header = Header(file);
  if (header == nullptr || header->e_phentsize != sizeof(Elf64_Phdr)) return false;
  const auto* segments = file.At<Elf64_Phdr>(header->e_phoff, header->e_phnum);
  if (segments == nullptr) return false;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (size_t i = 0; i < header->e_phnum; ++i) {
    if (segments[i].p_type != PT_LOAD) continue;  // PT_LOADs are sorted by address
    *bias = first_segment - (segments[i].p_vaddr & ~(page - 1));
    return true;
  }
  return false;
}

// True when the NUL-terminated string at `offset` of [strings, strings + size) is `name` or
// `name` followed by '.'.
bool NameMatches(const char* strings, uint64_t size, uint64_t offset, const char* name,
                 size_t name_length) {
  if (offset >= size || size - offset <= name_length) return false;
  const char* candidate = strings + offset;
  if (memcmp(candidate, name, name_length) != 0) return false;
  return candidate[name_length] == '\0' || candidate[name_length] == '.';
}

uintptr_t FindInFile(const MappedFile& file, uintptr_t bias, const char* name) {
  const Elf64_Ehdr* header = Header(file);
  if (header == nullptr || header->e_shentsize != sizeof(Elf64_Shdr)) return 0;
  const auto* sections = file.At<Elf64_Shdr>(header->e_shoff, header->e_shnum);
  if (sections == nullptr) return 0;
  const size_t name_length = strlen(name);
  for (size_t i = 0; i < header->e_shnum; ++i) {
    const Elf64_Shdr& table = sections[i];
    if (table.sh_type != SHT_SYMTAB || table.sh_entsize != sizeof(Elf64_Sym)) continue;
    if (table.sh_link >= header->e_shnum || sections[table.sh_link].sh_type != SHT_STRTAB) continue;
    const Elf64_Shdr& names = sections[table.sh_link];
    const auto* symbols = file.At<Elf64_Sym>(table.sh_offset, table.sh_size / sizeof(Elf64_Sym));
    const char* strings = file.At<char>(names.sh_offset, names.sh_size);
    if (symbols == nullptr || strings == nullptr) continue;
    for (uint64_t s = 0; s < table.sh_size / sizeof(Elf64_Sym); ++s) {
      const Elf64_Sym& symbol = symbols[s];
      if (ELF64_ST_TYPE(symbol.st_info) != STT_OBJECT || symbol.st_shndx == SHN_UNDEF) continue;
      if (NameMatches(strings, names.sh_size, symbol.st_name, name, name_length)) {
        return bias + symbol.st_value;
      }
    }
  }
  return 0;
}

// Parses one /proc/self/maps line: start address, file offset, path. False for other shapes.
bool ParseMapsLine(char* line, uintptr_t* start, uint64_t* offset, const char** path) {
  char* cursor = line;
  auto hex = [&cursor](uint64_t* out) {
    uint64_t value = 0;
    const char* begin = cursor;
    for (;; ++cursor) {
      char c = *cursor;
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) break;
      value = value * 16 + static_cast<uint64_t>(digit);
    }
    *out = value;
    return cursor != begin;
  };
  auto skip_field = [&cursor] {
    while (*cursor != '\0' && *cursor != ' ') ++cursor;
    while (*cursor == ' ') ++cursor;
  };
  uint64_t value = 0;
  if (!hex(&value)) return false;
  *start = value;
  skip_field();  // rest of the range
  skip_field();  // permissions
  if (!hex(offset)) return false;
  skip_field();  // device
  skip_field();  // inode
  skip_field();
  if (*cursor != '/') return false;
  *path = cursor;
  return true;
}

}  // namespace

uintptr_t FindDataSymbol(const char* path, uintptr_t first_segment, const char* name) {
  MappedFile file(path);
  uintptr_t bias = 0;
  if (!BiasFromFirstSegment(file, first_segment, &bias)) return 0;
  return FindInFile(file, bias, name);
}

uintptr_t FindDataSymbolInExecutable(const char* name) {
  // The bias from the program headers the kernel mapped: their PT_PHDR entry says where the
  // headers were linked, AT_PHDR where they are.
  const auto* headers = reinterpret_cast<const Elf64_Phdr*>(getauxval(AT_PHDR));
  const size_t count = getauxval(AT_PHNUM);
  if (headers == nullptr || getauxval(AT_PHENT) != sizeof(Elf64_Phdr)) return 0;
  for (size_t i = 0; i < count; ++i) {
    if (headers[i].p_type != PT_PHDR) continue;
    MappedFile file("/proc/self/exe");
    return FindInFile(file, reinterpret_cast<uintptr_t>(headers) - headers[i].p_vaddr, name);
  }
  return 0;  // no PT_PHDR: a static or unusual executable; threadleak is not preloaded there
}

uintptr_t FindDataSymbolInModulesNamed(const char* fragment, const char* name) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  // A page-sized window of the file; a line (up to PATH_MAX plus its fields) never outgrows it.
  constexpr size_t kWindow = 8192;
  char* window = static_cast<char*>(
      mmap(nullptr, kWindow, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (window == MAP_FAILED) {
    close(fd);
    return 0;
  }
  uintptr_t found = 0;
  size_t filled = 0;
  bool at_end = false;
  while (found == 0) {
    if (!at_end && filled < kWindow - 1) {
      ssize_t n = read(fd, window + filled, kWindow - 1 - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) at_end = true;
      if (n > 0) filled += static_cast<size_t>(n);
    }
    window[filled] = '\0';
    char* newline = static_cast<char*>(memchr(window, '\n', filled));
    if (newline == nullptr) {
      if (at_end || filled == kWindow - 1) break;  // the end, or a line longer than any can be
      continue;
    }
    *newline = '\0';
    uintptr_t start = 0;
    uint64_t offset = 0;
    const char* path = nullptr;
    if (ParseMapsLine(window, &start, &offset, &path) && offset == 0) {
      const char* base = strrchr(path, '/');
      if (strstr(base != nullptr ? base : path, fragment) != nullptr) {
        found = FindDataSymbol(path, start, name);
      }
    }
    const size_t consumed = static_cast<size_t>(newline - window) + 1;
    memmove(window, window + consumed, filled - consumed);
    filled -= consumed;
  }
  munmap(window, kWindow);
  close(fd);
  return found;
}

}  // namespace threadleak

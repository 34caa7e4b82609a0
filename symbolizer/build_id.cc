#include "symbolizer/build_id.h"

#include <elf.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>

namespace threadleak::symbolizer_internal {

std::string HexBuildId(const uint8_t* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0xf];
  }
  return hex;
}

std::string FileBuildId(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  elf_version(EV_CURRENT);  // libelf refuses elf_begin until a version is set; idempotent
  std::string hex;
  if (Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
    const void* id = nullptr;
    const ssize_t len = dwelf_elf_gnu_build_id(elf, &id);
    if (len > 0) hex = HexBuildId(static_cast<const uint8_t*>(id), static_cast<size_t>(len));
    elf_end(elf);
  }
  close(fd);
  return hex;
}

std::string NoteBuildId(const void* notes, size_t size) {
  // Elf32_Nhdr and Elf64_Nhdr are the same three 32-bit words; name and desc are 4-aligned.
  const auto* p = static_cast<const uint8_t*>(notes);
  const auto align4 = [](size_t n) { return (n + 3) & ~size_t{3}; };
  size_t offset = 0;
  while (offset + sizeof(Elf64_Nhdr) <= size) {
    Elf64_Nhdr header;
    std::memcpy(&header, p + offset, sizeof header);
    const size_t name_at = offset + sizeof header;
    const size_t desc_at = name_at + align4(header.n_namesz);
    if (desc_at > size || header.n_descsz > size - desc_at) break;
    if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
        std::memcmp(p + name_at, "GNU", 4) == 0 && header.n_descsz > 0) {
      return HexBuildId(p + desc_at, header.n_descsz);
    }
    offset = desc_at + align4(header.n_descsz);
  }
  return {};
}

std::string BuildIdPath(std::string_view root, std::string_view hex_id, std::string_view suffix) {
  if (hex_id.size() < 3) return {};
  std::string path(root);
  path += "/.build-id/";
  path += hex_id.substr(0, 2);
  path += '/';
  path += hex_id.substr(2);
  path += suffix;
  return path;
}

}  // namespace threadleak::symbolizer_internal

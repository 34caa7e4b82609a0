#include "symbolizer/offline_debuginfo.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace threadleak::symbolizer_internal {
namespace {

using Bytes = std::vector<unsigned char>;

// Owns a file descriptor until it is handed to libdwfl.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

using ElfPtr = std::unique_ptr<Elf, decltype(&elf_end)>;

ElfPtr OpenElf(int fd) {
  elf_version(EV_CURRENT);  // libelf refuses elf_begin until a version is set; idempotent
  return ElfPtr(elf_begin(fd, ELF_C_READ_MMAP, nullptr), &elf_end);
}

Bytes BuildId(int fd) {
  ElfPtr elf = OpenElf(fd);
  if (elf == nullptr) return {};
  const void* id = nullptr;
  const ssize_t len = dwelf_elf_gnu_build_id(elf.get(), &id);
  if (len <= 0) return {};
  const auto* bytes = static_cast<const unsigned char*>(id);
  return Bytes(bytes, bytes + len);
}

// What a .gnu_debugaltlink section holds: the dwz file's path, then that file's build-id.
struct Altlink {
  std::string path;
  Bytes build_id;
};

std::optional<Altlink> ReadAltlink(const char* debug_file) {
  Fd fd(open(debug_file, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  ElfPtr elf = OpenElf(fd.get());
  size_t shstrndx = 0;
  if (elf == nullptr || elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return std::nullopt;
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr;
       scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    const char* name = elf_strptr(elf.get(), shstrndx, shdr.sh_name);
    if (name == nullptr || std::strcmp(name, ".gnu_debugaltlink") != 0) continue;
    const Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr) return std::nullopt;
    const auto* begin = static_cast<const char*>(data->d_buf);
    const size_t path_len = strnlen(begin, data->d_size);
    if (path_len + 1 >= data->d_size) return std::nullopt;
    Altlink link;
    link.path.assign(begin, path_len);
    const auto* id = reinterpret_cast<const unsigned char*>(begin + path_len + 1);
    link.build_id.assign(id, reinterpret_cast<const unsigned char*>(begin + data->d_size));
    return link;
  }
  return std::nullopt;
}

// The CRC-32 that .gnu_debuglink carries (the zlib polynomial, over the whole debug file).
std::optional<uint32_t> FileCrc32(int fd) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    return table;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  std::vector<unsigned char> buffer(1 << 16);
  off_t offset = 0;
  for (;;) {
    const ssize_t n = pread(fd, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) crc = kTable[(crc ^ buffer[i]) & 0xFF] ^ (crc >> 8);
    offset += n;
  }
  return ~crc;
}

// What a candidate must prove before libdwfl may trust it: a stale debug file would give
// confidently wrong lines.
struct Expectation {
  Bytes build_id;               // when set, the only check (as in elfutils)
  std::optional<uint32_t> crc;  // else the debuglink CRC, when there is one
  bool skip_inode = false;      // the module itself under another name is no debug file
  dev_t dev = 0;
  ino_t ino = 0;
};

int TryCandidate(const std::string& path, const Expectation& want, char** file_name_out) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return -1;
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  if (want.skip_inode && st.st_dev == want.dev && st.st_ino == want.ino) return -1;
  if (!want.build_id.empty()) {
    if (BuildId(fd.get()) != want.build_id) return -1;
  } else if (want.crc.has_value()) {
    if (FileCrc32(fd.get()) != want.crc) return -1;
  }
  char* name = strdup(path.c_str());
  if (name == nullptr) return -1;
  *file_name_out = name;
  return fd.release();
}

int TryCandidates(const std::vector<std::string>& paths, const Expectation& want,
                  char** file_name_out) {
  for (const std::string& path : paths) {
    const int fd = TryCandidate(path, want, file_name_out);
    if (fd >= 0) return fd;
  }
  return -1;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The places elfutils' default debuginfo path (":.debug:/usr/lib/debug") names, for the module
// as mapped and, when it is a symlink, for its target too; each debug root stands for
// /usr/lib/debug.
std::vector<std::string> DebuglinkCandidates(const char* module_file, const std::string& link,
                                             const std::vector<std::string>& roots) {
  std::vector<std::string> files{module_file};
  if (char* real = realpath(module_file, nullptr)) {
    if (files.front() != real) files.emplace_back(real);
    std::free(real);
  }
  std::vector<std::string> paths;
  for (const std::string& file : files) {
    const std::string dir = DirName(file);
    paths.push_back(dir + "/" + link);
    paths.push_back(dir + "/.debug/" + link);
    if (dir.front() != '/') continue;
    for (const std::string& root : roots) {
      paths.push_back(root + (dir == "/" ? "" : dir) + "/" + link);
    }
  }
  return paths;
}

std::vector<std::string> AltlinkCandidates(const char* debug_file, const std::string& link,
                                           const std::vector<std::string>& roots) {
  std::vector<std::string> paths;
  if (link.front() == '/') paths.push_back(link);
  paths.push_back(DirName(debug_file) + "/" + link);
  for (const std::string& root : roots) paths.push_back(root + "/.dwz/" + BaseName(link));
  return paths;
}

int Search(Dwfl_Module* mod, const char* file_name, const char* debuglink_file,
           GElf_Word debuglink_crc, const DebugSearch& search, char** debuginfo_file_name) {
  Expectation want;
  struct stat st;
  if (stat(file_name, &st) == 0) {
    want.skip_inode = true;
    want.dev = st.st_dev;
    want.ino = st.st_ino;
  }
  // libdwfl asks through the same callback for the dwz supplementary file of a debug file it
  // already holds; then file_name is that debug file and debuglink_file its altlink path.
  if (debuglink_file != nullptr) {
    std::optional<Altlink> alt = ReadAltlink(file_name);
    if (alt.has_value() && alt->path == debuglink_file && !alt->build_id.empty()) {
      want.build_id = std::move(alt->build_id);
      return TryCandidates(AltlinkCandidates(file_name, debuglink_file, search.roots), want,
                           debuginfo_file_name);
    }
  }
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int bits_len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (bits_len > 0) {
    want.build_id.assign(bits, bits + bits_len);
  } else if (debuglink_file != nullptr && debuglink_crc != 0) {
    want.crc = debuglink_crc;
  }
  // Without a .gnu_debuglink, elfutils still tries "<module basename>.debug"; so do we.
  const std::string link =
      debuglink_file != nullptr ? debuglink_file : BaseName(file_name) + ".debug";
  if (link.empty()) return -1;
  return TryCandidates(DebuglinkCandidates(file_name, link, search.roots), want,
                       debuginfo_file_name);
}

}  // namespace

std::string DebugSearch::DebuginfoPath() const {
  // elfutils' default (":.debug:/usr/lib/debug") with every root: the empty entry is the module's
  // own directory, ".debug" a subdirectory of it; only absolute entries serve build-id lookups.
  std::string path = ":.debug";
  for (const std::string& root : roots) path += ":" + root;
  return path;
}

int FindDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                  const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                  char** debuginfo_file_name) {
  // libdwfl is C: an exception must not unwind through it.
  try {
    static const DebugSearch kDefaultSearch;
    const DebugSearch& search = userdata != nullptr && *userdata != nullptr
                                    ? *static_cast<const DebugSearch*>(*userdata)
                                    : kDefaultSearch;
    errno = 0;
    // Local only: ROOT/.build-id/ for every root of the Dwfl's debuginfo_path. (It handles the
    // dwz lookup by build-id as well.)
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    if (fd >= 0) return fd;
    fd = -1;
    if (file_name != nullptr && file_name[0] != '\0') {
      fd = Search(mod, file_name, debuglink_file, debuglink_crc, search, debuginfo_file_name);
    }
    // The user's choice only: the network is slow, and sends the build-ids of their binaries.
    if (fd < 0 && search.debuginfod) {
      errno = 0;
      fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                        debuglink_crc, debuginfo_file_name);
    }
    // errno 0 tells libdwfl "nothing found" rather than an I/O failure worth reporting.
    if (fd < 0) errno = 0;
    return fd;
  } catch (...) {
    errno = 0;
    return -1;
  }
}

}  // namespace threadleak::symbolizer_internal

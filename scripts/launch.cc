// threadleak-launch: the last step of the `threadleak` wrapper. Checks that the shim can get into
// PROGRAM — not statically linked (no dynamic loader runs, so nothing is preloaded), not
// set-user-ID or set-group-ID for someone else (the loader ignores LD_PRELOAD there) — and
// replaces itself with PROGRAM, the shim preloaded. A refusal is one line and status 126; PROGRAM
// does not run. In C++ rather than the wrapper's shell: reading the ELF header from sh takes an
// od and an awk, two forks and execs in front of every program started (bench/README.md).
//
// Usage (from the wrapper): THREADLEAK_LAUNCH_PRELOAD=VALUE threadleak-launch PROGRAM [ARGS...]
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kCannotWatch = 126;
constexpr int kNotFound = 127;
constexpr char kPreloadVariable[] = "THREADLEAK_LAUNCH_PRELOAD";

// PROGRAM as execvp would find it: as given if it has a slash, else the first executable regular
// file of that name along PATH. Empty when there is none.
std::string Locate(const char* program) {
  if (strchr(program, '/') != nullptr) return program;
  const char* path = getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    size_t colon = rest.find(':');
    std::string_view directory = rest.substr(0, colon);
    std::string candidate = directory.empty() ? "." : std::string(directory);
    candidate += '/';
    candidate += program;
    struct stat info;
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return "";
    rest.remove_prefix(colon + 1);
  }
}

uint64_t ReadUnsigned(const unsigned char* bytes, size_t size, bool big_endian) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value = value << 8 | bytes[big_endian ? i : size - 1 - i];
  return value;
}

// An ELF program (ET_EXEC or ET_DYN) without a PT_INTERP segment: statically linked, also
// static-pie. Anything unreadable, unexpected or not ELF (a script) is not. The ELF header and
// the program headers sit in the first 4 KiB of every program a linker makes.
bool IsStaticElf(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char head[4096];
  ssize_t got = 0;
  for (ssize_t n; got < static_cast<ssize_t>(sizeof head) &&
                  (n = read(fd, head + got, sizeof head - got)) > 0;) {
    got += n;
  }
  close(fd);
  const size_t size = got > 0 ? static_cast<size_t>(got) : 0;
  if (size < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0) return false;
  const bool big = head[EI_DATA] == ELFDATA2MSB;
  uint64_t type = 0, phoff = 0, entry_size = 0, count = 0;
  if (head[EI_CLASS] == ELFCLASS64 && size >= sizeof(Elf64_Ehdr)) {
    type = ReadUnsigned(head + offsetof(Elf64_Ehdr, e_type), 2, big);
    phoff = ReadUnsigned(head + offsetof(Elf64_Ehdr, e_phoff), 8, big);
    entry_size = ReadUnsigned(head + offsetof(Elf64_Ehdr, e_phentsize), 2, big);
    count = ReadUnsigned(head + offsetof(Elf64_Ehdr, e_phnum), 2, big);
  } else if (head[EI_CLASS] == ELFCLASS32 && size >= sizeof(Elf32_Ehdr)) {
    type = ReadUnsigned(head + offsetof(Elf32_Ehdr, e_type), 2, big);
    phoff = ReadUnsigned(head + offsetof(Elf32_Ehdr, e_phoff), 4, big);
    entry_size = ReadUnsigned(head + offsetof(Elf32_Ehdr, e_phentsize), 2, big);
    count = ReadUnsigned(head + offsetof(Elf32_Ehdr, e_phnum), 2, big);
  } else {
    return false;
  }
  if (type != ET_EXEC && type != ET_DYN) return false;
  if (count == 0 || entry_size < 4 || phoff > size || entry_size * count > size - phoff) {
    return false;
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (ReadUnsigned(head + phoff + i * entry_size, 4, big) == PT_INTERP) return false;
  }
  return true;
}

[[noreturn]] void CannotWatch(const char* program, const char* why) {
  fprintf(stderr, "threadleak: error: %s %s\n", program, why);
  exit(kCannotWatch);
}

// Refuses PROGRAM when the shim cannot be preloaded into it.
void CheckCanWatch(const char* program, const std::string& file) {
  struct stat info;
  if (file.empty() || stat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return;
  std::string_view name = file;
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (name.starts_with("ld-") || name.starts_with("ld.so")) return;  // the loader, run directly
  if ((info.st_mode & S_ISUID) != 0 && info.st_uid != geteuid()) {
    CannotWatch(program,
                "is set-user-ID for another user; the loader ignores LD_PRELOAD in it, so the "
                "shim cannot be preloaded into it");
  }
  if ((info.st_mode & S_ISGID) != 0 && info.st_gid != getegid()) {
    CannotWatch(program,
                "is set-group-ID for another group; the loader ignores LD_PRELOAD in it, so the "
                "shim cannot be preloaded into it");
  }
  if (IsStaticElf(file))
    CannotWatch(program, "is statically linked; the shim cannot be preloaded into it");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: THREADLEAK_LAUNCH_PRELOAD=VALUE threadleak-launch PROGRAM [ARGS...]\n");
    return 2;
  }
  const char* program = argv[1];
  const std::string file = Locate(program);
  CheckCanWatch(program, file);
  // Set only now: the checks above run without the shim.
  if (const char* preload = getenv(kPreloadVariable)) {
    setenv("LD_PRELOAD", preload, 1);
    unsetenv(kPreloadVariable);
  }
  const char* path = file.empty() ? program : file.c_str();
  execv(path, argv + 1);
  int error = errno;
  if (error == ENOEXEC) {  // a script without #!: the shell runs it, as execvp and sh do
    std::string shell_argv0 = "sh";
    std::string script = path;
    std::vector<char*> shell_argv = {shell_argv0.data(), script.data()};
    shell_argv.insert(shell_argv.end(), argv + 2, argv + argc + 1);  // with the final null
    execv("/bin/sh", shell_argv.data());
    error = errno;
  }
  fprintf(stderr, "threadleak: error: cannot run %s: %s\n", program, strerror(error));
  return error == ENOENT ? kNotFound : kCannotWatch;
}

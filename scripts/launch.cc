// threadleak-launch: what the `threadleak` wrapper script execs with all its arguments. Reads the
// wrapper's flags (wrapper_arguments.h: one table, values checked by the shim's own parser) into
// THREADLEAK_OPTIONS; runs a subcommand (dump, report) through its program next to this one; or
// checks that the shim can get into PROGRAM — not statically linked (no dynamic loader runs, so
// nothing is preloaded), not set-user-ID or set-group-ID for someone else (the loader ignores
// LD_PRELOAD there) — and replaces itself with PROGRAM, the shim preloaded. A usage error is one
// line and status 2; a refusal is one line and status 126, and PROGRAM does not run. In C++ rather
// than the wrapper's shell: reading the ELF header from sh takes an od and an awk, two forks and
// execs in front of every program started (bench/README.md), and the flags' values are checked
// by the code the shim checks them with.
//
// Usage (from the wrapper): exec /path/to/lib/threadleak/threadleak-launch [ARGUMENTS...]
// The shim and the subcommands' programs are found next to argv[0].
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

#include "scripts/wrapper_arguments.h"

namespace {

constexpr int kUsageError = 2;
constexpr int kCannotWatch = 126;
constexpr int kNotFound = 127;

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

[[noreturn]] void UsageError(const std::string& why) {
  fprintf(stderr, "threadleak: error: %s\n", why.c_str());
  exit(kUsageError);
}

// The directory this program is in, where the shim and the subcommands' programs are: argv[0]'s,
// as the wrapper execs it by its path.
std::string OwnDirectory(const char* argv0) {
  std::string path = argv0;
  if (path.find('/') == std::string::npos) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    path = n > 0 ? std::string(self, static_cast<size_t>(n)) : "./threadleak-launch";
  }
  return path.substr(0, path.rfind('/'));
}

// `threadleak dump PID`, `threadleak report ...`: their programs, next to this one.
[[noreturn]] void RunSubcommand(const std::string& directory, const std::string& name,
                                const std::vector<std::string>& arguments) {
  std::string program = directory + "/" + name;
  if (access(program.c_str(), X_OK) != 0) UsageError("cannot find " + program);
  std::vector<char*> argv = {program.data()};
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  execv(program.c_str(), argv.data());
  UsageError("cannot run " + program + ": " + strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  using threadleak::WrapperCommand;
  const std::vector<std::string_view> arguments(argv + 1, argv + argc);
  const WrapperCommand command = threadleak::ParseWrapperArguments(arguments);
  switch (command.action) {
    case WrapperCommand::kHelp:
      fputs(threadleak::WrapperUsage().c_str(), stdout);
      return 0;
    case WrapperCommand::kVersion:
      printf("threadleak %s\n", THREADLEAK_VERSION);
      return 0;
    case WrapperCommand::kError:
      UsageError(command.error);
    case WrapperCommand::kRun:
      break;
  }
  const std::string directory = OwnDirectory(argv[0]);
  const std::vector<std::string>& operands = command.operands;
  // (`threadleak -- report` runs a program called report.)
  if (!operands.empty() && !command.after_double_dash) {
    if (operands[0] == "report") {
      RunSubcommand(directory, "threadleak-report", {operands.begin() + 1, operands.end()});
    }
    if (operands[0] == "dump") {
      if (operands.size() != 2) UsageError("usage: threadleak dump PID");
      RunSubcommand(directory, "threadleak-dump-request", {operands[1]});
    }
  }
  if (operands.empty()) {
    fputs(threadleak::WrapperUsage().c_str(), stderr);
    return kUsageError;
  }

  const std::string shim = directory + "/libthreadleak.so";
  struct stat info;
  if (stat(shim.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    UsageError("cannot find the shim at " + shim);
  }
  if (shim.find_first_of(" :") != std::string::npos) {
    UsageError("the shim's path contains a space or a colon, which LD_PRELOAD cannot express: " +
               shim);
  }
  const char* program = operands[0].c_str();
  const std::string file = Locate(program);
  if (file.empty() || (strchr(program, '/') != nullptr && access(program, F_OK) != 0)) {
    UsageError("cannot find program '" + operands[0] + "'");
  }
  CheckCanWatch(program, file);

  // Set only now: the checks above run without the shim.
  if (!command.options.empty()) {
    const char* earlier = getenv("THREADLEAK_OPTIONS");
    std::string options =
        earlier != nullptr && earlier[0] != '\0' ? earlier + std::string(":") : "";
    setenv("THREADLEAK_OPTIONS", (options + command.options).c_str(), 1);
  }
  const char* preload = getenv("LD_PRELOAD");
  setenv("LD_PRELOAD",
         (preload != nullptr && preload[0] != '\0' ? shim + " " + preload : shim).c_str(), 1);

  std::vector<char*> program_argv;
  for (const std::string& operand : operands)
    program_argv.push_back(const_cast<char*>(operand.c_str()));
  program_argv.push_back(nullptr);
  execv(file.c_str(), program_argv.data());
  int error = errno;
  if (error == ENOEXEC) {  // a script without #!: the shell runs it, as execvp and sh do
    std::string shell_argv0 = "sh";
    std::string script = file;
    std::vector<char*> shell_argv = {shell_argv0.data(), script.data()};
    shell_argv.insert(shell_argv.end(), program_argv.begin() + 1, program_argv.end());
    execv("/bin/sh", shell_argv.data());
    error = errno;
  }
  fprintf(stderr, "threadleak: error: cannot run %s: %s\n", program, strerror(error));
  return error == ENOENT ? kNotFound : kCannotWatch;
}

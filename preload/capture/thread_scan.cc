#include "preload/capture/thread_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string_view>

#include "preload/capture/process_memory.h"
#include "preload/io/fixed_buffer.h"

namespace threadleak {
namespace {

// getdents64 records, declared here because glibc exposes no header for them.
struct LinuxDirent64 {
  uint64_t inode;
  int64_t offset;
  unsigned short length;
  unsigned char type;
  char name[];
};

// /proc/self, or the observed process's directory in the report writer (process_memory.h).
FixedBuffer<64> ProcessPath(std::string_view file) {
  FixedBuffer<64> path;
  path.Append("/proc/");
  if (pid_t target = TargetProcess(); target != 0) {
    path.AppendInt(target);
  } else {
    path.Append("self");
  }
  path.AppendChar('/').Append(file);
  return path;
}

FixedBuffer<64> TaskPath(int32_t tid, std::string_view file) {
  FixedBuffer<64> path = ProcessPath("task/");
  path.AppendInt(tid).AppendChar('/').Append(file);
  return path;
}

// Reads a small /proc file; returns bytes read, or -1.
ssize_t ReadSmallFile(const char* path, char* buffer, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buffer, size - 1);
  close(fd);
  if (n >= 0) buffer[n] = '\0';
  return n;
}

// The value of `field` in the /proc status file `path` — the text after "Field:" and its blanks,
// to the line's end, at most `size` - 1 bytes — or false when the file or the field cannot be
// read. Line by line through a small buffer: a line longer than it (the Groups: line of a user
// in hundreds of groups comes before the signal masks and Seccomp:) is skipped to its end,
// never cut and never taken for the end of the file.
bool ReadStatusField(const char* path, std::string_view field, char* value, size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[1024];
  size_t held = 0;
  bool skipping = false;  // the rest of a line longer than the buffer
  bool found = false;
  while (!found) {
    const ssize_t got = read(fd, buffer + held, sizeof(buffer) - held);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    held += static_cast<size_t>(got);
    size_t start = 0;
    for (size_t end = 0; end < held && !found; ++end) {
      if (buffer[end] != '\n') continue;
      std::string_view line(buffer + start, end - start);
      if (!skipping && line.size() > field.size() && line.starts_with(field) &&
          line[field.size()] == ':') {
        line.remove_prefix(field.size() + 1);
        while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) {
          line.remove_prefix(1);
        }
        const size_t length = line.size() < size - 1 ? line.size() : size - 1;
        memcpy(value, line.data(), length);
        value[length] = '\0';
        found = true;
      }
      skipping = false;
      start = end + 1;
    }
    if (start == 0 && held == sizeof(buffer)) {
      skipping = true;
      held = 0;
    } else {
      memmove(buffer, buffer + start, held - start);
      held -= start;
    }
  }
  close(fd);
  return found;
}

// Parses a decimal or 0x-prefixed hexadecimal number and advances `text` past it.
bool ParseNumber(std::string_view& text, uint64_t* value, bool* negative) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  *negative = !text.empty() && text.front() == '-';
  if (*negative) text.remove_prefix(1);
  int base = 10;
  if (text.size() > 1 && text[0] == '0' && text[1] == 'x') base = 16, text.remove_prefix(2);
  size_t digits = 0;
  uint64_t result = 0;
  for (; digits < text.size(); ++digits) {
    char c = text[digits];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' && base == 16 ? c - 'a' + 10 : -1;
    if (d < 0) break;
    result = result * base + static_cast<uint64_t>(d);
  }
  text.remove_prefix(digits);
  *value = result;
  return digits > 0;
}

}  // namespace

size_t ListTasks(int32_t* tids, size_t max) {
  int fd = open(ProcessPath("task").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t count = 0;
  alignas(8) char buffer[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      auto* entry = reinterpret_cast<LinuxDirent64*>(buffer + at);
      at += entry->length;
      int32_t tid = 0;
      bool numeric = entry->name[0] != '\0';
      for (const char* c = entry->name; *c != '\0'; ++c) {
        if (*c < '0' || *c > '9')
          numeric = false;
        else
          tid = tid * 10 + (*c - '0');
      }
      if (!numeric) continue;
      if (count < max) tids[count] = tid;
      ++count;
    }
  }
  close(fd);
  return count;
}

SyscallState ReadSyscallState(int32_t tid) {
  SyscallState state;
  char buffer[256];
  ssize_t n = ReadSmallFile(TaskPath(tid, "syscall").c_str(), buffer, sizeof buffer);
  if (n <= 0) return state;
  state.known = true;
  std::string_view text(buffer, static_cast<size_t>(n));
  if (text.starts_with("running")) {
    state.running = true;
    return state;
  }
  // "NR arg1 ... arg6 sp pc", or "-1 sp pc" when blocked outside a system call.
  uint64_t fields[9] = {};
  size_t count = 0;
  bool negative = false;
  for (; count < 9; ++count) {
    if (!ParseNumber(text, &fields[count], &negative)) break;
    if (count == 0 && negative) {
      state.number = -1;
      uint64_t sp = 0, pc = 0;
      if (ParseNumber(text, &sp, &negative) && ParseNumber(text, &pc, &negative)) {
        state.sp = sp;
        state.pc = pc;
      }
      return state;
    }
  }
  if (count == 0) return state;
  state.number = static_cast<long>(fields[0]);
  state.first_argument = count > 1 ? fields[1] : 0;
  state.fourth_argument = count > 4 ? fields[4] : 0;
  state.sp = count == 9 ? fields[7] : 0;
  state.pc = count == 9 ? fields[8] : 0;
  return state;
}

void ReadTaskName(int32_t tid, char* name, size_t size) {
  char buffer[64];
  ssize_t n = ReadSmallFile(TaskPath(tid, "comm").c_str(), buffer, sizeof buffer);
  // The kernel ends the name with a newline; a name may hold newlines (and any other byte but
  // NUL) of its own, which are kept.
  size_t end = n > 0 ? static_cast<size_t>(n) : 0;
  if (end > 0 && buffer[end - 1] == '\n') --end;
  size_t length = 0;
  for (; length < end && length + 1 < size; ++length) name[length] = buffer[length];
  if (size > 0) name[length] = '\0';
}

uint64_t ReadSignalMask(int32_t tid, std::string_view field) {
  char value[32];
  if (!ReadStatusField(TaskPath(tid, "status").c_str(), field, value, sizeof value)) return 0;
  uint64_t mask = 0;
  for (const char* c = value; *c != '\0'; ++c) {
    int digit = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : -1;
    if (digit < 0) break;
    mask = mask << 4 | static_cast<uint64_t>(digit);
  }
  return mask;
}

bool ProcessIsTraced() {
  char value[16];
  return ReadStatusField("/proc/self/status", "TracerPid", value, sizeof value) &&
         value[0] != '\0' && value[0] != '0';
}

int SeccompMode() {
  char value[16];
  if (!ReadStatusField("/proc/self/status", "Seccomp", value, sizeof value)) return -1;
  return value[0] >= '0' && value[0] <= '9' ? value[0] - '0' : -1;
}

}  // namespace threadleak

#include "preload/io/diagnostics.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/io/fixed_buffer.h"

namespace threadleak {
namespace {

constexpr size_t kMaxLine = 1024;  // bytes written for one line, its newline included

struct StreamIdentity {
  bool recorded = false;
  bool open = false;
  dev_t device = 0;
  ino_t inode = 0;
};

constinit StreamIdentity g_streams[3];

bool Printable(char c) {
  return c >= 0x20 && c < 0x7f;
}

}  // namespace

bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t written = write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    text.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

void RememberStandardStreams() {
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat info;
    StreamIdentity& stream = g_streams[fd];
    stream.open = fstat(fd, &info) == 0;
    stream.device = stream.open ? info.st_dev : 0;
    stream.inode = stream.open ? info.st_ino : 0;
    stream.recorded = true;
  }
}

bool StandardStreamUnchanged(int fd) {
  const StreamIdentity& stream = g_streams[fd];
  if (!stream.recorded) return true;
  if (!stream.open) return false;
  int saved_errno = errno;
  struct stat info;
  bool same = fstat(fd, &info) == 0 && info.st_dev == stream.device && info.st_ino == stream.inode;
  errno = saved_errno;
  return same;
}

void WriteDiagnosticLine(std::string_view line) {
  int saved_errno = errno;
  if (StandardStreamUnchanged(STDERR_FILENO)) {
    char out[kMaxLine];
    size_t size = 0;
    for (char c : line) {
      size_t needed = Printable(c) ? 1 : 4;
      if (size + needed > kMaxLine - 1) break;  // room for the newline stays
      if (needed == 1) {
        out[size++] = c;
        continue;
      }
      const auto byte = static_cast<unsigned char>(c);
      out[size++] = '\\';
      out[size++] = 'x';
      out[size++] = "0123456789abcdef"[byte >> 4];
      out[size++] = "0123456789abcdef"[byte & 0xf];
    }
    out[size++] = '\n';
    WriteAll(STDERR_FILENO, std::string_view(out, size));
  }
  errno = saved_errno;
}

void WarningCap::Write(std::string_view line) {
  if (count_.fetch_add(1, std::memory_order_relaxed) < kShown) WriteDiagnosticLine(line);
}

void WarningCap::Finish(std::string_view level, std::string_view source,
                        std::string_view outcome) const {
  int hidden = count() - kShown;
  if (hidden <= 0) return;
  FixedBuffer<kMaxLine> line;
  line.Append("threadleak: ").Append(level).Append(": ").AppendInt(hidden);
  line.Append(" more problems in ").Append(source).Append(" not shown (").Append(outcome);
  line.AppendChar(')');
  WriteDiagnosticLine(line.view());
}

void WarningCap::WriteOngoing(std::string_view line, std::string_view subject) {
  int before = count_.fetch_add(1, std::memory_order_relaxed);
  if (before < kShown) return WriteDiagnosticLine(line);
  if (before > kShown) return;
  FixedBuffer<kMaxLine> notice;
  notice.Append("threadleak: warning: more problems with ").Append(subject);
  notice.Append(" are not shown");
  WriteDiagnosticLine(notice.view());
}

}  // namespace threadleak

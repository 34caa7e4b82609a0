#include "preload/diagnostics.h"

#include <errno.h>
#include <unistd.h>

#include "preload/fixed_buffer.h"

namespace threadleak {

bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t written = write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    text.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

void WriteDiagnosticLine(std::string_view line) {
  int saved_errno = errno;
  FixedBuffer<1024> buffer;
  buffer.Append(line).AppendChar('\n');
  WriteAll(STDERR_FILENO, buffer.view());
  errno = saved_errno;
}

}  // namespace threadleak

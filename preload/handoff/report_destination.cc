#include "preload/handoff/report_destination.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

#include "preload/config/options.h"
#include "preload/io/diagnostics.h"
#include "preload/io/fixed_buffer.h"

namespace threadleak {
namespace {

using Path = FixedBuffer<kMaxOptionString + 64>;

// A file this process created for its reports: later reports write to it only if the path still
// names it.
struct CreatedFile {
  pid_t pid = 0;  // the process that created it (a fork child creates its own)
  dev_t device = 0;
  ino_t inode = 0;
};

constinit CreatedFile g_log_file;
constinit CreatedFile g_fallback_file;
constinit char g_fallback_directory[256] = "/tmp";
constinit WarningCap g_warnings;

Path FilePath(Destination where) {
  Path path;
  if (where == Destination::kLogFile) {
    path.Append(GlobalOptions().log_path).AppendChar('.').AppendInt(getpid());
  } else {
    path.Append(g_fallback_directory).Append("/threadleak.").AppendInt(getpid());
    path.Append(".report");
  }
  return path;
}

// How a destination is named in warnings.
Path Describe(Destination where) {
  Path text;
  if (where == Destination::kStdout) {
    text.Append("stdout");
  } else if (where == Destination::kStderr) {
    text.Append("stderr");
  } else if (where == Destination::kNone) {
    text.Append("nowhere (it is lost)");
  } else {
    text.AppendChar('\'').Append(FilePath(where).view()).AppendChar('\'');
  }
  return text;
}

// `where` if it can take a report, else the next destination that may.
Destination Usable(Destination where) {
  for (;;) {
    if (where == Destination::kStdout && !StandardStreamUnchanged(STDOUT_FILENO)) {
      where = Destination::kStderr;
    } else if (where == Destination::kStderr && !StandardStreamUnchanged(STDERR_FILENO)) {
      where = Destination::kFallbackFile;
    } else {
      return where;
    }
  }
}

Destination Next(Destination where) {
  switch (where) {
    case Destination::kLogFile:
    case Destination::kStdout:
      return Usable(Destination::kStderr);
    case Destination::kStderr:
      return Destination::kFallbackFile;
    default:
      return Destination::kNone;
  }
}

// Creates `path` for this process's first report, or reopens the file created then. -1 with
// errno set on failure.
int OpenReportFile(const char* path, CreatedFile* file) {
  constexpr int kFlags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
  if (file->pid == getpid()) {
    int fd = open(path, kFlags | O_NONBLOCK);
    if (fd >= 0) {
      struct stat info;
      if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_dev == file->device &&
          info.st_ino == file->inode) {
        return fd;
      }
      close(fd);
      errno = EEXIST;  // someone else's file there now
      return -1;
    }
    if (errno != ENOENT) return -1;
    // Removed since (a clean-up, log rotation): created again.
  }
  int fd = open(path, kFlags | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return -1;
  struct stat info;
  if (fstat(fd, &info) == 0) *file = CreatedFile{getpid(), info.st_dev, info.st_ino};
  return fd;
}

void Warn(std::string_view what, Destination failed, int error, Destination next) {
  FixedBuffer<2 * kMaxOptionString + 256> line;
  line.Append("threadleak: warning: ").Append(what).Append(Describe(failed).view());
  line.Append(": ").Append(strerror(error)).Append("; writing the report to ");
  line.Append(Describe(next).view());
  g_warnings.WriteOngoing(line.view(), "report destinations");
}

}  // namespace

void InitReportDestinations() {
  const char* tmpdir = getenv("TMPDIR");
  if (tmpdir == nullptr || tmpdir[0] != '/' || strlen(tmpdir) >= sizeof g_fallback_directory) {
    return;
  }
  memcpy(g_fallback_directory, tmpdir, strlen(tmpdir) + 1);
}

Destination ConfiguredDestination() {
  const char* path = GlobalOptions().log_path;
  if (strcmp(path, "stderr") == 0) return Usable(Destination::kStderr);
  if (strcmp(path, "stdout") == 0) return Usable(Destination::kStdout);
  return Destination::kLogFile;
}

OpenedDestination OpenReportDestination(Destination where) {
  for (where = Usable(where); where != Destination::kNone;) {
    if (where == Destination::kStdout || where == Destination::kStderr) {
      return {where, where == Destination::kStdout ? STDOUT_FILENO : STDERR_FILENO, false, 0};
    }
    CreatedFile* file = where == Destination::kLogFile ? &g_log_file : &g_fallback_file;
    const bool reopen = file->pid == getpid();
    int fd = OpenReportFile(FilePath(where).c_str(), file);
    if (fd >= 0) {
      struct stat info;
      return {where, fd, true, fstat(fd, &info) == 0 ? info.st_size : 0};
    }
    int error = errno;
    Destination next = Next(where);
    const bool log = where == Destination::kLogFile;
    Warn(reopen ? (log ? "cannot reopen log file " : "cannot reopen report file ")
         : log  ? "cannot create log file "
                : "cannot create report file ",
         where, error, next);
    where = next;
  }
  return {};
}

Destination AbandonDestination(OpenedDestination* open, int error) {
  Destination failed = open->where;
  if (open->owned) {
    // What was written of this report is cut off: the file keeps whole reports only. (A file
    // that cannot be written may refuse this too; there is nothing more to do then.)
    int ignored = ftruncate(open->fd, open->size_before);
    (void)ignored;
  }
  CloseReportDestination(open);
  Destination next = Next(failed);
  Warn("cannot write the report to ", failed, error, next);
  return next;
}

void CloseReportDestination(OpenedDestination* open) {
  if (open->owned && open->fd >= 0) close(open->fd);
  *open = OpenedDestination{};
}

}  // namespace threadleak

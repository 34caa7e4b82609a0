#include "preload/report/reachability/target_memory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "preload/capture/process_memory.h"

namespace threadleak {
namespace {

std::string ProcPath(pid_t pid, const std::string& tail) {
  return "/proc/" + std::to_string(pid) + "/" + tail;
}

}  // namespace

bool TargetMemory::Read(uintptr_t address, void* out, size_t size) const {
  if (size == 0) return true;
  return ReadBytesOf(pid_, address, out, size) == static_cast<ssize_t>(size);
}

size_t TargetMemory::ReadPrefix(uintptr_t address, void* out, size_t size) const {
  // A read stops at the first page it cannot read, and says how far it got.
  size_t done = 0;
  while (done < size) {
    ssize_t got = ReadBytesOf(pid_, address + done, static_cast<char*>(out) + done, size - done);
    if (got <= 0) break;
    done += static_cast<size_t>(got);
    // A partial page: the next read would fail too.
    if ((address + done) % kTargetPageSize != 0) break;
  }
  return done;
}

std::vector<Mapping> ReadMappings(pid_t pid) {
  std::vector<Mapping> mappings;
  std::ifstream maps(ProcPath(pid, "maps"));
  std::string line;
  while (std::getline(maps, line)) {
    Mapping m;
    char perms[8] = {};
    unsigned long long start, end, offset, inode;
    unsigned dev_major, dev_minor;
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset,
               &dev_major, &dev_minor, &inode, &path_at) < 7) {
      continue;
    }
    m.start = start;
    m.end = end;
    m.readable = perms[0] == 'r';
    m.writable = perms[1] == 'w';
    m.executable = perms[2] == 'x';
    m.shared = perms[3] == 's';
    m.offset = offset;
    m.inode = inode;
    if (path_at > 0 && static_cast<size_t>(path_at) <= line.size()) m.path = line.substr(path_at);
    mappings.push_back(std::move(m));
  }
  return mappings;
}

TaskSyscall ReadTaskSyscall(pid_t pid, pid_t tid) {
  TaskSyscall out;
  // open/read rather than a stream: read for every thread, twice, at 10,000 threads.
  char path[64], buffer[256];
  snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", static_cast<int>(pid),
           static_cast<int>(tid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  ssize_t got = read(fd, buffer, sizeof buffer - 1);
  close(fd);
  if (got <= 0) return out;
  buffer[got] = '\0';
  const std::string text(buffer, strcspn(buffer, "\n"));
  out.known = true;
  if (text.rfind("running", 0) == 0) {
    out.running = true;
    return out;
  }
  // "NR arg1 ... arg6 SP PC" in hex after a decimal number; "-1 SP PC" when blocked outside one.
  const char* p = text.c_str();
  char* next = nullptr;
  out.number = strtol(p, &next, 10);
  std::vector<uintptr_t> rest;
  for (p = next; *p != '\0';) {
    uintptr_t value = strtoull(p, &next, 16);
    if (next == p) break;
    rest.push_back(value);
    p = next;
  }
  if (rest.size() >= 2) {
    out.sp = rest[rest.size() - 2];
    out.pc = rest[rest.size() - 1];
  }
  for (size_t i = 0; i + 2 < rest.size() && i < 6; ++i) out.args[i] = rest[i];
  return out;
}

std::vector<pid_t> ListTaskIds(pid_t pid) {
  std::vector<pid_t> tids;
  DIR* dir = opendir(ProcPath(pid, "task").c_str());
  if (dir == nullptr) return tids;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    tids.push_back(static_cast<pid_t>(atoi(entry->d_name)));
  }
  closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

std::string TaskName(pid_t pid, pid_t tid) {
  std::ifstream file(ProcPath(pid, "task/" + std::to_string(tid) + "/comm"));
  std::string name;
  std::getline(file, name);
  return name;
}

}  // namespace threadleak

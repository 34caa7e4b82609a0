// A process that ends as soon as its first dump is done (an nginx worker leaving after a reload):
// it watches its threadleak thread's name and calls _exit the moment the name says "threadleak/1".
// `threadleak dump` must still print the dump it wrote. One thread of its own waits meanwhile
// (named "parked"). Prints "ready"; gives up after 20 s.
// Usage: ends_after_dump
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace {

void* Park(void*) {
  pthread_setname_np(pthread_self(), "parked");
  pause();
  return nullptr;
}

bool FirstDumpDone() {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return false;
  bool done = false;
  while (dirent* entry = readdir(tasks)) {
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "threadleak/1") done = true;
  }
  closedir(tasks);
  return done;
}

}  // namespace

int main() {
  pthread_t parked;
  pthread_create(&parked, nullptr, Park, nullptr);
  printf("ready\n");
  fflush(stdout);
  for (int i = 0; i < 200'000; ++i) {
    if (FirstDumpDone()) _exit(0);
    usleep(100);
  }
  return 1;
}

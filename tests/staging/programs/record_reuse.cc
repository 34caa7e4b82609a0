// Threads that never wait and threads that sleep, one after the other, each joined at once: the
// next thread's record is the one the last thread left (the registry's free list). A dump that
// copied a spinner's record, then looked again after the spinner had ended and a sleeper had
// taken the record over, must not show the sleeper's wait as the spinner's. Prints "ready";
// stops when STOP_FILE exists, then writes the spinners' tids to TIDS_FILE, one a line.
// Usage: record_reuse STOP_FILE TIDS_FILE
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>

namespace {

constexpr int kMaxSpinners = 1 << 18;
long g_spinners[kMaxSpinners];
std::atomic<int> g_spinner_count{0};

void* Spin(void*) {
  const int index = g_spinner_count.fetch_add(1);
  if (index < kMaxSpinners) g_spinners[index] = syscall(SYS_gettid);
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(300);
  while (std::chrono::steady_clock::now() < until) {
  }
  return nullptr;
}

void* Sleep(void*) {
  usleep(200);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: record_reuse STOP_FILE TIDS_FILE\n");
    return 2;
  }
  printf("ready\n");
  fflush(stdout);
  for (long round = 0;; ++round) {
    if (round % 64 == 0 && access(argv[1], F_OK) == 0) break;
    pthread_t thread;
    pthread_create(&thread, nullptr, Spin, nullptr);
    pthread_join(thread, nullptr);
    pthread_create(&thread, nullptr, Sleep, nullptr);
    pthread_join(thread, nullptr);
  }
  FILE* tids = fopen(argv[2], "w");
  if (tids == nullptr) return 1;
  const int count = std::min(g_spinner_count.load(), kMaxSpinners);
  for (int i = 0; i < count; ++i) fprintf(tids, "%ld\n", g_spinners[i]);
  fclose(tids);
  return 0;
}

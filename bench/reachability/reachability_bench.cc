// The cost of the reachability scan (issue 16): a child process builds a heap of N MB (blocks of
// 256 bytes in a list that a global reaches, so every byte is marked and read: the worst case)
// and parks one thread on a condition variable nothing reaches; this process scans the child
// from outside, as a helper process would, and prints the time per MB. Nothing is asserted:
// --smoke (CTest) only checks that a 10 MB scan runs and finds the abandoned thread.
//
//   reachability_bench [--smoke] [--sizes 10,100,1000] [--runs N]
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "preload/report/reachability/reachability.h"
#include "preload/report/reachability/target_memory.h"
#include "preload/report/render/scan_text.h"

namespace {

struct Node {
  Node* next;
  char payload[256 - sizeof(Node*)];
};
Node* g_list = nullptr;

struct Parked {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
};

struct ChildReport {
  uintptr_t cond;
  pid_t waiter;
  uintptr_t handle;  // its pthread_t: the scan bounds its stack by the block it records
};

int g_report_fd = -1;

void* Waiter(void*) {
  auto* parked = new Parked;  // here: no other thread ever holds its address
  ChildReport report{reinterpret_cast<uintptr_t>(&parked->cond), static_cast<pid_t>(gettid()),
                     reinterpret_cast<uintptr_t>(pthread_self())};
  pthread_mutex_lock(&parked->mutex);
  if (write(g_report_fd, &report, sizeof report) != sizeof report) _exit(1);
  for (;;) pthread_cond_wait(&parked->cond, &parked->mutex);
}

[[noreturn]] void Child(size_t megabytes, int fd) {
  g_report_fd = fd;
  const size_t count = (megabytes << 20) / sizeof(Node);
  for (size_t i = 0; i < count; ++i) {
    auto* node = static_cast<Node*>(malloc(sizeof(Node)));
    memset(node->payload, 0, sizeof node->payload);
    node->next = g_list;
    g_list = node;
  }
  pthread_t thread;
  pthread_create(&thread, nullptr, Waiter, nullptr);
  for (;;) pause();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool WaitUntilAsleep(pid_t pid, pid_t tid) {
  for (int i = 0; i < 5000; ++i) {
    threadleak::TaskSyscall s = threadleak::ReadTaskSyscall(pid, tid);
    if (s.known && !s.running && s.number == SYS_futex) return true;
    usleep(1000);
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {10, 100, 1000};
  int runs = 5;
  bool smoke = false;
  if (argc == 4 && std::string(argv[1]) == "--child") Child(std::stoul(argv[2]), atoi(argv[3]));
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--smoke") {
      smoke = true;
      sizes = {10};
      runs = 1;
    } else if (arg == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) sizes.push_back(std::stoul(item));
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, atoi(argv[++i]));
    } else {
      fprintf(stderr, "usage: reachability_bench [--smoke] [--sizes 10,100,1000] [--runs N]\n");
      return 2;
    }
  }
  printf("%10s %10s %12s %10s %10s %s\n", "heap MB", "blocks", "scanned MB", "scan s", "ms/MB",
         "waiter");
  int status = 0;
  for (size_t megabytes : sizes) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return 1;
    // A fresh process (exec), not a fork of this one: a fork's stack would hold this loop's
    // copies of the previous child's addresses, which are the same in every child.
    pid_t child = fork();
    if (child == 0) {
      close(pipe_fds[0]);
      const std::string size = std::to_string(megabytes), fd = std::to_string(pipe_fds[1]);
      execl("/proc/self/exe", argv[0], "--child", size.c_str(), fd.c_str(), nullptr);
      _exit(127);
    }
    ChildReport report{};
    if (read(pipe_fds[0], &report, sizeof report) != sizeof report ||
        !WaitUntilAsleep(child, report.waiter)) {
      fprintf(stderr, "reachability_bench: the child did not get ready\n");
      kill(child, SIGKILL);
      return 1;
    }
    tl_thread waiter = {};
    waiter.tid = report.waiter;
    waiter.state = TL_STATE_COND;
    waiter.object = report.cond;
    waiter.blocked_ns = -1;
    waiter.creator_tid = -1;
    waiter.handle = report.handle;
    threadleak::ReachabilityRequest request;
    request.pid = child;
    request.threads = &waiter;
    request.count = 1;
    request.max_bytes = size_t{1} << 40;
    std::vector<double> seconds;
    threadleak::Reachability result;
    for (int r = 0; r < runs; ++r) {
      result = threadleak::ScanReachability(request);
      seconds.push_back(result.stats.seconds);
    }
    const double median = Median(seconds);
    const char* verdict = !result.ok ? "no proof"
                          : result.threads[0].fate == threadleak::ThreadFate::kAbandoned
                              ? "abandoned"
                              : "reachable";
    printf("%10zu %10zu %12.1f %10.3f %10.3f %s%s%s\n", megabytes, result.stats.heap_block_count,
           static_cast<double>(result.stats.scanned_bytes) / (1 << 20), median,
           median * 1000 / static_cast<double>(megabytes), verdict, result.ok ? "" : ": ",
           result.ok ? "" : threadleak::ScanFailurePhrase(result.failure).c_str());
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    if (std::string why =
            result.ok ? threadleak::ProofPhrase(result.threads[0], {waiter.state, waiter.object})
                      : "";
        !why.empty()) {
      printf("%10s %s\n", "", why.c_str());
    }
    if (smoke && (!result.ok || result.threads[0].fate != threadleak::ThreadFate::kAbandoned)) {
      status = 1;
    }
  }
  return status;
}

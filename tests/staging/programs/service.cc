// A service-like program for the dump tests: workers parked on a condition-variable queue, an
// acceptor in accept(), a ticker in a sleep loop, and probes that each sit in one blocking call
// and check it was not cut short. It announces "ready" once everything is blocked, runs for a
// while (the test sends dump signals meanwhile), then shuts down cleanly: exit 0 means nothing
// it did was disturbed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::atomic<int> g_failures{0};

void Fail(const char* what) {
  std::fprintf(stderr, "service: %s\n", what);
  g_failures.fetch_add(1);
}

class WorkQueue {
 public:
  __attribute__((noinline)) std::optional<int> Pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    int item = items_.front();
    items_.pop_front();
    return item;
  }
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<int> items_;
  bool closed_ = false;
};

__attribute__((noinline)) void Worker(WorkQueue& queue) {
  while (queue.Pop()) {
  }
}

__attribute__((noinline)) void Acceptor(int listener) {
  int client = accept(listener, nullptr, nullptr);  // a dump must not make this fail
  if (client < 0)
    Fail("accept failed");
  else
    close(client);
}

__attribute__((noinline)) void Ticker(const std::atomic<bool>& stop, std::atomic<int>& ticks) {
  while (!stop.load()) {
    auto before = Clock::now();
    std::this_thread::sleep_for(milliseconds(50));
    if (Clock::now() - before < milliseconds(50)) Fail("sleep_for returned early");
    ticks.fetch_add(1);
  }
}

// Each probe blocks once for `kProbe` and checks it was neither cut short nor failed.
constexpr milliseconds kProbe(1500);

bool Elapsed(Clock::time_point since) {
  return Clock::now() - since >= kProbe - milliseconds(2);
}

__attribute__((noinline)) void NanosleepProbe() {
  auto start = Clock::now();
  timespec duration = {1, 500'000'000};
  if (nanosleep(&duration, nullptr) != 0) Fail("nanosleep failed");
  if (!Elapsed(start)) Fail("nanosleep returned early");
}

__attribute__((noinline)) void SleepProbe() {
  auto start = Clock::now();
  if (sleep(2) != 0) Fail("sleep returned early");
  if (Clock::now() - start < milliseconds(1990)) Fail("sleep was cut short");
}

__attribute__((noinline)) void PollProbe(int fd) {
  auto start = Clock::now();
  pollfd entry = {fd, POLLIN, 0};
  if (poll(&entry, 1, static_cast<int>(kProbe.count())) != 0) Fail("poll did not time out");
  if (!Elapsed(start)) Fail("poll returned early");
}

__attribute__((noinline)) void EpollProbe(int fd) {
  int epoll = epoll_create1(0);
  epoll_event event = {};
  event.events = EPOLLIN;
  epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  auto start = Clock::now();
  epoll_event out;
  if (epoll_wait(epoll, &out, 1, static_cast<int>(kProbe.count())) != 0) {
    Fail("epoll_wait did not time out");
  }
  if (!Elapsed(start)) Fail("epoll_wait returned early");
  close(epoll);
}

__attribute__((noinline)) void ReadProbe(int fd) {
  char byte = 0;
  ssize_t n = read(fd, &byte, 1);  // the main thread writes after the dumps
  if (n != 1 || byte != 'x') Fail("read was disturbed");
}

__attribute__((noinline)) void FutexProbe(std::atomic<int>& flag) {
  flag.wait(0);  // std::atomic::wait: a futex wait through syscall()
  if (flag.load() != 1) Fail("atomic wait returned before the notify");
}

int Listen(int* port) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      listen(listener, 4) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    std::perror("listen");
    std::exit(2);
  }
  *port = ntohs(address.sin_port);
  return listener;
}

void Connect(int port) {
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    Fail("connect failed");
  }
  close(client);
}

}  // namespace

int main(int argc, char** argv) {
  milliseconds run_for(argc > 1 ? std::atoi(argv[1]) : 1500);
  WorkQueue queue;
  std::vector<std::thread> threads;
  threads.reserve(16);  // the same creation path for every worker: they group as one
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { Worker(queue); });
  int port = 0;
  int listener = Listen(&port);
  threads.emplace_back([&] { Acceptor(listener); });
  std::atomic<bool> stop{false};
  std::atomic<int> ticks{0};
  threads.emplace_back([&] { Ticker(stop, ticks); });

  int idle[2], data[2];
  if (pipe(idle) != 0 || pipe(data) != 0) return 2;
  std::atomic<int> flag{0};
  threads.emplace_back(NanosleepProbe);
  threads.emplace_back(SleepProbe);
  threads.emplace_back([&] { PollProbe(idle[0]); });
  threads.emplace_back([&] { EpollProbe(idle[0]); });
  threads.emplace_back([&] { ReadProbe(data[0]); });
  threads.emplace_back([&] { FutexProbe(flag); });

  std::this_thread::sleep_for(milliseconds(200));  // let every thread reach its wait
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  std::this_thread::sleep_for(run_for);

  Connect(port);
  if (write(data[1], "x", 1) != 1) Fail("write failed");
  flag.store(1);
  flag.notify_all();
  stop.store(true);
  queue.Close();
  for (std::thread& thread : threads) thread.join();
  if (ticks.load() == 0) Fail("the ticker never ticked");
  std::printf("service done, %d failures\n", g_failures.load());
  return g_failures.load() == 0 ? 0 : 1;
}

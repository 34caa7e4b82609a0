// A small server for issue 16's first "done when": a healthy pool of workers in a global, an
// acceptor on a UNIX socket, and request handlers that leak threads the three ways services do.
// One command per connection, answered "done" once the threads it started are in their waits:
//
//   work       a job for the pool (healthy: the pool stays reachable from g_pool)
//   subscribe  starts a subscriber that waits for messages on a channel nobody will send on,
//              and forgets the channel (forgotten sender)
//   publish    starts a publisher that waits until its message is taken from a channel nobody
//              reads, and forgets the channel (forgotten receiver)
//   spawn      starts a worker object with its own thread and drops the object (dropped worker)
//
//   leaky_server SOCKET_PATH   prints "ready" once listening; runs until killed
#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

#define NOINLINE __attribute__((noinline))

// Until the thread named `name` sleeps in the kernel (its wait is entered).
void AwaitSleeping(const std::string& name) {
  const std::string needle = "(" + name + ") S";
  for (int tries = 0; tries < 5000; ++tries) {
    DIR* dir = opendir("/proc/self/task");
    bool asleep = false;
    while (dirent* entry = dir != nullptr ? readdir(dir) : nullptr) {
      if (entry->d_name[0] == '.') continue;
      char path[300], line[512] = {};
      snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
      if (FILE* f = fopen(path, "r")) {
        if (fgets(line, sizeof line, f) != nullptr && strstr(line, needle.c_str())) asleep = true;
        fclose(f);
      }
    }
    if (dir != nullptr) closedir(dir);
    if (asleep) return;
    usleep(1000);
  }
}

// The healthy part: a pool in a global, its workers idle on the pool's condition variable.
class Pool {
 public:
  explicit Pool(int size) {
    for (int i = 0; i < size; ++i) {
      workers_.emplace_back([this, i] {
        pthread_setname_np(pthread_self(), ("pool-" + std::to_string(i + 1)).c_str());
        Run();
      });
    }
  }
  void Submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  NOINLINE void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> workers_;
};
Pool* g_pool = nullptr;

struct Channel {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> messages;
  sem_t taken;
  Channel() { sem_init(&taken, 0, 0); }
};

NOINLINE void Subscribe(Channel* channel) {
  std::unique_lock<std::mutex> lock(channel->mutex);
  channel->ready.wait(lock, [&] { return !channel->messages.empty(); });
}

NOINLINE void Publish(Channel* channel) {
  {
    std::lock_guard<std::mutex> lock(channel->mutex);
    channel->messages.push_back("hello");
  }
  sem_wait(&channel->taken);  // until a subscriber takes it: none ever will
}

class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) { thread_.detach(); }

 private:
  NOINLINE void Loop() {
    pthread_setname_np(pthread_self(), "dropped-worker");
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stop_; });
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

void Handle(const std::string& command) {
  if (command == "subscribe") {
    auto* channel = new Channel;
    std::thread([channel] {
      pthread_setname_np(pthread_self(), "subscriber");
      Subscribe(channel);
    }).detach();
    AwaitSleeping("subscriber");
  } else if (command == "publish") {
    auto* channel = new Channel;
    std::thread([channel] {
      pthread_setname_np(pthread_self(), "publisher");
      Publish(channel);
    }).detach();
    AwaitSleeping("publisher");
  } else if (command == "spawn") {
    new Worker;  // dropped: neither stopped nor deleted
    AwaitSleeping("dropped-worker");
  }
}

void Serve(int client) {
  char buffer[64] = {};
  const ssize_t got = read(client, buffer, sizeof buffer - 1);
  std::string command(buffer, got > 0 ? static_cast<size_t>(got) : 0);
  while (!command.empty() && (command.back() == '\n' || command.back() == '\r')) command.pop_back();
  Handle(command);
  if (write(client, "done\n", 5) != 5) perror("write");
  close(client);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: leaky_server SOCKET_PATH\n");
    return 2;
  }
  g_pool = new Pool(3);
  const int server = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s", argv[1]);
  if (server < 0 || bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(server, 16) != 0) {
    perror("leaky_server");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {  // the acceptor: each request is served by the pool
    const int client = accept(server, nullptr, nullptr);
    if (client < 0) continue;
    g_pool->Submit([client] { Serve(client); });
  }
}

// wait_graph_bench: what the shim's waker bookkeeping (issue 5: who signalled, posted or waited
// on which object) costs the program's hot paths.
//
//   wait_graph_bench [--smoke] [--seconds S] [--runs N] [--shim PATH] [--options OPTS]...
//                    [--also-shim PATH]...
//
// Workloads, each in a fresh process of this binary, first without the shim, then with it
// (LD_PRELOAD), then with it and each --options value as THREADLEAK_OPTIONS, then with each
// --also-shim instead (e.g. a build from before the bookkeeping, to isolate its cost):
//   cond_pingpong   two threads hand a token back and forth through a mutex and two condvars:
//                   every round trip is two signals and two blocking waits (the slow path)
//   cond_signal     pthread_cond_signal with nobody waiting: the bookkeeping on its own
//   mutex           lock/unlock of an uncontended mutex: must cost nothing measurable
// Each process runs its workload for S seconds and reports operations per second (wall clock)
// and the CPU time the whole process spent per operation. The medians of N runs are printed with
// the overhead of each configuration over the run without the shim, in CPU time per operation:
// on a loaded machine wall-clock rates swing by half, CPU time per operation far less. No
// assertions: timing is the reader's business (--smoke only checks that everything runs).
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// --- the workloads (child side) ---------------------------------------------------------------

struct Result {
  double ops_per_second = 0;  // wall clock
  double cpu_ns_per_op = 0;   // CPU time of the whole process (all its threads)
};

double ProcessCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Runs `op` in batches until `seconds` have passed.
template <typename Op>
Result Measure(double seconds, Op op) {
  constexpr int kBatch = 1000;
  const auto start = Clock::now();
  const double cpu_start = ProcessCpuNanos();
  const auto until = start + std::chrono::duration<double>(seconds);
  long ops = 0;
  Clock::time_point now;
  do {
    for (int i = 0; i < kBatch; ++i) op();
    ops += kBatch;
    now = Clock::now();
  } while (now < until);
  const double cpu = ProcessCpuNanos() - cpu_start;
  const double wall = std::chrono::duration<double>(now - start).count();
  return {static_cast<double>(ops) / wall, cpu / static_cast<double>(ops)};
}

struct PingPong {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t turn_changed[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
  int turn = 0;  // whose turn: 0 the measuring thread, 1 the partner
  bool stop = false;

  // Waits for `me`'s turn, then hands the turn to the other side.
  void Play(int me) {
    pthread_mutex_lock(&mutex);
    while (turn != me && !stop) pthread_cond_wait(&turn_changed[me], &mutex);
    turn = 1 - me;
    pthread_cond_signal(&turn_changed[1 - me]);
    pthread_mutex_unlock(&mutex);
  }
};

Result CondPingPong(double seconds) {
  PingPong game;
  pthread_t partner;
  pthread_create(
      &partner, nullptr,
      [](void* arg) -> void* {
        auto* g = static_cast<PingPong*>(arg);
        for (;;) {
          pthread_mutex_lock(&g->mutex);
          bool stop = g->stop;
          pthread_mutex_unlock(&g->mutex);
          if (stop) return nullptr;
          g->Play(1);
        }
      },
      &game);
  const Result round_trips = Measure(seconds, [&] { game.Play(0); });
  pthread_mutex_lock(&game.mutex);
  game.stop = true;
  pthread_cond_broadcast(&game.turn_changed[1]);
  pthread_mutex_unlock(&game.mutex);
  pthread_join(partner, nullptr);
  return round_trips;
}

Result CondSignal(double seconds) {
  static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  return Measure(seconds, [] { pthread_cond_signal(&cond); });
}

Result UncontendedMutex(double seconds) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  return Measure(seconds, [] {
    pthread_mutex_lock(&mutex);
    asm volatile("" ::: "memory");
    pthread_mutex_unlock(&mutex);
  });
}

struct Workload {
  const char* name;
  const char* unit;
  Result (*run)(double seconds);
};

constexpr Workload kWorkloads[] = {
    {"cond_pingpong", "round trips/s", CondPingPong},
    {"cond_signal", "signals/s", CondSignal},
    {"mutex", "lock+unlock/s", UncontendedMutex},
};

// glibc leaves out the lock prefix of some atomics while a process has one thread, and the shim
// starts a thread of its own: so that a single-threaded loop compares like with like, every run
// has a second thread, idle in a read until the run ends (and joined, so nothing leaks).
class IdleThread {
 public:
  IdleThread() {
    if (pipe(fds_) != 0) std::abort();
    pthread_create(
        &thread_, nullptr,
        [](void* fd) -> void* {
          char byte;
          while (read(*static_cast<int*>(fd), &byte, 1) > 0) {
          }
          return nullptr;
        },
        &fds_[0]);
  }
  ~IdleThread() {
    close(fds_[1]);
    pthread_join(thread_, nullptr);
    close(fds_[0]);
  }

 private:
  int fds_[2];
  pthread_t thread_;
};

int RunChild(const char* name, double seconds) {
  IdleThread idle;
  for (const Workload& w : kWorkloads) {
    if (std::strcmp(w.name, name) == 0) {
      const Result r = w.run(seconds);
      std::printf("%.0f %.3f\n", r.ops_per_second, r.cpu_ns_per_op);
      return 0;
    }
  }
  std::fprintf(stderr, "wait_graph_bench: no workload %s\n", name);
  return 2;
}

// --- the driver ----------------------------------------------------------------------------------

struct Config {
  std::string label;
  std::string shim;     // "" for none
  std::string options;  // THREADLEAK_OPTIONS
};

std::string SelfPath() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "";
  path[n] = '\0';
  return path;
}

// Runs one workload in a child process; nullopt on failure.
std::optional<Result> RunOnce(const std::string& self, const Config& config, const Workload& w,
                              double seconds) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0 &&
        std::strncmp(*e, "THREADLEAK_OPTIONS=", 19) != 0) {
      env.push_back(*e);
    }
  }
  if (!config.shim.empty()) {
    env.push_back("LD_PRELOAD=" + config.shim);
    env.push_back("THREADLEAK_OPTIONS=" + config.options);
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string seconds_arg = std::to_string(seconds);
  std::vector<std::string> args = {self, "--child", w.name, seconds_arg};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  pid_t pid;
  int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return std::nullopt;
  }
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Result result;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      std::sscanf(out.c_str(), "%lf %lf", &result.ops_per_second, &result.cpu_ns_per_op) != 2) {
    return std::nullopt;
  }
  return result;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int Usage() {
  std::fprintf(stderr,
               "usage: wait_graph_bench [--smoke] [--seconds S] [--runs N] [--shim PATH] "
               "[--options OPTS]... [--also-shim PATH]...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0)
    return RunChild(argv[2], std::atof(argv[3]));

  double seconds = 0.5;
  int runs = 5;
  std::string shim = BENCH_SHIM;
  std::vector<std::string> options;
  std::vector<std::string> also;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--smoke") {
      seconds = 0.02;
      runs = 1;
    } else if (arg == "--seconds" && has_value) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--runs" && has_value) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--shim" && has_value) {
      shim = argv[++i];
    } else if (arg == "--options" && has_value) {
      options.push_back(argv[++i]);
    } else if (arg == "--also-shim" && has_value) {
      also.push_back(argv[++i]);
    } else {
      return Usage();
    }
  }
  std::vector<Config> configs = {{"no shim", "", ""}, {"shim", shim, ""}};
  for (const std::string& o : options) configs.push_back({"shim, " + o, shim, o});
  for (size_t k = 0; k < also.size(); ++k) {
    configs.push_back({"also-shim " + std::to_string(k + 1), also[k], ""});
  }
  const std::string self = SelfPath();
  std::printf("wait_graph_bench: %d run(s) of %.2f s each, median; shim %s\n", runs, seconds,
              shim.c_str());
  for (size_t k = 0; k < also.size(); ++k) {
    std::printf("  also-shim %zu: %s\n", k + 1, also[k].c_str());
  }
  bool failed = false;
  for (const Workload& w : kWorkloads) {
    // Runs of the configurations interleave, so a slow phase of the machine hits all of them.
    std::vector<std::vector<double>> rates(configs.size()), cpu(configs.size());
    for (int r = 0; r < runs; ++r) {
      for (size_t c = 0; c < configs.size(); ++c) {
        const std::optional<Result> result = RunOnce(self, configs[c], w, seconds);
        if (!result) {
          std::fprintf(stderr, "wait_graph_bench: %s (%s) failed\n", w.name,
                       configs[c].label.c_str());
          failed = true;
          continue;
        }
        rates[c].push_back(result->ops_per_second);
        cpu[c].push_back(result->cpu_ns_per_op);
      }
    }
    if (failed) continue;
    const double base = Median(cpu[0]);
    for (size_t c = 0; c < configs.size(); ++c) {
      const double cpu_median = Median(cpu[c]);
      std::printf("  %-14s %-16s %12.0f %-14s %9.1f ns CPU/op", w.name, configs[c].label.c_str(),
                  Median(rates[c]), w.unit, cpu_median);
      if (c > 0) std::printf("  overhead %+6.1f%%", (cpu_median / base - 1) * 100);
      std::printf("\n");
    }
  }
  return failed ? 1 : 0;
}

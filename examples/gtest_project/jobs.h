// jobs — a tiny library for the threadleak GoogleTest example: a parallel sum whose threads are
// always joined, a process-wide log with a flusher thread that lives as long as the process on
// purpose, and a heartbeat thread that lives until someone stops it.
#ifndef JOBS_H_
#define JOBS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace jobs {

// Sums `values` on `workers` threads, one slice each, and joins them before returning.
int64_t ParallelSum(const std::vector<int>& values, int workers);

// Appends a line to the process-wide log. The first call starts the log's flusher thread,
// named "jobs-flusher", which runs until the process ends: it is never stopped, by design.
void Log(const std::string& line);

// Waits until the flusher has written every line logged so far; returns all text written.
std::string FlushLog();

// Calls `beat` every `period` on a thread of its own until Stop(). The destructor does not stop
// it (it detaches, so destruction never blocks): an owner that forgets Stop() leaks the thread.
class Heartbeat {
 public:
  Heartbeat(std::chrono::milliseconds period, std::function<void()> beat);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void Stop();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the thread, which may outlive *this
  std::thread thread_;
};

}  // namespace jobs

#endif  // JOBS_H_

// symbolizer_bench: how long symbolization takes, printed. Not a test — nothing here asserts a
// timing (the bench-smoke CTest only runs it with --quick). Two measures, each with a fresh
// Symbolizer, as the first report of a process has:
//
//   1. 1,000 distinct addresses with inline expansion: addresses of inline_workload.cc (-O2,
//      mostly inlined library code) where the DWARF has at least one inlined call; each lookup
//      returns the whole inline chain. Then the same addresses again, from the cache. And, for
//      comparison, 1,000 addresses spread over libc.
//   2. A report of 10,000 threads sharing 50 distinct stacks (16 frames each, the outer three
//      shared as in real threads): symbolizing every thread's stack and creation stack, then
//      rendering the text and the JSON report.
//
//   build/tests/symbolizer/symbolizer_bench [--quick] [--runs N] [--addresses-only | --report-only]
//
// Each cold measure is repeated --runs times (3 by default), each time with a fresh Symbolizer;
// every run's wall-clock time is printed, then its CPU time (the fairer measure on a busy machine).
#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "preload/report/render/json_report.h"
#include "preload/report/render/text_report.h"
#include "preload/report/symbolized_thread.h"
#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/bench/inline_workload.h"

namespace {

using Clock = std::chrono::steady_clock;

double CpuMillis() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Wall-clock and CPU time since it started: on a busy machine the wall clock also counts the
// time other processes ran, and the CPU time is the fairer measure of the work done.
struct Stopwatch {
  Clock::time_point wall = Clock::now();
  double cpu = CpuMillis();

  double WallMillis() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - wall).count();
  }
  double CpuMillisSince() const { return CpuMillis() - cpu; }
};

struct CodeRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;
};

// The executable segment of the object that contains `address`.
CodeRange CodeOf(const void* address) {
  struct Search {
    uintptr_t address;
    CodeRange found;
  } search{reinterpret_cast<uintptr_t>(address), {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
          const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (s->address >= begin && s->address < begin + ph.p_memsz) {
            s->found = {begin, begin + ph.p_memsz};
            return 1;
          }
        }
        return 0;
      },
      &search);
  return search.found;
}

// `count` distinct addresses of the workload where the DWARF has inlined calls, spread evenly
// over all such addresses. Found with a symbolizer of its own, so the measured one starts cold.
std::vector<uintptr_t> InlinedAddresses(size_t count) {
  const CodeRange code = CodeOf(reinterpret_cast<void*>(&workload::RunAll));
  threadleak::Symbolizer probe;
  std::vector<uintptr_t> inlined;
  const uintptr_t step = std::max<uintptr_t>(1, (code.end - code.begin) / (count * 40));
  for (uintptr_t pc = code.begin; pc < code.end; pc += step) {
    const std::vector<threadleak::SourceFrame> frames = probe.SymbolizeInline(pc, false);
    if (frames.size() > 1 && frames.back().function.find("workload::") != std::string::npos) {
      inlined.push_back(pc);
    }
  }
  std::vector<uintptr_t> chosen;
  for (size_t i = 0; i < count && !inlined.empty(); ++i) {
    chosen.push_back(inlined[i * inlined.size() / count]);
  }
  return chosen;
}

std::vector<uintptr_t> Spread(const CodeRange& range, size_t count) {
  std::vector<uintptr_t> pcs;
  const uintptr_t step = (range.end - range.begin) / count;
  for (size_t i = 0; i < count; ++i) pcs.push_back(range.begin + i * step + 1);
  return pcs;
}

// Wall-clock and CPU milliseconds of `runs` runs, "12.1 / 13.0 ms (CPU 10.0 / 10.2 ms)".
struct Runs {
  std::vector<double> wall;
  std::vector<double> cpu;

  void Add(const Stopwatch& watch) {
    wall.push_back(watch.WallMillis());
    cpu.push_back(watch.CpuMillisSince());
  }
  std::string Text() const {
    std::string out;
    for (const auto* values : {&wall, &cpu}) {
      out += values == &cpu ? " (CPU " : "";
      for (size_t i = 0; i < values->size(); ++i) {
        char number[32];
        std::snprintf(number, sizeof number, "%s%.1f", i > 0 ? " / " : "", (*values)[i]);
        out += number;
      }
      out += values == &cpu ? " ms)" : " ms";
    }
    return out;
  }
};

void TimeAddresses(const char* what, const std::vector<uintptr_t>& pcs, int runs) {
  Runs cold;
  Runs first;
  Runs cached;
  size_t frames = 0;
  size_t with_inline = 0;
  for (int run = 0; run < runs; ++run) {
    threadleak::Symbolizer symbolizer;  // fresh: nothing read, nothing cached
    frames = 0;
    with_inline = 0;
    Stopwatch watch;
    for (const uintptr_t pc : pcs) {
      const size_t n = symbolizer.SymbolizeInline(pc, false).size();
      if (frames == 0) first.Add(watch);
      frames += n;
      with_inline += n > 1;
    }
    cold.Add(watch);
    Stopwatch again;
    for (const uintptr_t pc : pcs) symbolizer.SymbolizeInline(pc, false);
    cached.Add(again);
  }
  std::printf(
      "%s: %zu distinct addresses (%zu with inlined calls, %.1f frames each)\n"
      "    cold, fresh symbolizer: %s\n"
      "      of which the first address (opens the files): %s\n"
      "    again, from the cache: %s\n",
      what, pcs.size(), with_inline, static_cast<double>(frames) / pcs.size(), cold.Text().c_str(),
      first.Text().c_str(), cached.Text().c_str());
}

// `threads` threads over `stacks` distinct stacks of 16 frames: 12 of the workload's, one of
// libc's, and 3 shared by all (the outermost frames of a thread: start_thread and the like).
void TimeReport(size_t thread_count, size_t stack_count, const std::vector<uintptr_t>& workload,
                const std::vector<uintptr_t>& libc, int runs) {
  constexpr size_t kDepth = 16;
  std::vector<tl_stack> stacks(stack_count);
  for (size_t s = 0; s < stack_count; ++s) {
    tl_stack& stack = stacks[s];
    stack.kind = TL_STACK_INTERRUPTED;
    stack.depth = kDepth;
    stack.pcs[0] = libc[(s * 7) % libc.size()];
    for (size_t f = 1; f < kDepth - 3; ++f) {
      stack.pcs[f] = workload[(s * (kDepth - 4) + f) % workload.size()] + 1;
    }
    for (size_t f = kDepth - 3; f < kDepth; ++f) stack.pcs[f] = libc[libc.size() - 1 - f] + 1;
  }
  std::vector<tl_thread> threads(thread_count);
  for (size_t i = 0; i < thread_count; ++i) {
    tl_thread& thread = threads[i];
    thread.tid = static_cast<int32_t>(10000 + i);
    std::snprintf(thread.name, sizeof thread.name, "worker-%zu", i % 100);
    thread.state = TL_STATE_COND;
    thread.object = 0x1000 + (i % stack_count) * 64;
    thread.blocked_ns = 1'000'000'000;
    thread.syscall_number = -1;
    thread.stack = stacks[i % stack_count];
    thread.creator_tid = 9999;
    std::strcpy(thread.creator_name, "main");
    thread.creation = stacks[(i + 1) % stack_count];
  }
  tl_snapshot snapshot{};
  snapshot.pid = 9999;
  snapshot.trigger = TL_TRIGGER_EXIT;
  snapshot.thread_count = static_cast<uint32_t>(thread_count);
  snapshot.threads = threads.data();

  Runs cold;
  std::vector<threadleak::SymbolizedThread> symbolized;
  std::unique_ptr<threadleak::Symbolizer> symbolizer;
  for (int run = 0; run < runs; ++run) {
    symbolizer = std::make_unique<threadleak::Symbolizer>();  // fresh, as at a first report
    Stopwatch watch;
    symbolized = threadleak::SymbolizeThreads(snapshot, *symbolizer);
    cold.Add(watch);
  }
  Runs warm;
  Stopwatch watch;
  symbolized = threadleak::SymbolizeThreads(snapshot, *symbolizer);
  warm.Add(watch);
  Runs text;
  Stopwatch text_watch;
  const std::string text_report = threadleak::RenderTextReport(snapshot, symbolized);
  text.Add(text_watch);
  Runs json;
  Stopwatch json_watch;
  const std::string json_report = threadleak::RenderJsonReport(snapshot, symbolized);
  json.Add(json_watch);
  std::printf(
      "report of %zu threads sharing %zu distinct stacks of %zu frames:\n"
      "    symbolize, first report (fresh symbolizer): %s\n"
      "    symbolize, next report: %s\n"
      "    render text (%zu KB): %s\n"
      "    render JSON (%zu KB): %s\n",
      thread_count, stack_count, kDepth, cold.Text().c_str(), warm.Text().c_str(),
      text_report.size() / 1024, text.Text().c_str(), json_report.size() / 1024,
      json.Text().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int runs = 3;
  bool addresses_part = true;
  bool report_part = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--addresses-only") == 0) report_part = false;
    if (std::strcmp(argv[i], "--report-only") == 0) addresses_part = false;
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
  }
  const size_t addresses = quick ? 100 : 1000;
  const size_t thread_count = quick ? 1000 : 10000;
  std::printf("workload result %ld (keeps it linked)\n", workload::RunAll(argc));

  const std::vector<uintptr_t> inlined = InlinedAddresses(addresses);
  const std::vector<uintptr_t> libc = Spread(CodeOf(dlsym(RTLD_DEFAULT, "getpid")), addresses);
  if (addresses_part) {
    TimeAddresses("inline_workload.cc, addresses with inlined calls", inlined, runs);
    TimeAddresses("libc, addresses spread over its code", libc, runs);
  }
  if (report_part) TimeReport(thread_count, 50, inlined, libc, runs);
  return inlined.size() == addresses ? 0 : 1;
}

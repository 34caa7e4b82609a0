#include "preload/core/runtime.h"

#include <unistd.h>

#include <atomic>

namespace threadleak {
namespace {

constinit bool g_inert = false;  // written once, before start-up is done
constinit std::atomic<bool> g_sandboxed{false};
// The process whose state the tool's memory holds: set at start-up and in fork children; a vfork
// child sees its parent's.
constinit std::atomic<pid_t> g_process_pid{0};

}  // namespace

bool RuntimeInert() {
  return g_inert;
}

void MarkRuntimeInert() {
  g_inert = true;
}

void NoteSeccompFilter() {
  g_sandboxed.store(true, std::memory_order_release);
}

bool RuntimeSandboxed() {
  return g_sandboxed.load(std::memory_order_acquire);
}

bool OwnsToolState() {
  return g_process_pid.load(std::memory_order_relaxed) == getpid();
}

void AdoptToolState() {
  g_process_pid.store(getpid(), std::memory_order_relaxed);
}

}  // namespace threadleak

#include "preload/report/render/scan_text.h"

#include "preload/report/render/frame_format.h"
#include "preload/report/render/phrases.h"

namespace threadleak {
namespace {

std::string Basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// Root memory as the start of a path, or where a pointer next to an object was found.
std::string RootPhrase(const RootRef& root) {
  switch (root.kind) {
    case RootKind::kGlobal:
      return "global data of " + Basename(root.module);
    case RootKind::kUnknown:
      return "anonymous memory at " + HexAddress(root.start) + " that threadleak cannot attribute";
    case RootKind::kMonitor:
      return "the stack of thread " + std::to_string(root.tid) + " (the one making the report)";
    case RootKind::kStack:
      return "the stack of thread " + std::to_string(root.tid) +
             (root.woken ? " (which can itself be woken)" : "");
  }
  return "";
}

// Root memory as the place an object lies in.
std::string PlacePhrase(const RootRef& root) {
  switch (root.kind) {
    case RootKind::kGlobal:
      return "global data of " + Basename(root.module);
    case RootKind::kStack:
      return "the stack of thread " + std::to_string(root.tid);
    case RootKind::kUnknown:
    case RootKind::kMonitor:
      break;
  }
  return "anonymous memory threadleak cannot attribute";
}

// "reachable from thread 4250's stack → heap block 0x…+16 → heap block 0x…+8", the middle of a
// long path left out.
std::string PathPhrase(const ReachPath& path) {
  std::string out = "reachable from ";
  if (path.from_root) {
    if (path.root.kind != RootKind::kGlobal) {
      out += RootPhrase(path.root);
    } else if (path.global.empty()) {
      out += "global data of " + Basename(path.root.module) + " at " + HexAddress(path.root_word);
    } else {
      out += "global `" + path.global + "` in " + Basename(path.root.module);
    }
  }
  for (size_t k = 0; k < path.hops.size(); ++k) {
    if (k == kPathEnds && path.length > path.hops.size()) {
      out += " → … (" + std::to_string(path.length - path.hops.size()) + " more blocks)";
    }
    out += " → heap block " + HexAddress(path.hops[k].block) + "+" +
           std::to_string(path.hops[k].offset);
  }
  return out;
}

std::string Abandoned(const ThreadReach& reach, const std::string& object) {
  const std::string out = "no thread that can still run can reach " + object;
  switch (reach.last_references) {
    case LastReferences::kOwnStack:
      return out + ": the only references are on this thread's own stack";
    case LastReferences::kStuckThread:
      return out + ": it is referred to only by threads that cannot run either (thread " +
             std::to_string(reach.referrer) + ")";
    case LastReferences::kNoneFound:
      break;
  }
  return out + ": no reference to it was found where a thread that can run could find it";
}

std::string Reachable(const ThreadReach& reach, const WaitObject& wait, const std::string& object) {
  switch (reach.reached_by) {
    case ReachedBy::kBlockerCanRun:
      return "thread " + std::to_string(reach.blocker) +
             (wait.state == TL_STATE_JOIN ? ", which it joins, can still end"
                                          : ", which holds the lock, can still run");
    case ReachedBy::kJoinedThreadCanEnd:
      return "the thread it joins can still end";
    case ReachedBy::kObjectInRoot:
      return object + " lies in " + PlacePhrase(reach.root);
    case ReachedBy::kPath:
      return object + " is " + PathPhrase(reach.path);
    case ReachedBy::kNextToRoot:
      return object + " is reachable from " + RootPhrase(reach.root);
    case ReachedBy::kPathNextTo:
      return object + " is " + PathPhrase(reach.path) + " (a pointer next to it)";
    case ReachedBy::kUnexplained:
      break;
  }
  return object + " is reachable";
}

std::string RunsBecausePhrase(RunsBecause why) {
  switch (why) {
    case RunsBecause::kSharedObject:
      return "what it waits on is shared with other processes, which may wake it";
    case RunsBecause::kLeftTheWait:
      return "it has left the wait the report shows and runs again";
    case RunsBecause::kTimedWait:
      return "its wait has a time limit, so it wakes up by itself";
    case RunsBecause::kNotAsleep:
      return "the kernel does not show it asleep in that wait (it may be on its way in or out)";
    case RunsBecause::kNothingToSay:
      break;
  }
  return "";
}

const char* HeapName(ScanFailure::Heap heap) {
  return heap == ScanFailure::Heap::kMain ? "main heap" : "arena heap";
}

const char* HeapProblemPhrase(ScanFailure::HeapProblem problem) {
  switch (problem) {
    case ScanFailure::HeapProblem::kUnevenEnd:
      return "does not end cleanly";
    case ScanFailure::HeapProblem::kUnreadable:
      return "cannot be read";
    case ScanFailure::HeapProblem::kTopNotAtEnd:
      return "does not end with its top chunk";
    case ScanFailure::HeapProblem::kZeroSizeChunk:
      return "ends in a chunk of size 0";
    case ScanFailure::HeapProblem::kDamagedHeader:
      return "has a damaged chunk header";
    case ScanFailure::HeapProblem::kEndsBeforeTop:
      return "ends before its top chunk";
  }
  return "";
}

}  // namespace

std::string ProofPhrase(const ThreadReach& reach, const WaitObject& object) {
  switch (reach.fate) {
    case ThreadFate::kAbandoned:
      return Abandoned(reach, ObjectPhrase(object));
    case ThreadFate::kReachable: {
      std::string out = Reachable(reach, object, ObjectPhrase(object));
      if (reach.own_stack_unknown) {
        out +=
            " (its own stack could not be told apart from the memory around it: its thread "
            "descriptor did not check out, so that memory counts as the program's)";
      }
      return out;
    }
    case ThreadFate::kNotBlocked:
      break;
  }
  return RunsBecausePhrase(reach.runs_because);
}

std::string ScanFailurePhrase(const ScanFailure& failure) {
  using Code = ScanFailure::Code;
  switch (failure.code) {
    case Code::kNone:
      return "";
    case Code::kNotAsked:
      return "no scan was made; a dump or a watchdog report makes one with leak_scan=1 (and "
             "leak_scan_max_mb above 0)";
    case Code::kUnfinished:
      return "the scan did not finish";
    case Code::kMapsUnreadable:
      return "/proc/" + std::to_string(failure.pid) + "/maps cannot be read";
    case Code::kForeignAllocator:
      return "the process uses another allocator (" + failure.allocator + "), not glibc malloc";
    case Code::kThreadMoved:
      return "thread " + std::to_string(failure.tid) + " moved during the scan";
    case Code::kThreadRunning:
      return "thread " + std::to_string(failure.tid) +
             " was running during the scan (what it holds in its registers cannot be read)";
    case Code::kTooMuchMemory:
      return "the process has more than " + std::to_string(failure.megabytes) +
             " MB of memory to scan (leak_scan_max_mb)";
    case Code::kNoMemoryForBuffers:
      return "no memory for the scan's buffers";
    case Code::kNoMemoryForTables:
      return "no memory for the scan's tables";
    case Code::kHeapTooBig:
      return "the heap holds more than " + std::to_string(failure.megabytes) +
             " MB of blocks (leak_scan_max_mb)";
    case Code::kTooManyBlocks:
      return "too many heap blocks to scan";
    case Code::kTooManyFreeChunks:
      return "too many free chunks to list";
    case Code::kArenaUnreadable:
      return "an arena's state cannot be read";
    case Code::kNoGlibc:
      return "glibc's libc.so.6 is not loaded (a static or non-glibc program)";
    case Code::kNoMemoryForBlockTable:
      return "no memory for the table of heap blocks";
    case Code::kBlocksOverlap:
      return "two heap blocks overlap at " + HexAddress(failure.address);
    case Code::kBadHeap:
      return std::string("malloc's ") + HeapName(failure.heap) + " at " +
             HexAddress(failure.heap_start) + " " + HeapProblemPhrase(failure.problem) +
             (failure.address != 0 ? " at " + HexAddress(failure.address) : std::string());
  }
  return "";
}

}  // namespace threadleak

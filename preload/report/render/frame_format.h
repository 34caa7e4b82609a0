// How one stack's frames are written, in text and in JSON. Shared by every report writer (and by
// threadleak-symbolize) so a frame looks the same in exit reports, dumps and offline
// symbolization.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_FRAME_FORMAT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_FRAME_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "preload/report/symbolized_thread.h"
#include "symbolizer/symbolizer.h"

namespace threadleak {

// "0x7f12ab".
std::string HexAddress(uintptr_t value);

// "SIGSEGV", or "signal 70" for a number glibc has no name for.
std::string FatalSignalName(int signal);

// One line per frame, numbered from #0 innermost:
//   "    #N FUNCTION at FILE:LINE"             with a file
//   "    #N FUNCTION (MODULE+0xOFFSET)"        without one
//   "    #N 0xPC (MODULE+0xOFFSET) (BuildId: HEX)"  without a name (raw frames)
// an inlined call ends with " (inlined)". The runtime frames above the program's own code (libc's
// futex wait, libstdc++'s condition_variable::wait, threadleak's hooks) are collapsed into one
// line, "    ... N runtime frames (libc.so.6, libstdc++.so.6)", keeping the numbering, so the
// first frame the eye lands on is the user's.
void AppendTextFrames(std::string& out, const std::vector<SourceFrame>& frames);
// The same, rendered once per shared stack.
void AppendTextFrames(std::string& out, const Frames& frames);

// A JSON array of frame objects: "pc", "function" ("??" when unknown), "file" and "line" (null
// when unknown), "module" ("??" when unknown); then, when known, "build_id" and "offset"
// (pc minus load bias, hex) — what threadleak-symbolize needs; "inlined": true for an inlined
// call, "runtime": true for a runtime frame, "interrupted": true for the interrupted pc of a
// stack (looked up as is, not as a return address).
std::string JsonFrames(const std::vector<SourceFrame>& frames);
// The same, rendered once per shared stack.
const std::string& JsonFrames(const Frames& frames);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_FRAME_FORMAT_H_

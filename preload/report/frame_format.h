// How one stack's frames are written, in text and in JSON. Shared by every report writer so a
// frame looks the same in exit reports, dumps and offline symbolization.
#ifndef THREADLEAK_PRELOAD_REPORT_FRAME_FORMAT_H_
#define THREADLEAK_PRELOAD_REPORT_FRAME_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "symbolizer/symbolizer.h"

namespace threadleak {

// "0x7f12ab".
std::string HexAddress(uintptr_t value);

// One line per frame: "    #N FUNCTION at FILE:LINE", or "(MODULE+0xOFFSET)" without a file.
void AppendTextFrames(std::string& out, const std::vector<SourceFrame>& frames);

// A JSON array of {"pc","function","file","line","module"} objects.
std::string JsonFrames(const std::vector<SourceFrame>& frames);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_FRAME_FORMAT_H_

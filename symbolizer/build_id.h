// GNU build-ids: read from an ELF file on disk or from a loaded image, and written as hex (the
// form `file`, `eu-readelf -n` and /usr/lib/debug/.build-id/ use). Allocates; never throws but
// std::bad_alloc.
#ifndef THREADLEAK_SYMBOLIZER_BUILD_ID_H_
#define THREADLEAK_SYMBOLIZER_BUILD_ID_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace threadleak::symbolizer_internal {

// Lower-case hex of `size` bytes: {0xab, 0x01} -> "ab01".
std::string HexBuildId(const uint8_t* bytes, size_t size);

// The build-id note of the ELF file at `path`, as hex; empty when it has none or is no ELF.
std::string FileBuildId(const std::string& path);

// The build-id in the notes of a loaded image: `notes` is the PT_NOTE segment's contents. Empty
// when there is none.
std::string NoteBuildId(const void* notes, size_t size);

// "/usr/lib/debug/.build-id/ab/cdef....debug" for build-id "abcdef..." under `root`; empty for
// an id too short to split.
std::string BuildIdPath(std::string_view root, std::string_view hex_id, std::string_view suffix);

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_BUILD_ID_H_

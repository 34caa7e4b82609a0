// Program data in a report — thread names, paths, function names — inside a double-quoted
// string, escaped one way for each kind of output, with one reading of UTF-8 for all.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_ESCAPE_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_ESCAPE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace threadleak {

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Whether `text` is well-formed UTF-8 (JsonString then keeps every byte of it).
bool IsValidUtf8(std::string_view text);

// Every byte of `text` as two lowercase hex digits ("61ff"): for what a JSON string cannot carry.
std::string HexBytes(std::string_view text);

// `text` as a JSON string literal, quotes included. Bytes that are not UTF-8 become U+FFFD: a
// JSON string holds text, not bytes.
std::string JsonString(std::string_view text);

// `text` for the text report and DOT, between double quotes, escaped so that every byte is kept
// and none is written raw: '"' and '\' backslashed, control bytes and bytes that are not UTF-8
// as \xNN. AppendReadable leaves the quotes to the caller.
// `hex_prefix` is how the \x of \xNN is written: "\\x" in DOT, whose strings read backslash
// escapes themselves, so that the graph shows what the text shows.
std::string ReadableString(std::string_view text);
void AppendReadable(std::string& out, std::string_view text, std::string_view hex_prefix = "\\x");

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_ESCAPE_H_

// JSON string literals for the report writers.
#ifndef THREADLEAK_PRELOAD_REPORT_JSON_STRING_H_
#define THREADLEAK_PRELOAD_REPORT_JSON_STRING_H_

#include <string>
#include <string_view>

namespace threadleak {

// `text` as a JSON string literal, quotes included. Invalid UTF-8 bytes become U+FFFD.
std::string JsonString(std::string_view text);

// The length of the valid UTF-8 sequence of two or more bytes at text[i], or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Whether `text` is valid UTF-8 (JsonString keeps every byte of it).
bool IsValidUtf8(std::string_view text);

// Every byte of `text` as two lowercase hex digits ("61ff"): what a JSON string cannot carry.
std::string HexBytes(std::string_view text);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_JSON_STRING_H_

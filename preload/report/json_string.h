// JSON string literals for the report writers.
#ifndef THREADLEAK_PRELOAD_REPORT_JSON_STRING_H_
#define THREADLEAK_PRELOAD_REPORT_JSON_STRING_H_

#include <string>
#include <string_view>

namespace threadleak {

// `text` as a JSON string literal, quotes included. Invalid UTF-8 bytes become U+FFFD.
std::string JsonString(std::string_view text);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_JSON_STRING_H_

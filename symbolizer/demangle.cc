#include "symbolizer/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace threadleak::symbolizer_internal {

std::string WithoutVersion(const char* name) {
  if (name == nullptr) return {};
  // '@' never occurs in a mangled name; in a symbol-table name it starts the version.
  std::string plain(name);
  if (const size_t at = plain.find('@'); at != std::string::npos && at > 0) plain.resize(at);
  return plain;
}

const std::string& NameCache::Get(const char* name) {
  auto [it, inserted] = names_.try_emplace(name);
  if (inserted) it->second = demangle_ ? Demangle(name) : WithoutVersion(name);
  return it->second;
}

std::string Demangle(const char* name) {
  if (name == nullptr) return {};
  std::string plain = WithoutVersion(name);
  // Only Itanium-mangled names: __cxa_demangle would also "demangle" a C name such as "f" or "i"
  // as if it were a type ("float", "int").
  if (plain.compare(0, 2, "_Z") != 0) return plain;
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(plain.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || demangled == nullptr) return plain;
  return demangled.get();
}

}  // namespace threadleak::symbolizer_internal

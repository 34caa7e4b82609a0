#include "symbolizer/demangle.h"

// libiberty (Debian: libiberty-dev), built position-independent, so it can go into the report
// module. Only its two demanglers are used: neither calls xmalloc (which exits when memory runs
// out) nor keeps any state between calls.
#include <libiberty/demangle.h>

#include <cstdlib>
#include <memory>
#include <string_view>

namespace threadleak::symbolizer_internal {
namespace {

using Owned = std::unique_ptr<char, decltype(&std::free)>;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// A character of a suffix a compiler appends to a mangled name: ".cold", ".isra.0", ".part.1".
bool IsSuffixChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

// Removes every ".llvm.<digits>" that ends the name or precedes another suffix. A legacy Rust
// name may hold "..llvm.." inside (its escape for "::"), never ".llvm." and a digit.
void EraseLlvmSuffixes(std::string& name) {
  static constexpr std::string_view kLlvm = ".llvm.";
  for (size_t at = name.find(kLlvm); at != std::string::npos; at = name.find(kLlvm, at)) {
    size_t end = at + kLlvm.size();
    while (end < name.size() && IsDigit(name[end])) ++end;
    if (end > at + kLlvm.size() && (end == name.size() || name[end] == '.')) {
      name.erase(at, end - at);
    } else {
      at += kLlvm.size();
    }
  }
}

// The demangled name, or empty when `name` is not a whole mangled name. Rust first: a legacy Rust
// name is also a valid Itanium one ("leak::Consumer$LT$T$GT$::run::h0123…"), and libiberty's Rust
// demangler accepts only names that are Rust's (the "17h<16 hex digits>E" hash at the end).
std::string DemangleWhole(const std::string& name) {
  const std::string_view view(name);
  if (view.starts_with("_R") || view.starts_with("_ZN")) {
    // Without DMGL_VERBOSE: no legacy hash, no v0 crate disambiguators.
    Owned rust(rust_demangle(name.c_str(), 0), &std::free);
    if (rust != nullptr) return rust.get();
  }
  if (view.starts_with("_Z")) {
    Owned cxx(cplus_demangle_v3(name.c_str(), DMGL_PARAMS | DMGL_ANSI), &std::free);
    if (cxx != nullptr) return cxx.get();
  }
  return {};
}

}  // namespace

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
  std::string plain = WithoutVersion(name);
  // Only mangled names: the C++ demangler would also "demangle" a C name such as "f" or "i" as if
  // it were a type ("float", "int"), were it asked to.
  if (!plain.starts_with("_Z") && !plain.starts_with("_R")) return plain;
  std::string mangled = plain;
  EraseLlvmSuffixes(mangled);
  if (std::string demangled = DemangleWhole(mangled); !demangled.empty()) return demangled;
  // A suffix the C++ demangler does not take (one that starts with a capital, some tool's own;
  // Rust's takes any): demangle what precedes it, longest first. A legacy Rust name's ".."
  // escapes are not suffixes.
  size_t tail = mangled.size();  // mangled[tail..] holds only characters a suffix may have
  while (tail > 0 && IsSuffixChar(mangled[tail - 1])) --tail;
  for (size_t dot = mangled.rfind('.'); dot != std::string::npos && dot > 2 && dot >= tail;
       dot = mangled.rfind('.', dot - 1)) {
    if (mangled[dot - 1] == '.' || (dot + 1 < mangled.size() && mangled[dot + 1] == '.')) continue;
    if (std::string demangled = DemangleWhole(mangled.substr(0, dot)); !demangled.empty()) {
      return demangled + " [clone " + mangled.substr(dot) + "]";
    }
  }
  return plain;
}

}  // namespace threadleak::symbolizer_internal

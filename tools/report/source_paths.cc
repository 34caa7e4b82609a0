#include "tools/report/source_paths.h"

#include <cstdio>

namespace threadleak::report_tool {
namespace {

std::string PercentEncodePath(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c == '+';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

}  // namespace

std::string RelativeToRoot(const std::string& file, const std::string& source_root) {
  if (!source_root.empty() && file.size() > source_root.size() &&
      file.compare(0, source_root.size(), source_root) == 0) {
    return file.substr(source_root.size());
  }
  // A path the shim already made relative (strip_path_prefix) may start with "./".
  if (file.rfind("./", 0) == 0) return file.substr(2);
  return file;
}

std::string SourceUri(const std::string& file, const std::string& source_root, bool* relative) {
  std::string path = RelativeToRoot(file, source_root);
  *relative = path.empty() || path.front() != '/';
  return (*relative ? "" : "file://") + PercentEncodePath(path);
}

}  // namespace threadleak::report_tool

// The shim runs inside every program it watches: it must need libc and nothing else (no C++
// runtime, no libunwind in the global scope — see preload/capture/unwinder.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

std::string Output(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  pclose(pipe);
  return output;
}

TEST(ShimDependencies, NeedsOnlyLibc) {
  std::string needed = Output("readelf -d '" THREADLEAK_SHIM_PATH "' | grep NEEDED");
  EXPECT_NE(needed.find("[libc.so.6]"), std::string::npos) << needed;
  size_t lines = 0;
  for (char c : needed) lines += c == '\n';
  EXPECT_EQ(lines, 1u) << needed;
}

TEST(ShimDependencies, ExportsBothCondvarAbis) {
  std::string symbols = Output("readelf -W --dyn-syms '" THREADLEAK_SHIM_PATH "'");
  for (const char* versioned :
       {"pthread_cond_wait@@GLIBC_2.3.2", "pthread_cond_wait@GLIBC_2.2.5",
        "pthread_cond_timedwait@@GLIBC_2.3.2", "pthread_cond_timedwait@GLIBC_2.2.5"}) {
    EXPECT_NE(symbols.find(versioned), std::string::npos) << versioned;
  }
  // Every other hook is unversioned so it binds to a reference of any glibc version.
  EXPECT_NE(symbols.find(" pthread_mutex_lock\n"), std::string::npos);
  EXPECT_EQ(symbols.find("_Unwind_RaiseException"), std::string::npos);
}

}  // namespace

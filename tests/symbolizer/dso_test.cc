// Golden tests for modules dlopened at run time, each build of test_dso.cc missing something a
// real binary can miss: loaded after set-up, a symbol stripped, debug info moved to a
// .gnu_debuglink file (with a good and a bad CRC), or no debug info at all.
//
// Every test loads its own module, so none is loaded before the test that wants it late.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_dso.h"
#include "tests/symbolizer/test_support.h"

namespace symtest {
namespace {

using ::testing::EndsWith;
using threadleak::SourceFrame;
using threadleak::Symbolizer;

constexpr char kDsoFile[] = "tests/symbolizer/test_dso.cc";
constexpr char kPublic[] = "dso_ns::Public(unsigned long (*)())";

// A module opened for one test and closed after it.
class Module {
 public:
  explicit Module(const char* path) : path_(path) { handle_ = dlopen(path, RTLD_NOW | RTLD_LOCAL); }
  ~Module() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  bool loaded() const { return handle_ != nullptr; }
  std::string path() const { return RealPath(path_); }
  DsoEntry entry(const char* name) const {
    return reinterpret_cast<DsoEntry>(dlsym(handle_, name));
  }

 private:
  const char* path_;
  void* handle_ = nullptr;
};

bool IsLoaded(const char* path) {
  void* handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (handle != nullptr) dlclose(handle);
  return handle != nullptr;
}

TEST(SymbolizerDsoTest, FindsModuleLoadedAfterSetUp) {
  ASSERT_FALSE(IsLoaded(SYMTEST_DSO)) << "another test loaded it first";
  Symbolizer symbolizer;
  // Set-up happens here: it reads the maps, which do not list the module yet.
  ASSERT_FALSE(symbolizer.Symbolize(CaptureReturnAddress(), true).function.empty());

  Module module(SYMTEST_DSO);
  ASSERT_TRUE(module.loaded()) << dlerror();
  const DsoEntry entry = module.entry("symtest_dso_public");
  ASSERT_NE(entry, nullptr);
  const DsoSite site = entry(&CaptureReturnAddress);

  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, kPublic);
  EXPECT_THAT(frame.file, EndsWith(kDsoFile));
  EXPECT_EQ(frame.line, site.line);
  EXPECT_EQ(frame.module, module.path());
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(site.return_address), &info), 0);
  EXPECT_EQ(frame.pc - frame.module_offset, reinterpret_cast<uintptr_t>(info.dli_fbase));

  // Its exported C entry point, as a frame interrupted on its first instruction.
  const SourceFrame entry_frame = symbolizer.Symbolize(reinterpret_cast<uintptr_t>(entry), false);
  EXPECT_EQ(entry_frame.function, "symtest_dso_public");
  EXPECT_EQ(entry_frame.module, module.path());
}

// With the functions' symbols gone from .symtab, their names come from DWARF. (libdwfl alone
// would name both after the nearest sizeless symbol before them, crtstuff's frame_dummy.)
TEST(SymbolizerDsoTest, NamesFunctionsFromDwarfWhenSymbolsAreStripped) {
  Module module(SYMTEST_DSO_NOSYM);
  ASSERT_TRUE(module.loaded()) << dlerror();
  Symbolizer symbolizer;

  // DW_AT_linkage_name, demangled.
  const DsoSite exported = module.entry("symtest_dso_public")(&CaptureReturnAddress);
  const SourceFrame frame = symbolizer.Symbolize(exported.return_address, true);
  EXPECT_EQ(frame.function, kPublic);
  EXPECT_THAT(frame.file, EndsWith(kDsoFile));
  EXPECT_EQ(frame.line, exported.line);
  EXPECT_EQ(frame.module, module.path());

  // GCC gives a function of an anonymous namespace no linkage name: the name is rebuilt from
  // the namespaces around its declaration, without the parameters.
  const DsoSite hidden = module.entry("symtest_dso_hidden")(&CaptureReturnAddress);
  const SourceFrame local = symbolizer.Symbolize(hidden.return_address, true);
  EXPECT_EQ(local.function, "(anonymous namespace)::HiddenHelper");
  EXPECT_THAT(local.file, EndsWith(kDsoFile));
  EXPECT_EQ(local.line, hidden.line);
}

// Stripped module, debug info in "<module>.debug" beside it, found through .gnu_debuglink. The
// module has no build-id, so the file is accepted on its CRC.
TEST(SymbolizerDsoTest, FindsDebugFileThroughDebuglink) {
  Module module(SYMTEST_DSO_DEBUGLINK);
  ASSERT_TRUE(module.loaded()) << dlerror();
  const DsoSite site = module.entry("symtest_dso_public")(&CaptureReturnAddress);
  Symbolizer symbolizer;
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, kPublic);
  EXPECT_THAT(frame.file, EndsWith(kDsoFile));
  EXPECT_EQ(frame.line, site.line);
}

// The same, but the debug file changed after the link was made: its lines cannot be trusted.
TEST(SymbolizerDsoTest, RejectsDebugFileWithWrongCrc) {
  Module module(SYMTEST_DSO_BADCRC);
  ASSERT_TRUE(module.loaded()) << dlerror();
  const DsoSite site = module.entry("symtest_dso_public")(&CaptureReturnAddress);
  Symbolizer symbolizer;
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, kPublic);  // from .symtab, which stripping kept
  EXPECT_EQ(frame.file, "");
  EXPECT_EQ(frame.line, 0);
}

// Sets an environment variable for one scope (tests run one at a time, on one thread).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A module with a build-id and no debug info anywhere on disk is exactly what elfutils' standard
// callback would ask the debuginfod servers in $DEBUGINFOD_URLS for. Point that at a local socket
// and check that nobody ever connects.
TEST(SymbolizerDsoTest, NeverAsksDebuginfod) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);

  char cache[] = "/tmp/symbolizer_test_debuginfod.XXXXXX";
  ASSERT_NE(mkdtemp(cache), nullptr);
  const ScopedEnv urls("DEBUGINFOD_URLS",
                       "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)));
  const ScopedEnv cache_path("DEBUGINFOD_CACHE_PATH", cache);
  const ScopedEnv timeout("DEBUGINFOD_TIMEOUT", "2");  // should the guard break, fail fast

  {
    Module module(SYMTEST_DSO_STRIPPED);
    ASSERT_TRUE(module.loaded()) << dlerror();
    const DsoSite site = module.entry("symtest_dso_public")(&CaptureReturnAddress);
    Symbolizer symbolizer;
    const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
    EXPECT_EQ(frame.function, kPublic);  // plain .symtab name: no DWARF anywhere
    EXPECT_EQ(frame.file, "");
    EXPECT_EQ(frame.line, 0);
    EXPECT_EQ(frame.module, module.path());
  }

  const int connection = accept(listener, nullptr, nullptr);
  const int accept_errno = errno;
  EXPECT_LT(connection, 0) << "the symbolizer contacted the debuginfod server";
  EXPECT_TRUE(accept_errno == EAGAIN || accept_errno == EWOULDBLOCK);
  if (connection >= 0) close(connection);
  close(listener);
  std::filesystem::remove_all(cache);  // whatever libdebuginfod would have cached there
}

}  // namespace
}  // namespace symtest

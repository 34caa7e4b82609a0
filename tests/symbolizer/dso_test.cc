// Golden tests for modules dlopened at run time, each build of test_dso.cc missing something a
// real binary can miss: loaded after set-up, a symbol stripped, debug info moved to a
// .gnu_debuglink file (with a good and a bad CRC), or no debug info at all.
//
// Every test loads its own module, so none is loaded before the test that wants it late.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

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
  EXPECT_EQ(frame.function, kTestDsoPublic);
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
  EXPECT_EQ(frame.function, kTestDsoPublic);
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
  EXPECT_EQ(frame.function, kTestDsoPublic);
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
  EXPECT_EQ(frame.function, kTestDsoPublic);  // from .symtab, which stripping kept
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

// A debuginfod server on a local socket, named by $DEBUGINFOD_URLS while it lives: it counts
// connections and closes each at once, so a client gives up without waiting for its timeout.
class FakeDebuginfod {
 public:
  FakeDebuginfod() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ok_ = listener_ >= 0 && bind(listener_, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
          listen(listener_, 16) == 0 &&
          getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
          mkdtemp(cache_) != nullptr;
    if (!ok_) return;
    urls_.emplace("DEBUGINFOD_URLS", "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)));
    cache_path_.emplace("DEBUGINFOD_CACHE_PATH", cache_);
    timeout_.emplace("DEBUGINFOD_TIMEOUT", "2");  // should anything wait, not for long
    server_ = std::thread([this] {
      for (;;) {
        pollfd fd = {listener_, POLLIN, 0};
        if (poll(&fd, 1, 50) > 0) {
          const int connection = accept(listener_, nullptr, nullptr);
          if (connection >= 0) {
            ++connections_;
            close(connection);
          }
        }
        if (stop_) return;
      }
    });
  }
  ~FakeDebuginfod() {
    stop_ = true;
    if (server_.joinable()) server_.join();
    if (listener_ >= 0) close(listener_);
    std::filesystem::remove_all(cache_);  // whatever libdebuginfod would have cached there
  }

  bool ok() const { return ok_; }
  int connections() const { return connections_; }

 private:
  int listener_ = -1;
  bool ok_ = false;
  char cache_[64] = "/tmp/symbolizer_test_debuginfod.XXXXXX";
  std::optional<ScopedEnv> urls_;
  std::optional<ScopedEnv> cache_path_;
  std::optional<ScopedEnv> timeout_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread server_;
};

// Symbolizes the stripped module's function with `options`: its .symtab name, and no file.
void SymbolizeStrippedModule(const threadleak::SymbolizerOptions& options) {
  Module module(SYMTEST_DSO_STRIPPED);
  ASSERT_TRUE(module.loaded()) << dlerror();
  const DsoSite site = module.entry("symtest_dso_public")(&CaptureReturnAddress);
  Symbolizer symbolizer(options);
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, kTestDsoPublic);  // plain .symtab name: no DWARF anywhere
  EXPECT_EQ(frame.file, "");
  EXPECT_EQ(frame.line, 0);
  EXPECT_EQ(frame.module, module.path());
}

// A module with a build-id and no debug info anywhere on disk is exactly what elfutils' standard
// callback would ask the debuginfod servers in $DEBUGINFOD_URLS for. By default, nobody connects.
TEST(SymbolizerDsoTest, NeverAsksDebuginfodByDefault) {
  FakeDebuginfod server;
  ASSERT_TRUE(server.ok());
  SymbolizeStrippedModule({});
  EXPECT_EQ(server.connections(), 0) << "the symbolizer contacted the debuginfod server";
}

// With the debuginfod option, the servers are asked (when libdebuginfod is installed).
TEST(SymbolizerDsoTest, AsksDebuginfodWhenAllowed) {
  void* client = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (client == nullptr) GTEST_SKIP() << "libdebuginfod.so.1 is not installed";
  dlclose(client);
  FakeDebuginfod server;
  ASSERT_TRUE(server.ok());
  threadleak::SymbolizerOptions options;
  options.debuginfod = true;
  SymbolizeStrippedModule(options);
  EXPECT_GT(server.connections(), 0);
}

}  // namespace
}  // namespace symtest

// A pc captured inside a library that was dlclose()d since — a thread's creation stack, typically
// — must be named from that library's file, as the snapshot's departed_modules recorded it, or
// shown as module+offset with that file's path and build-id: never from whatever is mapped at
// the address now. The shim fills departed_modules; here a snapshot is built by hand.
#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "preload/report/symbolized_thread.h"
#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_dso.h"
#include "tests/symbolizer/test_support.h"

namespace symtest {
namespace {

using ::testing::EndsWith;
using threadleak::SourceFrame;

// What the shim records when a library is unloaded: its extent, bias, path and build-id.
tl_module Describe(void* handle) {
  tl_module module{};
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0) return module;
  std::strncpy(module.path, map->l_name, TL_MODULE_PATH_LEN - 1);
  module.bias = map->l_addr;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* out = static_cast<tl_module*>(data);
        if (info->dlpi_addr != out->bias) return 0;
        out->start = UINTPTR_MAX;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD) {
            out->start = std::min(out->start, begin);
            out->end = std::max<uintptr_t>(out->end, begin + ph.p_memsz);
          } else if (ph.p_type == PT_NOTE) {
            const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(begin);
            const auto* name = reinterpret_cast<const char*>(note + 1);
            if (note->n_type == NT_GNU_BUILD_ID && std::strcmp(name, "GNU") == 0) {
              const auto* desc =
                  reinterpret_cast<const uint8_t*>(name + ((note->n_namesz + 3) & ~3u));
              out->build_id_size = std::min<uint32_t>(note->n_descsz, TL_BUILD_ID_LEN);
              std::memcpy(out->build_id, desc, out->build_id_size);
            }
          }
        }
        return 1;
      },
      &module);
  return module;
}

std::string Hex(const tl_module& module) {
  std::string hex;
  char byte[3];
  for (uint32_t i = 0; i < module.build_id_size; ++i) {
    snprintf(byte, sizeof byte, "%02x", module.build_id[i]);
    hex += byte;
  }
  return hex;
}

// Loads the library, captures a pc in it, records it and unloads it; then loads another library,
// which the loader most likely puts where the first one was.
class DepartedModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(IsLoaded(SYMTEST_DSO_DEPARTED)) << "another test loaded it";
    void* handle = dlopen(SYMTEST_DSO_DEPARTED, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << dlerror();
    auto entry = reinterpret_cast<DsoEntry>(dlsym(handle, "symtest_dso_public"));
    ASSERT_NE(entry, nullptr);
    site_ = entry(&CaptureReturnAddress);
    module_ = Describe(handle);
    ASSERT_GT(module_.end, module_.start);
    ASSERT_GT(module_.build_id_size, 0u);
    dlclose(handle);
    ASSERT_FALSE(IsLoaded(SYMTEST_DSO_DEPARTED)) << "dlclose did not unload it";
    other_ = dlopen(SYMTEST_DSO_OTHER, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(other_, nullptr) << dlerror();

    thread_.tid = 42;
    thread_.blocked_ns = -1;
    thread_.syscall_number = -1;
    thread_.creator_tid = 41;
    thread_.stack = {TL_STACK_RETURNS, 1, {CaptureReturnAddress()}};
    thread_.creation = {TL_STACK_RETURNS, 1, {site_.return_address}};
    snapshot_.pid = 1;
    snapshot_.thread_count = 1;
    snapshot_.threads = &thread_;
    snapshot_.departed_module_count = 1;
    snapshot_.departed_modules = &module_;
  }
  void TearDown() override {
    if (other_ != nullptr) dlclose(other_);
  }

  DsoSite site_{};
  tl_module module_{};
  void* other_ = nullptr;
  tl_thread thread_{};
  tl_snapshot snapshot_{};
};

TEST_F(DepartedModuleTest, CreationStackIsNamedFromTheUnloadedFile) {
  threadleak::Symbolizer symbolizer;
  const auto threads = threadleak::SymbolizeThreads(snapshot_, symbolizer);
  ASSERT_EQ(threads.size(), 1u);
  ASSERT_EQ(threads[0].creation.size(), 1u);
  const SourceFrame& frame = threads[0].creation[0];
  EXPECT_EQ(frame.function, kTestDsoPublic);
  EXPECT_THAT(frame.file, EndsWith("tests/symbolizer/test_dso.cc"));
  EXPECT_EQ(frame.line, site_.line);
  EXPECT_EQ(frame.module, RealPath(SYMTEST_DSO_DEPARTED));
  EXPECT_EQ(frame.build_id, Hex(module_));
  EXPECT_EQ(frame.module_offset, site_.return_address - module_.bias);
  // The current stack is not affected.
  EXPECT_EQ(threads[0].stack[0].module, RealPath("/proc/self/exe"));
}

// Whatever is mapped at the address now (most likely the other library) is not what the pc was.
TEST_F(DepartedModuleTest, WhatIsMappedThereNowIsNotAsked) {
  threadleak::Symbolizer symbolizer;
  const SourceFrame now = symbolizer.Symbolize(site_.return_address, true);
  EXPECT_NE(now.function, kTestDsoPublic);
  EXPECT_NE(now.module, RealPath(SYMTEST_DSO_DEPARTED));
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(site_.return_address - 1), &info) != 0) {
    EXPECT_EQ(now.module, RealPath(info.dli_fname)) << "the live lookup sees the new library";
  }
}

TEST_F(DepartedModuleTest, RawFramesCarryTheRecordedModule) {
  threadleak::Symbolizer symbolizer;
  threadleak::FrameOptions options;
  options.symbolize = false;
  const auto threads = threadleak::SymbolizeThreads(snapshot_, symbolizer, options);
  ASSERT_EQ(threads[0].creation.size(), 1u);
  const SourceFrame& frame = threads[0].creation[0];
  EXPECT_EQ(frame.function, "");
  EXPECT_EQ(frame.module, RealPath(SYMTEST_DSO_DEPARTED));
  EXPECT_EQ(frame.build_id, Hex(module_));
  EXPECT_EQ(frame.module_offset, site_.return_address - module_.bias);
}

// The file at the recorded path is not the one that was loaded (its build-id differs): its names
// would be wrong, so the frame stays module+offset.
TEST_F(DepartedModuleTest, AFileWithAnotherBuildIdIsNotTrusted) {
  std::strncpy(module_.path, SYMTEST_DSO_OTHER, TL_MODULE_PATH_LEN - 1);
  threadleak::Symbolizer symbolizer;
  const auto threads = threadleak::SymbolizeThreads(snapshot_, symbolizer);
  const SourceFrame& frame = threads[0].creation[0];
  EXPECT_EQ(frame.function, "");
  EXPECT_EQ(frame.file, "");
  EXPECT_EQ(frame.module, RealPath(SYMTEST_DSO_OTHER));
  EXPECT_EQ(frame.build_id, Hex(module_));
  EXPECT_EQ(frame.module_offset, site_.return_address - module_.bias);
}

// A pc of the current stack is named from what is mapped now, unless nothing is.
TEST_F(DepartedModuleTest, CurrentStackFallsBackOnDepartedModulesWhenNothingIsMapped) {
  thread_.stack = thread_.creation;
  Dl_info info;
  const bool mapped_now = dladdr(reinterpret_cast<void*>(site_.return_address - 1), &info) != 0;
  threadleak::Symbolizer symbolizer;
  const auto threads = threadleak::SymbolizeThreads(snapshot_, symbolizer);
  if (mapped_now) {
    EXPECT_EQ(threads[0].stack[0].module, RealPath(info.dli_fname));
  } else {
    EXPECT_EQ(threads[0].stack[0].function, kTestDsoPublic);
  }
}

}  // namespace
}  // namespace symtest

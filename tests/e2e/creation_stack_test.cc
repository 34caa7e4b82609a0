// Creation stacks the shim remembered and recognised (preload/capture/creation_stack.h) are the
// stacks a walk gives: programs/creation_stacks.cc creates threads along chains of calls that
// share their inner frames and differ further out, from frames that change size, from another
// thread, from a coroutine's stack, deeper than a report keeps, and through std::thread; each
// thread's "created by" stack must be its own chain's.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.h"

namespace e2e {
namespace {

using nlohmann::json;

// The program's own functions in a stack, innermost first, by their short names.
std::vector<std::string> ProgramFrames(const json& stack) {
  static const char* const kNames[] = {"CreateNamed",  "SharedInnerSite", "ChainAlpha",
                                       "ChainBravo",   "ChainCharlie",    "ChainDelta",
                                       "DeltaCreator", "ChainEcho",       "FiberBody",
                                       "ChainFoxtrot", "ChainGolf",       "ChainHotel"};
  std::vector<std::string> names;
  for (const json& frame : stack) {
    const std::string function = StringField(frame, "function");
    if (function == "main") {
      names.push_back("main");
      continue;
    }
    for (const char* name : kNames) {
      if (function.find(std::string("::") + name + "(") != std::string::npos) {
        names.push_back(name);
        break;
      }
    }
  }
  return names;
}

std::string Join(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : " < ") + name;
  return joined;
}

class CreationStacks : public testing::Test {
 protected:
  void SetUp() override {
    RunResult run = RunUnderShim(THREADLEAK_SHIM_PATH, {E2E_CREATION_STACKS}, dir_);
    ASSERT_TRUE(run.exited) << run.Describe() << "\n" << run.output;
    EXPECT_EQ(run.exit_status, 66) << run.output;
    std::string error;
    auto report = ReadReport(ReportPath(dir_, run.pid), &error);
    ASSERT_TRUE(report.has_value()) << error << "\n" << run.output;
    report_ = *report;
    for (const json& thread : Field(report_, "threads")) {
      stacks_[StringField(thread, "name")] = Field(Field(thread, "created_by"), "stack");
    }
  }

  // The chain of program functions `thread` was created along; fails the test if it is missing.
  std::string ChainOf(const std::string& thread) {
    auto found = stacks_.find(thread);
    if (found == stacks_.end()) {
      ADD_FAILURE() << "no thread named " << thread << " in the report:\n" << Summarize(report_);
      return "";
    }
    return Join(ProgramFrames(found->second));
  }

  TempDir dir_;
  json report_;
  std::map<std::string, json> stacks_;
};

TEST_F(CreationStacks, ChainsThatShareInnerFramesKeepTheirOwnOuterFrames) {
  const std::string alpha = "CreateNamed < SharedInnerSite < ChainAlpha < main";
  const std::string bravo = "CreateNamed < SharedInnerSite < ChainBravo < main";
  for (const char* name : {"A1", "A2", "A3", "A4"}) EXPECT_EQ(ChainOf(name), alpha) << name;
  for (const char* name : {"B1", "B2"}) EXPECT_EQ(ChainOf(name), bravo) << name;
}

TEST_F(CreationStacks, AFrameThatChangesSizeBetweenCallsIsWalkedAgain) {
  const std::string charlie = "CreateNamed < SharedInnerSite < ChainCharlie < main";
  for (const char* name : {"C1", "C2", "C3"}) EXPECT_EQ(ChainOf(name), charlie) << name;
}

TEST_F(CreationStacks, AnotherThreadsStackHasItsOwnOutermostFrames) {
  const std::string delta = "CreateNamed < SharedInnerSite < ChainDelta < DeltaCreator";
  for (const char* name : {"D1", "D2"}) EXPECT_EQ(ChainOf(name), delta) << name;
  EXPECT_EQ(ChainOf("D3"), "CreateNamed < SharedInnerSite < ChainAlpha < DeltaCreator");
}

TEST_F(CreationStacks, ACoroutinesStackIsWalked) {
  const std::string echo = "CreateNamed < SharedInnerSite < ChainEcho < FiberBody";
  for (const char* name : {"E1", "E2"}) EXPECT_EQ(ChainOf(name), echo) << name;
}

TEST_F(CreationStacks, AStackDeeperThanAReportKeepsIsCutTheSameWayEveryTime) {
  std::vector<std::string> deep = {"CreateNamed", "SharedInnerSite"};
  deep.resize(64, "ChainFoxtrot");  // a creation stack keeps 64 frames
  for (const char* name : {"F1", "F2"}) EXPECT_EQ(ChainOf(name), Join(deep)) << name;
  EXPECT_EQ(ChainOf("F3"),
            "CreateNamed < SharedInnerSite < ChainFoxtrot < ChainFoxtrot < ChainFoxtrot < "
            "ChainFoxtrot < main");
}

TEST_F(CreationStacks, StdThreadFromTwoPlacesKeepsEachPlace) {
  // std::thread's own call of pthread_create is one return address for both.
  for (const char* name : {"G1", "G2"}) EXPECT_EQ(ChainOf(name), "ChainGolf < main") << name;
  for (const char* name : {"H1", "H2"}) EXPECT_EQ(ChainOf(name), "ChainHotel < main") << name;
}

}  // namespace
}  // namespace e2e

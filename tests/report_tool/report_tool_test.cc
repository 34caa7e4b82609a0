// `threadleak report` on real reports, each format checked by what reads it in CI; format=pprof
// from the shim; CTest's hung tests. See CMakeLists.txt.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/e2e/support.h"
#include "tests/report_tool/report_tool_checks.h"

namespace report_tool_test {
namespace {

using e2e::RunResult;
using e2e::TempDir;
using nlohmann::json;

// Runs `argv` under the shim with JSON reports to DIR/report.PID (and `extra` options).
RunResult RunLeaking(const std::vector<std::string>& argv, const TempDir& dir,
                     const std::string& extra = "", const std::string& log = "program.txt") {
  std::string options = "format=json:log_path=" + dir.path() + "/report:linger_ms=50";
  if (!extra.empty()) options += ":" + extra;
  const e2e::EnvChanges env = {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
                               {"THREADLEAK_OPTIONS", options}};
  return e2e::RunProgram(argv, env, dir.path() + "/" + log, std::chrono::seconds(60));
}

// The line of examples/leaky_worker.cc that starts its worker thread: where SARIF and GitHub
// must point.
int LeakyWorkerCreationLine() {
  std::vector<std::string> lines =
      Lines(ReadFile(std::string(RT_SOURCE_DIR) + "/examples/leaky_worker.cc"));
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("std::thread([&handoff]") != std::string::npos)
      return static_cast<int>(i + 1);
  }
  return -1;
}

// Three processes of leaky_worker (one leak each, the same one) and one GoogleTest program whose
// test Cache.RefreshesInTheBackground leaks: JSON reports, as a CI run leaves them.
class ReportTool : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      RunResult run = RunLeaking({RT_LEAKY_WORKER}, dir_);
      ASSERT_TRUE(run.exited && run.exit_status == 66) << run.Describe() << "\n" << run.output;
      worker_reports_.push_back(e2e::ReportPath(dir_, run.pid));
    }
    RunResult run = RunLeaking({RT_GTEST_LEAK}, dir_);
    ASSERT_TRUE(run.exited && run.exit_status == 66) << run.Describe() << "\n" << run.output;
    gtest_report_ = e2e::ReportPath(dir_, run.pid);
  }

  std::vector<std::string> AllReports() const {
    std::vector<std::string> all = worker_reports_;
    all.push_back(gtest_report_);
    return all;
  }

  // threadleak report --format FORMAT -o OUT REPORTS...; returns the output file's text.
  std::string Report(const std::string& format, const std::vector<std::string>& reports,
                     int expected_status, const std::vector<std::string>& extra = {}) {
    std::string out = dir_.path() + "/out." + format;
    std::vector<std::string> args = {"--format", format, "-o", out};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), reports.begin(), reports.end());
    RunResult run = RunReport(args, dir_);
    EXPECT_TRUE(run.exited && run.exit_status == expected_status) << run.Describe() << "\n"
                                                                  << run.output;
    return ReadFile(out);
  }

  TempDir dir_;
  std::vector<std::string> worker_reports_;
  std::string gtest_report_;
};

TEST_F(ReportTool, TextGroupsTheSameLeakAcrossProcesses) {
  std::string text = Report("text", AllReports(), 1);
  EXPECT_NE(text.find("threadleak: 4 processes, 4 leaked threads, 2 distinct leaks\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[3 threads in 3 processes"), std::string::npos) << text;
  EXPECT_NE(text.find("Handoff::Send(int) on top of the stack"), std::string::npos) << text;
  EXPECT_NE(text.find("in test Cache.RefreshesInTheBackground"), std::string::npos) << text;
  EXPECT_NE(text.find("SUMMARY: threadleak: 4 leaked threads in 2 distinct leaks (4 cond)"),
            std::string::npos)
      << text;
  // The same reports given twice count once: a process's thread is one thread.
  std::vector<std::string> twice = AllReports();
  twice.push_back(worker_reports_[0]);
  EXPECT_NE(Report("text", twice, 1).find("4 processes, 4 leaked threads"), std::string::npos);
}

TEST_F(ReportTool, JunitPassesTheJunitSchemaWithOneFailingTestCasePerLeak) {
  std::string xml = Report("junit", AllReports(), 1);
  EXPECT_EQ(Count(xml, "<testcase "), 2u) << xml;
  EXPECT_EQ(Count(xml, "<failure "), 2u) << xml;
  EXPECT_NE(xml.find("classname=\"Cache.RefreshesInTheBackground\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("message=\"3 threads leaked in state cond at (anonymous "
                     "namespace)::Handoff::Send(int)"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("tests=\"2\" failures=\"2\""), std::string::npos) << xml;
  std::optional<std::string> xmllint = Which("xmllint");
  if (!xmllint) GTEST_SKIP() << "no xmllint (Debian: libxml2-utils) for the schema check";
  RunResult check =
      RunTool({*xmllint, "--noout", "--schema", std::string(RT_SCHEMA_DIR) + "/junit-10.xsd",
               dir_.path() + "/out.junit"},
              dir_, "xmllint.txt");
  EXPECT_TRUE(check.exited && check.exit_status == 0) << check.Describe() << "\n" << check.output;
  // The schema check can fail: a document without the required attributes does.
  WriteFile(dir_.path() + "/bad.xml", "<testsuites><testsuite name=\"x\"/></testsuites>\n");
  RunResult bad = RunTool({*xmllint, "--noout", "--schema",
                           std::string(RT_SCHEMA_DIR) + "/junit-10.xsd", dir_.path() + "/bad.xml"},
                          dir_, "xmllint-bad.txt");
  EXPECT_TRUE(bad.exited && bad.exit_status != 0) << bad.output;
}

// The official SARIF 2.1.0 schema, checked by python3-jsonschema; nullopt when it is missing.
std::optional<RunResult> ValidateSarif(const std::string& path, const TempDir& dir) {
  RunResult probe = RunTool({"/usr/bin/python3", "-c", "import jsonschema"}, dir, "probe.txt");
  if (!probe.exited || probe.exit_status != 0) return std::nullopt;
  return RunTool({"/usr/bin/python3", "-c",
                  "import json, sys, jsonschema\n"
                  "schema = json.load(open(sys.argv[1]))\n"
                  "jsonschema.Draft4Validator(schema).validate(json.load(open(sys.argv[2])))\n",
                  std::string(RT_SCHEMA_DIR) + "/sarif-schema-2.1.0.json", path},
                 dir, "sarif-check.txt");
}

TEST_F(ReportTool, SarifValidatesAndPointsAtTheCreationSiteInTheProgramsSource) {
  std::string text = Report("sarif", AllReports(), 1, {"--source-root", RT_SOURCE_DIR});
  json sarif = json::parse(text);
  ASSERT_EQ(sarif["version"], "2.1.0");
  const json& results = sarif["runs"][0]["results"];
  ASSERT_EQ(results.size(), 2u) << text;
  const json* worker = nullptr;
  for (const json& result : results) {
    if (result["message"]["text"].get<std::string>().find("Handoff::Send") != std::string::npos) {
      worker = &result;
    }
  }
  ASSERT_NE(worker, nullptr) << text;
  const json& location = (*worker)["locations"][0]["physicalLocation"];
  EXPECT_EQ(location["artifactLocation"]["uri"], "examples/leaky_worker.cc") << location;
  EXPECT_EQ(location["artifactLocation"]["uriBaseId"], "%SRCROOT%") << location;
  EXPECT_EQ(location["region"]["startLine"], LeakyWorkerCreationLine()) << location;
  EXPECT_EQ((*worker)["ruleId"], "threadleak/leaked-thread");
  const json& flow = (*worker)["codeFlows"][0]["threadFlows"][0]["locations"];
  ASSERT_FALSE(flow.empty());
  EXPECT_NE(flow.back()["location"]["message"]["text"].get<std::string>().find("pthread_cond"),
            std::string::npos)
      << "the innermost frame comes last: " << flow.back();
  // The same leak in another run (another process, other addresses) has the same fingerprint.
  std::string fingerprint = (*worker)["partialFingerprints"]["threadleakStacks/v1"];
  json alone = json::parse(Report("sarif", {worker_reports_[2]}, 1));
  EXPECT_EQ(alone["runs"][0]["results"][0]["partialFingerprints"]["threadleakStacks/v1"],
            fingerprint);

  std::optional<RunResult> check = ValidateSarif(dir_.path() + "/out.sarif", dir_);
  if (!check) GTEST_SKIP() << "no python3-jsonschema for the SARIF schema check";
  EXPECT_TRUE(check->exited && check->exit_status == 0) << check->output;
  // And the check can fail: a result without its message is not SARIF.
  json broken = sarif;
  broken["runs"][0]["results"][0].erase("message");
  WriteFile(dir_.path() + "/broken.sarif", broken.dump());
  std::optional<RunResult> rejected = ValidateSarif(dir_.path() + "/broken.sarif", dir_);
  ASSERT_TRUE(rejected);
  EXPECT_TRUE(rejected->exited && rejected->exit_status != 0) << rejected->output;
}

TEST_F(ReportTool, GithubWritesOneWellFormedErrorCommandPerLeak) {
  std::string text = Report("github", AllReports(), 1, {"--source-root", RT_SOURCE_DIR});
  std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 2u) << text;
  // ::error file=F,line=N,title=T::MESSAGE — properties with ',' ':' '%' CR LF encoded, the
  // message with '%' CR LF encoded: nothing raw that would end the command early.
  const std::regex command(
      R"(^::error (file=[^,:\r\n]+,line=[0-9]+,)?title=[^,:\r\n]+::[^\r\n]*$)");
  for (const std::string& line : lines) EXPECT_TRUE(std::regex_match(line, command)) << line;
  std::string expected =
      "::error file=examples/leaky_worker.cc,line=" + std::to_string(LeakyWorkerCreationLine()) +
      ",title=threadleak%3A 3 threads leaked (cond)::[3 threads in 3 processes";
  EXPECT_NE(text.find(expected), std::string::npos) << text;
  EXPECT_NE(text.find("%0A    #2 (anonymous namespace)::Handoff::Send(int) at "), std::string::npos)
      << text;
}

TEST_F(ReportTool, PprofProfileShowsEveryThreadWithItsStateInGoToolPprof) {
  Report("pprof", AllReports(), 1);
  std::string profile = dir_.path() + "/out.pprof";
  std::string bytes = ReadFile(profile);
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);  // gzip
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
  std::optional<std::string> go = Which("go");
  if (!go) GTEST_SKIP() << "no go (Debian: golang-go) to read the profile";
  RunResult traces = RunTool({*go, "tool", "pprof", "-traces", profile}, dir_, "traces.txt");
  ASSERT_TRUE(traces.exited && traces.exit_status == 0) << traces.output;
  // One sample a thread, each between separator lines: the 4 leaks, and gtest_leak's main
  // thread when its exit stopped in the destructor of the static condition variable its leaked
  // thread waits on (listed as "exiting", not a leak; whether glibc's pthread_cond_destroy waits
  // there depends on whether the waiter was counted in yet).
  const size_t samples = Count(traces.output, "-----------+") - 1;
  EXPECT_TRUE(samples == 4u || samples == 5u) << traces.output;
  EXPECT_EQ(Count(traces.output, "state:  cond"), 4u) << traces.output;
  EXPECT_NE(traces.output.find("test:  Cache.RefreshesInTheBackground"), std::string::npos)
      << traces.output;
  EXPECT_NE(traces.output.find("::Handoff::Send"), std::string::npos) << traces.output;
  EXPECT_NE(traces.output.find("(inline)"), std::string::npos) << traces.output;
  EXPECT_NE(traces.output.find("blocked:"), std::string::npos) << traces.output;
  RunResult cond =
      RunTool({*go, "tool", "pprof", "-tagfocus=state=cond", "-traces", profile}, dir_, "cond.txt");
  EXPECT_EQ(Count(cond.output, "-----------+"), 4u + 1) << cond.output;
  RunResult mutex = RunTool({*go, "tool", "pprof", "-tagfocus=state=mutex", "-traces", profile},
                            dir_, "mutex.txt");
  EXPECT_EQ(Count(mutex.output, "state:"), 0u) << mutex.output;
}

// The shim's own format=pprof: the exit report of a crowd with a deadlock.
TEST(PprofFromTheShim, GoToolPprofTracesAndFiltersByState) {
  TempDir dir;
  RunResult run = RunLeaking({RT_CROWD, "30", "exit"}, dir, "format=pprof");
  ASSERT_TRUE(run.exited && run.exit_status == 66) << run.Describe() << "\n" << run.output;
  std::string profile = e2e::ReportPath(dir, run.pid);
  std::string bytes = ReadFile(profile);
  ASSERT_GE(bytes.size(), 2u) << run.output;
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);
  std::optional<std::string> go = Which("go");
  if (!go) GTEST_SKIP() << "no go (Debian: golang-go) to read the profile";
  RunResult traces = RunTool({*go, "tool", "pprof", "-traces", profile}, dir, "traces.txt");
  ASSERT_TRUE(traces.exited && traces.exit_status == 0) << traces.output;
  EXPECT_EQ(Count(traces.output, "-----------+"), 32u + 1) << traces.output;
  EXPECT_EQ(Count(traces.output, "state:  cond"), 30u) << traces.output;
  EXPECT_EQ(Count(traces.output, "verdict:  deadlocked"), 2u) << traces.output;
  EXPECT_NE(traces.output.find("ParkB"), std::string::npos) << traces.output;
  EXPECT_NE(traces.output.find("File: crowd"), std::string::npos) << traces.output;
  RunResult mutex = RunTool({*go, "tool", "pprof", "-tagfocus=state=mutex", "-traces", profile},
                            dir, "mutex.txt");
  EXPECT_EQ(Count(mutex.output, "-----------+"), 2u + 1) << mutex.output;
  EXPECT_EQ(Count(mutex.output, "state:  cond"), 0u) << mutex.output;
  EXPECT_NE(mutex.output.find("LockAThenB"), std::string::npos) << mutex.output;
}

// Whether this is the sanitizer build (cmake/Sanitizers.cmake): its programs are slower and its
// report module loads only into instrumented programs.
bool Sanitized() {
  return std::string(RT_SANITIZE) != "";
}

TEST(HtmlReport, TenThousandThreadDumpWithADeadlockRendersUnderTwoMegabytes) {
  TempDir dir;
  // Ten thousand threads in three groups, and two deadlocked; fewer in the sanitizer build.
  const int crowd = Sanitized() ? 2000 : 10000;
  // The time limit dumps every thread, then ends the process with 124.
  RunResult run = RunLeaking({RT_CROWD, std::to_string(crowd)}, dir, "timeout_ms=6000");
  ASSERT_TRUE(run.exited && run.exit_status == 124) << run.Describe() << "\n" << run.output;
  std::string html_path = dir.path() + "/crowd.html";
  RunResult report =
      RunReport({"--format", "html", "-o", html_path, e2e::ReportPath(dir, run.pid)}, dir);
  EXPECT_TRUE(report.exited && report.exit_status == 1) << report.Describe() << report.output;
  std::string html = ReadFile(html_path);
  KeepArtifact(html_path, "crowd-10000.html");
  EXPECT_LT(html.size(), 2u * 1024 * 1024);
  // The crowd, the two deadlocked threads and main, in 3 + 2 + 1 groups.
  EXPECT_NE(html.find(std::to_string(crowd + 3) + " threads listed in 6 groups"), std::string::npos)
      << html.substr(0, 2000);
  EXPECT_EQ(Count(html, "<span class=badge>deadlocked</span>"), 2u);
  EXPECT_NE(html.find(std::to_string((crowd + 2) / 3) + " threads in state <code>cond</code>"),
            std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org"));  // nothing fetched
  if (Which("dot")) {
    size_t svg = html.find("<svg"), svg_end = html.find("</svg>");
    ASSERT_NE(svg, std::string::npos);
    ASSERT_NE(svg_end, std::string::npos);
    std::string graph = html.substr(svg, svg_end - svg);
    EXPECT_NE(graph.find("LockAThenB"), std::string::npos) << graph;
    EXPECT_NE(graph.find("LockBThenA"), std::string::npos) << graph;
  } else {
    EXPECT_NE(html.find("The graph is not drawn"), std::string::npos);
  }
  std::optional<std::string> chromium = Which("chromium");
  if (!chromium) GTEST_SKIP() << "no chromium (Debian: chromium) for the screenshot";
  std::string png = dir.path() + "/crowd.png";
  RunResult shot =
      RunTool({*chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--user-data-dir=" + dir.path() + "/chromium", "--hide-scrollbars",
               "--window-size=1200,1600", "--screenshot=" + png, "file://" + html_path},
              dir, "chromium.txt", std::chrono::seconds(90));
  ASSERT_TRUE(shot.exited && shot.exit_status == 0) << shot.Describe() << shot.output;
  std::string image = ReadFile(png);
  ASSERT_GT(image.size(), 20u * 1024) << "a blank page compresses to a few KB";
  EXPECT_EQ(image.substr(1, 3), "PNG");
  KeepArtifact(png, "crowd-10000.png");
}

TEST(BadInput, ClearOneLineErrorsAndStatusTwo) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  WriteFile(dir.path() + "/text-report",
            "threadleak: found 1 unexpected thread at exit\n[Thread 1\n");
  const Case cases[] = {
      {{}, "name at least one report file"},
      {{"--format", "yaml", dir.path() + "/text-report"}, "unknown format 'yaml'"},
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{dir.path() + "/missing"}, "missing: cannot read it"},
      {{dir.path() + "/text-report"}, "no JSON report in it (was it written with format=json?)"},
  };
  for (const Case& c : cases) {
    RunResult run = RunReport(c.args, dir);
    EXPECT_TRUE(run.exited && run.exit_status == 2) << run.Describe() << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << run.output;
    EXPECT_LE(Lines(run.output).size(), 2u) << run.output;
  }
}

// A CI step names its reports folder; when nothing leaked it is empty.
TEST(Directories, StandForTheirFilesAndAnEmptyOneIsNoLeak) {
  TempDir dir;
  std::string reports = dir.path() + "/reports";
  std::filesystem::create_directory(reports);
  RunResult empty = RunReport({reports}, dir);
  EXPECT_TRUE(empty.exited && empty.exit_status == 0) << empty.Describe() << empty.output;
  EXPECT_NE(empty.output.find("threadleak: 0 processes, 0 leaked threads"), std::string::npos)
      << empty.output;
  const e2e::EnvChanges env = {
      {"LD_PRELOAD", THREADLEAK_SHIM_PATH},
      {"THREADLEAK_OPTIONS", "format=json:log_path=" + reports + "/tl:linger_ms=50"}};
  for (int i = 0; i < 2; ++i) {
    RunResult run = e2e::RunProgram({RT_LEAKY_WORKER}, env, dir.path() + "/program.txt");
    ASSERT_TRUE(run.exited && run.exit_status == 66) << run.Describe();
  }
  RunResult full = RunReport({reports}, dir);
  EXPECT_TRUE(full.exited && full.exit_status == 1) << full.Describe() << full.output;
  EXPECT_NE(full.output.find("threadleak: 2 processes, 2 leaked threads, 1 distinct leak"),
            std::string::npos)
      << full.output;
}

TEST(BadInput, BrokenLinesAreSkippedAndTheRestIsRead) {
  TempDir dir;
  RunResult run = RunLeaking({RT_LEAKY_WORKER}, dir);
  ASSERT_TRUE(run.exited && run.exit_status == 66) << run.Describe();
  std::string mixed = dir.path() + "/mixed";
  WriteFile(mixed, "{\"tool\":\"threadleak\",\"threads\":[{\"tid\":1,\n{\"tool\":\"other\"}\n" +
                       ReadFile(e2e::ReportPath(dir, run.pid)) + "plain text\n");
  RunResult report = RunReport({mixed}, dir);
  EXPECT_TRUE(report.exited && report.exit_status == 1) << report.Describe() << report.output;
  EXPECT_NE(report.output.find("mixed:1: not JSON"), std::string::npos) << report.output;
  EXPECT_NE(report.output.find("mixed:2: JSON, but not a threadleak report"), std::string::npos)
      << report.output;
  EXPECT_NE(report.output.find("1 process, 1 leaked thread, 1 distinct leak"), std::string::npos)
      << report.output;
}

TEST(NoLeak, ExitsZeroAndSaysSoInEveryFormat) {
  TempDir dir;
  std::string clean = dir.path() + "/clean";
  WriteFile(clean,
            "{\"tool\":\"threadleak\",\"version\":\"0.1.0\",\"pid\":7,\"trigger\":\"signal\","
            "\"leaks\":0,\"threads\":[{\"tid\":8,\"name\":\"idle\",\"state\":\"sleep\","
            "\"verdict\":\"alive\",\"stack\":[],\"created_by\":{\"tid\":7,\"stack\":[]}}],"
            "\"groups\":[],\"deadlocks\":[]}\n");
  RunResult text = RunReport({clean}, dir);
  EXPECT_TRUE(text.exited && text.exit_status == 0) << text.Describe() << text.output;
  EXPECT_NE(text.output.find("SUMMARY: threadleak: no leaked threads in 1 process"),
            std::string::npos)
      << text.output;
  RunResult all = RunReport({"--all", clean}, dir);
  EXPECT_TRUE(all.exited && all.exit_status == 0);
  EXPECT_NE(all.output.find("\"idle\" in state sleep"), std::string::npos) << all.output;
  RunResult junit = RunReport({"--format", "junit", "-o", dir.path() + "/clean.xml", clean}, dir);
  EXPECT_TRUE(junit.exited && junit.exit_status == 0) << junit.output;
  std::string xml = ReadFile(dir.path() + "/clean.xml");
  EXPECT_NE(xml.find("tests=\"1\" failures=\"0\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"no leaked threads\""), std::string::npos) << xml;
  if (std::optional<std::string> xmllint = Which("xmllint")) {
    RunResult check =
        RunTool({*xmllint, "--noout", "--schema", std::string(RT_SCHEMA_DIR) + "/junit-10.xsd",
                 dir.path() + "/clean.xml"},
                dir, "xmllint.txt");
    EXPECT_TRUE(check.exited && check.exit_status == 0) << check.output;
  }
  RunResult sarif = RunReport({"--format", "sarif", "-o", dir.path() + "/clean.sarif", clean}, dir);
  EXPECT_TRUE(sarif.exited && sarif.exit_status == 0) << sarif.output;
  EXPECT_EQ(json::parse(ReadFile(dir.path() + "/clean.sarif"))["runs"][0]["results"].size(), 0u);
  if (std::optional<RunResult> check = ValidateSarif(dir.path() + "/clean.sarif", dir)) {
    EXPECT_TRUE(check->exited && check->exit_status == 0) << check->output;
  }
  RunResult github = RunReport({"--format", "github", clean}, dir);
  EXPECT_TRUE(github.exited && github.exit_status == 0);
  EXPECT_EQ(github.output, "");
}

// Names are the program's: a thread name or a function may hold anything. Every format must stay
// well-formed: XML without raw control characters, HTML escaped, one GitHub command a line.
TEST(HostileNames, EveryFormatStaysWellFormed) {
  TempDir dir;
  std::string hostile = dir.path() + "/hostile";
  const std::string frame =
      "{\"function\":\"Evil<b>&\\\"quote\\u0001,colon:percent%\\nline\",\"file\":\"" +
      std::string(RT_SOURCE_DIR) + "/a,b:c%d.cc\",\"line\":7,\"module\":\"/bin/evil\"}";
  WriteFile(hostile,
            "{\"tool\":\"threadleak\",\"pid\":9,\"trigger\":\"exit\",\"leaks\":1,\"threads\":[{"
            "\"tid\":10,\"name\":\"<script>\\u0007\",\"state\":\"cond\",\"verdict\":\"leaked\","
            "\"reason\":\"</td>&amp;\",\"stack\":[" +
                frame + "],\"created_by\":{\"tid\":9,\"stack\":[" + frame + "]}}]}\n");
  std::string xml = dir.path() + "/hostile.xml";
  RunResult junit = RunReport({"--format", "junit", "-o", xml, hostile}, dir);
  ASSERT_TRUE(junit.exited && junit.exit_status == 1) << junit.Describe() << junit.output;
  std::string xml_text = ReadFile(xml);
  EXPECT_EQ(xml_text.find('\x01'), std::string::npos);
  EXPECT_EQ(xml_text.find('\x07'), std::string::npos);
  if (std::optional<std::string> xmllint = Which("xmllint")) {
    RunResult check = RunTool(
        {*xmllint, "--noout", "--schema", std::string(RT_SCHEMA_DIR) + "/junit-10.xsd", xml}, dir,
        "xmllint.txt");
    EXPECT_TRUE(check.exited && check.exit_status == 0) << check.output << xml_text;
  }
  std::string html_path = dir.path() + "/hostile.html";
  RunResult html = RunReport({"--format", "html", "--no-graph", "-o", html_path, hostile}, dir);
  ASSERT_TRUE(html.exited && html.exit_status == 1) << html.output;
  std::string page = ReadFile(html_path);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_EQ(page.find("</td>&amp;"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  RunResult github =
      RunReport({"--format", "github", "--source-root", RT_SOURCE_DIR, hostile}, dir);
  ASSERT_TRUE(github.exited && github.exit_status == 1) << github.output;
  std::vector<std::string> lines = Lines(github.output);
  ASSERT_EQ(lines.size(), 1u) << github.output;
  EXPECT_NE(lines[0].find("::error file=a%2Cb%3Ac%25d.cc,line=7,title="), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("percent%25%0Aline"), std::string::npos) << lines[0];
  std::string sarif_path = dir.path() + "/hostile.sarif";
  RunResult sarif = RunReport(
      {"--format", "sarif", "--source-root", RT_SOURCE_DIR, "-o", sarif_path, hostile}, dir);
  ASSERT_TRUE(sarif.exited && sarif.exit_status == 1) << sarif.output;
  json parsed = json::parse(ReadFile(sarif_path));
  EXPECT_EQ(parsed["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                  ["uri"],
            "a%2Cb%3Ac%25d.cc");
  if (std::optional<RunResult> check = ValidateSarif(sarif_path, dir)) {
    EXPECT_TRUE(check->exited && check->exit_status == 0) << check->output;
  }
}

// A CTest project whose tests hang (ctest_hang/), with TIMEOUT 5, built and run with the CMake
// on this machine: each hung test fails with a dump of its threads, before CTest's timeout.
TEST(CtestTimeouts, HungTestsDumpTheirThreadsBeforeCtestKillsThem) {
  if (Sanitized()) {
    GTEST_SKIP() << "the project is plain, and this build's report module loads only into "
                    "instrumented programs (as for tests/api's package test)";
  }
  TempDir dir;
  std::string build = dir.path() + "/build";
  RunResult configure = RunTool({RT_CMAKE, "-S", RT_HANG_PROJECT, "-B", build,
                                 std::string("-DTHREADLEAK_SHIM=") + THREADLEAK_SHIM_PATH,
                                 std::string("-DTHREADLEAK_FUNCTIONS=") + RT_FUNCTIONS},
                                dir, "configure.txt");
  ASSERT_TRUE(configure.exited && configure.exit_status == 0) << configure.output;
  RunResult compile =
      RunTool({RT_CMAKE, "--build", build, "-j", "2"}, dir, "build.txt", std::chrono::seconds(170));
  ASSERT_TRUE(compile.exited && compile.exit_status == 0) << compile.output;
  RunResult ctest = RunTool({RT_CTEST, "--test-dir", build, "--output-on-failure", "-j", "5"}, dir,
                            "ctest.txt", std::chrono::seconds(60));
  ASSERT_TRUE(ctest.exited) << ctest.Describe();
  const std::string& out = ctest.output;
  EXPECT_EQ(ctest.exit_status, 8) << out;  // CTest: some tests failed
  const char* hung_tests[] = {"hang_each", "hang_directory", "discovered.Hang.WaitsForever"};
  if (RT_CMAKE_TIMEOUT_SIGNAL) {
    // CMake 3.27 or later: CTest ends them at their TIMEOUT with SIGTERM; each dumps, then dies.
    for (const char* hung : hung_tests) {
      std::regex timed_out(std::string(R"(Test +#[0-9]+: )") + hung +
                           R"( \.+\*\*\*Timeout +[5-7]\.[0-9]+ sec)");
      EXPECT_TRUE(std::regex_search(out, timed_out)) << hung << " did not time out:\n" << out;
    }
    EXPECT_EQ(Count(out, "which dies of SIGTERM"), 3u) << out;
  } else {
    EXPECT_EQ(Count(out, "***Timeout"), 0u) << "a test CTest had to kill:\n" << out;
    for (const char* hung : hung_tests) {
      std::regex failed(std::string(R"(Test +#[0-9]+: )") + hung +
                        R"( \.+\*\*\*Failed +[0-4]\.[0-9]+ sec)");
      EXPECT_TRUE(std::regex_search(out, failed)) << hung << " did not fail before 5 s:\n" << out;
    }
    EXPECT_EQ(Count(out, "at the time limit"), 3u) << out;
  }
  for (const char* passed : {"quick_each", "own_signal_each", "discovered.Hang.Passes"}) {
    std::regex ok(std::string(R"(Test +#[0-9]+: )") + passed + R"( \.+ +Passed)");
    EXPECT_TRUE(std::regex_search(out, ok)) << passed << ":\n" << out;
  }
  EXPECT_GE(Count(out, "WaitForever() at "), 2u) << out;
  EXPECT_GE(Count(out, "WaitInTest() at "), 1u) << out;
}

}  // namespace
}  // namespace report_tool_test

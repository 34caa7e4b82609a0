// SARIF 2.1.0 (OASIS), as GitHub code scanning ingests it. Validated against the official schema
// in tests/report_tool (sarif-schema-2.1.0.json).
#include <nlohmann/json.hpp>

#include "tools/report/outputs.h"
#include "tools/report/source_paths.h"

#ifndef THREADLEAK_VERSION
#define THREADLEAK_VERSION "unknown"
#endif

namespace threadleak::report_tool {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kLeakRule = "threadleak/leaked-thread";
constexpr const char* kDeadlockRule = "threadleak/deadlocked-thread";
constexpr const char* kListedRule = "threadleak/thread";

Json Rules() {
  auto rule = [](const char* id, const char* name, const char* brief, const char* full,
                 const char* level) {
    return Json{{"id", id},
                {"name", name},
                {"shortDescription", {{"text", brief}}},
                {"fullDescription", {{"text", full}}},
                {"defaultConfiguration", {{"level", level}}},
                {"help", {{"text", full}}}};
  };
  return Json::array(
      {rule(kLeakRule, "LeakedThread", "A thread was still running when the program ended",
            "A thread the program started was still alive (blocked, or finished but never "
            "joined) when the program ended or a leak check ran. The stack shows where it "
            "waits; the location is where it was started.",
            "error"),
       rule(kDeadlockRule, "DeadlockedThread", "A thread is part of a deadlock",
            "The thread waits, through mutexes, rwlocks or joins, for a thread that waits for "
            "it: none of them can go on.",
            "error"),
       rule(kListedRule, "ListedThread", "A thread listed in a dump",
            "A thread alive when a dump was taken (threadleak dump, a time limit, the "
            "watchdog). Not a leak by itself.",
            "note")});
}

Json PhysicalLocation(const Frame& frame, const OutputOptions& options) {
  bool relative = false;
  std::string uri = SourceUri(frame.file, options.source_root, &relative);
  Json artifact = {{"uri", uri}};
  if (relative && !options.source_root.empty()) artifact["uriBaseId"] = "%SRCROOT%";
  Json location = {{"artifactLocation", artifact}};
  if (frame.line > 0) location["region"] = {{"startLine", frame.line}};
  return location;
}

// The stack where the threads wait, outermost call first (the order the code ran in), as one
// thread flow.
Json CodeFlow(const Thread& thread, const OutputOptions& options) {
  Json locations = Json::array();
  for (auto it = thread.stack.rbegin(); it != thread.stack.rend(); ++it) {
    const Frame& frame = *it;
    Json location = {{"message", {{"text", frame.function + (frame.inlined ? " (inlined)" : "")}}}};
    if (!frame.file.empty()) location["physicalLocation"] = PhysicalLocation(frame, options);
    Json flow_location = {{"location", location}};
    if (frame.runtime) flow_location["importance"] = "unimportant";
    locations.push_back(flow_location);
  }
  return Json::array({{{"message", {{"text", "where the thread waits"}}},
                       {"threadFlows", Json::array({{{"locations", locations}}})}}});
}

std::string Message(const ThreadGroup& group) {
  const Thread& thread = *group.representative;
  size_t n = group.members.size();
  std::string text = std::to_string(n) + (n == 1 ? " thread" : " threads");
  if (!group.names.empty()) text += " \"" + *group.names.begin() + "\"";
  text += group.verdicts.count("deadlocked") ? " deadlocked" : group.leak ? " leaked" : " alive";
  text += " in state " + group.state;
  if (const Frame* top = TopUserFrame(thread.stack); top != nullptr) {
    text += ", waiting in " + top->function;
  }
  if (const Frame* creator = TopUserFrame(thread.creation); creator != nullptr) {
    text += "; started by " + creator->function;
  }
  if (group.pids.size() > 1) text += " (" + std::to_string(group.pids.size()) + " processes)";
  if (!group.tests.empty()) text += " in test " + *group.tests.begin();
  if (!thread.reason.empty()) text += ". " + thread.reason;
  return text + ".";
}

}  // namespace

std::string RenderSarif(const Analysis& analysis, const OutputOptions& options) {
  Json results = Json::array();
  for (const ThreadGroup& group : analysis.groups) {
    const char* rule = group.verdicts.count("deadlocked") ? kDeadlockRule
                       : group.leak                       ? kLeakRule
                                                          : kListedRule;
    int rule_index = rule == kLeakRule ? 0 : rule == kDeadlockRule ? 1 : 2;
    Json result = {{"ruleId", rule},
                   {"ruleIndex", rule_index},
                   {"level", group.leak ? "error" : "note"},
                   {"message", {{"text", Message(group)}}}};
    Json locations = Json::array();
    if (const Frame* site = SourceSite(group, options.source_root); site != nullptr) {
      Json location = {{"physicalLocation", PhysicalLocation(*site, options)}};
      location["logicalLocations"] =
          Json::array({{{"fullyQualifiedName", site->function}, {"kind", "function"}}});
      locations.push_back(location);
    }
    result["locations"] = locations;
    if (!group.representative->stack.empty()) {
      result["codeFlows"] = CodeFlow(*group.representative, options);
    }
    result["partialFingerprints"] = {{"threadleakStacks/v1", group.fingerprint}};
    result["properties"] = {{"threads", group.members.size()},
                            {"processes", group.pids.size()},
                            {"state", group.state}};
    results.push_back(result);
  }
  Json run = {{"tool",
               {{"driver",
                 {{"name", "threadleak"},
                  {"version", THREADLEAK_VERSION},
                  {"semanticVersion", THREADLEAK_VERSION},
                  {"rules", Rules()}}}}}};
  if (!options.source_root.empty()) {
    bool relative = false;
    run["originalUriBaseIds"] = {
        {"%SRCROOT%", {{"uri", SourceUri(options.source_root, "", &relative)}}}};
  }
  run["results"] = results;
  Json log = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
              {"version", "2.1.0"},
              {"runs", Json::array({run})}};
  return log.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace threadleak::report_tool

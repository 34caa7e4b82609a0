// JUnit XML through libxml2's xmlTextWriter, which does the escaping. The shape follows what
// Jenkins' JUnit plugin, GitLab's test reports and GitHub's test-report actions read (and the
// schema in tests/report_tool/schemas/junit-10.xsd): <testsuites> holding one <testsuite> whose
// <testcase>s each carry a <failure> with a message attribute and the details as text.
#include <libxml/xmlwriter.h>

#include <map>
#include <memory>
#include <stdexcept>

#include "tools/report/outputs.h"

namespace threadleak::report_tool {
namespace {

// XML 1.0 has no way to write most control characters, even escaped: they become '?'.
std::string XmlSafe(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') c = '?';
  }
  return out;
}

class XmlWriter {
 public:
  XmlWriter() : buffer_(xmlBufferCreate()) {
    if (buffer_ == nullptr) throw std::bad_alloc();
    writer_ = xmlNewTextWriterMemory(buffer_, 0);
    if (writer_ == nullptr) {
      xmlBufferFree(buffer_);
      throw std::bad_alloc();
    }
    xmlTextWriterSetIndent(writer_, 1);
    xmlTextWriterSetIndentString(writer_, BAD_CAST "  ");
    Check(xmlTextWriterStartDocument(writer_, nullptr, "UTF-8", nullptr));
  }
  ~XmlWriter() {
    if (writer_ != nullptr) xmlFreeTextWriter(writer_);
    xmlBufferFree(buffer_);
  }
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  void Start(const char* element) { Check(xmlTextWriterStartElement(writer_, BAD_CAST element)); }
  void End() { Check(xmlTextWriterEndElement(writer_)); }
  void Attribute(const char* name, const std::string& value) {
    Check(xmlTextWriterWriteAttribute(writer_, BAD_CAST name, BAD_CAST XmlSafe(value).c_str()));
  }
  void Text(const std::string& text) {
    Check(xmlTextWriterWriteString(writer_, BAD_CAST XmlSafe(text).c_str()));
  }

  std::string Finish() {
    Check(xmlTextWriterEndDocument(writer_));
    xmlFreeTextWriter(writer_);  // flushes into the buffer
    writer_ = nullptr;
    return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer_)),
                       static_cast<size_t>(xmlBufferLength(buffer_)));
  }

 private:
  static void Check(int status) {
    if (status < 0) throw std::runtime_error("libxml2 could not write the JUnit XML");
  }

  xmlBufferPtr buffer_;
  xmlTextWriterPtr writer_ = nullptr;
};

// The failure message: what a CI page shows in its list of failed tests.
std::string FailureMessage(const ThreadGroup& group) {
  size_t n = group.members.size();
  std::string message = std::to_string(n) + (n == 1 ? " thread " : " threads ");
  message += group.verdicts.count("deadlocked") ? "deadlocked" : "leaked";
  message += " in state " + group.state;
  if (const Frame* top = TopUserFrame(group.representative->stack); top != nullptr) {
    message += " at " + top->function;
    if (!top->file.empty()) {
      message += " (" + top->file + (top->line > 0 ? ":" + std::to_string(top->line) : "") + ")";
    }
  }
  if (group.pids.size() > 1) message += " in " + std::to_string(group.pids.size()) + " processes";
  return message;
}

}  // namespace

std::string RenderJunit(const Analysis& analysis) {
  std::vector<const ThreadGroup*> leaks;
  for (const ThreadGroup& group : analysis.groups) {
    if (group.leak) leaks.push_back(&group);
  }
  // Every test case needs a name; one with no leaks says so, so a reporter shows a pass.
  const std::string tests = std::to_string(leaks.empty() ? 1 : leaks.size());
  const std::string failures = std::to_string(leaks.size());
  XmlWriter xml;
  xml.Start("testsuites");
  xml.Attribute("name", "threadleak");
  xml.Attribute("tests", tests);
  xml.Attribute("failures", failures);
  xml.Attribute("errors", "0");
  xml.Start("testsuite");
  xml.Attribute("name", "threadleak");
  xml.Attribute("tests", tests);
  xml.Attribute("failures", failures);
  xml.Attribute("errors", "0");
  xml.Attribute("skipped", "0");
  xml.Start("properties");
  xml.Start("property");
  xml.Attribute("name", "processes");
  xml.Attribute("value", std::to_string(analysis.processes));
  xml.End();
  xml.Start("property");
  xml.Attribute("name", "leaked_threads");
  xml.Attribute("value", std::to_string(analysis.leaked_threads));
  xml.End();
  xml.End();  // properties
  if (leaks.empty()) {
    xml.Start("testcase");
    xml.Attribute("classname", "threadleak");
    xml.Attribute("name", "no leaked threads");
    xml.Attribute("time", "0");
    xml.End();
  }
  // Test case names stay the same from run to run (the title has no addresses or tids), so a
  // CI's test history follows a leak; two groups with one title are told apart by a number.
  std::map<std::string, int> seen;
  for (const ThreadGroup* group : leaks) {
    std::string name = "leaked thread: " + GroupTitle(*group);
    if (int n = ++seen[name]; n > 1) name += " #" + std::to_string(n);
    // The GoogleTest test that created the threads names the class, as gtest's own XML does.
    std::string classname = "threadleak";
    if (group->tests.size() == 1) classname = *group->tests.begin();
    xml.Start("testcase");
    xml.Attribute("classname", classname);
    xml.Attribute("name", name);
    xml.Attribute("time", "0");
    xml.Start("failure");
    xml.Attribute("message", FailureMessage(*group));
    xml.Attribute("type", group->verdicts.count("deadlocked") ? "deadlock" : "thread leak");
    xml.Text(GroupText(*group));
    xml.End();
    xml.End();
  }
  xml.End();  // testsuite
  xml.End();  // testsuites
  return xml.Finish();
}

}  // namespace threadleak::report_tool

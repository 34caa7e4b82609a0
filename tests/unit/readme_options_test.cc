// The README's option table is the X-macro (preload/config/options.inc) written out: this test
// fails, and prints the table to paste, when the two disagree.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "preload/config/options.h"

namespace threadleak {
namespace {

std::string ExpectedTable() {
  std::string table = "| option | default | meaning |\n|---|---|---|\n";
  ForEachOptionDoc(
      [](const OptionDoc& doc, void* out) {
        std::string default_text =
            doc.default_text[0] == '\0' ? "(none)" : "`" + std::string(doc.default_text) + "`";
        *static_cast<std::string*>(out) += "| `" + std::string(doc.name) + "` | " + default_text +
                                           " | " + doc.description + " |\n";
      },
      &table);
  return table;
}

TEST(ReadmeOptions, TableMatchesTheOptionsDeclaredInOptionsInc) {
  std::ifstream readme(THREADLEAK_README);
  ASSERT_TRUE(readme) << THREADLEAK_README;
  std::stringstream text;
  text << readme.rdbuf();
  std::string expected = ExpectedTable();
  EXPECT_NE(text.str().find(expected), std::string::npos)
      << "README.md's option table is out of date; it should read:\n\n"
      << expected;
}

TEST(ReadmeOptions, EveryOptionHasADescription) {
  ForEachOptionDoc(
      [](const OptionDoc& doc, void*) { EXPECT_GT(std::string(doc.description).size(), 10u); },
      nullptr);
}

}  // namespace
}  // namespace threadleak

// The minimal GoogleTest output file (gtest_output/minimal_output.h): escaping,
// and a JSON file that parses back to the same names and message.
#include "gtest_watchdog/gtest_output/minimal_output.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Text no test name or message should be able to break the file with.
const std::string kHostile =
    "a<b>&\"c\"'d' ]]> e\x01\x1b[31m\ttab\nline\rcr \xe2\x80\x94";

MinimalCase Case() {
  MinimalCase c;
  c.suite = "Suite<1>";
  c.test = "Test/\"quoted\"";
  c.message = "[ TIMEOUT  ] " + kHostile + "\nStack trace:\n  #0 f() a.cc:1";
  c.summary = "[ TIMEOUT  ] " + kHostile;
  c.seconds = 1.25;
  return c;
}

TEST(MinimalOutputTest, XmlAttributeEscapesAndDropsWhatXmlCannotHold) {
  EXPECT_EQ(XmlAttribute(kHostile),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos; ]]&gt; e[31m&#x09;tab"
            "&#x0A;line&#x0D;cr \xe2\x80\x94");
}

TEST(MinimalOutputTest, CdataSplitsItsTerminator) {
  EXPECT_EQ(XmlCdata("x]]>y\x02"), "<![CDATA[x]]>]]&gt;<![CDATA[y]]>");
  EXPECT_EQ(XmlCdata(""), "<![CDATA[]]>");
}

TEST(MinimalOutputTest, XmlHasTheOneFailedCase) {
  const std::string xml = MinimalXml(Case());
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  EXPECT_THAT(xml, HasSubstr("<testsuites tests=\"1\" failures=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"Suite&lt;1&gt;\" tests=\"1\" "
                             "failures=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testcase name=\"Test/&quot;quoted&quot;\" "
                             "status=\"run\" result=\"completed\" "
                             "time=\"1.25\" classname=\"Suite&lt;1&gt;\""));
  // The summary only in the attribute, the stack only in the text.
  EXPECT_THAT(xml, HasSubstr("<failure message=\"[ TIMEOUT  ] a&lt;b&gt;"));
  EXPECT_THAT(xml, HasSubstr("<![CDATA[[ TIMEOUT  ] a<b>&\"c\"'d' ]]>]]&gt;"
                             "<![CDATA[ e"));
  EXPECT_THAT(xml, HasSubstr("#0 f() a.cc:1]]></failure>"));
  EXPECT_THAT(xml, Not(HasSubstr("\x01")));
  // How GoogleTest ends the file (gtest_output.cc checks for it).
  EXPECT_EQ(xml.substr(xml.size() - 14), "</testsuites>\n");
}

TEST(MinimalOutputTest, JsonParsesBackToTheSameCase) {
  const MinimalCase c = Case();
  const std::string text = MinimalJson(c);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text;
  EXPECT_EQ(j["tests"], 1);
  EXPECT_EQ(j["failures"], 1);
  ASSERT_EQ(j["testsuites"].size(), 1u);
  const nlohmann::json& suite = j["testsuites"][0];
  EXPECT_EQ(suite["name"], c.suite);
  EXPECT_EQ(suite["failures"], 1);
  ASSERT_EQ(suite["testsuite"].size(), 1u);
  const nlohmann::json& test = suite["testsuite"][0];
  EXPECT_EQ(test["name"], c.test);
  EXPECT_EQ(test["classname"], c.suite);
  EXPECT_EQ(test["status"], "RUN");
  EXPECT_EQ(test["result"], "COMPLETED");
  EXPECT_EQ(test["time"], "1.25s");
  ASSERT_EQ(test["failures"].size(), 1u);
  EXPECT_EQ(test["failures"][0]["failure"], c.message);
  EXPECT_EQ(text.substr(text.size() - 3), "\n}\n");
}

// A failure outside any test: the suite's own case, named "".
TEST(MinimalOutputTest, PhaseFailureIsAnUnnamedCase) {
  MinimalCase c;
  c.suite = "NonTestSuiteFailure";
  c.message = c.summary = "env";
  EXPECT_THAT(MinimalXml(c), HasSubstr("<testcase name=\"\" "));
  const nlohmann::json j = nlohmann::json::parse(MinimalJson(c));
  EXPECT_EQ(j["testsuites"][0]["testsuite"][0]["name"], "");
}

}  // namespace
}  // namespace gtest_watchdog_internal

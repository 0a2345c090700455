#include "gtest_watchdog/gtest_output/minimal_output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace gtest_watchdog_internal {
namespace {

// Characters XML 1.0 cannot hold at all (C0 controls but tab, newline and
// carriage return) are dropped, as GoogleTest does.
bool XmlAllowed(unsigned char c) {
  return c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string XmlAttribute(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#x0A;";
        break;
      case '\r':
        out += "&#x0D;";
        break;
      case '\t':
        out += "&#x09;";
        break;
      default:
        if (XmlAllowed(static_cast<unsigned char>(c))) out += c;
    }
  }
  return out;
}

std::string XmlCdata(const std::string& text) {
  std::string kept;
  for (char c : text) {
    if (XmlAllowed(static_cast<unsigned char>(c))) kept += c;
  }
  return absl::StrCat(
      "<![CDATA[", absl::StrReplaceAll(kept, {{"]]>", "]]>]]&gt;<![CDATA["}}),
      "]]>");
}

std::string MinimalXml(const MinimalCase& c) {
  const std::string time = absl::StrCat(c.seconds);
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites tests=\"1\" failures=\"1\" disabled=\"0\" errors=\"0\" "
      "time=\"",
      time, "\" name=\"AllTests\">\n  <testsuite name=\"",
      XmlAttribute(c.suite),
      "\" tests=\"1\" failures=\"1\" disabled=\"0\" skipped=\"0\" "
      "errors=\"0\" time=\"",
      time, "\">\n    <testcase name=\"", XmlAttribute(c.test),
      "\" status=\"run\" result=\"completed\" time=\"", time, "\" classname=\"",
      XmlAttribute(c.suite), "\">\n      <failure message=\"",
      XmlAttribute(c.summary), "\" type=\"\">", XmlCdata(c.message),
      "</failure>\n    </testcase>\n  </testsuite>\n</testsuites>\n");
}

std::string MinimalJson(const MinimalCase& c) {
  // nlohmann's ordered_json keeps GoogleTest's key order; invalid UTF-8 in a
  // message becomes U+FFFD instead of an exception (or, without exceptions,
  // an abort).
  const std::string time = absl::StrCat(c.seconds, "s");
  nlohmann::ordered_json failure;
  failure["failure"] = c.message;
  failure["type"] = "";
  nlohmann::ordered_json test;
  test["name"] = c.test;
  test["status"] = "RUN";
  test["result"] = "COMPLETED";
  test["time"] = time;
  test["classname"] = c.suite;
  test["failures"] = nlohmann::ordered_json::array({failure});
  nlohmann::ordered_json suite;
  suite["name"] = c.suite;
  suite["tests"] = 1;
  suite["failures"] = 1;
  suite["disabled"] = 0;
  suite["errors"] = 0;
  suite["time"] = time;
  suite["testsuite"] = nlohmann::ordered_json::array({test});
  nlohmann::ordered_json file;
  file["tests"] = 1;
  file["failures"] = 1;
  file["disabled"] = 0;
  file["errors"] = 0;
  file["time"] = time;
  file["name"] = "AllTests";
  file["testsuites"] = nlohmann::ordered_json::array({suite});
  return file.dump(2, ' ', false,
                   nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/report/minimal_output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

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

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
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
  const std::string time = absl::StrCat(c.seconds, "s");
  return absl::StrCat(
      "{\n  \"tests\": 1,\n  \"failures\": 1,\n  \"disabled\": 0,\n"
      "  \"errors\": 0,\n  \"time\": \"",
      time,
      "\",\n  \"name\": \"AllTests\",\n  \"testsuites\": [\n    {\n"
      "      \"name\": ",
      JsonString(c.suite),
      ",\n      \"tests\": 1,\n      \"failures\": 1,\n      \"disabled\": 0,\n"
      "      \"errors\": 0,\n      \"time\": \"",
      time, "\",\n      \"testsuite\": [\n        {\n          \"name\": ",
      JsonString(c.test),
      ",\n          \"status\": \"RUN\",\n          \"result\": "
      "\"COMPLETED\",\n"
      "          \"time\": \"",
      time, "\",\n          \"classname\": ", JsonString(c.suite),
      ",\n          \"failures\": [\n            {\n"
      "              \"failure\": ",
      JsonString(c.message),
      ",\n              \"type\": \"\"\n            }\n          ]\n"
      "        }\n      ]\n    }\n  ]\n}\n");
}

}  // namespace gtest_watchdog_internal

// File: gtest_watchdog/gtest_output/minimal_output.h
//
// The minimal GoogleTest output file: valid XML or JSON in GoogleTest's own
// layout with one failed test case, the stalled (or crashed) test. It
// replaces GoogleTest's file when GoogleTest's generator cannot write a
// whole one after a stall (gtest_output.h, output_rescue.h). Allocates; no
// lock; not signal-safe: rendered before the generator runs.
#pragma once

#include <string>

namespace gtest_watchdog_internal {

// What the minimal file says: the suite and test GoogleTest's own file
// would show the failure under (a suite's own failure as a test case named
// "" of that suite, the program's as GoogleTest's "NonTestSuiteFailure"
// suite), the failure, and the time so far.
struct MinimalCase {
  std::string suite;
  std::string test;
  std::string message;
  std::string summary;  // up to GoogleTest's "\nStack trace:\n" marker
  double seconds = 0;
};

// The whole file, in GoogleTest's XML layout (`message` holds the summary,
// the text the whole message, in CDATA) or its JSON layout.
// After the report, best effort.
std::string MinimalXml(const MinimalCase& c);
std::string MinimalJson(const MinimalCase& c);

// GoogleTest's XML escaping. XML 1.0 cannot hold C0 controls but tab,
// newline and carriage return: dropped, as GoogleTest does. A CDATA section
// cannot hold "]]>": split in two. (The JSON is nlohmann_json's.)
// After the report, best effort.
std::string XmlAttribute(const std::string& text);
std::string XmlCdata(const std::string& text);

}  // namespace gtest_watchdog_internal

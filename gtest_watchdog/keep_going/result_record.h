// File: gtest_watchdog/keep_going/result_record.h
//
// Keep going (docs/keep-going.md): how a test child tells its supervisor a
// result. One JSON object per line, appended to a memfd the supervisor
// reads once the child has ended; a line cut short by the child's death is
// not a record. The supervisor puts each into its own GoogleTest tables
// (ApplyRecord), so GoogleTest's printer and XML/JSON generator show it as
// if the test had run there.
//
// Not on the stall path: allocates (the child writes records from its
// listener, in a healthy process; the supervisor reads them).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {

struct RecordedPart {
  int type = 0;      // testing::TestPartResult::Type
  std::string file;  // "" for none
  int line = -1;
  std::string message;
};

struct RecordedResult {
  enum class Kind { kTest, kSuite, kProgram };
  Kind kind = Kind::kTest;
  int id = -1;       // registration index of the test or suite
  std::string name;  // "Suite.Name", or the suite's name: checked on reading
  int64_t start_ms = 0;
  int64_t elapsed_ms = 0;
  std::vector<RecordedPart> parts;
  std::vector<std::pair<std::string, std::string>> properties;
};

// What `result` holds. Not on the stall path.
RecordedResult RecordOf(RecordedResult::Kind kind, int id, std::string name,
                        const testing::TestResult& result);

// One line, ending in '\n'. Not on the stall path.
std::string EncodeRecord(const RecordedResult& record);

// Parses one line (without its '\n'). False with *why on anything else.
// Not on the stall path.
bool DecodeRecord(absl::string_view line, RecordedResult* out,
                  std::string* why);

// Every complete line of `text` that parses, in order; the rest counted in
// *bad. Not on the stall path.
std::vector<RecordedResult> DecodeRecords(absl::string_view text, int* bad);

// Adds the record's parts and properties (for the XML element
// `xml_element`: "testcase", "testsuite" or "testsuites") to `result`, and
// sets its start and elapsed time. Not on the stall path.
void ApplyRecord(const RecordedResult& record,
                 const testing::TestResult& result, const char* xml_element);

}  // namespace gtest_watchdog_internal

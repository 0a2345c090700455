// File: gtest_watchdog/keep_going/result_record.h
//
// Keep going (docs/keep-going.md): how a test child tells its supervisor a
// result. One JSON object per line, appended to a memfd the supervisor
// reads once the child has ended; a line cut short by the child's death is
// not a record. The supervisor puts each into its own GoogleTest tables
// (ApplyRecord), so GoogleTest's printer and XML/JSON generator show it as
// if the test had run there.
//
// A test that passed with nothing more to say (no part, so no failure, skip
// or message, and no property) takes the short way instead: 24 bytes in a
// shared mapping (PlainPass), no JSON and no system call. A JSON line and a
// write(2) for each cost about 6 µs a test, most of what keep going cost on
// 100,000 trivial tests (docs/benchmarks.md).
//
// Not on the stall path: allocates (the child writes records from its
// listener, in a healthy process; the supervisor reads them), except
// AppendPlainPass, which neither allocates nor locks nor calls the system.
#pragma once

#include <cstddef>
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

// A plain pass, as the supervisor's tables need it.
struct PlainPass {
  int32_t id = -1;  // registration index of the test
  int32_t reserved = 0;
  int64_t start_ms = 0;
  int64_t elapsed_ms = 0;
};

// Whether `result` says nothing a PlainPass cannot. Not on the stall path.
bool IsPlainPass(const testing::TestResult& result);

// The size of a mapping for `capacity` plain passes (a header, then the
// slots). Not on the stall path.
size_t PlainPassBytes(uint32_t capacity);

// Makes `map` (PlainPassBytes(capacity) bytes, from mmap) an empty log.
// The supervisor's, before a child starts. Not on the stall path.
void InitPlainPasses(void* map, uint32_t capacity);

// Whether `map` (`bytes` long) is a log InitPlainPasses made. Start-up only.
bool IsPlainPassLog(const void* map, size_t bytes);

// Appends `pass`; false when the log is full (the caller then writes a JSON
// record). The count is published after the slot, so a child that dies in
// between leaves no half record. No allocation, no lock, no system call;
// one writer (the test thread's listener).
bool AppendPlainPass(void* map, const PlainPass& pass);

// The complete passes in `map` (`bytes` long), in order; a count beyond the
// capacity or the mapping (a test that wrote over it) is cut to fit.
// Not on the stall path.
std::vector<PlainPass> ReadPlainPasses(const void* map, size_t bytes);

// The supervisor's side of the log: a memfd, emptied and mapped again for
// each child. Not on the stall path.
class PlainPassFile {
 public:
  PlainPassFile() = default;
  PlainPassFile(const PlainPassFile&) = delete;
  PlainPassFile& operator=(const PlainPassFile&) = delete;
  ~PlainPassFile();

  // Makes the memfd; false with errno.
  bool Open();
  int fd() const { return fd_; }
  // An empty log with room for `capacity` passes; false with errno.
  bool Reset(uint32_t capacity);
  // What the child appended (ReadPlainPasses); the mapping goes.
  std::vector<PlainPass> Take();

 private:
  void Unmap();

  int fd_ = -1;
  void* map_ = nullptr;
  size_t bytes_ = 0;
};

// The child's side: maps the log that `fd` holds, then closes `fd`. Null
// with *error. Start-up only.
void* MapPlainPassLog(int fd, std::string* error);

// All of `fd` (a memfd) from its start. False on a read error.
// Not on the stall path.
bool ReadWholeFile(int fd, std::string* out);

}  // namespace gtest_watchdog_internal

// Tests for keep going's result records (gtest_watchdog/keep_going/
// result_record.h): the JSON lines a test child writes and its supervisor
// reads back into GoogleTest's tables, and the shared log of plain passes.

#include "gtest_watchdog/keep_going/result_record.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"

namespace gtest_watchdog_internal {

// Found by argument-dependent lookup, so in the records' namespace.
bool operator==(const RecordedPart& a, const RecordedPart& b) {
  return a.type == b.type && a.file == b.file && a.line == b.line &&
         a.message == b.message;
}

bool operator==(const RecordedResult& a, const RecordedResult& b) {
  return a.kind == b.kind && a.id == b.id && a.name == b.name &&
         a.start_ms == b.start_ms && a.elapsed_ms == b.elapsed_ms &&
         a.parts == b.parts && a.properties == b.properties;
}

void PrintTo(const RecordedPart& p, std::ostream* os) {
  *os << p.type << " " << p.file << ":" << p.line << " "
      << ::testing::PrintToString(p.message);
}

void PrintTo(const RecordedResult& r, std::ostream* os) {
  *os << EncodeRecord(r);
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Kind = RecordedResult::Kind;

// A record with a part of every type and a few properties.
RecordedResult FullRecord(Kind kind) {
  RecordedResult r;
  r.kind = kind;
  r.id = 7;
  r.name = kind == Kind::kTest ? "Suite.Name/3" : "Inst/Suite";
  r.start_ms = 1765000000123;
  r.elapsed_ms = 4567;
  r.parts = {
      {static_cast<int>(testing::TestPartResult::kSuccess), "a.cc", 1, "ok"},
      {static_cast<int>(testing::TestPartResult::kNonFatalFailure), "dir/b.cc",
       22, "Expected equality\n  x\n    Which is: 1\n"},
      {static_cast<int>(testing::TestPartResult::kFatalFailure), "", -1,
       "no location: \"quoted\" \\ back\tslash"},
      {static_cast<int>(testing::TestPartResult::kSkip), "c.cc", 3, "skipped"},
  };
  r.properties = {{"key", "value"}, {"multi", "line\none"}, {"empty", ""}};
  return r;
}

RecordedResult MustDecode(const std::string& line) {
  RecordedResult r;
  std::string why;
  EXPECT_TRUE(DecodeRecord(line, &r, &why)) << why << " in " << line;
  return r;
}

std::string WithoutNewline(std::string line) {
  EXPECT_EQ(line.back(), '\n');
  line.pop_back();
  return line;
}

TEST(ResultRecordTest, RoundTripsEveryKind) {
  for (Kind kind : {Kind::kTest, Kind::kSuite, Kind::kProgram}) {
    const RecordedResult r = FullRecord(kind);
    const std::string line = EncodeRecord(r);
    // One line: newlines in messages and properties are escaped.
    ASSERT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_EQ(MustDecode(WithoutNewline(line)), r);
  }
}

TEST(ResultRecordTest, RoundTripsAnEmptyRecord) {
  const RecordedResult r;
  EXPECT_EQ(MustDecode(WithoutNewline(EncodeRecord(r))), r);
}

TEST(ResultRecordTest, InvalidUtf8IsReplacedNotThrown) {
  RecordedResult r = FullRecord(Kind::kTest);
  r.parts[1].message = "raw \xff\xfe bytes";
  r.properties[0].second = "bad \xc3";
  const RecordedResult back = MustDecode(WithoutNewline(EncodeRecord(r)));
  ASSERT_EQ(back.parts.size(), r.parts.size());
  // U+FFFD for each invalid byte.
  EXPECT_EQ(back.parts[1].message, "raw \xef\xbf\xbd\xef\xbf\xbd bytes");
  EXPECT_EQ(back.properties[0].second, "bad \xef\xbf\xbd");
  EXPECT_EQ(back.parts[0], r.parts[0]);
}

TEST(ResultRecordTest, NonAsciiUtf8IsKept) {
  RecordedResult r;
  r.parts = {{1, "\xc3\xa9t\xc3\xa9.cc", 5, "\xe2\x9c\x93 \xf0\x9f\x90\x9b"}};
  EXPECT_EQ(MustDecode(WithoutNewline(EncodeRecord(r))), r);
}

TEST(ResultRecordTest, DecodeRefusesMalformedLines) {
  const std::string good =
      WithoutNewline(EncodeRecord(FullRecord(Kind::kTest)));
  auto why_not = [](const std::string& line) {
    RecordedResult r;
    r.name = "untouched";
    std::string why;
    EXPECT_FALSE(DecodeRecord(line, &r, &why)) << line;
    EXPECT_EQ(r.name, "untouched") << line;
    return why;
  };
  EXPECT_THAT(why_not(""), HasSubstr("not a JSON object"));
  EXPECT_THAT(why_not("garbage"), HasSubstr("not a JSON object"));
  EXPECT_THAT(why_not("[1,2]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(why_not("42"), HasSubstr("not a JSON object"));
  EXPECT_THAT(why_not(good.substr(0, good.size() / 2)),
              HasSubstr("not a JSON object"));
  EXPECT_THAT(why_not("{}"), HasSubstr("missing"));
  EXPECT_THAT(why_not(R"({"kind":"test","id":"1","name":"A.B","start_ms":0,)"
                      R"("elapsed_ms":0,"parts":[],"properties":[]})"),
              HasSubstr("wrong type"));
  EXPECT_THAT(why_not(R"({"kind":"test","id":1.5,"name":"A.B","start_ms":0,)"
                      R"("elapsed_ms":0,"parts":[],"properties":[]})"),
              HasSubstr("wrong type"));
  EXPECT_THAT(why_not(R"({"kind":"case","id":1,"name":"A.B","start_ms":0,)"
                      R"("elapsed_ms":0,"parts":[],"properties":[]})"),
              HasSubstr("unknown kind 'case'"));
  EXPECT_THAT(why_not(R"({"kind":"test","id":1,"name":"A.B","start_ms":0,)"
                      R"("elapsed_ms":0,"properties":[]})"),
              HasSubstr("parts or properties missing"));
  EXPECT_THAT(why_not(R"({"kind":"test","id":1,"name":"A.B","start_ms":0,)"
                      R"("elapsed_ms":0,"parts":{},"properties":[]})"),
              HasSubstr("parts or properties missing"));
  EXPECT_THAT(why_not(R"({"kind":"test","id":1,"name":"A.B","start_ms":0,)"
                      R"("elapsed_ms":0,"parts":[],"properties":{}})"),
              HasSubstr("parts or properties missing"));
  const std::string part_prefix =
      R"({"kind":"test","id":1,"name":"A.B","start_ms":0,"elapsed_ms":0,)"
      R"("properties":[],"parts":[)";
  for (const char* bad_part :
       {R"({"type":4,"file":"","line":1,"message":""})",
        R"({"type":-1,"file":"","line":1,"message":""})",
        R"({"type":1,"file":null,"line":1,"message":""})",
        R"({"type":1,"file":"","line":"1","message":""})",
        R"({"type":1,"file":"","line":1})", R"([1,"",1,""])", "3",
        R"({"type":1,"file":"","line":4294967297,"message":""})"}) {
    EXPECT_THAT(why_not(part_prefix + bad_part + "]}"),
                HasSubstr("a malformed part"))
        << bad_part;
  }
  const std::string property_prefix =
      R"({"kind":"test","id":1,"name":"A.B","start_ms":0,"elapsed_ms":0,)"
      R"("parts":[],"properties":[)";
  for (const char* bad_property : {R"(["k"])", R"(["k","v","w"])", R"(["k",1])",
                                   R"([1,"v"])", R"({"k":"v"})", R"("k")"}) {
    EXPECT_THAT(why_not(property_prefix + bad_property + "]}"),
                HasSubstr("a malformed property"))
        << bad_property;
  }
}

TEST(ResultRecordTest, DecodeRefusesAnIdOutsideInt) {
  // Cast to int it would wrap to a valid registration index.
  RecordedResult r;
  std::string why;
  EXPECT_FALSE(DecodeRecord(
      R"({"kind":"test","id":4294967296,"name":"A.B","start_ms":0,)"
      R"("elapsed_ms":0,"parts":[],"properties":[]})",
      &r, &why));
  EXPECT_THAT(why, HasSubstr("wrong type"));
}

TEST(ResultRecordTest, DecodeRecordsEmptyText) {
  int bad = -1;
  EXPECT_THAT(DecodeRecords("", &bad), IsEmpty());
  EXPECT_EQ(bad, 0);
  EXPECT_THAT(DecodeRecords("\n\n", &bad), IsEmpty());
  EXPECT_EQ(bad, 0);
}

TEST(ResultRecordTest, DecodeRecordsDropsALastLineCutShort) {
  const std::string a = EncodeRecord(FullRecord(Kind::kTest));
  const std::string b = EncodeRecord(FullRecord(Kind::kSuite));
  const std::string c = EncodeRecord(FullRecord(Kind::kProgram));
  int bad = -1;
  const std::vector<RecordedResult> got =
      DecodeRecords(a + b + c.substr(0, c.size() / 2), &bad);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], FullRecord(Kind::kTest));
  EXPECT_EQ(got[1], FullRecord(Kind::kSuite));
  EXPECT_EQ(bad, 1);
  // Cut just before its '\n': complete JSON, but not known to be complete.
  EXPECT_EQ(DecodeRecords(a + c.substr(0, c.size() - 1), &bad).size(), 1u);
  EXPECT_EQ(bad, 1);
  // Only a line cut short.
  EXPECT_THAT(DecodeRecords(a.substr(0, 10), &bad), IsEmpty());
  EXPECT_EQ(bad, 1);
}

TEST(ResultRecordTest, DecodeRecordsSkipsGarbageLines) {
  const std::string a = EncodeRecord(FullRecord(Kind::kTest));
  const std::string c = EncodeRecord(FullRecord(Kind::kProgram));
  int bad = -1;
  const std::vector<RecordedResult> got =
      DecodeRecords("garbage\n" + a + "{\"kind\":1}\n\n" + c, &bad);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Kind::kTest);
  EXPECT_EQ(got[1].kind, Kind::kProgram);
  EXPECT_EQ(bad, 2);
}

TEST(ResultRecordTest, ApplyRecordFillsATestResult) {
  const RecordedResult r = FullRecord(Kind::kTest);
  testing::TestResult result;
  ApplyRecord(r, result, "testcase");
  EXPECT_EQ(result.start_timestamp(), r.start_ms);
  EXPECT_EQ(result.elapsed_time(), r.elapsed_ms);
  ASSERT_EQ(result.total_part_count(), 4);
  EXPECT_TRUE(result.Failed());
  EXPECT_TRUE(result.HasFatalFailure());
  EXPECT_TRUE(result.HasNonfatalFailure());
  const testing::TestPartResult& located = result.GetTestPartResult(1);
  EXPECT_EQ(located.type(), testing::TestPartResult::kNonFatalFailure);
  EXPECT_STREQ(located.file_name(), "dir/b.cc");
  EXPECT_EQ(located.line_number(), 22);
  EXPECT_EQ(std::string(located.message()), r.parts[1].message);
  // No file: GoogleTest's own "no location" (a null file name).
  EXPECT_EQ(result.GetTestPartResult(2).file_name(), nullptr);
  EXPECT_EQ(result.GetTestPartResult(2).line_number(), -1);
  ASSERT_EQ(result.test_property_count(), 3);
  EXPECT_STREQ(result.GetTestProperty(1).key(), "multi");
  EXPECT_STREQ(result.GetTestProperty(1).value(), "line\none");
  // Back the other way: GoogleTest's result holds exactly the record.
  EXPECT_EQ(RecordOf(Kind::kTest, 7, "Suite.Name/3", result), r);
}

TEST(ResultRecordTest, ApplyRecordOfASkip) {
  RecordedResult r;
  r.parts = {{static_cast<int>(testing::TestPartResult::kSkip), "s.cc", 9,
              "not today"}};
  testing::TestResult result;
  ApplyRecord(r, result, "testcase");
  EXPECT_TRUE(result.Skipped());
  EXPECT_FALSE(result.Failed());
}

TEST(ResultRecordTest, RecordOfAResultBuiltByGoogleTestsOwnCalls) {
  testing::TestResult result;
  gtest_internals::AddPart(
      result, testing::TestPartResult(testing::TestPartResult::kFatalFailure,
                                      "x.cc", 12, "boom\nline 2"));
  gtest_internals::AddPart(
      result, testing::TestPartResult(testing::TestPartResult::kSuccess,
                                      // No file: "" (1.18 takes a string_view,
                                      // which a null pointer would crash).
                                      "", -1, "fine"));
  gtest_internals::AddProperty(result, "testsuite", "owner", "me");
  gtest_internals::SetStartTimestamp(result, 1000);
  gtest_internals::SetElapsed(result, 25);
  const RecordedResult r = RecordOf(Kind::kSuite, 2, "Inst/DISABLED_Q", result);
  EXPECT_EQ(r.kind, Kind::kSuite);
  EXPECT_EQ(r.id, 2);
  EXPECT_EQ(r.name, "Inst/DISABLED_Q");
  EXPECT_EQ(r.start_ms, 1000);
  EXPECT_EQ(r.elapsed_ms, 25);
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0], (RecordedPart{2, "x.cc", 12, "boom\nline 2"}));
  EXPECT_EQ(r.parts[1], (RecordedPart{0, "", -1, "fine"}));
  EXPECT_EQ(
      r.properties,
      (std::vector<std::pair<std::string, std::string>>{{"owner", "me"}}));
  // And through a line, as the supervisor gets it.
  EXPECT_EQ(MustDecode(WithoutNewline(EncodeRecord(r))), r);
}

TEST(ResultRecordTest, RecordOfAnEmptyResult) {
  const testing::TestResult result;
  const RecordedResult r = RecordOf(Kind::kProgram, 0, "", result);
  EXPECT_THAT(r.parts, IsEmpty());
  EXPECT_THAT(r.properties, IsEmpty());
  EXPECT_EQ(r.elapsed_ms, 0);
}

// The plain-pass log: a buffer aligned as mmap's would be.
struct PassLog {
  explicit PassLog(uint32_t capacity)
      : bytes(PlainPassBytes(capacity)), memory(bytes / 8 + 1) {
    InitPlainPasses(map(), capacity);
  }
  void* map() { return memory.data(); }
  size_t bytes;
  std::vector<uint64_t> memory;
};

MATCHER_P3(IsPass, id, start_ms, elapsed_ms, "") {
  return arg.id == id && arg.start_ms == start_ms &&
         arg.elapsed_ms == elapsed_ms;
}

PlainPass Pass(int32_t id, int64_t start_ms, int64_t elapsed_ms) {
  PlainPass p;
  p.id = id;
  p.start_ms = start_ms;
  p.elapsed_ms = elapsed_ms;
  return p;
}

TEST(PlainPassTest, AnEmptyLogReadsEmpty) {
  PassLog log(4);
  EXPECT_TRUE(IsPlainPassLog(log.map(), log.bytes));
  EXPECT_THAT(ReadPlainPasses(log.map(), log.bytes), IsEmpty());
}

TEST(PlainPassTest, AppendsReadBackInOrder) {
  PassLog log(3);
  EXPECT_TRUE(AppendPlainPass(log.map(), Pass(7, 1700000000123, 0)));
  EXPECT_TRUE(AppendPlainPass(log.map(), Pass(2, 1700000000124, 15)));
  EXPECT_THAT(
      ReadPlainPasses(log.map(), log.bytes),
      ElementsAre(IsPass(7, 1700000000123, 0), IsPass(2, 1700000000124, 15)));
}

TEST(PlainPassTest, AFullLogRefusesMore) {
  PassLog log(2);
  EXPECT_TRUE(AppendPlainPass(log.map(), Pass(0, 1, 1)));
  EXPECT_TRUE(AppendPlainPass(log.map(), Pass(1, 2, 2)));
  EXPECT_FALSE(AppendPlainPass(log.map(), Pass(2, 3, 3)));
  EXPECT_THAT(ReadPlainPasses(log.map(), log.bytes),
              ElementsAre(IsPass(0, 1, 1), IsPass(1, 2, 2)));
}

TEST(PlainPassTest, AnEmptyListGivesALogWithNoRoom) {
  PassLog log(0);
  EXPECT_TRUE(IsPlainPassLog(log.map(), log.bytes));
  EXPECT_FALSE(AppendPlainPass(log.map(), Pass(0, 1, 1)));
}

TEST(PlainPassTest, ACountWrittenOverIsCutToTheMapping) {
  PassLog log(2);
  ASSERT_TRUE(AppendPlainPass(log.map(), Pass(5, 1, 1)));
  // A test that scribbles over the header: count and capacity huge.
  auto* words = reinterpret_cast<uint32_t*>(log.map());
  words[1] = 0xffffffffu;  // capacity
  words[2] = 0xfffffff0u;  // count
  EXPECT_FALSE(IsPlainPassLog(log.map(), log.bytes));
  EXPECT_EQ(ReadPlainPasses(log.map(), log.bytes).size(), 2u);
}

TEST(PlainPassTest, NotALog) {
  std::vector<uint64_t> zeros(8, 0);
  EXPECT_FALSE(IsPlainPassLog(zeros.data(), zeros.size() * 8));
  EXPECT_FALSE(IsPlainPassLog(nullptr, 64));
  PassLog log(1);
  EXPECT_FALSE(IsPlainPassLog(log.map(), 8));  // shorter than its header
  EXPECT_FALSE(IsPlainPassLog(log.map(), log.bytes - 1));
  EXPECT_THAT(ReadPlainPasses(nullptr, 0), IsEmpty());
  EXPECT_THAT(ReadPlainPasses(log.map(), 8), IsEmpty());
}

TEST(PlainPassTest, OnlyAResultWithNothingToSayIsPlain) {
  testing::TestResult result;
  EXPECT_TRUE(IsPlainPass(result));
  gtest_internals::AddProperty(result, "testcase", "owner", "me");
  EXPECT_FALSE(IsPlainPass(result));
  testing::TestResult skipped;
  gtest_internals::AddPart(
      skipped, testing::TestPartResult(testing::TestPartResult::kSkip, "a.cc",
                                       3, "not here"));
  EXPECT_FALSE(IsPlainPass(skipped));
  testing::TestResult failed;
  gtest_internals::AddPart(
      failed, testing::TestPartResult(testing::TestPartResult::kNonFatalFailure,
                                      "a.cc", 4, "wrong"));
  EXPECT_FALSE(IsPlainPass(failed));
}

// The supervisor's file and the child's mapping of it, in one process: the
// child's appends are what the supervisor takes, and Reset empties it.
TEST(PlainPassTest, FileAndChildMappingShareTheLog) {
  PlainPassFile file;
  ASSERT_TRUE(file.Open());
  ASSERT_TRUE(file.Reset(2));
  std::string error;
  void* child = MapPlainPassLog(dup(file.fd()), &error);
  ASSERT_NE(child, nullptr) << error;
  EXPECT_TRUE(AppendPlainPass(child, Pass(4, 10, 1)));
  EXPECT_THAT(file.Take(), ElementsAre(IsPass(4, 10, 1)));
  munmap(child, PlainPassBytes(2));
  ASSERT_TRUE(file.Reset(1));
  EXPECT_THAT(file.Take(), IsEmpty());
}

TEST(PlainPassTest, MappingSomethingElseIsAnError) {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "not-a-log", 0));
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 64), 0);
  std::string error;
  EXPECT_EQ(MapPlainPassLog(dup(fd), &error), nullptr);
  EXPECT_THAT(error, HasSubstr("log of passes is not one"));
  error.clear();
  EXPECT_EQ(MapPlainPassLog(-1, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("cannot map"));
  close(fd);
}

TEST(PlainPassTest, ReadWholeFileReadsPastOneBuffer) {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "whole", 0));
  ASSERT_GE(fd, 0);
  const std::string text(200000, 'x');
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  std::string read;
  EXPECT_TRUE(ReadWholeFile(fd, &read));
  EXPECT_EQ(read, text);
  close(fd);
  EXPECT_FALSE(ReadWholeFile(-1, &read));
}

}  // namespace
}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/keep_going/result_record.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"
#include "nlohmann/json.hpp"

namespace gtest_watchdog_internal {
namespace {

const char* KindId(RecordedResult::Kind kind) {
  switch (kind) {
    case RecordedResult::Kind::kTest:
      return "test";
    case RecordedResult::Kind::kSuite:
      return "suite";
    case RecordedResult::Kind::kProgram:
      return "program";
  }
  return "?";
}

// The plain-pass log's header; the slots follow it.
struct PlainPassHeader {
  static constexpr uint32_t kMagic = 0x70617373;  // "pass"
  uint32_t magic = kMagic;
  uint32_t capacity = 0;
  std::atomic<uint32_t> count{0};
  uint32_t reserved = 0;
};
static_assert(sizeof(PlainPassHeader) % alignof(PlainPass) == 0,
              "the slots follow the header, aligned");
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "the count is shared between processes");

PlainPass* Slots(void* map) {
  return reinterpret_cast<PlainPass*>(static_cast<char*>(map) +
                                      sizeof(PlainPassHeader));
}

// An id or line beyond int would wrap when cast: to a valid test's id, say.
bool FitsInt(int64_t n) {
  return n >= std::numeric_limits<int>::min() &&
         n <= std::numeric_limits<int>::max();
}

}  // namespace

RecordedResult RecordOf(RecordedResult::Kind kind, int id, std::string name,
                        const testing::TestResult& result) {
  RecordedResult r;
  r.kind = kind;
  r.id = id;
  r.name = std::move(name);
  r.start_ms = result.start_timestamp();
  r.elapsed_ms = result.elapsed_time();
  for (int i = 0; i < result.total_part_count(); ++i) {
    const testing::TestPartResult& part = result.GetTestPartResult(i);
    r.parts.push_back({static_cast<int>(part.type()),
                       part.file_name() != nullptr ? part.file_name() : "",
                       part.line_number(), part.message()});
  }
  for (int i = 0; i < result.test_property_count(); ++i) {
    const testing::TestProperty& p = result.GetTestProperty(i);
    r.properties.emplace_back(p.key(), p.value());
  }
  return r;
}

std::string EncodeRecord(const RecordedResult& record) {
  nlohmann::json j;
  j["kind"] = KindId(record.kind);
  j["id"] = record.id;
  j["name"] = record.name;
  j["start_ms"] = record.start_ms;
  j["elapsed_ms"] = record.elapsed_ms;
  nlohmann::json parts = nlohmann::json::array();
  for (const RecordedPart& p : record.parts) {
    parts.push_back({{"type", p.type},
                     {"file", p.file},
                     {"line", p.line},
                     {"message", p.message}});
  }
  j["parts"] = std::move(parts);
  nlohmann::json props = nlohmann::json::array();
  for (const auto& [key, value] : record.properties) {
    props.push_back({key, value});
  }
  j["properties"] = std::move(props);
  // Invalid UTF-8 in a message (a test printing raw bytes) is replaced,
  // never an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

bool DecodeRecord(absl::string_view line, RecordedResult* out,
                  std::string* why) {
  const nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(),
                                                 nullptr, /*exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "not a JSON object";
    return false;
  }
  RecordedResult r;
  auto get_string = [&](const nlohmann::json& o, const char* key,
                        std::string* s) {
    const auto it = o.find(key);
    if (it == o.end() || !it->is_string()) return false;
    *s = it->get<std::string>();
    return true;
  };
  auto get_int = [&](const nlohmann::json& o, const char* key, int64_t* n) {
    const auto it = o.find(key);
    if (it == o.end() || !it->is_number_integer()) return false;
    *n = it->get<int64_t>();
    return true;
  };
  std::string kind;
  int64_t id = 0;
  if (!get_string(j, "kind", &kind) || !get_int(j, "id", &id) ||
      !get_string(j, "name", &r.name) || !get_int(j, "start_ms", &r.start_ms) ||
      !get_int(j, "elapsed_ms", &r.elapsed_ms) || !FitsInt(id)) {
    *why = "a field is missing or of the wrong type";
    return false;
  }
  if (kind == "test") {
    r.kind = RecordedResult::Kind::kTest;
  } else if (kind == "suite") {
    r.kind = RecordedResult::Kind::kSuite;
  } else if (kind == "program") {
    r.kind = RecordedResult::Kind::kProgram;
  } else {
    *why = "unknown kind '" + kind + "'";
    return false;
  }
  r.id = static_cast<int>(id);
  const auto parts = j.find("parts");
  const auto props = j.find("properties");
  if (parts == j.end() || !parts->is_array() || props == j.end() ||
      !props->is_array()) {
    *why = "parts or properties missing";
    return false;
  }
  for (const nlohmann::json& p : *parts) {
    RecordedPart part;
    int64_t type = 0, line_no = 0;
    if (!p.is_object() || !get_int(p, "type", &type) ||
        !get_string(p, "file", &part.file) || !get_int(p, "line", &line_no) ||
        !get_string(p, "message", &part.message) || type < 0 || type > 3 ||
        !FitsInt(line_no)) {
      *why = "a malformed part";
      return false;
    }
    part.type = static_cast<int>(type);
    part.line = static_cast<int>(line_no);
    r.parts.push_back(std::move(part));
  }
  for (const nlohmann::json& p : *props) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() ||
        !p[1].is_string()) {
      *why = "a malformed property";
      return false;
    }
    r.properties.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  }
  *out = std::move(r);
  return true;
}

std::vector<RecordedResult> DecodeRecords(absl::string_view text, int* bad) {
  std::vector<RecordedResult> out;
  *bad = 0;
  // A last line without its '\n' was cut short: not a record.
  const size_t end = text.rfind('\n');
  if (end == absl::string_view::npos) {
    if (!text.empty()) ++*bad;
    return out;
  }
  if (end + 1 < text.size()) ++*bad;
  for (absl::string_view line :
       absl::StrSplit(text.substr(0, end), '\n', absl::SkipEmpty())) {
    RecordedResult r;
    std::string why;
    if (DecodeRecord(line, &r, &why)) {
      out.push_back(std::move(r));
    } else {
      ++*bad;
    }
  }
  return out;
}

void ApplyRecord(const RecordedResult& record,
                 const testing::TestResult& result, const char* xml_element) {
  namespace gi = gtest_internals;
  for (const RecordedPart& p : record.parts) {
    gi::AddPart(result, testing::TestPartResult(
                            static_cast<testing::TestPartResult::Type>(p.type),
                            p.file.c_str(), p.line, p.message.c_str()));
  }
  for (const auto& [key, value] : record.properties) {
    gi::AddProperty(result, xml_element, key, value);
  }
  gi::SetStartTimestamp(result, record.start_ms);
  gi::SetElapsed(result, record.elapsed_ms);
}

bool IsPlainPass(const testing::TestResult& result) {
  return result.total_part_count() == 0 && result.test_property_count() == 0;
}

size_t PlainPassBytes(uint32_t capacity) {
  return sizeof(PlainPassHeader) + size_t{capacity} * sizeof(PlainPass);
}

void InitPlainPasses(void* map, uint32_t capacity) {
  auto* header = new (map) PlainPassHeader;
  header->capacity = capacity;
}

bool IsPlainPassLog(const void* map, size_t bytes) {
  if (map == nullptr || bytes < sizeof(PlainPassHeader)) return false;
  const auto* header = static_cast<const PlainPassHeader*>(map);
  return header->magic == PlainPassHeader::kMagic &&
         PlainPassBytes(header->capacity) <= bytes;
}

bool AppendPlainPass(void* map, const PlainPass& pass) {
  auto* header = static_cast<PlainPassHeader*>(map);
  const uint32_t n = header->count.load(std::memory_order_relaxed);
  if (n >= header->capacity) return false;
  Slots(map)[n] = pass;
  header->count.store(n + 1, std::memory_order_release);
  return true;
}

std::vector<PlainPass> ReadPlainPasses(const void* map, size_t bytes) {
  std::vector<PlainPass> passes;
  if (map == nullptr || bytes < sizeof(PlainPassHeader)) return passes;
  const auto* header = static_cast<const PlainPassHeader*>(map);
  const size_t room = (bytes - sizeof(PlainPassHeader)) / sizeof(PlainPass);
  const size_t n = std::min<size_t>(
      {header->count.load(std::memory_order_acquire), header->capacity, room});
  const auto* slots = reinterpret_cast<const PlainPass*>(
      static_cast<const char*>(map) + sizeof(PlainPassHeader));
  passes.assign(slots, slots + n);
  return passes;
}

PlainPassFile::~PlainPassFile() {
  Unmap();
  if (fd_ >= 0) close(fd_);
}

bool PlainPassFile::Open() {
  fd_ = static_cast<int>(syscall(SYS_memfd_create, "gtest_watchdog-passes", 0));
  return fd_ >= 0;
}

bool PlainPassFile::Reset(uint32_t capacity) {
  Unmap();
  const size_t bytes = PlainPassBytes(capacity);
  // Truncated to nothing first: the last child's passes are gone.
  if (ftruncate(fd_, 0) != 0 ||
      ftruncate(fd_, static_cast<off_t>(bytes)) != 0) {
    return false;
  }
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (map == MAP_FAILED) return false;
  map_ = map;
  bytes_ = bytes;
  InitPlainPasses(map_, capacity);
  return true;
}

std::vector<PlainPass> PlainPassFile::Take() {
  std::vector<PlainPass> passes = ReadPlainPasses(map_, bytes_);
  Unmap();
  return passes;
}

void PlainPassFile::Unmap() {
  if (map_ != nullptr) munmap(map_, bytes_);
  map_ = nullptr;
  bytes_ = 0;
}

void* MapPlainPassLog(int fd, std::string* error) {
  struct stat st;
  void* map = MAP_FAILED;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE,
               MAP_SHARED, fd, 0);
  }
  if (map == MAP_FAILED) {
    *error = absl::StrCat("cannot map the keep-going child's log of passes: ",
                          strerror(errno));
    close(fd);
    return nullptr;
  }
  close(fd);
  if (!IsPlainPassLog(map, static_cast<size_t>(st.st_size))) {
    *error = "the keep-going child's log of passes is not one";
    return nullptr;
  }
  return map;
}

bool ReadWholeFile(int fd, std::string* out) {
  char buffer[65536];
  off_t at = 0;
  for (;;) {
    const ssize_t n = pread(fd, buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buffer, static_cast<size_t>(n));
    at += n;
  }
}

}  // namespace gtest_watchdog_internal

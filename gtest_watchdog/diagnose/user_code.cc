#include "gtest_watchdog/diagnose/user_code.h"

#include "absl/strings/match.h"

namespace gtest_watchdog_internal {

bool IsGtest(const std::string& fn) {
  return absl::StartsWith(fn, "testing::") ||
         absl::StartsWith(fn, "void testing::") ||
         absl::StrContains(fn, " testing::internal::");
}

bool IsRuntime(const SourceFrame& f) {
  const std::string& fn = f.function;
  return fn.empty() || IsGtest(fn) || absl::StartsWith(fn, "std::") ||
         absl::StartsWith(fn, "__") || absl::StartsWith(fn, "gtest_watchdog") ||
         absl::StartsWith(f.file, "/usr/") ||
         // System libraries (their DWARF paths are often relative).
         absl::StartsWith(f.module, "/usr/lib") ||
         absl::StartsWith(f.module, "/lib") || fn == "_start" ||
         absl::StartsWith(fn, "__libc_start") || fn == "start_thread" ||
         fn == "clone3" || fn == "main";
}

TestPart ClassifyTestPart(const std::vector<SourceFrame>& frames) {
  bool in_gtest = false;
  bool saw_create = false;
  bool saw_delete = false;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    const std::string& fn = it->function;
    if (IsGtest(fn)) {
      in_gtest = true;
      saw_create |= absl::StrContains(fn, "CreateTest");
      saw_delete |= absl::StrContains(fn, "DeleteSelf_");
      continue;
    }
    if (!in_gtest || fn.empty() || absl::StartsWith(fn, "std::")) continue;
    if (absl::StrContains(fn, "::TestBody(")) return TestPart::kBody;
    if (absl::StrContains(fn, "::SetUp(")) return TestPart::kSetUp;
    if (absl::StrContains(fn, "::TearDown(")) return TestPart::kTearDown;
    if (saw_delete || absl::StrContains(fn, "::~"))
      return TestPart::kDestructor;
    if (saw_create) return TestPart::kConstructor;
    return TestPart::kUnknown;
  }
  return TestPart::kUnknown;
}

namespace {

bool InHeader(const std::string& file) {
  const size_t dot = file.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string ext = file.substr(dot);
  return ext == ".h" || ext == ".hh" || ext == ".hpp" || ext == ".hxx";
}

}  // namespace

const SourceFrame* FirstUserFrame(const std::vector<SourceFrame>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const SourceFrame& f = frames[i];
    if (IsRuntime(f) || f.file.empty()) continue;
    // A wrapper from a header (a lock class's one-line Lock(), inlined or,
    // in a sanitizer build, not) is not where the user's code stands: the
    // user function that called it is.
    if (InHeader(f.file) && i + 1 < frames.size() &&
        !IsRuntime(frames[i + 1]) && !frames[i + 1].file.empty()) {
      continue;
    }
    return &f;
  }
  return nullptr;
}

}  // namespace gtest_watchdog_internal

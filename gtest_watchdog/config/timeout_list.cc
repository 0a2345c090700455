#include "gtest_watchdog/config/timeout_list.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest_watchdog/config/duration.h"

namespace gtest_watchdog_internal {
namespace {

std::string Field(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\t", " "}, {"\r", " "}, {"\n", " "}});
}

// Exact decimal seconds: "90", "1.5", "0.000000001"; "0" for none.
std::string Seconds(int64_t ns) {
  std::string s = absl::StrFormat("%d.%09d", ns / 1000000000, ns % 1000000000);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string FullName(const ListedTest& test) {
  return absl::StrCat(test.suite, ".", test.name);
}

}  // namespace

std::string TimeoutTsvHeader() {
  return "# suite\tname\tlimit_s\trun_bound_s\ttype_param\tvalue_param\t"
         "origin\n";
}

std::string TimeoutTsvRow(const LimitPlan& plan, const ListedTest& test,
                          int repeat) {
  const std::string full = FullName(test);
  const Limit limit = plan.ForTest(full);
  return absl::StrCat(
      absl::StrJoin(
          {Field(test.suite), Field(test.name), Seconds(limit.ns),
           Seconds(plan.RunBoundForTest(full, repeat)), Field(test.type_param),
           Field(test.value_param), Field(limit.origin)},
          "\t"),
      "\n");
}

std::string TimeoutTableRow(const LimitPlan& plan, const ListedTest& test) {
  const std::string full = FullName(test);
  const Limit limit = plan.ForTest(full);
  return absl::StrFormat(
      "%-50s %-12s %s\n", full,
      limit.ns == 0 ? "off" : FormatLimit(absl::Nanoseconds(limit.ns)),
      limit.origin);
}

}  // namespace gtest_watchdog_internal

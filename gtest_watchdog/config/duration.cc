#include "gtest_watchdog/config/duration.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gtest_watchdog_internal {
namespace {
// Far beyond any sensible test limit, and small enough that deadline
// arithmetic in nanoseconds (int64) cannot overflow when added to "now".
constexpr absl::Duration kMaxDuration = absl::Hours(24 * 365 * 100);

constexpr char kExpected[] =
    "expected a duration such as 90s, 1.5s, 250ms, 2m, 1h, 1m30s or a number "
    "of seconds";
}  // namespace

bool ParseDuration(absl::string_view text, absl::Duration* out,
                   std::string* error) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) {
    *error = absl::StrCat("it is empty; ", kExpected);
    return false;
  }
  if (trimmed.front() == '-') {
    *error = absl::StrCat("a limit cannot be negative; ", kExpected);
    return false;
  }
  // A bare number is seconds. absl::ParseDuration wants a unit, so add one;
  // SimpleAtod alone would also accept "inf", "nan" and hex, which we refuse.
  std::string with_unit(trimmed);
  const bool bare =
      trimmed.find_first_not_of("0123456789.") == absl::string_view::npos;
  if (bare) with_unit += "s";
  absl::Duration d;
  const std::string lower = absl::AsciiStrToLower(with_unit);
  if (lower.find("inf") != std::string::npos ||
      lower.find("nan") != std::string::npos ||
      with_unit.find('+') != std::string::npos ||
      !absl::ParseDuration(with_unit, &d)) {
    *error = kExpected;
    return false;
  }
  if (d == absl::InfiniteDuration() || d > kMaxDuration) {
    *error = absl::StrCat("it is too large (at most ",
                          absl::FormatDuration(kMaxDuration), ")");
    return false;
  }
  if (d < absl::ZeroDuration()) {  // e.g. "+-5s" slipping past the check above
    *error = absl::StrCat("a limit cannot be negative; ", kExpected);
    return false;
  }
  *out = d;
  return true;
}

std::string FormatLimit(absl::Duration d) {
  if (d < absl::Seconds(1)) {
    return absl::StrFormat("%g ms", absl::ToDoubleMilliseconds(d));
  }
  if (d < absl::Minutes(1)) {
    return absl::StrFormat("%g s", absl::ToDoubleSeconds(d));
  }
  const int64_t total_s = absl::ToInt64Seconds(d);
  std::string s;
  if (total_s >= 3600) absl::StrAppend(&s, total_s / 3600, " h");
  if (total_s % 3600 / 60 != 0) {
    absl::StrAppend(&s, s.empty() ? "" : " ", total_s % 3600 / 60, " min");
  }
  if (total_s % 60 != 0) {
    absl::StrAppend(&s, s.empty() ? "" : " ", total_s % 60, " s");
  }
  return s;
}

}  // namespace gtest_watchdog_internal

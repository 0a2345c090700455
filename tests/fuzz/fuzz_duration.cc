// libFuzzer target: ParseDuration and FormatLimit (config/duration.h), the
// DURATION of every flag, environment variable and config file key.
//
// Properties, for every input:
//  - a parse fails with a non-empty reason and leaves the output alone, or
//    gives a finite duration in [0, 100 years] (docs/flags.md);
//  - surrounding whitespace changes nothing (accepted as "  90s  ");
//  - a parsed duration re-parses to itself from absl::FormatDuration (what
//    the "minus a safety margin" origins print), and its nanoseconds from
//    the exact decimal seconds that the TSV listing and the config file's
//    numbers of seconds use ("%.9f");
//  - FormatLimit, which every report uses, gives a non-empty text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "fuzz_check.h"
#include "gtest_watchdog/config/duration.h"

namespace wi = gtest_watchdog_internal;

namespace {

// The documented ceiling, as config/duration.cc has it.
const absl::Duration kMax = absl::Hours(24 * 365 * 100);
// A value ParseDuration can never produce: proves the output is left alone.
const absl::Duration kSentinel = absl::Seconds(-7);

std::string Show(absl::string_view text) {
  return absl::StrCat("'", absl::CHexEscape(text), "'");
}

// Parses `text`; checks the properties every result must have.
bool Parse(absl::string_view text, absl::Duration* out) {
  absl::Duration d = kSentinel;
  std::string error;
  const bool ok = wi::ParseDuration(text, &d, &error);
  if (!ok) {
    FUZZ_CHECK(!error.empty(), Show(text));
    FUZZ_CHECK(d == kSentinel,
               Show(text) + " wrote " + absl::FormatDuration(d));
    return false;
  }
  FUZZ_CHECK(d >= absl::ZeroDuration() && d <= kMax,
             Show(text) + " -> " + absl::FormatDuration(d));
  *out = d;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = gtest_watchdog_fuzz::AsText(data, size);
  absl::Duration d;
  const bool ok = Parse(text, &d);

  // Blanks around the value are ignored, nothing else changes.
  absl::Duration padded;
  const bool padded_ok = Parse(absl::StrCat(" \t", text, "\n "), &padded);
  FUZZ_CHECK(padded_ok == ok, Show(text));
  if (!ok) return 0;
  FUZZ_CHECK(padded == d, Show(text));

  // absl's own format of the value reads back as the same value.
  const std::string formatted = absl::FormatDuration(d);
  absl::Duration again;
  FUZZ_CHECK(Parse(formatted, &again), Show(text) + " -> " + formatted);
  FUZZ_CHECK(again == d, Show(text) + " -> " + formatted + " -> " +
                             absl::FormatDuration(again));

  // Exact decimal seconds of the nanoseconds (the TSV listing, the config
  // file's numbers): no exponent, nine places at most.
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  const std::string seconds =
      absl::StrFormat("%d.%09d", ns / 1000000000, ns % 1000000000);
  FUZZ_CHECK(Parse(seconds, &again), Show(text) + " -> " + seconds);
  FUZZ_CHECK(
      again == absl::Nanoseconds(ns),
      Show(text) + " -> " + seconds + " -> " + absl::FormatDuration(again));

  FUZZ_CHECK(!wi::FormatLimit(d).empty(), Show(text));
  return 0;
}

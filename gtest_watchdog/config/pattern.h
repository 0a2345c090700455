// File: gtest_watchdog/config/pattern.h
//
// A test-name filter in GoogleTest's `--gtest_filter` syntax, used by the
// config file's `[[override]]` tables to pick the tests a limit applies to.
// A pattern is "POSITIVES-NEGATIVES", each a ':'-separated list of
// alternatives; a name matches when it matches any positive alternative and
// no negative one. An empty positive part (the pattern starts with '-') means
// "*". In an alternative, '*' matches any run of characters (including '/' and
// '.') and '?' matches exactly one character. Patterns are matched against the
// FULL name as GoogleTest prints it: "Suite.Name", or
// "Instantiation/Suite.Name/Param" and "Suite/TypeIndex.Name" for
// parameterized and typed tests.
//
// Stricter than GoogleTest, so that typos show up instead of silently
// matching nothing: an empty pattern, whitespace or control characters, an
// empty alternative ("A::B", "A:", "-A:") and a second '-' (test names cannot
// contain '-') are all errors.
//
// Example:
//
//   const std::string text = "Network.*:Db.*-Db.Fast";
//   FilterPattern pattern;
//   std::string error;
//   if (!FilterPattern::Parse(text, &pattern, &error)) {
//     return absl::StrCat("bad pattern '", text, "': ", error);
//   }
//   pattern.Matches("Db.Slow");      // true
//   pattern.Matches("Db.Fast");      // false
//   pattern.Matches("Network.Get");  // true
//
// Parse runs at start-up only: it allocates and is not signal-safe. Matches
// does not allocate and runs in O(pattern length * name length) at worst.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace gtest_watchdog_internal {

class FilterPattern {
 public:
  // Parses `text`. On failure returns false, leaves `*out` alone, and sets
  // `*error` to a reason phrased to follow "bad pattern 'X': ".
  static bool Parse(absl::string_view text, FilterPattern* out,
                    std::string* error);

  // True if `full_name` matches some positive alternative and no negative
  // one. A default-constructed pattern matches nothing. Does not allocate.
  bool Matches(absl::string_view full_name) const;

  // The pattern as given to Parse.
  const std::string& text() const { return text_; }

  // True for a single positive alternative without '*' or '?' and without
  // negatives, i.e. the pattern names exactly one test.
  bool is_exact() const;

 private:
  std::string text_;
  std::vector<std::string> positives_;
  std::vector<std::string> negatives_;
};

}  // namespace gtest_watchdog_internal

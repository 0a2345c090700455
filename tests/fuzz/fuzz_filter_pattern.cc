// libFuzzer target: FilterPattern (config/pattern.h), the `--gtest_filter`
// syntax of the config file's [[override]] filters.
//
// The input's first line is the pattern; every further line is a test name
// to match it against (names may hold any byte).
//
// Properties, for every input:
//  - Parse fails with a non-empty reason and leaves the output alone, or
//    succeeds only for text without blanks or control characters and with
//    at most one '-', keeping the text;
//  - Matches never crashes, and agrees on every name with a plain
//    dynamic-programming matcher written here from the documented semantics
//    ('*' any run, '?' one character, ':' alternatives, '-' negatives, an
//    empty positive part meaning '*'); so does it on names made from the
//    pattern's own alternatives;
//  - without negatives, every positive alternative with '*' taken as
//    nothing and '?' as one letter matches;
//  - is_exact() is true exactly for one positive alternative without '*',
//    '?' or negatives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz_check.h"
#include "gtest_watchdog/config/pattern.h"

namespace wi = gtest_watchdog_internal;

namespace {

std::string Show(absl::string_view text) {
  return absl::StrCat("'", absl::CHexEscape(text), "'");
}

// matches[i][j]: pattern[i..] matches name[j..]. O(|pattern| * |name|).
bool ReferenceWildcard(absl::string_view pattern, absl::string_view name) {
  const size_t p = pattern.size();
  const size_t n = name.size();
  std::vector<char> next(n + 1, 0);  // row i + 1
  std::vector<char> row(n + 1, 0);   // row i
  next[n] = 1;                       // empty pattern matches the empty rest
  for (size_t i = p; i-- > 0;) {
    for (size_t j = n + 1; j-- > 0;) {
      const char c = pattern[i];
      if (c == '*') {
        row[j] = next[j] || (j < n && row[j + 1]);
      } else {
        row[j] = j < n && (c == '?' || c == name[j]) && next[j + 1];
      }
    }
    next.swap(row);
  }
  return next[0] != 0;
}

bool ReferenceAny(const std::vector<std::string>& alternatives,
                  absl::string_view name) {
  for (const std::string& alternative : alternatives) {
    if (ReferenceWildcard(alternative, name)) return true;
  }
  return false;
}

// A name that `alternative` matches: each '*' taken as nothing, each '?' as
// one letter.
std::string Instantiate(absl::string_view alternative) {
  std::string name;
  for (char c : alternative) {
    if (c == '?') name += 'x';
    if (c != '*' && c != '?') name += c;
  }
  return name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = gtest_watchdog_fuzz::AsText(data, size);
  const size_t eol = input.find('\n');
  const absl::string_view text = input.substr(0, eol);
  std::vector<std::string> names;
  if (eol != absl::string_view::npos) {
    names = absl::StrSplit(input.substr(eol + 1), '\n');
  }

  // A pattern that must survive a failed parse untouched.
  wi::FilterPattern pattern;
  std::string error;
  if (!wi::FilterPattern::Parse("Keep.Me", &pattern, &error)) {
    FUZZ_CHECK(false, error);
  }
  if (!wi::FilterPattern::Parse(text, &pattern, &error)) {
    FUZZ_CHECK(!error.empty(), Show(text));
    FUZZ_CHECK(pattern.text() == "Keep.Me", Show(text));
    FUZZ_CHECK(pattern.Matches("Keep.Me") && !pattern.Matches("Other.Test"),
               Show(text));
    // A pattern that does not parse still must not crash the matcher of a
    // default-constructed one, which matches nothing.
    for (const std::string& name : names) {
      FUZZ_CHECK(!wi::FilterPattern().Matches(name), Show(name));
    }
    return 0;
  }

  FUZZ_CHECK(pattern.text() == text, Show(text));
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u > ' ' && u != 0x7f, Show(text));
  }
  const size_t dash = text.find('-');
  FUZZ_CHECK(dash == absl::string_view::npos ||
                 text.find('-', dash + 1) == absl::string_view::npos,
             Show(text));

  // The documented semantics, independently.
  std::vector<std::string> positives;
  std::vector<std::string> negatives;
  const absl::string_view positive_part = text.substr(0, dash);
  if (positive_part.empty()) {
    positives.push_back("*");
  } else {
    positives = absl::StrSplit(positive_part, ':');
  }
  if (dash != absl::string_view::npos) {
    negatives = absl::StrSplit(text.substr(dash + 1), ':');
  }
  for (const std::string& alternative : positives) {
    FUZZ_CHECK(!alternative.empty(), Show(text));
  }
  for (const std::string& alternative : negatives) {
    FUZZ_CHECK(!alternative.empty(), Show(text));
  }

  const bool wild = text.find_first_of("*?") != absl::string_view::npos;
  FUZZ_CHECK(pattern.is_exact() ==
                 (positives.size() == 1 && negatives.empty() && !wild),
             Show(text));

  // Names from the input, plus some made from the pattern itself.
  names.emplace_back("");
  names.emplace_back(text);
  for (const std::string& alternative : positives) {
    names.push_back(Instantiate(alternative));
    names.push_back(Instantiate(alternative) + "/0");
  }
  for (const std::string& alternative : negatives) {
    names.push_back(Instantiate(alternative));
  }
  for (const std::string& name : names) {
    const bool expected =
        ReferenceAny(positives, name) && !ReferenceAny(negatives, name);
    FUZZ_CHECK(pattern.Matches(name) == expected,
               absl::StrCat("pattern ", Show(text), " name ", Show(name),
                            " expected ", expected));
  }
  if (negatives.empty()) {
    for (const std::string& alternative : positives) {
      FUZZ_CHECK(pattern.Matches(Instantiate(alternative)),
                 absl::StrCat("pattern ", Show(text), " alternative ",
                              Show(alternative)));
    }
  }
  return 0;
}

#include "gtest_watchdog/config/pattern.h"

#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gtest_watchdog_internal {
namespace {

// Greedy matching of '*' with backtracking to the most recent '*' only: when
// a later literal fails, the last '*' absorbs one more character and matching
// resumes after it. Earlier stars never need revisiting (whatever they could
// absorb, the last star can absorb instead), so this is O(|pattern| * |name|)
// at worst rather than exponential.
bool WildcardMatch(absl::string_view pattern, absl::string_view name) {
  size_t p = 0;
  size_t n = 0;
  size_t star = absl::string_view::npos;  // index of the last '*' seen
  size_t resume = 0;  // where in `name` that star's match currently ends
  while (n < name.size()) {
    // A '*' is a wildcard even facing a '*' in the name: test it first.
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;  // the star matches nothing so far
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      n = ++resume;  // the star swallows one more character
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool MatchesAny(const std::vector<std::string>& alternatives,
                absl::string_view name) {
  for (const std::string& alternative : alternatives) {
    if (WildcardMatch(alternative, name)) return true;
  }
  return false;
}

// Splits `part` at ':' into `*out`. `what` names the part in messages.
bool SplitAlternatives(absl::string_view part, const char* what,
                       std::vector<std::string>* out, std::string* error) {
  int index = 1;
  for (;;) {
    const size_t colon = part.find(':');
    const absl::string_view alternative = part.substr(0, colon);
    if (alternative.empty()) {
      *error =
          absl::StrCat("alternative ", index, " of the ", what,
                       " part is empty (look for '::' or a ':' at either end)");
      return false;
    }
    out->emplace_back(alternative);
    if (colon == absl::string_view::npos) return true;
    part.remove_prefix(colon + 1);
    ++index;
  }
}

}  // namespace

bool FilterPattern::Parse(absl::string_view text, FilterPattern* out,
                          std::string* error) {
  if (text.empty()) {
    *error = "it is empty";
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c <= ' ' || c == 0x7f) {
      *error = absl::StrCat(
          "it contains ",
          c == ' ' ? "a space" : "whitespace or a control character",
          " at offset ", i, "; test names never do");
      return false;
    }
  }
  const size_t dash = text.find('-');
  if (dash != absl::string_view::npos &&
      text.find('-', dash + 1) != absl::string_view::npos) {
    *error =
        "it has more than one '-'; a single '-' separates the positive "
        "patterns from the negative ones, and test names cannot contain '-'";
    return false;
  }

  FilterPattern result;
  result.text_ = std::string(text);
  const absl::string_view positive = text.substr(0, dash);
  if (positive.empty()) {
    result.positives_.emplace_back("*");  // "-Neg" means "*-Neg"
  } else if (!SplitAlternatives(positive, "positive", &result.positives_,
                                error)) {
    return false;
  }
  if (dash != absl::string_view::npos &&
      !SplitAlternatives(text.substr(dash + 1), "negative", &result.negatives_,
                         error)) {
    return false;
  }
  *out = std::move(result);
  return true;
}

bool FilterPattern::Matches(absl::string_view full_name) const {
  return MatchesAny(positives_, full_name) &&
         !MatchesAny(negatives_, full_name);
}

bool FilterPattern::is_exact() const {
  return positives_.size() == 1 && negatives_.empty() &&
         positives_.front().find_first_of("*?") == std::string::npos;
}

}  // namespace gtest_watchdog_internal

// libFuzzer target: ParseConfigText (config/config_file.h), the TOML config
// file, with toml++'s parser, ParseDuration, ParseSignalList and
// FilterPattern behind it. The input is the file's text.
//
// Properties, for every input:
//  - a failed parse leaves the output alone, and its message names the file
//    and a line: "fuzz.toml:LINE: ..." or "fuzz.toml:LINE:COLUMN: ..." for
//    a syntax error, LINE >= 1, with text after it;
//  - a parsed file has every value in its documented range: durations in
//    [0, 100 years], a finite scale > 0, only signals that can be reported;
//    the lines it records are >= 1 exactly for the keys present; every
//    override's filter parses again from its text;
//  - FindOverride returns the first override whose filter matches.
#include <signal.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "fuzz_check.h"
#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/pattern.h"

namespace wi = gtest_watchdog_internal;

namespace {

constexpr char kPath[] = "fuzz.toml";
const absl::Duration kMax = absl::Hours(24 * 365 * 100);

bool InRange(const std::optional<absl::Duration>& d) {
  return !d || (*d >= absl::ZeroDuration() && *d <= kMax);
}

// "LINE: " or "LINE:COLUMN: " with LINE >= 1 and a message after it.
bool NamesALine(absl::string_view rest) {
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
  if (digits == 0 || rest[0] == '0' || rest.substr(digits, 1) != ":") {
    return false;
  }
  rest.remove_prefix(digits + 1);
  size_t column = 0;
  while (column < rest.size() && absl::ascii_isdigit(rest[column])) ++column;
  if (column > 0) {
    if (rest.substr(column, 1) != ":") return false;
    rest.remove_prefix(column + 1);
  }
  return absl::StartsWith(rest, " ") && rest.size() > 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = gtest_watchdog_fuzz::AsText(data, size);
  const std::string shown = absl::CHexEscape(text);

  wi::ConfigFile config;
  config.path = "untouched";
  std::string error;
  if (!wi::ParseConfigText(text, kPath, &config, &error)) {
    FUZZ_CHECK(config.path == "untouched" && !config.timeout &&
                   config.overrides.empty(),
               shown);
    const std::string head = absl::StrCat(kPath, ":");
    FUZZ_CHECK(absl::StartsWith(error, head) &&
                   NamesALine(absl::string_view(error).substr(head.size())),
               absl::StrCat(shown, ": error '", absl::CHexEscape(error), "'"));
    return 0;
  }

  FUZZ_CHECK(config.path == kPath, shown);
  FUZZ_CHECK(InRange(config.timeout) && InRange(config.total_timeout) &&
                 InRange(config.slow) && InRange(config.suite_timeout) &&
                 InRange(config.environment_timeout),
             shown);
  FUZZ_CHECK((config.timeout_line >= 1) == config.timeout.has_value(), shown);
  FUZZ_CHECK((config.signals_line >= 1) == config.signals.has_value(), shown);
  if (config.scale) {
    FUZZ_CHECK(std::isfinite(*config.scale) && *config.scale > 0,
               absl::StrCat(shown, ": scale ", *config.scale));
  }
  if (config.signals) {
    FUZZ_CHECK(gtest_watchdog_fuzz::ValidSignals(*config.signals), shown);
  }

  for (const wi::ConfigOverride& o : config.overrides) {
    FUZZ_CHECK(o.line >= 1, shown);
    FUZZ_CHECK(o.timeout >= absl::ZeroDuration() && o.timeout <= kMax, shown);
    wi::FilterPattern again;
    std::string why;
    FUZZ_CHECK(wi::FilterPattern::Parse(o.filter.text(), &again, &why),
               absl::StrCat(shown, ": filter ", o.filter.text(), ": ", why));
  }

  // FindOverride: the first match, on a few names, some from the filters.
  std::string names[] = {"Suite.Name", "Db.Fast", "Inst/Param.Name/0", ""};
  if (!config.overrides.empty())
    names[3] = config.overrides.back().filter.text();
  for (const std::string& name : names) {
    const wi::ConfigOverride* first = nullptr;
    for (const wi::ConfigOverride& o : config.overrides) {
      if (o.filter.Matches(name)) {
        first = &o;
        break;
      }
    }
    FUZZ_CHECK(config.FindOverride(name) == first,
               absl::StrCat(shown, ": name ", name));
  }
  return 0;
}

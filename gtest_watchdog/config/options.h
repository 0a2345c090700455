// File: gtest_watchdog/config/options.h
//
// The watchdog's settings as given on the command line and in the
// environment. `ExtractOptions` REMOVES every `--gtest_watchdog_*` argument
// (also the `-gtest_watchdog_*` and `/gtest_watchdog_*` spellings GoogleTest
// accepts) from argv, because GoogleTest treats any unknown `--gtest_` flag as
// a request for help and then runs no test. All other arguments keep their
// order. Each flag has an environment variable (upper-cased name); the flag
// wins, as in GoogleTest. The config file, annotations and built-in defaults
// are layered on top by config/limits.h.
//
// Not on the stall path: allocates, not signal-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest_watchdog/config/signal_list.h"

namespace gtest_watchdog_internal {

// Where a setting's value came from; printed so users can tell why a limit
// applies.
enum class Source { kBuiltIn, kEnvironment, kFlag };
const char* SourceName(Source source);

// A setting given on the command line or in the environment.
template <typename T>
struct Given {
  std::optional<T> value;
  std::string origin;  // "--gtest_watchdog_x" or "GTEST_WATCHDOG_X"
  explicit operator bool() const { return value.has_value(); }
};

// --gtest_watchdog_list_timeouts: off, the table for people, or
// tab-separated values for tools (gtest_watchdog_discover_tests).
enum class ListFormat { kNone, kTable, kTsv };

struct Options {
  // Limit for each test. kBuiltIn means "not given": the config file's
  // `timeout`, then the built-in 60 s, apply (config/limits.h).
  absl::Duration timeout = absl::Seconds(60);
  Source timeout_source = Source::kBuiltIn;
  std::string timeout_origin = "built-in default";

  Given<absl::Duration> total_timeout;
  // When an outer runner kills this process (CTest's TIMEOUT, passed by
  // gtest_watchdog_discover_tests): the whole run is capped a margin below
  // it, as under Bazel's TEST_TIMEOUT. Zero: none.
  Given<absl::Duration> outer_timeout;
  Given<absl::Duration> slow;
  Given<absl::Duration> suite_timeout;
  Given<absl::Duration> environment_timeout;
  Given<double> scale;
  Given<std::string> config;
  Given<std::string> report;  // absolute path of the JSON report
  Given<SignalSet> signals;   // signals reported before the process dies
  ListFormat list_timeouts = ListFormat::kNone;
  // Keep going (docs/keep-going.md): the tests run in child processes, and a
  // stall or crash fails its test alone. The config file's `keep_going` and
  // `max_stalls` apply when these are not given.
  Given<bool> keep_going;
  // After this many stalls and crashes a keep-going run stops; 0: never.
  Given<int> max_stalls;
  // How many times a keep-going run starts a stalled or crashed test again.
  Given<int> retries;
};

// Seam over getenv so tests need not touch the real environment.
using GetEnvFn = const char* (*)(const char* name);

// Parses and removes our flags from argv, reads the environment, and fills
// `*options`. On bad input returns false with `*error` naming the flag or
// variable and the value; argv is then left with our flags removed anyway.
bool ExtractOptions(int* argc, char** argv, GetEnvFn getenv_fn,
                    Options* options, std::string* error);

// Every flag's name after "gtest_watchdog_" ("timeout", ...), in the
// order the parser knows them; the environment variable is the upper-cased
// "GTEST_WATCHDOG_" form. For the documentation check.
std::vector<std::string> FlagNames();

// A flag as --help shows it: `value` follows the name ("=DURATION", "[=tsv]",
// "" for a flag that takes none), `meaning` is one line. Start-up only.
struct FlagHelpEntry {
  std::string name;  // after "gtest_watchdog_"
  std::string value;
  std::string meaning;
};
std::vector<FlagHelpEntry> FlagHelpEntries();

// What --help prints after GoogleTest's own help, in its style: every flag
// with its value, its environment variable and a line on its meaning, and
// where the documentation is. `color`: GoogleTest's colours (the flags green,
// their values yellow), for when GoogleTest prints its help in colour.
// Start-up only.
std::string FlagHelp(bool color);

// The flag name (after "gtest_watchdog_") nearest to `name`, for "did you
// mean"; "" when none is near enough to be a typo. Start-up only.
std::string NearestFlag(absl::string_view name);

// Checks a --gtest_watchdog_report path at start-up as WriteJsonReportFile
// will when it writes, and makes it absolute with the links in its directory
// resolved (OpenReportDirectory): the directory must exist, none on the way
// may be another user's and writable by every user without the sticky bit,
// and links followed must be this user's, root's or their directory
// owner's; the file, if there, must be a regular file with one link, owned
// by this user (WhyNotReportFile). False with *why otherwise.
bool ResolveReportPath(const std::string& path, std::string* absolute,
                       std::string* why);

// "0", "10": a whole number from 0 to 1,000,000. Start-up only.
bool ParseCount(const std::string& text, int* out, std::string* error);

// "2", "0.5", "1.5e1": a finite number > 0. Error phrased like
// ParseDuration's.
bool ParseScale(const std::string& text, double* out, std::string* error);

}  // namespace gtest_watchdog_internal

// File: gtest_watchdog/config/config_file.h
//
// The watchdog's TOML config file. Every key is optional; a duration is a
// string ParseDuration accepts ("90s", "1m30s", "250ms", "0") or a TOML number
// of seconds (`timeout = 90`, `timeout = 1.5`). Zero means "off"; it is kept
// as zero and the callers decide what off means for each setting.
//
//   timeout = "60s"             # default limit for each test
//   total_timeout = "30m"       # limit for the whole run
//   scale = 2.0                 # multiplies every limit; a number > 0
//   slow = "10s"                # warn when a test runs this long
//   suite_timeout = "2m"        # SetUpTestSuite/TearDownTestSuite limit
//   environment_timeout = "5m"  # global environment SetUp/TearDown limit
//   signals = ["default", "SIGTERM"]  # reported before dying (signal_list.h)
//
//   [[override]]                # the first matching override wins
//   filter = "Network.*:Db.*-Db.Fast"   # --gtest_filter syntax (pattern.h)
//   timeout = "5m"
//
// Validation is strict: an unknown key or table anywhere (a typo such as
// `timout`), a value of the wrong type, a bad duration or filter, or an
// incomplete override is an error naming the file and line, never ignored.
// When a file has several problems, the one nearest its top is reported;
// except that a non-ASCII character outside strings and comments, which the
// TOML library (toml++ up to 3.4.0) must not be given, is reported first
// (toml_compat.h).
//
// Example:
//
//   ConfigFile config;
//   std::string error;
//   if (!LoadConfigFile(path, &config, &error)) Die(error);
//   absl::Duration limit = config.timeout.value_or(absl::Seconds(60));
//   if (const ConfigOverride* o = config.FindOverride("Db.Slow")) {
//     limit = o->timeout;
//   }
//
// Loading runs at start-up only: it allocates and is not signal-safe.
// FindOverride does not allocate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest_watchdog/config/pattern.h"
#include "gtest_watchdog/config/signal_list.h"

namespace gtest_watchdog_internal {

// One [[override]] table.
struct ConfigOverride {
  FilterPattern filter;
  absl::Duration timeout;
  int line = 0;  // line of the [[override]] header (1-based)
};

struct ConfigFile {
  std::string path;
  std::optional<absl::Duration> timeout;
  std::optional<absl::Duration> total_timeout;
  std::optional<absl::Duration> slow;
  std::optional<absl::Duration> suite_timeout;
  std::optional<absl::Duration> environment_timeout;
  std::optional<double> scale;
  std::optional<SignalSet> signals;
  std::optional<bool> keep_going;
  std::optional<int> max_stalls;
  std::optional<int> retries;
  int signals_line = 0;  // line of the `signals` key, 0 if absent
  // Line of the top-level `timeout` key, 0 if absent; lets a report say where
  // a limit came from.
  int timeout_line = 0;
  // In file order.
  std::vector<ConfigOverride> overrides;

  // The first override whose filter matches `full_test_name` ("Suite.Name"
  // as GoogleTest prints it), or nullptr. Does not allocate.
  const ConfigOverride* FindOverride(absl::string_view full_test_name) const;
};

// The largest config file LoadConfigFile reads: 1 MiB.
constexpr int64_t kMaxConfigFileBytes = int64_t{1} << 20;

// Reads and validates the config file at `path`. On any problem returns false
// with `*error` naming the file, usually the line, and the culprit; `*out` is
// then left alone. Only a regular file (links followed) of at most
// kMaxConfigFileBytes is read: a FIFO, a device or a socket is "not a regular
// file", never waited for.
bool LoadConfigFile(const std::string& path, ConfigFile* out,
                    std::string* error);

// Same as LoadConfigFile, from `text`; `path` is used only in messages and
// stored in `out->path`.
bool ParseConfigText(absl::string_view text, const std::string& path,
                     ConfigFile* out, std::string* error);

// The keys a config file may hold at the top level ("override" is the
// [[override]] array of tables) and inside each [[override]]. For error
// messages and the documentation check.
std::vector<std::string> TopLevelConfigKeys();
std::vector<std::string> OverrideConfigKeys();

}  // namespace gtest_watchdog_internal

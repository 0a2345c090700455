#include "gtest_watchdog/config/options.h"

#include <cstring>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest_watchdog/config/duration.h"

namespace gtest_watchdog_internal {
namespace {

constexpr absl::string_view kFlagPrefixes[] = {
    "--gtest_watchdog_", "-gtest_watchdog_", "/gtest_watchdog_"};

// Flags named by the contract that this version does not implement yet. They
// are refused loudly rather than ignored, so nobody believes they took effect.
constexpr absl::string_view kNotYetSupported[] = {
    "total_timeout", "scale", "slow", "config", "report", "list_timeouts"};

// Returns the part after the prefix ("timeout=5s") if `arg` is one of ours.
std::optional<absl::string_view> StripOurPrefix(absl::string_view arg) {
  for (absl::string_view prefix : kFlagPrefixes) {
    if (absl::StartsWith(arg, prefix)) return arg.substr(prefix.size());
  }
  return std::nullopt;
}

bool ParseTimeout(absl::string_view value, absl::string_view origin,
                  Source source, Options* options, std::string* error) {
  absl::Duration d;
  std::string why;
  if (!ParseDuration(value, &d, &why)) {
    *error = absl::StrCat(origin, ": invalid value '", value, "': ", why);
    return false;
  }
  options->timeout = d;
  options->timeout_source = source;
  options->timeout_origin = std::string(origin);
  return true;
}

}  // namespace

const char* SourceName(Source source) {
  switch (source) {
    case Source::kBuiltIn:
      return "built-in default";
    case Source::kEnvironment:
      return "environment";
    case Source::kFlag:
      return "flag";
  }
  return "?";
}

bool ExtractOptions(int* argc, char** argv, GetEnvFn getenv_fn,
                    Options* options, std::string* error) {
  std::optional<std::string> timeout_flag;
  std::string first_error;
  int kept = 0;
  for (int i = 0; i < *argc; ++i) {
    const absl::string_view arg = argv[i];
    const std::optional<absl::string_view> rest =
        i == 0 ? std::nullopt : StripOurPrefix(arg);
    if (!rest) {
      argv[kept++] = argv[i];
      continue;
    }
    const size_t eq = rest->find('=');
    const absl::string_view name = rest->substr(0, eq);
    const std::string flag = absl::StrCat("--gtest_watchdog_", name);
    std::string problem;
    if (name == "timeout") {
      if (eq == absl::string_view::npos) {
        problem = absl::StrCat(flag, " needs a value, e.g. ", flag, "=90s");
      } else {
        timeout_flag = std::string(rest->substr(eq + 1));
      }
    } else {
      bool known = false;
      for (absl::string_view n : kNotYetSupported) known |= (n == name);
      problem = known ? absl::StrCat(flag,
                                     " is not supported by this version of "
                                     "gtest_watchdog (argument '",
                                     arg, "')")
                      : absl::StrCat("unknown flag '", arg,
                                     "'; the supported flag is "
                                     "--gtest_watchdog_timeout=DURATION");
    }
    if (!problem.empty() && first_error.empty()) first_error = problem;
  }
  argv[kept] = nullptr;  // argv is NULL-terminated, like the original.
  *argc = kept;
  if (!first_error.empty()) {
    *error = first_error;
    return false;
  }

  Options parsed;
  if (const char* env = getenv_fn("GTEST_WATCHDOG_TIMEOUT"); env != nullptr) {
    if (!ParseTimeout(env, "GTEST_WATCHDOG_TIMEOUT", Source::kEnvironment,
                      &parsed, error)) {
      return false;
    }
  }
  if (timeout_flag && !ParseTimeout(*timeout_flag, "--gtest_watchdog_timeout",
                                    Source::kFlag, &parsed, error)) {
    return false;
  }
  *options = parsed;
  return true;
}

}  // namespace gtest_watchdog_internal

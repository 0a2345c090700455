// libFuzzer target: ExtractOptions (config/options.h), the flags and
// environment variables, with ParseDuration, ParseScale and ParseSignalList
// behind them.
//
// The input is split at every newline and NUL into items. The items before
// the first empty one are argv (argv[0] included); the items after it are
// the environment, "NAME=VALUE" each (read through the getenv seam, never
// the real environment); an input starting with an empty item has argc 0.
// Example: "prog\n--gtest_watchdog_timeout=5s\n\nGTEST_WATCHDOG_SLOW=1s".
//
// Properties, for every input:
//  - argv keeps argv[0] and, in order, exactly the arguments that are not
//    ours (--, - and / spellings), NULL-terminated, success or not;
//  - on failure, the options are left alone and the message starts with
//    the culprit: "unknown flag 'ARG'", "--gtest_watchdog_X needs a value",
//    or "NAME: invalid value 'VALUE': REASON" for a flag or variable NAME
//    that was given with exactly that VALUE, REASON not empty;
//  - on success every value is in its documented range (durations in
//    [0, 100 years], a finite scale > 0, an absolute report path, a config
//    path, only signals that can be reported), and each came from the flag
//    when one was given, else from the variable.
#include <signal.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "fuzz_check.h"
#include "gtest_watchdog/config/options.h"
#include "gtest_watchdog/config/signal_list.h"

namespace wi = gtest_watchdog_internal;

namespace {

const absl::Duration kMax = absl::Hours(24 * 365 * 100);
constexpr absl::string_view kPrefixes[] = {
    "--gtest_watchdog_", "-gtest_watchdog_", "/gtest_watchdog_"};

// The fake environment; libFuzzer runs one input at a time.
std::map<std::string, std::string>& Env() {
  static auto* env = new std::map<std::string, std::string>();
  return *env;
}

const char* FakeGetEnv(const char* name) {
  const auto it = Env().find(name);
  return it == Env().end() ? nullptr : it->second.c_str();
}

// "timeout=5s" if `arg` is one of ours, else nothing.
bool StripPrefix(absl::string_view arg, absl::string_view* rest) {
  for (absl::string_view prefix : kPrefixes) {
    if (absl::StartsWith(arg, prefix)) {
      *rest = arg.substr(prefix.size());
      return true;
    }
  }
  return false;
}

std::string EnvName(absl::string_view flag) {
  std::string name = absl::StrCat("GTEST_WATCHDOG_", flag);
  for (char& c : name) c = absl::ascii_toupper(static_cast<unsigned char>(c));
  return name;
}

bool InRange(absl::Duration d) {
  return d >= absl::ZeroDuration() && d <= kMax;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = gtest_watchdog_fuzz::AsText(data, size);
  const std::vector<std::string> items =
      absl::StrSplit(input, absl::ByAnyChar(std::string("\n\0", 2)));

  std::vector<std::string> args;
  Env().clear();
  bool in_env = false;
  for (const std::string& item : items) {
    if (!in_env && item.empty()) {
      in_env = true;
    } else if (!in_env) {
      args.push_back(item);
    } else {
      const size_t eq = item.find('=');
      if (eq != std::string::npos) {
        Env()[item.substr(0, eq)] = item.substr(eq + 1);
      }
    }
  }
  // Mutable copies, NULL-terminated like a real argv.
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(&s[0]);
  argv.push_back(nullptr);
  int argc = static_cast<int>(storage.size());
  const std::vector<char*> before = argv;

  // What must be left in argv, and the values given, by name.
  std::vector<char*> expected_kept;
  std::map<std::string, std::vector<std::string>> flag_values;  // by flag
  std::vector<std::string> culprits;  // "unknown flag"/"needs a value" texts
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view rest;
    if (i == 0 || !StripPrefix(args[i], &rest)) {
      expected_kept.push_back(before[i]);
      continue;
    }
    const size_t eq = rest.find('=');
    const std::string flag =
        absl::StrCat("--gtest_watchdog_", rest.substr(0, eq));
    culprits.push_back(absl::StrCat("unknown flag '", args[i], "'"));
    if (eq == absl::string_view::npos) {
      culprits.push_back(absl::StrCat(flag, " needs a value"));
      flag_values[flag].push_back("");
    } else {
      flag_values[flag].push_back(std::string(rest.substr(eq + 1)));
    }
  }

  wi::Options options;
  options.timeout = absl::Seconds(-3);  // sentinel: left alone on failure
  std::string error;
  const bool ok =
      wi::ExtractOptions(&argc, argv.data(), &FakeGetEnv, &options, &error);

  const std::string shown = absl::CHexEscape(input);
  // argv: ours removed, the rest in order, NULL-terminated.
  FUZZ_CHECK(argc == static_cast<int>(expected_kept.size()),
             absl::StrCat(shown, ": argc ", argc));
  for (int i = 0; i < argc; ++i) {
    FUZZ_CHECK(argv[i] == expected_kept[i], absl::StrCat(shown, ": argv ", i));
  }
  FUZZ_CHECK(argv[argc] == nullptr, shown);

  if (!ok) {
    FUZZ_CHECK(options.timeout == absl::Seconds(-3), shown);
    bool named = false;
    for (const std::string& culprit : culprits) {
      named = named || absl::StartsWith(error, culprit);
    }
    // "NAME: invalid value 'VALUE': REASON" for a given NAME and VALUE.
    auto invalid = [&](const std::string& name, const std::string& value) {
      const std::string head =
          absl::StrCat(name, ": invalid value '", value, "': ");
      return absl::StartsWith(error, head) && error.size() > head.size();
    };
    for (const auto& [flag, values] : flag_values) {
      for (const std::string& value : values) {
        named = named || invalid(flag, value);
      }
    }
    for (const auto& [name, value] : Env()) {
      named = named || invalid(name, value);
    }
    FUZZ_CHECK(named,
               absl::StrCat(shown, ": error '", absl::CHexEscape(error), "'"));
    return 0;
  }

  // Where each setting must have come from: the flag wins.
  auto origin_of = [&](const std::string& name) -> std::string {
    const std::string flag = absl::StrCat("--gtest_watchdog_", name);
    if (flag_values.count(flag)) return flag;
    if (Env().count(EnvName(name))) return EnvName(name);
    return "";
  };
  auto check_given = [&](const char* name, bool has_value,
                         const std::string& origin) {
    FUZZ_CHECK(has_value == !origin_of(name).empty(),
               absl::StrCat(shown, ": ", name));
    if (has_value) {
      FUZZ_CHECK(origin == origin_of(name),
                 absl::StrCat(shown, ": ", name, " from ", origin));
    }
  };

  FUZZ_CHECK(InRange(options.timeout),
             absl::StrCat(shown, ": ", absl::FormatDuration(options.timeout)));
  switch (options.timeout_source) {
    case wi::Source::kBuiltIn:
      FUZZ_CHECK(origin_of("timeout").empty() &&
                     options.timeout == absl::Seconds(60) &&
                     options.timeout_origin == "built-in default",
                 shown);
      break;
    case wi::Source::kFlag:
    case wi::Source::kEnvironment:
      FUZZ_CHECK(options.timeout_origin == origin_of("timeout") &&
                     (options.timeout_source == wi::Source::kFlag) ==
                         absl::StartsWith(options.timeout_origin, "--"),
                 absl::StrCat(shown, ": ", options.timeout_origin));
      break;
  }
  const std::pair<const char*, const wi::Given<absl::Duration>*> durations[] = {
      {"total_timeout", &options.total_timeout},
      {"outer_timeout", &options.outer_timeout},
      {"slow", &options.slow},
      {"suite_timeout", &options.suite_timeout},
      {"environment_timeout", &options.environment_timeout}};
  for (const auto& [name, given] : durations) {
    check_given(name, static_cast<bool>(*given), given->origin);
    if (*given) {
      FUZZ_CHECK(InRange(*given->value),
                 absl::StrCat(shown, ": ", name, " ",
                              absl::FormatDuration(*given->value)));
    }
  }
  check_given("scale", static_cast<bool>(options.scale), options.scale.origin);
  if (options.scale) {
    FUZZ_CHECK(std::isfinite(*options.scale.value) && *options.scale.value > 0,
               absl::StrCat(shown, ": scale ", *options.scale.value));
  }
  check_given("config", static_cast<bool>(options.config),
              options.config.origin);
  if (options.config) FUZZ_CHECK(!options.config.value->empty(), shown);
  check_given("report", static_cast<bool>(options.report),
              options.report.origin);
  if (options.report) {
    FUZZ_CHECK(absl::StartsWith(*options.report.value, "/"),
               absl::StrCat(shown, ": report ", *options.report.value));
  }
  check_given("signals", static_cast<bool>(options.signals),
              options.signals.origin);
  if (options.signals) {
    FUZZ_CHECK(
        gtest_watchdog_fuzz::ValidSignals(*options.signals.value),
        absl::StrCat(shown, ": ", wi::FormatSignalSet(*options.signals.value)));
  }
  if (origin_of("list_timeouts").empty()) {
    FUZZ_CHECK(options.list_timeouts == wi::ListFormat::kNone, shown);
  }
  return 0;
}

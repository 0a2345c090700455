#include "gtest_watchdog/config/options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest_watchdog/base/report_file.h"
#include "gtest_watchdog/config/duration.h"

namespace gtest_watchdog_internal {
namespace {

constexpr absl::string_view kFlagPrefixes[] = {
    "--gtest_watchdog_", "-gtest_watchdog_", "/gtest_watchdog_"};

// Returns the part after the prefix ("timeout=5s") if `arg` is one of ours.
std::optional<absl::string_view> StripOurPrefix(absl::string_view arg) {
  for (absl::string_view prefix : kFlagPrefixes) {
    if (absl::StartsWith(arg, prefix)) return arg.substr(prefix.size());
  }
  return std::nullopt;
}

// Applies one value to `options`; `origin` names the flag or variable.
using Apply =
    std::function<bool(const std::string& value, const std::string& origin,
                       Options* options, std::string* why)>;

// One flag: the parser's entry and what --help says of it (FlagHelp), kept
// together so that no flag can be left out of the help.
struct FlagSpec {
  const char* name;  // after "gtest_watchdog_"
  bool is_bool;
  const char* value;    // what --help shows after the name: "=DURATION"
  const char* meaning;  // one line of --help
  Apply apply;
};

bool SetDuration(Given<absl::Duration> Options::*field, const std::string& v,
                 const std::string& origin, Options* o, std::string* why) {
  absl::Duration d;
  if (!ParseDuration(v, &d, why)) return false;
  (o->*field).value = d;
  (o->*field).origin = origin;
  return true;
}

Apply DurationSetter(Given<absl::Duration> Options::*field) {
  return [field](const std::string& v, const std::string& origin, Options* o,
                 std::string* why) {
    return SetDuration(field, v, origin, o, why);
  };
}

bool ParseBool(const std::string& text, bool* out) {
  const std::string v = absl::AsciiStrToLower(text);
  if (v.empty() || v == "1" || v == "true" || v == "yes") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "no") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

const std::vector<FlagSpec>& Flags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"timeout", false, "=DURATION",
       "Limit for each test; 0 for none. The default is 60s.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         absl::Duration d;
         if (!ParseDuration(v, &d, why)) return false;
         o->timeout = d;
         o->timeout_source = absl::StartsWith(origin, "--")
                                 ? Source::kFlag
                                 : Source::kEnvironment;
         o->timeout_origin = origin;
         return true;
       }},
      {"total_timeout", false, "=DURATION",
       "Limit for the whole run, every phase included; 0 for none.",
       DurationSetter(&Options::total_timeout)},
      {"outer_timeout", false, "=DURATION",
       "When an outer runner (CTest's TIMEOUT) kills the run: end a margin "
       "before.",
       DurationSetter(&Options::outer_timeout)},
      {"slow", false, "=DURATION",
       "Print [  SLOW    ] when a test has run this long; it goes on.",
       DurationSetter(&Options::slow)},
      {"suite_timeout", false, "=DURATION",
       "Limit for SetUpTestSuite and TearDownTestSuite; default: the test's.",
       DurationSetter(&Options::suite_timeout)},
      {"environment_timeout", false, "=DURATION",
       "Limit for global environments' SetUp and TearDown; default: the "
       "test's.",
       DurationSetter(&Options::environment_timeout)},
      {"scale", false, "=NUMBER",
       "Multiply every limit; default 1, or more under a sanitizer or "
       "valgrind.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         double d;
         if (!ParseScale(v, &d, why)) return false;
         o->scale.value = d;
         o->scale.origin = origin;
         return true;
       }},
      {"config", false, "=PATH",
       "Read limits and other settings from a TOML file.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         if (v.empty()) {
           *why = "it is empty; expected the path of a TOML file";
           return false;
         }
         o->config.value = v;
         o->config.origin = origin;
         return true;
       }},
      {"report", false, "=PATH",
       "Also write the stall, crash or signal report as JSON to PATH.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         std::string absolute;
         if (!ResolveReportPath(v, &absolute, why)) return false;
         o->report.value = absolute;
         o->report.origin = origin;
         return true;
       }},
      {"signals", false, "=LIST",
       "Signals reported before they end the process: default,SIGTERM or none.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         SignalSet set = 0;
         if (!ParseSignalList(v, &set, why)) return false;
         o->signals.value = set;
         o->signals.origin = origin;
         return true;
       }},
      {"list_timeouts", true, "[=tsv]",
       "List each test's limit and its source, run nothing; tsv: for tools.",
       [](const std::string& v, const std::string&, Options* o,
          std::string* why) {
         if (v == "tsv") {
           o->list_timeouts = ListFormat::kTsv;
           return true;
         }
         bool on = false;
         if (!ParseBool(v, &on)) {
           *why = "expected nothing, 1/0, true/false, yes/no, or tsv";
           return false;
         }
         o->list_timeouts = on ? ListFormat::kTable : ListFormat::kNone;
         return true;
       }},
      {"keep_going", true, "",
       "Run the tests in child processes; a stall or crash fails only its "
       "test.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         bool on = false;
         if (!ParseBool(v, &on)) {
           *why = "expected nothing, 1/0, true/false or yes/no";
           return false;
         }
         o->keep_going.value = on;
         o->keep_going.origin = origin;
         return true;
       }},
      {"max_stalls", false, "=COUNT",
       "Keep going stops after COUNT stalls and crashes; 0: never. Default 10.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         int n = 0;
         if (!ParseCount(v, &n, why)) return false;
         o->max_stalls.value = n;
         o->max_stalls.origin = origin;
         return true;
       }},
      {"retries", false, "=COUNT",
       "Keep going reruns a test whose process died, up to COUNT times.",
       [](const std::string& v, const std::string& origin, Options* o,
          std::string* why) {
         int n = 0;
         if (!ParseCount(v, &n, why)) return false;
         if (n > 100) {
           *why = "expected a whole number from 0 to 100";
           return false;
         }
         o->retries.value = n;
         o->retries.origin = origin;
         return true;
       }},
  };
  return *flags;
}

// Edit distance (insertions, deletions, substitutions), for suggestions.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Upper(absl::string_view name) {
  return absl::AsciiStrToUpper(absl::StrCat("GTEST_WATCHDOG_", name));
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

std::string NearestFlag(absl::string_view name) {
  std::string best;
  size_t best_distance = 0;
  for (const FlagSpec& f : Flags()) {
    const size_t d = EditDistance(absl::AsciiStrToLower(name), f.name);
    if (best.empty() || d < best_distance) {
      best = f.name;
      best_distance = d;
    }
  }
  // Close enough to be a typo: a third of the name at most.
  return best_distance <= std::max<size_t>(2, best.size() / 3) ? best : "";
}

std::vector<std::string> FlagNames() {
  std::vector<std::string> names;
  for (const FlagSpec& spec : Flags()) names.emplace_back(spec.name);
  return names;
}

std::vector<FlagHelpEntry> FlagHelpEntries() {
  std::vector<FlagHelpEntry> entries;
  for (const FlagSpec& spec : Flags()) {
    entries.push_back({spec.name, spec.value, spec.meaning});
  }
  return entries;
}

std::string FlagHelp(bool color) {
  // As GoogleTest's ColoredPrintf writes a coloured piece: its own escape
  // and reset around it.
  const auto paint = [color](const char* code, absl::string_view text) {
    return color && !text.empty()
               ? absl::StrCat("\033[0;3", code, "m", text, "\033[m")
               : std::string(text);
  };
  const auto green = [&](absl::string_view text) { return paint("2", text); };
  const auto yellow = [&](absl::string_view text) { return paint("3", text); };
  // 80 columns, as GoogleTest's help: the variable goes on a line of its own
  // when it does not fit beside the flag.
  constexpr size_t kColumns = 80;
  std::string out =
      "\n"
      "This program also uses gtest_watchdog, which limits how long each test "
      "may\n"
      "run. Each of its flags can also be set by the environment variable in\n"
      "parentheses; the flag wins.\n"
      "\n"
      "Watchdog (gtest_watchdog):\n";
  for (const FlagSpec& f : Flags()) {
    const std::string flag = absl::StrCat("--gtest_watchdog_", f.name);
    const std::string var = Upper(f.name);
    const size_t width = 2 + flag.size() + strlen(f.value) + 3 + var.size() + 1;
    absl::StrAppend(&out, "  ", green(flag), yellow(f.value),
                    width <= kColumns ? "  (" : "\n      (", green(var), ")\n",
                    "      ", f.meaning, "\n");
  }
  absl::StrAppend(
      &out, "\n", yellow("DURATION"),
      ": 90s, 1.5s, 250ms, 2m, 1h, 1m30s, or a number of seconds. A config "
      "file\n(",
      green("--gtest_watchdog_config"),
      ") counts below the flags and the variables.\n"
      "\n"
      "For more, read gtest_watchdog's documentation (docs/flags.md) at\n",
      green("https://github.com/gtest-watchdog/gtest_watchdog"), ".\n");
  return out;
}

bool ResolveReportPath(const std::string& path, std::string* absolute,
                       std::string* why) {
  if (path.empty()) {
    *why = "it is empty; expected the path of a file for the JSON report";
    return false;
  }
  // Absolute now: a test may change directory before it stalls.
  if (path[0] == '/') {
    *absolute = path;
  } else {
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) {
      *why = absl::StrCat("cannot resolve a relative path: getcwd failed (",
                          strerror(errno), ")");
      return false;
    }
    *absolute = absl::StrCat(cwd, "/", path);
  }
  if (absolute->size() >= PATH_MAX) {
    *why = absl::StrCat("it is longer than ", PATH_MAX - 1, " bytes");
    return false;
  }
  if (absolute->back() == '/') {
    *why = "it names a directory; expected a file";
    return false;
  }
  // The writer's own checks (WriteJsonReportFile), made now so a path it
  // would refuse fails start-up instead of costing the report at a stall.
  // Links in the directory are resolved here, once: the writer follows
  // none, so the directory cannot be redirected later.
  const size_t slash = absolute->rfind('/');
  const std::string base = absolute->substr(slash + 1);
  std::string dir;
  const int fd =
      OpenReportDirectory(slash == 0 ? "/" : absolute->substr(0, slash),
                          /*follow_links=*/true, &dir, why);
  if (fd < 0) return false;
  struct stat st;
  const bool exists = fstatat(fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  const int err = errno;
  close(fd);
  if (exists) {
    *why = WhyNotReportFile(st);
    if (!why->empty()) return false;
  } else if (err != ENOENT) {
    *why = absl::StrCat("cannot check it: ", strerror(err));
    return false;
  }
  *absolute = absl::StrCat(dir == "/" ? "" : dir, "/", base);
  if (absolute->size() >= PATH_MAX) {
    *why = absl::StrCat("'", *absolute, "' is longer than ", PATH_MAX - 1,
                        " bytes");
    return false;
  }
  return true;
}

bool ParseCount(const std::string& text, int* out, std::string* error) {
  int n = -1;
  if (text.empty() || !absl::c_all_of(text, absl::ascii_isdigit) ||
      text.size() > 7 || !absl::SimpleAtoi(text, &n) || n > 1000000) {
    *error = "expected a whole number from 0 to 1000000";
    return false;
  }
  *out = n;
  return true;
}

bool ParseScale(const std::string& text, double* out, std::string* error) {
  const std::string t(absl::StripAsciiWhitespace(text));
  double d = 0;
  const std::string lower = absl::AsciiStrToLower(t);
  if (t.empty() || lower.find("inf") != std::string::npos ||
      lower.find("nan") != std::string::npos ||
      lower.find('x') != std::string::npos || !absl::SimpleAtod(t, &d) ||
      !std::isfinite(d) || d <= 0) {
    *error = "a scale must be a number greater than 0, such as 2 or 1.5";
    return false;
  }
  *out = d;
  return true;
}

bool ExtractOptions(int* argc, char** argv, GetEnvFn getenv_fn,
                    Options* options, std::string* error) {
  struct FlagValue {
    const FlagSpec* spec;
    std::string value;
    std::string arg;
  };
  std::vector<FlagValue> given;
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
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& f : Flags()) {
      if (name == f.name) spec = &f;
    }
    if (spec != nullptr) {
      if (eq == absl::string_view::npos && !spec->is_bool) {
        problem = absl::StrCat(flag, " needs a value, e.g. ", flag, "=",
                               name == "scale"        ? "2"
                               : name == "config"     ? "watchdog.toml"
                               : name == "report"     ? "stall.json"
                               : name == "signals"    ? "default,SIGTERM"
                               : name == "max_stalls" ? "10"
                               : name == "retries"    ? "2"
                                                      : "90s");
      } else {
        given.push_back({spec,
                         eq == absl::string_view::npos
                             ? ""
                             : std::string(rest->substr(eq + 1)),
                         std::string(arg)});
      }
    } else {
      std::vector<std::string> names;
      for (const FlagSpec& f : Flags())
        names.push_back(absl::StrCat("--gtest_watchdog_", f.name));
      const std::string nearest = NearestFlag(name);
      problem = absl::StrCat(
          "unknown flag '", arg, "'",
          nearest.empty() ? "; the flags are "
                          : absl::StrCat("; did you mean --gtest_watchdog_",
                                         nearest, "? The flags are "),
          absl::StrJoin(names, ", "));
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
  // Environment first, then flags over it: the flag wins. A bad variable is
  // an error even when a flag overrides it: never silently ignored.
  for (const FlagSpec& f : Flags()) {
    const std::string var = Upper(f.name);
    const char* env = getenv_fn(var.c_str());
    if (env == nullptr) continue;
    std::string why;
    if (f.is_bool && *env == '\0')
      why = "it is empty; expected 1/0, true/false or yes/no";
    if (!why.empty() || !f.apply(env, var, &parsed, &why)) {
      *error = absl::StrCat(var, ": invalid value '", env, "': ", why);
      return false;
    }
  }
  for (const FlagValue& g : given) {
    std::string why;
    const std::string flag = absl::StrCat("--gtest_watchdog_", g.spec->name);
    if (!g.spec->apply(g.value, flag, &parsed, &why)) {
      *error = absl::StrCat(flag, ": invalid value '", g.value, "': ", why);
      return false;
    }
  }
  *options = parsed;
  return true;
}

}  // namespace gtest_watchdog_internal

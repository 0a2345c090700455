#include "gtest_watchdog/config/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/config/duration.h"
#include "gtest_watchdog/config/toml_compat.h"

// toml++ header-only and without exceptions, whatever its target says:
// Debian's libtomlplusplus.so (whose CMake target adds -DTOML_HEADER_ONLY=0
// -DTOML_SHARED_LIB=1) is built with exceptions and exports only the
// throwing parser, which a program compiled with -fno-exceptions cannot
// use; the non-throwing parser returns a parse_result instead. Its code is
// then compiled into this file (internal to the library: hidden in a shared
// build), and the same code serves every build, fuzzing included.
#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#undef TOML_EXCEPTIONS
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include "toml++/toml.h"

namespace gtest_watchdog_internal {
namespace {

constexpr char kTopLevelKeys[] =
    "timeout, total_timeout, scale, slow, suite_timeout, "
    "environment_timeout, signals, keep_going, max_stalls, retries, override";
constexpr char kOverrideKeys[] = "filter, timeout";

// Numbers of seconds beyond this are clamped before ParseDuration sees them,
// so they are reported as "too large" instead of as unparsable. Far above
// ParseDuration's own ceiling (100 years, about 3.2e9 s).
constexpr int64_t kClampSeconds = 1000000000000;

absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

int LineOf(const toml::source_region& region) {
  return static_cast<int>(region.begin.line);
}

// "PATH:LINE: " for messages.
std::string At(const std::string& path, const toml::source_region& region) {
  return absl::StrCat(path, ":", LineOf(region), ": ");
}

const char* TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// A table's entries in file order; toml::table iterates in key order, but
// the first problem in the file is the one to report.
struct Entry {
  const toml::key* key;
  const toml::node* node;
};
std::vector<Entry> InFileOrder(const toml::table& table) {
  std::vector<Entry> entries;
  for (auto&& [key, node] : table) entries.push_back({&key, &node});
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const toml::source_position& pa = a.key->source().begin;
    const toml::source_position& pb = b.key->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return entries;
}

// Reads a duration: a string for ParseDuration, or a number of seconds.
bool ReadDuration(const std::string& path, absl::string_view name,
                  const toml::node& node, absl::Duration* out,
                  std::string* error) {
  std::string shown;  // the value as the user wrote it, for messages
  std::string parsed;
  if (const auto* s = node.as_string()) {
    shown = s->get();
    parsed = shown;
  } else if (const auto* i = node.as_integer()) {
    const int64_t seconds = i->get();
    shown = absl::StrCat(seconds);
    parsed = absl::StrCat(std::min(seconds, kClampSeconds));
  } else if (const auto* f = node.as_floating_point()) {
    const double seconds = f->get();
    shown = absl::StrCat(seconds);
    if (!std::isfinite(seconds)) {
      *error =
          absl::StrCat(At(path, node.source()), "'", name, "': invalid value '",
                       shown, "': not a finite number of seconds");
      return false;
    }
    // Fixed notation: ParseDuration takes no exponents.
    parsed = absl::StrFormat(
        "%.9f", std::min(seconds, static_cast<double>(kClampSeconds)));
  } else {
    *error = absl::StrCat(At(path, node.source()), "'", name,
                          "' must be a duration string like \"90s\" or a "
                          "number of seconds, not ",
                          TypeName(node.type()));
    return false;
  }
  std::string reason;
  if (!ParseDuration(parsed, out, &reason)) {
    *error = absl::StrCat(At(path, node.source()), "'", name,
                          "': invalid value '", shown, "': ", reason);
    return false;
  }
  return true;
}

// `signals = "default,SIGTERM"` or `signals = ["default", "SIGTERM"]`.
bool ReadSignals(const std::string& path, const toml::node& node,
                 SignalSet* out, std::string* error) {
  std::string text;
  if (const auto* s = node.as_string()) {
    text = s->get();
  } else if (const auto* array = node.as_array()) {
    std::vector<std::string> items;
    for (const toml::node& element : *array) {
      const auto* item = element.as_string();
      if (item == nullptr) {
        *error = absl::StrCat(At(path, element.source()),
                              "'signals' items must be strings such as "
                              "\"SIGTERM\", not ",
                              TypeName(element.type()));
        return false;
      }
      items.push_back(item->get());
    }
    text = absl::StrJoin(items, ",");
  } else {
    *error = absl::StrCat(At(path, node.source()),
                          "'signals' must be a string such as "
                          "\"default,SIGTERM\" or an array of strings, not ",
                          TypeName(node.type()));
    return false;
  }
  std::string reason;
  if (!ParseSignalList(text, out, &reason)) {
    *error = absl::StrCat(At(path, node.source()), "'signals': invalid value '",
                          text, "': ", reason);
    return false;
  }
  return true;
}

bool ReadScale(const std::string& path, const toml::node& node, double* out,
               std::string* error) {
  std::string shown;
  double value = 0;
  if (const auto* i = node.as_integer()) {
    value = static_cast<double>(i->get());
    shown = absl::StrCat(i->get());
  } else if (const auto* f = node.as_floating_point()) {
    value = f->get();
    shown = absl::StrCat(value);
  } else {
    shown = TypeName(node.type());
  }
  // !(value > 0) also catches nan and non-numbers (value stays 0).
  if (!(value > 0) || !std::isfinite(value)) {
    *error =
        absl::StrCat(At(path, node.source()),
                     "'scale' must be a number greater than 0, not ", shown);
    return false;
  }
  *out = value;
  return true;
}

// A scalar as the user wrote it, for messages: a number itself, a string
// quoted; anything else by its type.
std::string Shown(const toml::node& node) {
  if (const auto* i = node.as_integer()) return absl::StrCat(i->get());
  if (const auto* f = node.as_floating_point()) return absl::StrCat(f->get());
  if (const auto* s = node.as_string()) {
    return absl::StrCat("the string \"", ToAbsl(s->get()), "\"");
  }
  return TypeName(node.type());
}

bool ReadKeepGoing(const std::string& path, const toml::node& node, bool* out,
                   std::string* error) {
  const auto* b = node.as_boolean();
  if (b == nullptr) {
    *error =
        absl::StrCat(At(path, node.source()),
                     "'keep_going' must be true or false, not ", Shown(node));
    return false;
  }
  *out = b->get();
  return true;
}

bool ReadCount(const std::string& path, const char* key, int64_t most,
               const toml::node& node, int* out, std::string* error) {
  const auto* i = node.as_integer();
  if (i == nullptr || i->get() < 0 || i->get() > most) {
    *error = absl::StrCat(At(path, node.source()), "'", key,
                          "' must be a whole number from 0 to ", most, ", not ",
                          Shown(node));
    return false;
  }
  *out = static_cast<int>(i->get());
  return true;
}

bool ReadOverride(const std::string& path, const toml::table& table,
                  ConfigOverride* out, std::string* error) {
  bool has_filter = false;
  bool has_timeout = false;
  for (const Entry& entry : InFileOrder(table)) {
    const std::string_view key = entry.key->str();
    const toml::node& node = *entry.node;
    if (key == "filter") {
      const auto* s = node.as_string();
      if (s == nullptr) {
        *error = absl::StrCat(At(path, node.source()),
                              "override 'filter' must be a string in "
                              "--gtest_filter syntax such as \"Suite.*\", "
                              "not ",
                              TypeName(node.type()));
        return false;
      }
      std::string reason;
      if (!FilterPattern::Parse(s->get(), &out->filter, &reason)) {
        *error = absl::StrCat(At(path, node.source()),
                              "override filter: bad pattern '", s->get(),
                              "': ", reason);
        return false;
      }
      has_filter = true;
    } else if (key == "timeout") {
      if (!ReadDuration(path, "timeout", node, &out->timeout, error)) {
        return false;
      }
      has_timeout = true;
    } else {
      *error = absl::StrCat(
          At(path, entry.key->source()), "unknown key '", ToAbsl(key),
          "' in [[override]] (known keys: ", kOverrideKeys, ")");
      return false;
    }
  }
  if (!has_filter || !has_timeout) {
    *error = absl::StrCat(At(path, table.source()), "[[override]] has no '",
                          has_filter ? "timeout" : "filter",
                          "'; each override needs both 'filter' and "
                          "'timeout'");
    return false;
  }
  out->line = LineOf(table.source());
  return true;
}

bool ReadOverrides(const std::string& path, const toml::node& node,
                   std::vector<ConfigOverride>* out, std::string* error) {
  constexpr char kShape[] =
      "'override' must be an array of tables written as [[override]]";
  const auto* array = node.as_array();
  if (array == nullptr) {
    *error = absl::StrCat(At(path, node.source()), kShape, ", not ",
                          TypeName(node.type()));
    return false;
  }
  for (const toml::node& element : *array) {
    const auto* table = element.as_table();
    if (table == nullptr) {
      *error = absl::StrCat(At(path, element.source()), kShape,
                            ", but an element is ", TypeName(element.type()));
      return false;
    }
    ConfigOverride entry;
    if (!ReadOverride(path, *table, &entry, error)) return false;
    out->push_back(std::move(entry));
  }
  return true;
}

bool ReadTopLevel(const std::string& path, const toml::table& root,
                  ConfigFile* config, std::string* error) {
  for (const Entry& entry : InFileOrder(root)) {
    const std::string_view key = entry.key->str();
    const toml::node& node = *entry.node;
    std::optional<absl::Duration>* duration = nullptr;
    if (key == "timeout") {
      duration = &config->timeout;
      config->timeout_line = LineOf(entry.key->source());
    } else if (key == "total_timeout") {
      duration = &config->total_timeout;
    } else if (key == "slow") {
      duration = &config->slow;
    } else if (key == "suite_timeout") {
      duration = &config->suite_timeout;
    } else if (key == "environment_timeout") {
      duration = &config->environment_timeout;
    } else if (key == "scale") {
      double scale = 0;
      if (!ReadScale(path, node, &scale, error)) return false;
      config->scale = scale;
      continue;
    } else if (key == "signals") {
      SignalSet set = 0;
      if (!ReadSignals(path, node, &set, error)) return false;
      config->signals = set;
      config->signals_line = LineOf(entry.key->source());
      continue;
    } else if (key == "keep_going") {
      bool on = false;
      if (!ReadKeepGoing(path, node, &on, error)) return false;
      config->keep_going = on;
      continue;
    } else if (key == "max_stalls") {
      int n = 0;
      if (!ReadCount(path, "max_stalls", 1000000, node, &n, error)) {
        return false;
      }
      config->max_stalls = n;
      continue;
    } else if (key == "retries") {
      int n = 0;
      if (!ReadCount(path, "retries", 100, node, &n, error)) return false;
      config->retries = n;
      continue;
    } else if (key == "override") {
      if (!ReadOverrides(path, node, &config->overrides, error)) return false;
      continue;
    } else {
      *error = absl::StrCat(At(path, entry.key->source()), "unknown key '",
                            ToAbsl(key), "' (known keys: ", kTopLevelKeys, ")");
      return false;
    }
    absl::Duration d;
    if (!ReadDuration(path, ToAbsl(key), node, &d, error)) return false;
    *duration = d;
  }
  return true;
}

std::string SyntaxError(const std::string& path, const toml::parse_error& e) {
  return absl::StrCat(path, ":", e.source().begin.line, ":",
                      e.source().begin.column, ": ", ToAbsl(e.description()));
}

}  // namespace

const ConfigOverride* ConfigFile::FindOverride(
    absl::string_view full_test_name) const {
  for (const ConfigOverride& o : overrides) {
    if (o.filter.Matches(full_test_name)) return &o;
  }
  return nullptr;
}

bool ParseConfigText(absl::string_view text, const std::string& path,
                     ConfigFile* out, std::string* error) {
  const std::string_view doc(text.data(), text.size());
  const std::string_view source_path(path);
  if (!CheckTomlTraps(text, path, error)) return false;
  toml::parse_result result = toml::parse(doc, source_path);
  if (!result) {
    *error = SyntaxError(path, result.error());
    return false;
  }
  toml::table root = std::move(result).table();
  ConfigFile config;
  config.path = path;
  if (!ReadTopLevel(path, root, &config, error)) return false;
  *out = std::move(config);
  return true;
}

// The path may name anything. Opened close-on-exec (nothing the tests
// start inherits it) and non-blocking, so a FIFO without a writer cannot
// hang start-up; only a regular file of at most kMaxConfigFileBytes is read
// (a device such as /dev/zero never ends). Links are followed: Bazel's
// runfiles are symbolic links. Start-up only: allocates, not signal-safe.
bool LoadConfigFile(const std::string& path, ConfigFile* out,
                    std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = absl::StrCat("cannot read config file '", path, "': ", why);
    return false;
  };
  const int fd =
      open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(std::strerror(errno));
  struct CloseOnReturn {
    int fd;
    ~CloseOnReturn() { (void)close(fd); }  // read-only: nothing is lost
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail(std::strerror(EISDIR));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  if (st.st_size > kMaxConfigFileBytes) return fail("larger than 1 MiB");
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    // The file may grow while it is read.
    if (text.size() > static_cast<size_t>(kMaxConfigFileBytes)) {
      return fail("larger than 1 MiB");
    }
  }
  return ParseConfigText(text, path, out, error);
}

std::vector<std::string> TopLevelConfigKeys() {
  return absl::StrSplit(kTopLevelKeys, ", ");
}

std::vector<std::string> OverrideConfigKeys() {
  return absl::StrSplit(kOverrideKeys, ", ");
}

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/config/limits.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest_watchdog/config/duration.h"

namespace gtest_watchdog_internal {
namespace {

constexpr int64_t kBuiltInNs = int64_t{60} * 1000000000;
// Far beyond any sensible limit; keeps deadline arithmetic in range.
constexpr long double kMaxNs = 100.0L * 365 * 24 * 3600 * 1e9L;

int64_t ToNs(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool HasSymbol(const char* name) {
  return dlsym(RTLD_DEFAULT, name) != nullptr;
}

}  // namespace

std::vector<Annotation>& RegisteredAnnotations() {
  static auto* annotations = new std::vector<Annotation>;
  return *annotations;
}

RuntimeSlowdown DetectSlowRuntime(bool (*has_symbol)(const char* name),
                                  const char* preload) {
  if (preload != nullptr && strstr(preload, "vgpreload") != nullptr) {
    return {"valgrind", 10};
  }
  if (has_symbol("__tsan_init")) return {"ThreadSanitizer", 5};
  if (has_symbol("__msan_init")) return {"MemorySanitizer", 3};
  if (has_symbol("__asan_init")) return {"AddressSanitizer", 2};
  return {};
}

RuntimeSlowdown DetectSlowRuntime() {
  return DetectSlowRuntime(&HasSymbol, getenv("LD_PRELOAD"));
}

bool BazelCap(const char* text, int64_t* cap_ns, std::string* error) {
  int64_t seconds = 0;
  if (text == nullptr || !absl::SimpleAtoi(text, &seconds) || seconds <= 0 ||
      seconds > 100LL * 365 * 24 * 3600) {
    *error = absl::StrCat("TEST_TIMEOUT: invalid value '",
                          text == nullptr ? "" : text,
                          "': expected Bazel's whole number of seconds");
    return false;
  }
  *cap_ns = CapBelow(seconds * 1000000000);
  return true;
}

int64_t CapBelow(int64_t outer_ns) {
  const int64_t margin = std::clamp<int64_t>(
      outer_ns / 10, int64_t{2} * 1000000000, int64_t{30} * 1000000000);
  return outer_ns > 2 * margin ? outer_ns - margin : outer_ns / 2;
}

const char* LimitPlan::Intern(std::string text) {
  strings_.push_back(std::move(text));
  return strings_.back().c_str();
}

Limit LimitPlan::Scaled(int64_t ns, const std::string& origin) {
  if (scale_ == 1 || ns == 0) return {ns, Intern(origin)};
  const long double scaled =
      std::min<long double>(ns * static_cast<long double>(scale_), kMaxNs);
  return {
      // A positive limit stays positive however small the scale.
      std::max<int64_t>(static_cast<int64_t>(std::llround(scaled)), 1),
      Intern(absl::StrCat(origin, ", scaled ×", absl::StrFormat("%g", scale_),
                          " (", scale_origin_, ")"))};
}

bool LimitPlan::Build(const Inputs& in, std::string* error) {
  const Options& o = *in.options;
  file_ = in.file;

  // Scale: flag/environment, config file, slower runtime, 1.
  if (o.scale) {
    scale_ = *o.scale.value;
    scale_origin_ = o.scale.origin;
  } else if (file_ != nullptr && file_->scale) {
    scale_ = *file_->scale;
    scale_origin_ = absl::StrCat("scale in ", file_->path);
  } else if (in.runtime.name != nullptr) {
    scale_ = in.runtime.factor;
    scale_origin_ = absl::StrCat(in.runtime.name, " default");
    notice_ = absl::StrFormat(
        "[ WATCHDOG ] %s detected: every limit is scaled by %g (set "
        "--gtest_watchdog_scale to choose another factor)",
        in.runtime.name, scale_);
  }

  // The default for tests (and for the phases without their own limit).
  int64_t default_ns = kBuiltInNs;
  std::string default_origin = "built-in default";
  if (o.timeout_source != Source::kBuiltIn) {
    default_ns = ToNs(o.timeout);
    default_origin = o.timeout_origin;
  } else if (file_ != nullptr && file_->timeout) {
    default_ns = ToNs(*file_->timeout);
    default_origin =
        absl::StrCat("timeout in ", file_->path, ":", file_->timeout_line);
  }
  test_default_ = Scaled(default_ns, default_origin);

  auto phase_limit = [&](const Given<absl::Duration>& given,
                         const std::optional<absl::Duration>& from_file,
                         const char* key) {
    if (given) return Scaled(ToNs(*given.value), given.origin);
    if (file_ != nullptr && from_file) {
      return Scaled(ToNs(*from_file), absl::StrCat(key, " in ", file_->path));
    }
    return test_default_;
  };
  suite_ =
      phase_limit(o.suite_timeout, file_ ? file_->suite_timeout : std::nullopt,
                  "suite_timeout");
  environment_ = phase_limit(o.environment_timeout,
                             file_ ? file_->environment_timeout : std::nullopt,
                             "environment_timeout");

  if (o.slow) {
    slow_ = Scaled(ToNs(*o.slow.value), o.slow.origin);
  } else if (file_ != nullptr && file_->slow) {
    slow_ = Scaled(ToNs(*file_->slow), absl::StrCat("slow in ", file_->path));
  }

  if (o.total_timeout) {
    total_ = Scaled(ToNs(*o.total_timeout.value), o.total_timeout.origin);
  } else if (file_ != nullptr && file_->total_timeout) {
    total_ = Scaled(ToNs(*file_->total_timeout),
                    absl::StrCat("total_timeout in ", file_->path));
  }
  if (in.bazel_test_timeout != nullptr) {
    int64_t cap = 0;
    if (!BazelCap(in.bazel_test_timeout, &cap, error)) return false;
    if (total_.ns == 0 || cap < total_.ns) {
      total_ = {cap, Intern(absl::StrCat(
                         "Bazel's TEST_TIMEOUT=", in.bazel_test_timeout,
                         " minus a safety margin"))};
    }
  }

  // Not scaled either: the outer runner's clock does not slow down.
  if (o.outer_timeout && *o.outer_timeout.value > absl::ZeroDuration()) {
    const int64_t cap = CapBelow(ToNs(*o.outer_timeout.value));
    if (cap > 0 && (total_.ns == 0 || cap < total_.ns)) {
      total_ = {
          cap, Intern(absl::StrCat(o.outer_timeout.origin, "=",
                                   absl::FormatDuration(*o.outer_timeout.value),
                                   " minus a safety margin"))};
    }
  }

  // Overrides, scaled once here.
  if (file_ != nullptr) {
    for (const ConfigOverride& ov : file_->overrides) {
      override_limits_.push_back(Scaled(
          ToNs(ov.timeout), absl::StrCat("[[override]] \"", ov.filter.text(),
                                         "\" at ", file_->path, ":", ov.line)));
    }
  }

  // Annotations: validated, then ordered by file and line for determinism.
  std::vector<Annotation> sorted = in.annotations;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Annotation& a, const Annotation& b) {
                     return a.file != b.file ? a.file < b.file
                                             : a.line < b.line;
                   });
  for (const Annotation& a : sorted) {
    const std::string where = absl::StrCat(Basename(a.file), ":", a.line);
    ResolvedAnnotation r;
    std::string why;
    if (!FilterPattern::Parse(a.pattern, &r.pattern, &why)) {
      *error = absl::StrCat("GTEST_WATCHDOG_TIMEOUT at ", a.file, ":", a.line,
                            ": bad pattern '", a.pattern, "': ", why);
      return false;
    }
    if (std::isnan(a.limit_ns)) {
      *error = absl::StrCat("GTEST_WATCHDOG_TIMEOUT(\"", a.pattern, "\") at ",
                            a.file, ":", a.line,
                            ": invalid duration: it is not a number");
      return false;
    }
    if (!(a.limit_ns >= 0) || a.limit_ns > kMaxNs) {
      *error = absl::StrCat("GTEST_WATCHDOG_TIMEOUT(\"", a.pattern, "\") at ",
                            a.file, ":", a.line, ": invalid duration ",
                            absl::StrFormat("%.9Lg s", a.limit_ns / 1e9L),
                            a.limit_ns < 0
                                ? ": a limit cannot be negative"
                                : ": it is too large (at most 100 years)");
      return false;
    }
    const Limit l = Scaled(
        static_cast<int64_t>(std::llround(a.limit_ns)),
        absl::StrCat("GTEST_WATCHDOG_TIMEOUT(\"", a.pattern, "\") at ", where));
    r.ns = l.ns;
    r.origin = l.origin;
    annotations_.push_back(std::move(r));
  }
  return true;
}

Limit LimitPlan::ForTest(absl::string_view full_name) const {
  if (file_ != nullptr) {
    for (size_t i = 0; i < file_->overrides.size(); ++i) {
      if (file_->overrides[i].filter.Matches(full_name)) {
        return override_limits_[i];
      }
    }
  }
  const ResolvedAnnotation* best = nullptr;
  for (const ResolvedAnnotation& a : annotations_) {
    if (!a.pattern.Matches(full_name)) continue;
    if (a.pattern.is_exact()) {
      best = &a;
      break;
    }
    if (best == nullptr) best = &a;
  }
  if (best != nullptr) return {best->ns, best->origin};
  return test_default_;
}

bool LimitPlan::AnyLimit() const {
  bool any = test_default_.ns > 0 || suite_.ns > 0 || environment_.ns > 0 ||
             total_.ns > 0 || slow_.ns > 0;
  for (const Limit& l : override_limits_) any |= l.ns > 0;
  for (const ResolvedAnnotation& a : annotations_) any |= a.ns > 0;
  return any;
}

int64_t LimitPlan::RunBoundForTest(absl::string_view full_name,
                                   int repeat) const {
  const int64_t phases[] = {environment_.ns, suite_.ns, ForTest(full_name).ns,
                            suite_.ns, environment_.ns};
  int64_t sum = 0;
  for (int64_t ns : phases) {
    if (ns == 0 || sum > INT64_MAX - ns) {
      sum = 0;  // unbounded (or beyond any clock): only the total bounds it
      break;
    }
    sum += ns;
  }
  if (repeat < 0 || (repeat > 1 && sum > INT64_MAX / repeat)) {
    sum = 0;
  } else if (repeat > 1) {
    sum *= repeat;
  }
  if (total_.ns == 0) return sum;
  return sum == 0 ? total_.ns : std::min(sum, total_.ns);
}

int64_t LimitPlan::ShortestEvent() const {
  int64_t shortest = INT64_MAX;
  auto consider = [&](int64_t ns) {
    if (ns > 0) shortest = std::min(shortest, ns);
  };
  consider(test_default_.ns);
  consider(suite_.ns);
  consider(environment_.ns);
  consider(slow_.ns);
  for (const Limit& l : override_limits_) consider(l.ns);
  for (const ResolvedAnnotation& a : annotations_) consider(a.ns);
  return shortest == INT64_MAX ? int64_t{3600} * 1000000000 : shortest;
}

}  // namespace gtest_watchdog_internal

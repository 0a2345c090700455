// File: gtest_watchdog/config/options.h
//
// The watchdog's settings, and how they are read from argv and the
// environment. `ExtractOptions` REMOVES every `--gtest_watchdog_*` argument
// (also the `-gtest_watchdog_*` and `/gtest_watchdog_*` spellings GoogleTest
// accepts) from argv, because GoogleTest treats any unknown `--gtest_` flag as
// a request for help and then runs no test. All other arguments keep their
// order. Each flag has an environment variable (upper-cased name); the flag
// wins, as in GoogleTest.
//
// Not on the stall path: allocates, not signal-safe.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace gtest_watchdog_internal {

// Where a setting's value came from; printed so users can tell why a limit
// applies.
enum class Source { kBuiltIn, kEnvironment, kFlag };
const char* SourceName(Source source);

struct Options {
  // Limit for each watched phase; zero switches the watchdog off.
  absl::Duration timeout = absl::Seconds(60);
  Source timeout_source = Source::kBuiltIn;
  // Text naming the origin, e.g. "--gtest_watchdog_timeout" or
  // "GTEST_WATCHDOG_TIMEOUT"; used in the report headline.
  std::string timeout_origin = "built-in default";
};

// Seam over getenv so tests need not touch the real environment.
using GetEnvFn = const char* (*)(const char* name);

// Parses and removes our flags from argv, reads the environment, and fills
// `*options`. On bad input returns false with `*error` naming the flag or
// variable and the value; argv is then left with our flags removed anyway.
bool ExtractOptions(int* argc, char** argv, GetEnvFn getenv_fn,
                    Options* options, std::string* error);

}  // namespace gtest_watchdog_internal

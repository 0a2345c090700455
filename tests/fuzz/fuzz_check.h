// File: tests/fuzz/fuzz_check.h
//
// What the libFuzzer targets share: FUZZ_CHECK, a property that must hold
// for every input. A violation prints what was expected and the value that
// broke it, then aborts, so libFuzzer saves the input as a crash-* artifact
// (docs/fuzzing.md says how to reproduce it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace gtest_watchdog_fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* what,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
  if (!detail.empty()) {
    std::fprintf(stderr, "  detail: %s\n", detail.c_str());
  }
  std::fflush(stderr);
  std::abort();
}

inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace gtest_watchdog_fuzz

// FUZZ_CHECK(condition, detail): `detail` is a std::string-convertible
// expression, evaluated only when the condition fails.
#define FUZZ_CHECK(condition, detail)                                  \
  do {                                                                 \
    if (!(condition)) {                                                \
      ::gtest_watchdog_fuzz::Fail(__FILE__, __LINE__, #condition,      \
                                  std::string(detail));                \
    }                                                                  \
  } while (false)

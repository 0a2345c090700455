// File: tests/fuzz/fuzz_check.h
//
// What the libFuzzer targets share: FUZZ_CHECK, a property that must hold
// for every input. A violation prints what was expected and the value that
// broke it, then aborts, so libFuzzer saves the input as a crash-* artifact
// (docs/fuzzing.md says how to reproduce it).
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest_watchdog/config/signal_list.h"

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

// Whether a parsed signal set holds only signals the watchdog may report:
// never the ones it refuses, nor the real-time signals glibc keeps.
inline bool ValidSignals(gtest_watchdog_internal::SignalSet set) {
  for (int sig : {SIGKILL, SIGSTOP, SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGTSTP,
                  SIGTTIN, SIGTTOU}) {
    if (gtest_watchdog_internal::HasSignal(set, sig)) return false;
  }
  for (int sig = 32; sig < SIGRTMIN; ++sig) {
    if (gtest_watchdog_internal::HasSignal(set, sig)) return false;
  }
  return true;
}

inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace gtest_watchdog_fuzz

// FUZZ_CHECK(condition, detail): `detail` is a std::string-convertible
// expression, evaluated only when the condition fails.
#define FUZZ_CHECK(condition, detail)                             \
  do {                                                            \
    if (!(condition)) {                                           \
      ::gtest_watchdog_fuzz::Fail(__FILE__, __LINE__, #condition, \
                                  std::string(detail));           \
    }                                                             \
  } while (false)

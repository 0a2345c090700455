// File: gtest_watchdog/diagnose/user_code.h
//
// Which frames of a stack are the user's code, and which part of a test a
// stack is in. The test thread's innermost user frame is where the report
// says the test is stuck; GoogleTest, the C++ runtime, libc and the
// watchdog are the machinery around it. The analysis, the verdict and both
// renderers decide this the same way, from these rules only.
#pragma once

#include <string>
#include <vector>

#include "gtest_watchdog/diagnose/report_model.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

// True for a function of GoogleTest ("testing::...", its internals).
// Helper process only.
bool IsGtest(const std::string& fn);
// True for a frame that is not the user's code: GoogleTest, the C++
// runtime, libc, a system library, the watchdog, main, or unknown.
// Helper process only.
bool IsRuntime(const SourceFrame& f);

// `frames` innermost first, as symbolized. Helper process only.
TestPart ClassifyTestPart(const std::vector<SourceFrame>& frames);

// The first frame (innermost first) that is the user's code: not in
// GoogleTest, the C++ runtime, libc or the watchdog, and not a function
// from a header called by more of the user's code (a wrapper). Null if
// none.
// Helper process only.
const SourceFrame* FirstUserFrame(const std::vector<SourceFrame>& frames);

}  // namespace gtest_watchdog_internal

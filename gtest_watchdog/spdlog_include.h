// File: gtest_watchdog/spdlog_include.h
//
// spdlog, for our start-up notices: include it through this header only.
//
// spdlog's headers use try/catch unless SPDLOG_NO_EXCEPTIONS is defined;
// they do not look at whether exceptions are enabled. A project compiled
// with -fno-exceptions (which adds us with add_subdirectory, so our sources
// get its flags) would fail to compile them, so we define it then. It
// changes only the inline code compiled here (an error in spdlog aborts
// instead of throwing), not any type's layout, so it is safe with a spdlog
// library built with exceptions (Debian's libspdlog.so).
#ifndef GTEST_WATCHDOG_SPDLOG_INCLUDE_H_
#define GTEST_WATCHDOG_SPDLOG_INCLUDE_H_

#if !defined(__cpp_exceptions) && !defined(SPDLOG_NO_EXCEPTIONS)
#define SPDLOG_NO_EXCEPTIONS
#endif

#include "spdlog/sinks/stdout_sinks.h"  // IWYU pragma: export
#include "spdlog/spdlog.h"              // IWYU pragma: export

#endif  // GTEST_WATCHDOG_SPDLOG_INCLUDE_H_

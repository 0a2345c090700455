// File: gtest_watchdog/gtest_output/output_rescue.h
//
// GoogleTest's XML/JSON output after a stall or a crash is written by
// GoogleTest's own generator, which allocates, takes locks and may itself
// crash or hang in a broken process. It truncates the file first, so a
// generator that dies part-way would leave an empty or half-written file
// (or, dying before it opens the file, a stale one from an earlier run).
//
// So before it runs, gtest_output.cc writes a minimal valid file that fails
// the stalled test beside the real one and arms this rescue. If the
// generator then faults (the fatal-signal handler) or hangs (the dead-man
// timer), RescueOutput renames the minimal file over the real one, which is
// atomic: the file is then either GoogleTest's complete one or the minimal
// one, never anything in between.
#pragma once

namespace gtest_watchdog_internal {

// Remembers the two paths (copied; at most PATH_MAX bytes each, longer ones
// make it return false and arm nothing). Signal-safe, no allocation, no lock.
bool ArmOutputRescue(const char* minimal_path, const char* output_path);

// Withdraws the rescue once the generator has returned. Returns false if a
// rescue already took place (it cannot be taken back). Signal-safe.
bool DisarmOutputRescue();

// Whether a rescue is armed (GoogleTest's generator is running). Signal-safe.
bool OutputRescueArmed();

// If armed: renames the minimal file over the output and writes one line to
// `fd` saying so, naming `cause` ("received SIGSEGV", "did not finish within
// 30.00 s" ...; written as is). If the rename fails the output is removed, so
// that no half-written file is left, and the line says that. Does nothing if
// not armed; never twice. Signal-safe: rename, unlink, write; no
// allocation, no lock.
void RescueOutput(int fd, const char* cause, const char* cause_detail = "");

}  // namespace gtest_watchdog_internal

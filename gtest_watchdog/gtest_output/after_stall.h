// File: gtest_watchdog/gtest_output/after_stall.h
//
// --gtest_output=xml:PATH / json:PATH on a stall. GoogleTest writes that file
// only at the end of an iteration, which a stalled run never reaches: the
// stall path calls WriteGtestOutputAfterStall once the report is on stderr,
// so tests that ran keep their results, the stalled one fails with the
// report's headline and stack, and tests never reached show as not run.
//
// Best effort, unlike the rest of the stall path: this allocates, takes
// GoogleTest's locks (UnitTest's mutex, the result reporter's) and libc's
// (malloc, stdio on the output file, the time zone). A stuck thread holding
// one of them (a test blocked writing to a full stdout pipe while reporting
// a failure, a thread stopped inside malloc) hangs it; the dead-man timer
// then ends the process and only the output file is lost, the report on
// stderr is already complete.
#pragma once

#include <string>

namespace gtest_watchdog_internal {

// Call once, after testing::InitGoogleTest and before RUN_ALL_TESTS, on the
// thread that runs the tests (further calls do nothing). Notes whether
// GoogleTest made an XML/JSON generator, and the absolute path it writes to
// (resolved against the directory the program started in, as GoogleTest
// does, so a test that changes directory later does not move it). If so,
// appends a listener that records which tests started in the current
// iteration: a plain store per test, no allocation, no lock. Start-up only.
void PrepareGtestOutput();

// The file GoogleTest's XML/JSON generator writes ("" when --gtest_output
// asks for none), and whether it is JSON. Call before the generator has
// written anything (a path ending in '/' picks the first free name).
// Start-up only.
std::string GtestOutputFile(bool* json);

// Whether PrepareGtestOutput found an XML/JSON output to write. Signal-safe:
// a plain read, allocates nothing (so the stall path can skip the
// allocating step below when there is nothing to write).
bool GtestOutputRequested();

// What WriteGtestOutputAfterStall left at the output path.
struct GtestOutputWritten {
  enum class Kind {
    kNone,      // nothing written: not requested, or a line on stderr said why
    kComplete,  // GoogleTest's own file, complete, the stalled test failed
    kMinimal,   // a minimal valid file failing the stalled test (`why`)
  };
  Kind kind = Kind::kNone;
  std::string path;
  std::string why;  // kMinimal: why GoogleTest's own file was not kept
};

// On the stall path, after the report: fails what GoogleTest considers
// current — the running test; outside a test, the test suite (SetUpTestSuite
// / TearDownTestSuite) or the whole program (global environment) — with
// `failure_message`, marks every test that did not start in this iteration
// "not run", and has GoogleTest's own XML/JSON generator write the file.
// Prints nothing to stdout and never throws or traps, whatever
// --gtest_throw_on_failure / --gtest_break_on_failure say. Only the watchdog
// thread may call it, while the test thread is stuck; the process must end
// right after (GoogleTest's console printer is detached and the results are
// changed for good). A message of the form "HEADLINE\nStack trace:\nFRAMES"
// puts only HEADLINE into the XML failure's `message` attribute and all of it
// into the failure's text.
//
// The file is never left empty, half-written or stale: a minimal valid file
// failing the stalled test is written beside it first, and replaces
// GoogleTest's file (rename) if the generator leaves it incomplete, or
// crashes or hangs (output_rescue.h). Writes nothing if no output was
// requested or PrepareGtestOutput did not run; if the path is not a regular
// file we may write (a FIFO, a device, a symbolic link — dangling or not — is
// never opened for writing) or nothing can be created beside it, one line on
// the program's start-up stderr names the path and why, and the file that was
// there before this run is removed (RemoveStaleGtestOutput).
// After the report, best effort.
GtestOutputWritten WriteGtestOutputAfterStall(
    const std::string& failure_message);

// When the stall path does not write the output (the program moved on, or is
// exiting): removes the regular file at the output path if it is the one
// that was there when the program started, unchanged (device, inode, size,
// modification time), so that nobody reads an earlier run's results as this
// one's. A file GoogleTest wrote in this run is never removed. No
// allocation; no lock; signal-safe.
enum class StaleOutput { kNone, kRemoved, kKept };
// Signal-safe.
StaleOutput RemoveStaleGtestOutput();

// "" for kNone, else "; the older file there, from before this run, was
// removed" (or could not be). Signal-safe.
const char* StaleOutputNote(StaleOutput stale);

}  // namespace gtest_watchdog_internal

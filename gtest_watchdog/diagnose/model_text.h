// File: gtest_watchdog/diagnose/model_text.h
//
// The model's words and ids, in one place: how a thread, a lock, a wait, a
// test part, a /proc state or a duration is named. The verdict, the call
// decoder, the text report and the JSON report all name things this way,
// so the report says the same in every place. The words are raw text: each
// renderer escapes them its own way. The ids are the JSON report's
// (docs/report-json.md), stable for readers.
//
// The snapshot's own ids, which the stall side's signal-safe writers use
// (StackStatusId), stay with the snapshot (dump/snapshot.h).
#pragma once

#include <cstdint>
#include <string>

#include "gtest_watchdog/diagnose/report_model.h"

namespace gtest_watchdog_internal {

// ---- Words ----

// "fixture constructor", "SetUp()", "test body", ...; "test" if unknown.
// Helper process only.
const char* TestPartName(TestPart part);

// "running", "sleeping", "uninterruptible sleep", ... for a /proc state.
// Helper process only.
const char* StateName(char state);

// "file.cc" for "/src/dir/file.cc". Helper process only.
std::string Basename(const std::string& path);
// `thread 42 "name"`. Helper process only.
std::string ThreadLabel(const ThreadModel& t);
// "mutex g_lock (0x7f...)", "condition variable 0x7f...", "absl::Mutex
// g_mu (0x...)", "an absl::Notification" (object not found).
// Helper process only.
std::string LockText(const LockWait& w);
// What an event wait (WaitKind::kEvent) still waits for: "which no thread
// has notified", "whose count has not reached zero", ... Helper process
// only.
const char* EventText(const LockWait& w);
// What a thread blocked in a futex waits for, in words ("blocked on mutex
// g_m (0x..), owned by thread 12 "io""); "" when it is not such a wait.
// Helper process only.
std::string WaitText(const ReportModel& m, const ThreadModel& t);

// "3600.00 s", "250 ms": a duration for the report. Helper process only.
std::string DurationText(int64_t ns);

// ---- Ids (the JSON report's) ----

// "constructor", "SetUp", "body", "TearDown", "destructor", "unknown".
// Helper process only.
const char* TestPartId(TestPart part);
// "mutex", "rwlock-write", "rwlock-read", "condition", "join", "futex",
// "none". Helper process only.
const char* WaitKindId(WaitKind kind);
// "signal", "ptrace", "kernel-pc", "none". Helper process only.
const char* StackSourceId(StackSource source);
// "unknown", "running", "fd", "child", "sleep", "signal", "futex",
// "memory", "other". Helper process only.
const char* BlockKindId(BlockKind kind);
// "deadlock", "busy", "blocked", "slow", "polling", "waiting-for-notify",
// "no-clear-cause", "crash"; "" for kNone. Helper process only.
const char* VerdictKindId(VerdictKind kind);
// "idle", "same-spot", "moved", "unknown". Helper process only.
const char* MotionId(Motion motion);
// "ns::f(…)" for "ns::f(int, std::string const&)" (and for GCC's
// "[clone .constprop.0]" copies): a verdict names the function; file:line
// tells overloads apart. Helper process only.
std::string ShortFunction(const std::string& function);

}  // namespace gtest_watchdog_internal

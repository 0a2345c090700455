// Builders for the unit tests that hand-make what the stall path writes
// and the report helper reads: frames, snapshot threads, snapshot headers
// and report models. One set, so every test builds them the same way and
// states only what it is about.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "gtest_watchdog/diagnose/report_model.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

// ---- frames ----

// A frame of `function`, at `file`:`line` when they are given.
SourceFrame Fn(const std::string& function, const std::string& file = "",
               int line = 0, bool inlined = false);

// A frame known only by its module and the offset in it (no debug
// information); `function` may be empty.
SourceFrame InModule(const std::string& function, const std::string& module,
                     uint64_t offset);

// Frames that have a function name only, innermost first.
std::vector<SourceFrame> Frames(std::initializer_list<const char*> functions);

// ---- the snapshot the helper parses ----

// A thread as a parsed snapshot lists it; everything else as the parser
// leaves it (system call unknown, CPU use not measured, no stack).
SnapshotThread Thread(pid_t tid, const std::string& name, char state = 'S',
                      StackStatus status = StackStatus::kOk);

// `t` sits in system call `nr` with `args`; the other arguments are 0.
void InSyscall(SnapshotThread* t, long nr,
               std::initializer_list<uint64_t> args);

// `t` sleeps in futex(uaddr, op), with `wchan` as the kernel's wait
// channel ("" when not shown).
void InFutex(SnapshotThread* t, uint64_t uaddr, uint64_t op,
             const std::string& wchan = "");

// A timeout in the body of `test` (of `suite`) under
// --gtest_watchdog_timeout, in the current snapshot version, with no
// threads. The pid and the test's and watchdog's tids are the caller's.
Snapshot TimeoutSnapshot(const std::string& test, const std::string& suite,
                         int64_t limit_ns, int64_t elapsed_ns);

// The same, as the stalled process writes it (`test` and `suite` must
// outlive the header).
SnapshotHeader TimeoutHeader(const char* test, const char* suite,
                             int64_t limit_ns, int64_t elapsed_ns);

// ---- the model the renderers read ----

// `snap` before analysis: one ThreadModel per thread with its stack from
// `source` and nothing else known, the test thread found by its tid. The
// model points into `snap.threads`: keep `snap` where it is, unchanged in
// size, while the model is used.
ReportModel ModelOf(const Snapshot& snap,
                    StackSource source = StackSource::kNone);

}  // namespace gtest_watchdog_internal

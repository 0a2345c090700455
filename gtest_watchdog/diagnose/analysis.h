// File: gtest_watchdog/diagnose/analysis.h
//
// Builds the ReportModel from a parsed snapshot: symbolizes every thread's
// frames (its own unwinding, or the helper's ptrace unwinding for threads
// that could not answer), decides what each blocked thread waits for and
// who owns it, finds deadlock cycles, and groups threads with identical
// stacks so a thousand threads parked in one place print once.
//
// Report helper process only: allocates, not signal-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gtest_watchdog/diagnose/report_model.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

// The symbolized frames at a program counter, innermost first (inlined
// calls expanded). Helper process only.
using SymbolizeFn = std::function<const std::vector<SourceFrame>&(uint64_t)>;

// Frames of a thread unwound from outside (ptrace) by the helper.
struct ExternalStack {
  std::vector<uint64_t> pcs;  // pcs[0] exact, others return address - 1
  bool truncated = false;
  std::string error;  // why unwinding failed; pcs empty then
};

// Name of the data object at an address ("g_mutex"), or "".
using DataSymbolFn = std::function<std::string(uint64_t)>;

// What Analyze works from. Helper process only.
struct AnalysisInput {
  const Snapshot* snapshot = nullptr;
  SymbolizeFn symbolize;
  DataSymbolFn data_symbol;                 // may be empty
  std::map<pid_t, ExternalStack> external;  // by tid
  std::string ptrace_note;
  std::vector<ChildProcess> children;
  // Decodes a thread's system call against the live process (the helper
  // passes a CallDecoder); empty: only the call's name and kind.
  std::function<BlockingCall(const SnapshotThread&)> decode_call;
  // Reads the live process's memory (Abseil's waits are followed through
  // it); empty: waits are named from the stack only.
  std::function<bool(uint64_t addr, void* out, size_t size)> read_memory;
};

// Builds the model, the verdict included. Helper process only.
ReportModel Analyze(const AnalysisInput& input);

// Threads print as one when these are equal: same frames, wait, decoded
// call, CPU verdict and state. Helper process only.
std::string GroupKey(const ThreadModel& t);

}  // namespace gtest_watchdog_internal

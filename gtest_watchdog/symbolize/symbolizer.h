// Copyright 2024 The gtest_watchdog Authors.
//
// -----------------------------------------------------------------------------
// File: symbolizer.h
// -----------------------------------------------------------------------------
//
// This header declares `Symbolizer`, which turns raw code addresses of a live
// process into source-level frames (function, file:line, inlined frames),
// using elfutils' libdwfl/libdw.
//
// IMPORTANT: this code allocates memory, opens files and takes locks inside
// libdw. It is NOT async-signal-safe and must never run inside the stalled
// (watched) process. It runs only in the report helper process, which reads
// the target's modules from /proc/PID/maps and the ELF/DWARF files on disk.
//
// Usage:
//
//   std::string error;
//   std::unique_ptr<Symbolizer> symbolizer =
//       Symbolizer::ForProcess(parent_pid, &error);
//   if (symbolizer == nullptr) {
//     LOG(ERROR) << "cannot symbolize: " << error;
//     return;
//   }
//   // Return addresses must be adjusted (ret - 1) so that they point into
//   // the call instruction rather than at the instruction after it.
//   for (const SourceFrame& frame : symbolizer->Symbolize(ret_addr - 1)) {
//     std::cout << frame.function << " at " << frame.file << ":"
//               << frame.line << (frame.inlined ? " (inlined)" : "") << "\n";
//   }

#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gtest_watchdog_internal {

// One source-level frame. A single code address yields several of these when
// it lies in inlined code.
struct SourceFrame {
  // Demangled function name with parameter list, e.g. "std::mutex::lock()".
  // Just "name" for C functions, and "ns::name" for inlined C++ functions
  // with internal linkage (GCC records no mangled name for those). Empty if
  // unknown.
  std::string function;
  // Source file path as recorded in DWARF: usually absolute, relative for
  // builds with -fdebug-prefix-map (e.g. Debian's libc). Empty if unknown.
  std::string file;
  int line = 0;  // 0 if unknown.
  int column = 0;
  // True for a frame that was inlined into the next (outer) frame.
  bool inlined = false;
  // Path of the ELF module containing the address; empty if none.
  std::string module;
  // Address relative to the module's load bias: what you would pass to
  // `addr2line -e module`.
  uint64_t module_offset = 0;
};

// Symbolizes code addresses of one live process. Not thread-safe: use one
// instance per thread (the helper process uses a single thread).
class Symbolizer {
 public:
  // Reports the modules mapped into process `pid` (from /proc/PID/maps).
  // Returns nullptr and sets `*error` (if non-null) on failure.
  static std::unique_ptr<Symbolizer> ForProcess(pid_t pid, std::string* error);

  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;
  ~Symbolizer();

  // Returns the frames for code address `pc`, innermost first. For an address
  // in code inlined into f(), that is [inlined callee (inlined=true, file:line
  // at `pc`), ..., f() (inlined=false, file:line of the call site of the
  // outermost inlined call)]. Always returns at least one frame; its
  // `function` is empty when unknown (e.g. garbage addresses), with `module`
  // and `module_offset` still set when the address lies in a module.
  //
  // `pc` must already be adjusted by the caller (return address - 1); it is
  // used as is. Results are cached per address, since many threads share
  // frames; the returned reference stays valid for the Symbolizer's lifetime.
  const std::vector<SourceFrame>& Symbolize(uint64_t pc);

  // Returns the demangled name of the data object (an ELF symbol of type
  // STT_OBJECT) whose [value, value + size) contains `addr`, e.g. "g_mutex"
  // for any address inside a global `std::mutex g_mutex`, or "Foo()::lock"
  // for a function's static local. Used to name locks after their variables.
  // Returns "" for addresses in no such symbol: heap, stack, code, or
  // variables absent from the symbol tables (stripped binaries).
  std::string DataSymbolName(uint64_t addr);

 private:
  // Holds the libdwfl session; keeps elfutils headers out of this one.
  class Impl;

  explicit Symbolizer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  // unordered_map never moves its values, so returned references are stable.
  std::unordered_map<uint64_t, std::vector<SourceFrame>> cache_;
};

}  // namespace gtest_watchdog_internal

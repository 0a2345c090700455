// File: gtest_watchdog/symbolize/symbolizer.h
//
// Turns code addresses of another live process into source-level frames
// (function, file:line, inlined frames), and data addresses into the names
// of their variables (locks are named after them), with elfutils'
// libdwfl/libdw. It reads the target's modules from /proc/PID/maps and the
// ELF/DWARF files on disk.
//
// Helper process only: it allocates, opens files and takes locks inside
// libdw, which is neither async-signal-safe nor thread-safe, so it must
// never run in the stalled process. The report helper creates one for its
// parent, the stalled process; the analysis and the renderers read the
// frames it gave. Return addresses must be adjusted by the caller (ret - 1)
// so that they point into the call instruction, not after it:
//
//   std::string error;
//   std::unique_ptr<Symbolizer> symbolizer =
//       Symbolizer::ForProcess(parent_pid, &error);
//   if (symbolizer == nullptr) return error;  // said in the report
//   for (const SourceFrame& frame : symbolizer->Symbolize(ret_addr - 1)) {
//     // frame.function, frame.file, frame.line, frame.inlined
//   }
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gtest_watchdog_internal {

// One source-level frame. A single code address yields several of these when
// it lies in inlined code. Helper process only.
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
// instance per thread (the helper process uses a single thread). Helper
// process only.
class Symbolizer {
 public:
  // Reports the modules mapped into process `pid` (from /proc/PID/maps).
  // Returns nullptr and sets `*error` (if non-null) on failure.
  static std::unique_ptr<Symbolizer> ForProcess(pid_t pid, std::string* error);

  // Does now, module by module, the set-up the first lookups would do:
  // opens each module's ELF file, loads its symbol table, finds and reads
  // its DWARF (decompressing compressed debug sections, as Debian's
  // detached debug info has them) and its address ranges. The executable
  // and libc first: nearly every stack has frames there. Asks `stop` before
  // each module and returns when it says true; what is left is done on
  // first use, as without this call. The report helper calls it while the
  // stalled process still takes its census.
  void Prepare(const std::function<bool()>& stop);

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

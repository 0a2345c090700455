#include "gtest_watchdog/stall/fallback_report.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstring>

#include "gtest_watchdog/base/signal_name.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/stall/stall_state.h"

namespace gtest_watchdog_internal {
namespace {

// Module and the address addr2line wants for `pc` (relative to the
// module's load bias, right for PIE, non-PIE and lld layouts alike).
// _dl_find_object is lock-free and async-signal-safe (glibc >= 2.35).
bool FindModule(uint64_t pc, const char** path, uint64_t* address) {
  dl_find_object found;
  if (_dl_find_object(reinterpret_cast<void*>(pc), &found) != 0 ||
      found.dlfo_link_map == nullptr) {
    return false;
  }
  const char* name = found.dlfo_link_map->l_name;
  *path = (name != nullptr && name[0] != '\0') ? name : g_stall.exe;
  *address = pc - found.dlfo_link_map->l_addr;
  return true;
}

}  // namespace

void WriteHeadline(RawWriter& w, const SnapshotHeader& h) {
  const SignalFacts& sig = h.signal;
  if (sig.signo != 0) {
    w.Str(strcmp(h.kind, "crash") == 0 ? "[ CRASH    ] " : "[ SIGNAL   ] ");
    if (h.test_name[0] != '\0') {
      w.Escaped(h.test_name).Str(": ");
    } else if (h.suite_name[0] != '\0') {
      w.Escaped(h.suite_name).Str(": ");
    }
    w.Str(h.phase_description).Str(": ").Str(SignalName(sig.signo));
    const char* how = SignalCodeText(sig.signo, sig.code);
    if (*how != '\0') w.Str(" (").Str(how).Str(")");
    if (IsFault(sig.signo, sig.code)) w.Str(" at address ").Hex(sig.fault_addr);
    if (sig.sender_pid != 0) w.Str(" from pid ").Dec(sig.sender_pid);
    w.Str(" in thread ").Dec(sig.tid).Char('\n');
    return;
  }
  w.Str("[ TIMEOUT  ] ");
  if (strcmp(h.kind, "total-timeout") == 0) {
    w.Str("the whole test run still running after ")
        .Seconds(h.elapsed_ns)
        .Str(" s (limit ")
        .Seconds(h.limit_ns)
        .Str(" s, from ")
        .Str(h.limit_origin)
        .Str(")\n[ TIMEOUT  ] running now: ");
  }
  if (h.test_name[0] != '\0') {
    w.Escaped(h.test_name).Str(": ");
  } else if (h.suite_name[0] != '\0') {
    w.Escaped(h.suite_name).Str(": ");
  }
  w.Str(h.phase_description)
      .Str(" still running after ")
      .Seconds(h.elapsed_ns)
      .Str(" s (limit ")
      .Seconds(h.limit_ns)
      .Str(" s, from ")
      .Str(h.limit_origin)
      .Str(")\n");
}

void WriteFallback(const SnapshotHeader& h, const SnapshotThreadIn* threads,
                   int count) {
  RawWriter w(g_stall.stderr_fd);
  WriteHeadline(w, h);
  w.Str(
      "[ WATCHDOG ] could not symbolize (report helper failed); raw "
      "stacks follow. Resolve with: addr2line -Cfi -e MODULE ADDRESS\n");
  for (int i = 0; i < count; ++i) {
    const KernelThreadInfo& k = *threads[i].kernel;
    w.Str("\nThread ")
        .Dec(k.tid)
        .Str(" \"")
        .Escaped(k.name)
        .Str("\" state ")
        .Char(k.state);
    if (k.tid == h.test_tid) w.Str(" (runs the test)");
    w.Str(" stack: ").Str(StackStatusId(threads[i].status));
    if (k.wchan[0] != '\0') w.Str(", wchan ").Escaped(k.wchan);
    w.Char('\n');
    const ThreadStack* s = threads[i].stack;
    const bool have = s != nullptr && threads[i].status == StackStatus::kOk;
    const int depth = have ? s->depth : (k.pc != 0 ? 1 : 0);
    for (int f = 0; f < depth; ++f) {
      const uint64_t pc = have ? s->pcs[f] : k.pc;
      w.Str("    #").Dec(f).Str("  ").Hex(pc);
      const char* path;
      uint64_t address;
      if (FindModule(pc, &path, &address)) {
        w.Str("  ").Escaped(path).Str(" ").Hex(address);
      }
      w.Char('\n');
    }
  }
  w.Flush();
}

}  // namespace gtest_watchdog_internal

#include "model_builders.h"

#include <sys/syscall.h>

#include <cstddef>

namespace gtest_watchdog_internal {

SourceFrame Fn(const std::string& function, const std::string& file, int line,
               bool inlined) {
  SourceFrame f;
  f.function = function;
  f.file = file;
  f.line = line;
  f.inlined = inlined;
  return f;
}

SourceFrame InModule(const std::string& function, const std::string& module,
                     uint64_t offset) {
  SourceFrame f;
  f.function = function;
  f.module = module;
  f.module_offset = offset;
  return f;
}

std::vector<SourceFrame> Frames(std::initializer_list<const char*> functions) {
  std::vector<SourceFrame> frames;
  for (const char* function : functions) frames.push_back(Fn(function));
  return frames;
}

SnapshotThread Thread(pid_t tid, const std::string& name, char state,
                      StackStatus status) {
  SnapshotThread t;
  t.tid = tid;
  t.name = name;
  t.state = state;
  t.status = status;
  return t;
}

void InSyscall(SnapshotThread* t, long nr,
               std::initializer_list<uint64_t> args) {
  t->syscall_nr = nr;
  size_t i = 0;
  for (const uint64_t arg : args) {
    if (i == 6) break;
    t->syscall_args[i++] = arg;
  }
  for (; i < 6; ++i) t->syscall_args[i] = 0;
}

void InFutex(SnapshotThread* t, uint64_t uaddr, uint64_t op,
             const std::string& wchan) {
  InSyscall(t, SYS_futex, {uaddr, op});
  t->wchan = wchan;
}

Snapshot TimeoutSnapshot(const std::string& test, const std::string& suite,
                         int64_t limit_ns, int64_t elapsed_ns) {
  Snapshot snap;
  snap.version = kSnapshotVersion;
  snap.kind = "timeout";
  snap.phase_id = "test";
  snap.test_name = test;
  snap.suite_name = suite;
  snap.limit_origin = "--gtest_watchdog_timeout";
  snap.limit_ns = limit_ns;
  snap.elapsed_ns = elapsed_ns;
  return snap;
}

SnapshotHeader TimeoutHeader(const char* test, const char* suite,
                             int64_t limit_ns, int64_t elapsed_ns) {
  SnapshotHeader header;
  header.kind = "timeout";
  header.phase_id = "test";
  header.test_name = test;
  header.suite_name = suite;
  header.limit_origin = "--gtest_watchdog_timeout";
  header.limit_ns = limit_ns;
  header.elapsed_ns = elapsed_ns;
  return header;
}

ReportModel ModelOf(const Snapshot& snap, StackSource source) {
  ReportModel model;
  model.snapshot = &snap;
  for (const SnapshotThread& t : snap.threads) {
    if (t.tid == snap.test_tid) {
      model.test_thread = static_cast<int>(model.threads.size());
    }
    ThreadModel tm;
    tm.raw = &t;
    tm.source = source;
    model.threads.push_back(tm);
  }
  return model;
}

}  // namespace gtest_watchdog_internal

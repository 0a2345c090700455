#include "gtest_watchdog/diagnose/analysis.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "gtest_watchdog/diagnose/lock_analysis.h"
#include "gtest_watchdog/diagnose/progress.h"
#include "gtest_watchdog/diagnose/sync_waits.h"
#include "gtest_watchdog/diagnose/user_code.h"
#include "gtest_watchdog/diagnose/verdict.h"

namespace gtest_watchdog_internal {

namespace {

std::vector<SourceFrame> SymbolizeAll(const std::vector<uint64_t>& pcs,
                                      const SymbolizeFn& symbolize) {
  std::vector<SourceFrame> out;
  for (uint64_t pc : pcs) {
    for (const SourceFrame& f : symbolize(pc)) out.push_back(f);
  }
  return out;
}

bool NeedsStack(StackStatus s) {
  return s != StackStatus::kOk && s != StackStatus::kSelf &&
         s != StackStatus::kExited;
}

}  // namespace

std::string GroupKey(const ThreadModel& t) {
  std::string key = absl::StrCat(
      std::string(1, t.raw->state), "|", static_cast<int>(t.raw->status), "|",
      t.raw->syscall_nr, "|", static_cast<int>(t.source), "|", t.stack_note,
      "|", t.raw->truncated, "|", static_cast<int>(t.wait.kind), "|",
      t.wait.lock_addr, "|", t.wait.owner, "|", t.wait.primitive, "|",
      t.wait.timed, "|", t.wait.condition, "|", t.call.text, "|", IsBusy(t),
      "|", IsSlow(t), "|", static_cast<int>(t.motion));
  for (const SourceFrame& f : t.frames) {
    absl::StrAppend(&key, "\n", f.function, "|", f.file, "|", f.line, "|",
                    f.module, "|", f.module_offset, "|", f.inlined);
  }
  return key;
}

ReportModel Analyze(const AnalysisInput& in) {
  const Snapshot& snap = *in.snapshot;
  ReportModel model;
  model.snapshot = &snap;
  model.children = in.children;
  model.ptrace_note = in.ptrace_note;
  std::set<pid_t> ours;
  for (const SnapshotThread& t : snap.threads) ours.insert(t.tid);
  const auto is_ours = [&](pid_t tid) { return ours.count(tid) != 0; };
  // Each answering thread's struct pthread, by address.
  std::map<uint64_t, pid_t> by_thread_pointer;
  for (const SnapshotThread& t : snap.threads) {
    if (t.thread_pointer != 0)
      by_thread_pointer.emplace(t.thread_pointer, t.tid);
  }
  const auto thread_at = [&](uint64_t addr) -> pid_t {
    auto it = by_thread_pointer.upper_bound(addr);
    if (it == by_thread_pointer.begin()) return 0;
    --it;
    return addr - it->first < kThreadControlBlockSpan ? it->second : 0;
  };

  std::unordered_map<uint64_t, std::string> lock_names;
  model.threads.reserve(snap.threads.size());
  for (const SnapshotThread& t : snap.threads) {
    ThreadModel m;
    m.raw = &t;
    if (t.status == StackStatus::kOk && !t.pcs.empty()) {
      m.frames = SymbolizeAll(t.pcs, in.symbolize);
      m.source = StackSource::kSignal;
    } else if (NeedsStack(t.status)) {
      const auto ext = in.external.find(t.tid);
      if (ext != in.external.end() && !ext->second.pcs.empty()) {
        m.frames = SymbolizeAll(ext->second.pcs, in.symbolize);
        m.source = StackSource::kPtrace;
        // A partial stack says so, and never groups with complete ones.
        m.stack_note = ext->second.error;
        if (ext->second.truncated) {
          m.stack_note += m.stack_note.empty() ? "deeper frames cut"
                                               : "; deeper frames cut";
        }
      } else if (t.kernel_pc != 0) {
        m.frames = SymbolizeAll({t.kernel_pc}, in.symbolize);
        m.source = StackSource::kKernelPc;
        if (ext != in.external.end() && !ext->second.error.empty())
          m.stack_note = ext->second.error;
      }
    }
    for (const std::vector<uint64_t>& sample : t.samples) {
      m.samples.push_back(SymbolizeAll(sample, in.symbolize));
    }
    m.motion = DecideMotion(m);
    m.wait = ClassifyWait(t, m.frames, is_ours, thread_at);
    m.call = in.decode_call ? in.decode_call(t) : UndecodedCall(t);
    if (t.tid == snap.test_tid) {
      model.test_thread = static_cast<int>(model.threads.size());
      model.part = ClassifyTestPart(m.frames);
    }
    model.threads.push_back(std::move(m));
  }
  ResolveAbslWaits(&model.threads, in.read_memory, is_ours);
  for (ThreadModel& m : model.threads) {
    if (m.wait.lock_addr == 0 || !in.data_symbol) continue;
    // Thousands of threads usually wait on a handful of locks.
    const auto [it, added] = lock_names.try_emplace(m.wait.lock_addr);
    if (added) it->second = in.data_symbol(m.wait.lock_addr);
    m.wait.lock_name = it->second;
  }
  model.cycles = FindDeadlockCycles(model.threads);
  model.verdict = DecideVerdict(model);

  // Groups: the test thread and the watchdog stand alone; any other thread
  // joins the group of the first earlier thread with the same stack. Keyed
  // by a string so 5,000 threads group in linear time.
  std::unordered_map<std::string, int> group_of;
  for (size_t i = 0; i < model.threads.size(); ++i) {
    ThreadModel& t = model.threads[i];
    const bool special =
        t.raw->tid == snap.test_tid || t.raw->status == StackStatus::kSelf;
    if (!special) {
      const auto [it, added] =
          group_of.emplace(GroupKey(t), static_cast<int>(model.groups.size()));
      if (!added) t.group = it->second;
    }
    if (t.group < 0) {
      t.group = static_cast<int>(model.groups.size());
      model.groups.emplace_back();
    }
    model.groups[t.group].members.push_back(static_cast<int>(i));
  }
  for (ThreadGroup& g : model.groups) {
    std::sort(g.members.begin(), g.members.end(), [&](int a, int b) {
      return model.threads[a].raw->tid < model.threads[b].raw->tid;
    });
  }
  return model;
}

}  // namespace gtest_watchdog_internal

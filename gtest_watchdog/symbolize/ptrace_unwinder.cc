#include "gtest_watchdog/symbolize/ptrace_unwinder.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/symbolize/ptrace_access.h"

// Why the threads are stopped here and not by libdwfl: with
// assume_ptrace_stopped=false, elfutils 0.188's dwfl_linux_proc_attach()
// attaches each thread inside dwfl_getthread_frames() with PTRACE_ATTACH and
// then waits for it with a blocking waitpid(), detaching when that thread's
// unwinding ends. A thread in uninterruptible sleep does not stop until the
// sleep ends (checked: a vfork parent stays in D, and waitpid() does not
// return, until the vfork child exits), so that waitpid() can block the
// helper for ever; and giving up is not possible either, because
// PTRACE_ATTACH queued a SIGSTOP that, once the thread is released, would
// stop the whole stalled process. So Unwind stops each thread itself with
// PTRACE_SEIZE + PTRACE_INTERRUPT (SeizeAndInterrupt in ptrace_access.h; no
// signal is queued: an abandoned interrupt is dropped when the tracer
// detaches or exits), polls waitpid() with WNOHANG against the deadline, and
// hands libdwfl only stopped threads (assume_ptrace_stopped=true). All
// threads are interrupted first and unwound as they stop, so their stop
// latencies overlap.

namespace gtest_watchdog_internal {
namespace {

// DWARF number of the stack pointer, for unwinding from SP and PC alone.
#if defined(__x86_64__)
constexpr int kDwarfSpRegister = 7;  // %rsp
#elif defined(__aarch64__)
constexpr int kDwarfSpRegister = 31;  // sp
#else
constexpr int kDwarfSpRegister = -1;  // not supported
#endif

// After this long without stopping, a seized thread is checked for
// uninterruptible sleep (it may have entered it after the first check).
constexpr int64_t kStopGraceNs = 20'000'000;

// How long the destructor waits for seized threads that did not stop before
// the deadline, unless all of them are in uninterruptible sleep.
constexpr int64_t kReleaseWaitNs = 200'000'000;

void SleepNs(int64_t ns) {
  if (ns <= 0) return;
  timespec ts{static_cast<time_t>(ns / 1'000'000'000),
              static_cast<long>(ns % 1'000'000'000)};
  nanosleep(&ts, nullptr);
}

// Unwind tables come from the modules' files, or from the process's memory
// for a deleted file; debug files are searched locally only (see Attach).
const Dwfl_Callbacks kProcCallbacks = {
    dwfl_linux_proc_find_elf,
    dwfl_standard_find_debuginfo,
    nullptr,
    nullptr,
};

// A libdwfl session with the target's modules reported.
Dwfl* NewDwfl(pid_t pid, std::string* error) {
  Dwfl* dwfl = dwfl_begin(&kProcCallbacks);
  if (dwfl == nullptr) {
    *error = std::string("dwfl_begin: ") + dwfl_errmsg(-1);
    return nullptr;
  }
  dwfl_report_begin(dwfl);
  const int rc = dwfl_linux_proc_report(dwfl, pid);
  if (rc != 0 || dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
    *error = "cannot read the modules of process " + std::to_string(pid) +
             ": " + (rc > 0 ? std::strerror(rc) : dwfl_errmsg(-1));
    dwfl_end(dwfl);
    return nullptr;
  }
  return dwfl;
}

// What the D-state session's callbacks need: the thread being unwound.
struct SpPcThread {
  pid_t pid = 0;
  uint64_t sp = 0;
  uint64_t pc = 0;
};

pid_t NoThreadList(Dwfl*, void*, void**) { return 0; }

bool AnyThread(Dwfl*, pid_t, void* dwfl_arg, void** thread_argp) {
  *thread_argp = dwfl_arg;
  return true;
}

// Reads the (blocked, not stopped) thread's memory; needs no ptrace stop.
bool ReadTargetWord(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result,
                    void* dwfl_arg) {
  const auto* thread = static_cast<const SpPcThread*>(dwfl_arg);
  uint64_t word = 0;
  iovec local{&word, sizeof(word)};
  iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr)),
               sizeof(word)};
  if (process_vm_readv(thread->pid, &local, 1, &remote, 1, 0) !=
      static_cast<ssize_t>(sizeof(word))) {
    return false;
  }
  *result = word;
  return true;
}

bool SetSpPc(Dwfl_Thread* dwfl_thread, void* thread_arg) {
  const auto* thread = static_cast<const SpPcThread*>(thread_arg);
  const Dwarf_Word sp = thread->sp;
  if (!dwfl_thread_state_registers(dwfl_thread, kDwarfSpRegister, 1, &sp)) {
    return false;
  }
  dwfl_thread_state_register_pc(dwfl_thread, thread->pc);
  return true;
}

const Dwfl_Thread_Callbacks kSpPcCallbacks = {
    NoThreadList, AnyThread, ReadTargetWord, SetSpPc, nullptr, nullptr,
};

// Collects frames from dwfl_getthread_frames().
struct FrameSink {
  UnwoundThread* out;
  size_t max_frames;
  int64_t deadline_ns;
  bool timed_out = false;
  bool bad_frame = false;
};

int OnFrame(Dwfl_Frame* frame, void* arg) {
  auto* sink = static_cast<FrameSink*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation)) {
    sink->bad_frame = true;
    return DWARF_CB_ABORT;
  }
  if (pc == 0) return DWARF_CB_ABORT;
  if (sink->out->pcs.size() >= sink->max_frames) {
    sink->out->truncated = true;
    return DWARF_CB_ABORT;
  }
  sink->out->pcs.push_back(activation ? pc : pc - 1);
  if (MonotonicNowNs() >= sink->deadline_ns) {
    sink->timed_out = true;
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

}  // namespace

class PtraceUnwinder::Impl {
 public:
  Impl(pid_t pid, Dwfl* dwfl) : pid_(pid), dwfl_(dwfl) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  std::vector<UnwoundThread> Unwind(const std::vector<pid_t>& tids,
                                    size_t max_frames, int64_t deadline_ns);

 private:
  // A thread seized and interrupted, not yet seen stopped.
  struct Seized {
    size_t index;
    pid_t tid;
  };

  // Detaches seized threads that did not stop in time, as they stop,
  // until `until_ns` or until only threads in uninterruptible sleep remain.
  void ReleaseLeftSeized(int64_t until_ns);
  void UnwindStopped(UnwoundThread* out, size_t max_frames,
                     int64_t deadline_ns);
  void UnwindBlocked(UnwoundThread* out, size_t max_frames,
                     int64_t deadline_ns);
  // Fills `out` from one dwfl_getthread_frames() call; returns its result.
  static int Frames(Dwfl* dwfl, UnwoundThread* out, size_t max_frames,
                    int64_t deadline_ns);

  const pid_t pid_;
  // dwfl_linux_proc_attach(assume_ptrace_stopped=true): for stopped threads.
  Dwfl* dwfl_;
  // Own callbacks, SP and PC only: for threads in uninterruptible sleep.
  // Made on first use.
  Dwfl* sp_pc_dwfl_ = nullptr;
  SpPcThread sp_pc_thread_;
  // Seized threads not yet seen stopped, hence not detached (a running
  // tracee cannot be detached): timed out, or read while asleep in D.
  std::vector<pid_t> left_seized_;
};

PtraceUnwinder::Impl::~Impl() {
  ReleaseLeftSeized(MonotonicNowNs() + kReleaseWaitNs);
  if (sp_pc_dwfl_ != nullptr) dwfl_end(sp_pc_dwfl_);
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

void PtraceUnwinder::Impl::ReleaseLeftSeized(int64_t until_ns) {
  int64_t pause_ns = 20'000;
  while (!left_seized_.empty()) {
    for (size_t i = 0; i < left_seized_.size();) {
      const pid_t tid = left_seized_[i];
      int status = 0;
      const pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      // Stopped at last: let it go. Exited: waitpid() just reaped it.
      if (r == tid && WIFSTOPPED(status)) PtraceDetach(tid, status);
      left_seized_.erase(left_seized_.begin() + static_cast<ptrdiff_t>(i));
    }
    const bool all_asleep = std::all_of(
        left_seized_.begin(), left_seized_.end(),
        [this](pid_t tid) { return ProcTaskState(pid_, tid) == 'D'; });
    // Those left will stop when their sleep ends, and stay stopped until
    // this process exits (the kernel then detaches them): a helper that
    // exits right after its report bounds that.
    if (all_asleep || MonotonicNowNs() >= until_ns) return;
    SleepNs(std::min(pause_ns, until_ns - MonotonicNowNs()));
    pause_ns = std::min<int64_t>(pause_ns * 2, 1'000'000);
  }
}

int PtraceUnwinder::Impl::Frames(Dwfl* dwfl, UnwoundThread* out,
                                 size_t max_frames, int64_t deadline_ns) {
  FrameSink sink{out, max_frames, deadline_ns};
  const int rc = dwfl_getthread_frames(dwfl, out->tid, OnFrame, &sink);
  if (sink.timed_out) {
    out->truncated = true;
    out->error = "timed out";
  } else if (sink.bad_frame || rc < 0) {
    // Reaching the outermost frame returns 0; -1 means the unwinding
    // stopped at a frame it could not step over.
    const char* message = dwfl_errmsg(-1);
    out->error = out->pcs.empty() ? std::string("cannot unwind: ")
                                  : std::string("unwinding stopped early: ");
    out->error += message == nullptr ? "unknown error" : message;
  }
  return rc;
}

void PtraceUnwinder::Impl::UnwindStopped(UnwoundThread* out, size_t max_frames,
                                         int64_t deadline_ns) {
  if (dwfl_ == nullptr) {
    std::string error;
    Dwfl* dwfl = NewDwfl(pid_, &error);
    if (dwfl != nullptr && dwfl_linux_proc_attach(dwfl, pid_, true) != 0) {
      error = std::string("dwfl_linux_proc_attach: ") + dwfl_errmsg(-1);
      dwfl_end(dwfl);
      dwfl = nullptr;
    }
    if (dwfl == nullptr) {
      out->error = error;
      return;
    }
    dwfl_ = dwfl;
  }
  Frames(dwfl_, out, max_frames, deadline_ns);
  if (out->pcs.empty()) {
    // elfutils 0.188 leaves its record of the current thread set when
    // reading the registers fails (e.g. the process was killed meanwhile),
    // and asserts on the next thread. Start afresh for the next one.
    dwfl_end(dwfl_);
    dwfl_ = nullptr;
  }
}

void PtraceUnwinder::Impl::UnwindBlocked(UnwoundThread* out, size_t max_frames,
                                         int64_t deadline_ns) {
  const std::string cannot_stop =
      "in uninterruptible sleep (D): cannot be stopped";
  if (kDwarfSpRegister < 0) {
    out->error = cannot_stop;
    return;
  }
  uint64_t sp = 0;
  uint64_t pc = 0;
  if (!BlockedSpPc(pid_, out->tid, &sp, &pc)) {
    out->error = cannot_stop + ", and its registers are unreadable";
    return;
  }
  if (sp_pc_dwfl_ == nullptr) {
    std::string error;
    sp_pc_dwfl_ = NewDwfl(pid_, &error);
    if (sp_pc_dwfl_ != nullptr &&
        !dwfl_attach_state(sp_pc_dwfl_, nullptr, pid_, &kSpPcCallbacks,
                           &sp_pc_thread_)) {
      error = std::string("dwfl_attach_state: ") + dwfl_errmsg(-1);
      dwfl_end(sp_pc_dwfl_);
      sp_pc_dwfl_ = nullptr;
    }
    if (sp_pc_dwfl_ == nullptr) {
      out->error = cannot_stop + "; " + error;
      return;
    }
  }
  sp_pc_thread_ = SpPcThread{pid_, sp, pc};
  Frames(sp_pc_dwfl_, out, max_frames, deadline_ns);
  uint64_t sp_after = 0;
  uint64_t pc_after = 0;
  if (out->error.empty() &&
      (!BlockedSpPc(pid_, out->tid, &sp_after, &pc_after) || sp_after != sp ||
       pc_after != pc)) {
    // It woke up while its stack was being read: outer frames may be wrong.
    out->error = "left uninterruptible sleep while being unwound";
  }
}

std::vector<UnwoundThread> PtraceUnwinder::Impl::Unwind(
    const std::vector<pid_t>& tids, size_t max_frames, int64_t deadline_ns) {
  std::vector<UnwoundThread> results(tids.size());
  std::vector<Seized> waiting;
  std::vector<size_t> blocked;
  for (size_t i = 0; i < tids.size(); ++i) {
    UnwoundThread& out = results[i];
    out.tid = tids[i];
    if (MonotonicNowNs() >= deadline_ns) {
      out.error = "timed out";
      continue;
    }
    const char state = ProcTaskState(pid_, out.tid);
    if (state == 0) {
      out.error = "no thread " + std::to_string(out.tid) + " in process " +
                  std::to_string(pid_) + " (exited?)";
      continue;
    }
    if (state == 'Z' || state == 'X') {
      out.error = "thread exited";
      continue;
    }
    if (state == 'D') {
      blocked.push_back(i);
      continue;
    }
    if (std::find(left_seized_.begin(), left_seized_.end(), out.tid) !=
        left_seized_.end()) {
      out.error = "not stopped yet by an earlier Unwind()";
      continue;
    }
    if (!SeizeAndInterrupt(pid_, out.tid, &out.error)) continue;
    waiting.push_back({i, out.tid});
  }
  const int64_t interrupted_ns = MonotonicNowNs();

  // Done while the interrupted threads come to a stop.
  for (size_t i : blocked) {
    if (MonotonicNowNs() >= deadline_ns) {
      results[i].error = "timed out";
    } else {
      UnwindBlocked(&results[i], max_frames, deadline_ns);
    }
  }

  int64_t pause_ns = 20'000;
  bool checked_for_sleep = false;
  while (!waiting.empty()) {
    bool progress = false;
    for (size_t w = 0; w < waiting.size();) {
      UnwoundThread& out = results[waiting[w].index];
      int status = 0;
      const pid_t r = waitpid(out.tid, &status, __WALL | WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++w;
        continue;
      }
      progress = true;
      waiting.erase(waiting.begin() + static_cast<ptrdiff_t>(w));
      if (r < 0 || !WIFSTOPPED(status)) {
        out.error = "thread exited";  // and waitpid() reaped it
        continue;
      }
      if (MonotonicNowNs() >= deadline_ns) {
        out.error = "timed out";
      } else {
        UnwindStopped(&out, max_frames, deadline_ns);
      }
      PtraceDetach(out.tid, status);
    }
    if (waiting.empty()) break;
    const int64_t now = MonotonicNowNs();
    if (now >= deadline_ns) {
      for (const Seized& s : waiting) {
        results[s.index].error = "timed out";
        left_seized_.push_back(s.tid);
      }
      break;
    }
    if (!progress && !checked_for_sleep &&
        now - interrupted_ns > kStopGraceNs) {
      // Entered uninterruptible sleep after the first check: it will not
      // stop before the sleep ends, so read it as a blocked thread; it stays
      // seized until it stops (see ~Impl).
      checked_for_sleep = true;
      for (size_t w = 0; w < waiting.size();) {
        if (ProcTaskState(pid_, waiting[w].tid) != 'D') {
          ++w;
          continue;
        }
        UnwindBlocked(&results[waiting[w].index], max_frames, deadline_ns);
        left_seized_.push_back(waiting[w].tid);
        waiting.erase(waiting.begin() + static_cast<ptrdiff_t>(w));
      }
      continue;
    }
    if (!progress) {
      SleepNs(std::min(pause_ns, deadline_ns - now));
      pause_ns = std::min<int64_t>(pause_ns * 2, 1'000'000);
    }
  }
  ReleaseLeftSeized(MonotonicNowNs());  // one pass: those that just stopped
  return results;
}

std::unique_ptr<PtraceUnwinder> PtraceUnwinder::Attach(pid_t pid,
                                                       std::string* error) {
  auto fail = [error](std::string message) -> std::unique_ptr<PtraceUnwinder> {
    if (error != nullptr) *error = std::move(message);
    return nullptr;
  };
  pid_t tgid = 0;
  std::string message;
  if (!CheckPtraceAccess(pid, &tgid, &message)) return fail(message);

  // As in Symbolizer::ForProcess(): no debuginfod downloads from a report
  // helper. Single-threaded helper, so unsetenv() is safe.
  unsetenv("DEBUGINFOD_URLS");
  Dwfl* dwfl = NewDwfl(tgid, &message);
  if (dwfl == nullptr) return fail(message);
  const int rc = dwfl_linux_proc_attach(dwfl, tgid, true);
  if (rc != 0) {
    message = "dwfl_linux_proc_attach(" + std::to_string(tgid) +
              "): " + (rc > 0 ? std::strerror(rc) : dwfl_errmsg(-1));
    dwfl_end(dwfl);
    return fail(message);
  }
  return std::unique_ptr<PtraceUnwinder>(
      new PtraceUnwinder(std::make_unique<Impl>(tgid, dwfl)));
}

PtraceUnwinder::PtraceUnwinder(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

PtraceUnwinder::~PtraceUnwinder() = default;

std::vector<UnwoundThread> PtraceUnwinder::Unwind(
    const std::vector<pid_t>& tids, int max_frames, int64_t deadline_ns) {
  return impl_->Unwind(tids, static_cast<size_t>(std::max(max_frames, 1)),
                       deadline_ns);
}

}  // namespace gtest_watchdog_internal

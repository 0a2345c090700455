#include "gtest_watchdog/stall/fatal_signals.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <cstring>
#include <string>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raise.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/memory_probe.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/gtest_output/output_rescue.h"

namespace gtest_watchdog_internal {
namespace {

DeadlineBoard* g_board = nullptr;
pid_t g_pid = 0;
int g_stderr_fd = 2;
struct sigaction g_previous[65];
std::atomic<pid_t> g_reporting_tid{0};
std::atomic<bool> g_reporter_started{false};
std::atomic<pid_t> g_claimed{0};  // the thread whose signal is reported
std::atomic<bool> g_event_ready{false};
std::atomic<uint32_t> g_handed_back{0};  // futex word
SignalEvent g_event;
// Set while the claiming thread unwinds itself: a fault then is the
// unwinder's, and jumps back to g_unwind_escape.
std::atomic<bool> g_unwinding{false};
sigjmp_buf g_unwind_escape;
// Never hang a crashing process on us: if the watchdog thread does not hand
// back (it is writing a timeout report, which aborts), pass the signal on.
constexpr int64_t kHandBackWaitNs = int64_t{60} * 1000000000;

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

bool IsFunction(const struct sigaction& sa) {
  if ((sa.sa_flags & SA_SIGINFO) != 0) return sa.sa_sigaction != nullptr;
  return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

// Passes the signal on: the previous handler first, then, if it returns,
// the default action, re-raised at this thread with the signal unblocked.
// Signal-safe (as safe as the previous handler).
void PassOn(int sig, siginfo_t* info, void* ucontext) {
  const struct sigaction& prev = g_previous[sig];
  // A fault in that handler must not come back here (SA_NODEFER): blocked,
  // it ends the process at once, as without us.
  sigset_t faults;
  sigemptyset(&faults);
  sigaddset(&faults, SIGSEGV);
  sigaddset(&faults, SIGBUS);
  pthread_sigmask(SIG_BLOCK, &faults, nullptr);
  if (IsFunction(prev)) {
    if ((prev.sa_flags & SA_SIGINFO) != 0) {
      prev.sa_sigaction(sig, info, ucontext);
    } else {
      prev.sa_handler(sig);
    }
  }
  // The process ends by it here. (A fault would also come back when the
  // handler returns and the instruction runs again.)
  RaiseWithDefaultAction(sig);
}

void WaitForHandBack() {
  const int64_t deadline_ns = MonotonicNowNs() + kHandBackWaitNs;
  for (;;) {
    if (g_handed_back.load(std::memory_order_acquire) != 0) return;
    if (MonotonicNowNs() >= deadline_ns) return;
    timespec abs;
    abs.tv_sec = deadline_ns / 1000000000;
    abs.tv_nsec = deadline_ns % 1000000000;
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&g_handed_back),
            FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &abs, nullptr,
            FUTEX_BITSET_MATCH_ANY);
  }
}

// The thread's frames from the interrupted instruction outwards. The
// unwinder reads the stack above the stack pointer; if none of it is
// readable (a smashed stack pointer), unwinding would fault inside the
// handler: keep the PC alone, plus the return address a call through a null
// function pointer leaves at the stack pointer. A stack overflow leaves the
// stack pointer just past the end, with the frames above it intact: the
// first readable page above it is enough. Signal-safe.
void TakeStack(SignalEvent* ev) {
  const uint64_t sp = ev->facts.sp;
  ev->stack.tid = ev->facts.tid;
  constexpr uint64_t kPage = 4096;
  constexpr uint64_t kLookAbove = uint64_t{256} * 1024;
  uint64_t top = 0;
  const bool sp_readable = sp != 0 && ReadOwnMemory(sp, &top, sizeof(top));
  bool stack_readable = sp_readable;
  for (uint64_t at = (sp | (kPage - 1)) + 1;
       !stack_readable && sp != 0 && at < sp + kLookAbove; at += kPage) {
    uint64_t word;
    stack_readable = ReadOwnMemory(at, &word, sizeof(word));
  }
  // A frame pointer or return address the program overwrote can still
  // send the unwinder to an unmapped address. SIGSEGV and SIGBUS stay
  // deliverable in our handler: such a fault comes back to OnSignal, which
  // jumps back here, and the PC alone is kept.
  if (stack_readable && sigsetjmp(g_unwind_escape, 1) == 0) {
    g_unwinding.store(true);
    const bool ok = StackCollector::UnwindInterrupted(&ev->stack, ev->pc);
    g_unwinding.store(false);
    if (ok) return;
  }
  g_unwinding.store(false);
  int depth = 0;
  ev->stack.pcs[depth++] = ev->pc;
  if (sp_readable && ev->pc == 0 && top > 1) ev->stack.pcs[depth++] = top - 1;
  ev->stack.depth = depth;
  ev->stack.truncated = true;
}

void OnSignal(int sig, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  const pid_t tid = Tid();
  const pid_t reporter = g_reporting_tid.load();
  if (getpid() != g_pid || !g_reporter_started.load() || tid == reporter) {
    // A forked child (its parent reports the test), a signal before the
    // watchdog thread was started, or a failure of the report itself:
    // nothing to hand over to. (A watchdog thread started but not yet
    // running picks the request up when it runs.)
    if (getpid() == g_pid && tid == reporter) {
      // Not the program's handler on our thread, mid-report: it may want a
      // lock a stuck thread holds, with the dead-man blocked here.
      if (OutputRescueArmed()) {
        // Inside GoogleTest's output generator, after the report: the
        // report is whole, and the output file must not be left half
        // written.
        RescueOutput(g_stderr_fd, "received ", SignalName(sig));
      } else {
        RawWriter w(g_stderr_fd);
        w.Str("[ WATCHDOG ] gtest_watchdog's own thread received ")
            .Str(SignalName(sig))
            .Str("; the report is incomplete\n");
        w.Flush();
      }
      RaiseWithDefaultAction(sig);
      errno = saved_errno;
      return;
    }
    PassOn(sig, info, ucontext);
    errno = saved_errno;
    return;
  }
  pid_t expected = 0;
  if (!g_claimed.compare_exchange_strong(expected, tid)) {
    if (expected != tid) ParkForever();  // the first signal ends the process
    // This thread again: the unwinder faulted (go back to TakeStack), or a
    // handler we passed the signal on to did (end it here, without calling
    // that handler once more).
    if (g_unwinding.load()) siglongjmp(g_unwind_escape, 1);
    RaiseWithDefaultAction(g_event.facts.signo != 0 ? g_event.facts.signo
                                                    : sig);
    errno = saved_errno;
    return;
  }
  // A stall report is being written (it froze the board first): its abort
  // ends the process.
  if (g_board->frozen()) ParkForever();
  // The test program stays where it is from now on: no thread runs on to
  // the next test, or to exit(), while the report is written.
  g_board->Freeze();
  SignalEvent& ev = g_event;
  SignalFacts& facts = ev.facts;
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  facts.signo = sig;
  facts.code = info != nullptr ? info->si_code : SI_USER;
  if (info != nullptr && IsFault(sig, facts.code)) {
    facts.fault_addr = reinterpret_cast<uint64_t>(info->si_addr);
  }
  if (info != nullptr && HasSender(facts.code)) {
    facts.sender_pid = info->si_pid;
    facts.sender_uid = info->si_uid;
  }
  facts.tid = tid;
  if (uc != nullptr) {
    const greg_t* r = uc->uc_mcontext.gregs;
    ev.pc = static_cast<uint64_t>(r[REG_RIP]);
    facts.sp = static_cast<uint64_t>(r[REG_RSP]);
    // The call it was in: /proc shows this handler's wait instead.
    InterruptedState state;
    state.rip = ev.pc;
    state.rax = static_cast<int64_t>(r[REG_RAX]);
    const int regs[6] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
    for (int i = 0; i < 6; ++i)
      state.args[i] = static_cast<uint64_t>(r[regs[i]]);
    state.readable = ReadOwnMemory(ev.pc - 2, state.code, sizeof(state.code));
    InterruptedSyscall(state, &facts.syscall_nr, facts.syscall_args);
  }
  facts.to_previous_handler = IsFunction(g_previous[sig]);
  TakeStack(&ev);
  g_event_ready.store(true, std::memory_order_release);
  g_board->RequestReport();
  WaitForHandBack();
  PassOn(sig, info, ucontext);
  errno = saved_errno;
}

// exit() while a report is being written (a test that returns from main
// meanwhile): wait for the end the report brings instead of exiting 0. Not
// after the hand-back: a previous handler may exit on purpose.
void HoldExit() {
  // A forked child (a death test) inherits the parent's state: never hold it.
  if (g_board == nullptr || getpid() != g_pid || g_handed_back.load() != 0) {
    return;
  }
  const pid_t claimed = g_claimed.load();
  if ((claimed != 0 || g_board->frozen()) && claimed != Tid()) ParkForever();
}

// Registered before any static initializer of the program registers its
// destructor, HoldExit runs after all of them: a thread that crashes while
// static destructors run is still held for. Does nothing until Install().
__attribute__((constructor(101))) void RegisterHoldExit() {
  // Cannot fail for two functions (the C library guarantees 32).
  (void)atexit(&HoldExit);
  (void)at_quick_exit(&HoldExit);
}

// An alternate signal stack for the calling thread, unless it has one (the
// program's own, or a sanitizer's): a stack overflow leaves no room on the
// thread's own stack to run a handler. A guard page below it.
bool EnsureAlternateStack(std::string* error) {
  stack_t current;
  if (sigaltstack(nullptr, &current) == 0 &&
      (current.ss_flags & SS_DISABLE) == 0) {
    return true;
  }
  const long page = sysconf(_SC_PAGESIZE);
  long min = sysconf(_SC_SIGSTKSZ);
  if (min < MINSIGSTKSZ) min = MINSIGSTKSZ;
  const size_t size = static_cast<size_t>(min) + size_t{64} * 1024;
  const size_t total = size + static_cast<size_t>(page);
  void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    *error =
        std::string("cannot map an alternate signal stack: ") + strerror(errno);
    return false;
  }
  mprotect(base, static_cast<size_t>(page), PROT_NONE);
  stack_t alt;
  memset(&alt, 0, sizeof(alt));
  alt.ss_sp = static_cast<char*>(base) + page;
  alt.ss_size = size;
  if (sigaltstack(&alt, nullptr) != 0) {
    *error = std::string("sigaltstack failed: ") + strerror(errno);
    munmap(base, total);
    return false;
  }
  return true;  // kept for the life of the thread: never unmapped
}

}  // namespace

bool FatalSignals::Install(SignalSet set, DeadlineBoard* board,
                           std::string* error) {
  if (g_board != nullptr) return true;  // once per process
  g_board = board;
  g_pid = getpid();
  const int fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
  // Started without stderr: write nowhere (RawWriter(-1)) rather than into
  // whatever the program opens later as fd 2.
  g_stderr_fd = fd >= 0 ? fd : (errno == EBADF ? -1 : 2);
  if (set == 0) return true;
  if (!EnsureAlternateStack(error)) return false;
  // Unwind once now: the first unwind may load and resolve lazily, which
  // must not happen inside a crash.
  ThreadStack warm;
  StackCollector::UnwindInterrupted(&warm, 1);
  for (int sig = 1; sig <= 64; ++sig) {
    if (!HasSignal(set, sig)) continue;
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0) {
      *error = std::string("cannot read the handler of ") + SignalName(sig) +
               ": " + strerror(errno);
      return false;
    }
    // A signal the program (or whoever started it: nohup) ignores stays
    // ignored.
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_IGN) {
      continue;
    }
    g_previous[sig] = old;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = &OnSignal;
    // Nothing else runs on this thread while it reports: our stack signal
    // must not unwind it from inside this handler, a second SIGQUIT must
    // not start over. But a fault inside the handler (the unwinder reading
    // a smashed frame) must reach it again instead of killing the process:
    // SIGSEGV and SIGBUS stay deliverable (SA_NODEFER for themselves).
    sigfillset(&sa.sa_mask);
    sigdelset(&sa.sa_mask, SIGSEGV);
    sigdelset(&sa.sa_mask, SIGBUS);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    if (sig == SIGSEGV || sig == SIGBUS) sa.sa_flags |= SA_NODEFER;
    if (sigaction(sig, &sa, nullptr) != 0) {
      *error = std::string("cannot install a handler for ") + SignalName(sig) +
               ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

void FatalSignals::SetReportingThread(pid_t tid) { g_reporting_tid.store(tid); }

void FatalSignals::SetReporterStarted() { g_reporter_started.store(true); }

const SignalEvent* FatalSignals::Pending() {
  return g_event_ready.load(std::memory_order_acquire) ? &g_event : nullptr;
}

void FatalSignals::HandBack() {
  g_handed_back.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&g_handed_back),
          FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT32_MAX, nullptr, nullptr, 0);
}

}  // namespace gtest_watchdog_internal

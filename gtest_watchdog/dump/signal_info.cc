#include "gtest_watchdog/dump/signal_info.h"

#include <signal.h>

namespace gtest_watchdog_internal {
const char* SignalCodeText(int sig, int code) {
  // Codes <= 0 are the same for every signal: who sent it.
  switch (code) {
    case SI_USER:
      return "sent by kill()";
    case SI_KERNEL:
      return "sent by the kernel";
    case SI_QUEUE:
      return "sent by sigqueue()";
    case SI_TIMER:
      return "a timer expired";
    case SI_MESGQ:
      return "a message arrived";
    case SI_ASYNCIO:
      return "asynchronous I/O completed";
    case SI_TKILL:
      return sig == SIGABRT ? "abort() or raise() in this process"
                            : "sent by tgkill() or raise()";
    default:
      break;
  }
  if (sig == SIGSEGV) {
    switch (code) {
      case SEGV_MAPERR:
        return "address not mapped to object";
      case SEGV_ACCERR:
        return "invalid permissions for mapped object";
#ifdef SEGV_BNDERR
      case SEGV_BNDERR:
        return "failed address bound checks";
#endif
#ifdef SEGV_PKUERR
      case SEGV_PKUERR:
        return "access denied by memory protection keys";
#endif
    }
  } else if (sig == SIGBUS) {
    switch (code) {
      case BUS_ADRALN:
        return "invalid address alignment";
      case BUS_ADRERR:
        return "nonexistent physical address (a file mapped past its end?)";
      case BUS_OBJERR:
        return "object-specific hardware error";
    }
  } else if (sig == SIGFPE) {
    switch (code) {
      case FPE_INTDIV:
        return "integer divide by zero";
      case FPE_INTOVF:
        return "integer overflow";
      case FPE_FLTDIV:
        return "floating-point divide by zero";
      case FPE_FLTOVF:
        return "floating-point overflow";
      case FPE_FLTUND:
        return "floating-point underflow";
      case FPE_FLTRES:
        return "floating-point inexact result";
      case FPE_FLTINV:
        return "floating-point invalid operation";
      case FPE_FLTSUB:
        return "subscript out of range";
    }
  } else if (sig == SIGILL) {
    switch (code) {
      case ILL_ILLOPC:
        return "illegal opcode";
      case ILL_ILLOPN:
        return "illegal operand";
      case ILL_ILLADR:
        return "illegal addressing mode";
      case ILL_ILLTRP:
        return "illegal trap";
      case ILL_PRVOPC:
        return "privileged opcode";
      case ILL_PRVREG:
        return "privileged register";
      case ILL_COPROC:
        return "coprocessor error";
      case ILL_BADSTK:
        return "internal stack error";
    }
  } else if (sig == SIGTRAP) {
    switch (code) {
      case TRAP_BRKPT:
        return "breakpoint";
      case TRAP_TRACE:
        return "trace trap";
    }
  }
  return "";
}

int FreeRealTimeSignal(int highest) {
  for (int sig = highest; sig >= SIGRTMIN + 2; --sig) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_DFL) {
      return sig;
    }
  }
  return 0;
}

bool IsFault(int sig, int code) {
  return code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
                      sig == SIGILL || sig == SIGTRAP);
}

bool HasSender(int code) {
  return code == SI_USER || code == SI_QUEUE || code == SI_TKILL;
}

bool LooksLikeStackOverflow(int sig, uint64_t fault_addr, uint64_t sp) {
  // A call or push past the end writes just below the stack pointer; a
  // frame's locals a little further. 64 KiB covers both without taking a
  // wild pointer into a neighbouring mapping for an overflow.
  constexpr uint64_t kWindow = uint64_t{64} * 1024;
  if (sig != SIGSEGV || sp == 0 || fault_addr == 0) return false;
  return fault_addr + kWindow >= sp && fault_addr <= sp + 256;
}

void InterruptedSyscall(const InterruptedState& s, long* nr, uint64_t args[6]) {
  constexpr unsigned char kSyscall0 = 0x0f, kSyscall1 = 0x05;
  *nr = kSyscallRunning;
  for (int i = 0; i < 6; ++i) args[i] = 0;
  if (!s.readable) {
    *nr = kSyscallUnknown;
    return;
  }
  const bool at_syscall = s.code[2] == kSyscall0 && s.code[3] == kSyscall1;
  const bool after_syscall = s.code[0] == kSyscall0 && s.code[1] == kSyscall1;
  if (at_syscall && s.rax >= 0 && s.rax < 4096) {
    *nr = static_cast<long>(s.rax);
    for (int i = 0; i < 6; ++i) args[i] = s.args[i];
  } else if (after_syscall && s.rax == -4) {  // -EINTR
    *nr = kSyscallUnknown;
  }
}

}  // namespace gtest_watchdog_internal

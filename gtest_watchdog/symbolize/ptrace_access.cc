#include "gtest_watchdog/symbolize/ptrace_access.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace gtest_watchdog_internal {
namespace {

constexpr int kCapSysPtrace = 19;  // linux/capability.h

// Reads a small /proc file; false (with errno set) if it cannot be opened.
bool ReadSmallFile(const std::string& path, std::string* out) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

std::string TaskPath(pid_t pid, pid_t tid, const char* file) {
  return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/" +
         file;
}

// The value after "Key:" in a /proc status file, "" if absent.
std::string StatusField(const std::string& status, const char* key) {
  const std::string needle = std::string("\n") + key + ":";
  size_t at = ("\n" + status).find(needle);
  if (at == std::string::npos) return std::string();
  at += needle.size() - 1;  // "\n" was prepended to the search text
  const size_t end = status.find('\n', at);
  std::string value = status.substr(
      at, end == std::string::npos ? std::string::npos : end - at);
  const size_t first = value.find_first_not_of(" \t");
  return first == std::string::npos ? std::string() : value.substr(first);
}

// Why ptrace(PTRACE_SEIZE) or opening /proc/PID/mem failed with
// EPERM/EACCES, from what this process can see. Never empty.
std::string ExplainPtraceDenial(pid_t pid, pid_t tid) {
  std::vector<std::string> reasons;
  std::string target_status;
  ReadSmallFile(TaskPath(pid, tid, "status"), &target_status);
  const std::string tracer = StatusField(target_status, "TracerPid");
  if (!tracer.empty() && tracer != "0") {
    reasons.push_back("thread " + std::to_string(tid) +
                      " is already traced by process " + tracer);
  }
  std::string yama;
  if (ReadSmallFile("/proc/sys/kernel/yama/ptrace_scope", &yama)) {
    const long scope = std::strtol(yama.c_str(), nullptr, 10);
    if (scope == 1) {
      reasons.push_back(
          "Yama ptrace_scope is 1: only an ancestor of the process, or a "
          "tracer it named with prctl(PR_SET_PTRACER, pid), may attach");
    } else if (scope == 2) {
      reasons.push_back(
          "Yama ptrace_scope is 2: only a process with CAP_SYS_PTRACE may "
          "attach");
    } else if (scope >= 3) {
      reasons.push_back("Yama ptrace_scope is 3: ptrace attach is disabled");
    }
  }
  std::string self_status;
  ReadSmallFile("/proc/self/status", &self_status);
  const uint64_t caps =
      std::strtoull(StatusField(self_status, "CapEff").c_str(), nullptr, 16);
  if ((caps & (uint64_t{1} << kCapSysPtrace)) == 0) {
    // "Uid:" lists real, effective, saved and filesystem uids.
    const std::string target_uid = StatusField(target_status, "Uid");
    const std::string own_uid = StatusField(self_status, "Uid");
    struct stat proc_entry;
    const std::string proc_dir = "/proc/" + std::to_string(pid);
    if (!target_uid.empty() && target_uid != own_uid) {
      reasons.push_back("the target's uids (" + target_uid +
                        ") differ from ours (" + own_uid +
                        ") and we lack CAP_SYS_PTRACE");
    } else if (stat(proc_dir.c_str(), &proc_entry) == 0 &&
               proc_entry.st_uid == 0 && geteuid() != 0) {
      // The kernel gives a non-dumpable process's /proc entry to root.
      reasons.push_back(
          "the target is not dumpable (prctl(PR_SET_DUMPABLE, 0) or a set-id "
          "program) and we lack CAP_SYS_PTRACE");
    } else {
      reasons.push_back(
          "we lack CAP_SYS_PTRACE (container runtimes drop it by default)");
    }
  }
  const std::string seccomp = StatusField(self_status, "Seccomp");
  if (!seccomp.empty() && seccomp != "0") {
    reasons.push_back(
        "a seccomp filter is active here (container runtimes' default "
        "profiles may deny ptrace)");
  }
  if (reasons.empty()) {
    reasons.push_back("no known cause; an LSM (AppArmor, SELinux) may deny it");
  }
  std::string text;
  for (const std::string& reason : reasons) {
    text += (text.empty() ? "" : "; ") + reason;
  }
  return text;
}

std::string NotPermitted(int error_number, pid_t pid, pid_t tid) {
  return std::string("ptrace not permitted: ") + std::strerror(error_number) +
         " (" + ExplainPtraceDenial(pid, tid) + ")";
}

// What to pass to PTRACE_DETACH for a thread that stopped with `status`: the
// signal it was about to receive, so the stop leaves no trace. Our interrupt
// and group stops (SIGSTOP etc. with PTRACE_SEIZE) report PTRACE_EVENT_STOP;
// the kernel re-enters a group stop that is in effect by itself.
int SignalToHandBack(int status) {
  return (status >> 16) == 0 ? WSTOPSIG(status) : 0;
}

}  // namespace

bool CheckPtraceAccess(pid_t pid, pid_t* tgid_out, std::string* error) {
  auto fail = [error](std::string message) {
    *error = std::move(message);
    return false;
  };
  if (pid <= 0) return fail("invalid pid " + std::to_string(pid));
  std::string status;
  if (!ReadSmallFile("/proc/" + std::to_string(pid) + "/status", &status)) {
    return fail("no such process: " + std::to_string(pid));
  }
  const pid_t tgid = static_cast<pid_t>(
      std::strtol(StatusField(status, "Tgid").c_str(), nullptr, 10));
  if (tgid <= 0) {
    return fail("no such process: " + std::to_string(pid));
  }
  if (tgid == getpid()) {
    return fail("cannot ptrace our own process " + std::to_string(tgid) +
                ": a thread cannot trace its own thread group");
  }
  // Opening /proc/PID/mem passes the same access check as PTRACE_SEIZE
  // (Yama, capabilities, dumpability) without touching the target.
  const std::string mem = "/proc/" + std::to_string(tgid) + "/mem";
  const int fd = open(mem.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int open_errno = errno;
    if (open_errno == EACCES || open_errno == EPERM) {
      return fail(NotPermitted(open_errno, tgid, tgid));
    }
    return fail("cannot open " + mem + ": " + std::strerror(open_errno));
  }
  close(fd);
  // A seccomp filter denies the system call itself. For a process we do not
  // trace this request fails with ESRCH and does nothing.
  errno = 0;
  ptrace(PTRACE_PEEKDATA, tgid, nullptr, nullptr);
  if (errno == EPERM || errno == ENOSYS) {
    return fail(NotPermitted(errno, tgid, tgid));
  }
  *tgid_out = tgid;
  return true;
}

bool SeizeAndInterrupt(pid_t pid, pid_t tid, std::string* error) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    const int seize_errno = errno;
    *error = seize_errno == ESRCH ? std::string("thread exited")
             : seize_errno == EPERM
                 ? NotPermitted(seize_errno, pid, tid)
                 : std::string("PTRACE_SEIZE: ") + std::strerror(seize_errno);
    return false;
  }
  // Failure here means the thread is exiting; waitpid() will say so.
  ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  return true;
}

// ptrace() is variadic and reads `data` as a pointer.
void PtraceDetach(pid_t tid, int status) {
  ptrace(
      PTRACE_DETACH, tid, nullptr,
      reinterpret_cast<void*>(static_cast<intptr_t>(SignalToHandBack(status))));
}

char ProcTaskState(pid_t pid, pid_t tid) {
  std::string stat;
  if (!ReadSmallFile(TaskPath(pid, tid, "stat"), &stat)) return 0;
  // The name in parentheses may itself contain ") ".
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

// The user-space stack pointer and instruction pointer of a blocked thread,
// from /proc/PID/task/TID/syscall: "NR ARG1..ARG6 SP PC" while in a system
// call, "-1 SP PC" while blocked elsewhere, "running" otherwise.
bool BlockedSpPc(pid_t pid, pid_t tid, uint64_t* sp, uint64_t* pc) {
  std::string text;
  if (!ReadSmallFile(TaskPath(pid, tid, "syscall"), &text)) return false;
  std::vector<std::string> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = text.find_first_not_of(" \n", pos);
    if (start == std::string::npos) break;
    const size_t end = text.find_first_of(" \n", start);
    fields.push_back(text.substr(start, end - start));
    pos = end == std::string::npos ? text.size() : end;
  }
  if (fields.size() != 3 && fields.size() != 9) return false;
  char* end = nullptr;
  *sp = std::strtoull(fields[fields.size() - 2].c_str(), &end, 0);
  if (end == nullptr || *end != '\0') return false;
  *pc = std::strtoull(fields.back().c_str(), &end, 0);
  return end != nullptr && *end == '\0' && *pc != 0;
}

}  // namespace gtest_watchdog_internal

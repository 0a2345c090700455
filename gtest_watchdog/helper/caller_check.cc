#include "gtest_watchdog/helper/caller_check.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest_watchdog/diagnose/proc_view.h"
#include "gtest_watchdog/dump/helper_protocol.h"

namespace gtest_watchdog_internal {
namespace {

// The target of the symbolic link at `path`, quoted and escaped for a
// message (a file name may hold any byte), or why it could not be read.
// Allocates.
std::string LinkForMessage(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) return absl::StrCat("(", path, ": ", strerror(errno), ")");
  return absl::StrCat("\"", absl::CHexEscape(std::string(buf, n)), "\"");
}

// The real and effective uid on the "Uid:" line of /proc/PID/status (of
// the thread-group leader). False if unreadable. Allocates.
bool ProcessUids(pid_t pid, uid_t* real, uid_t* effective) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string status = ReadToEnd(fd);
  close(fd);
  const size_t at = status.find("\nUid:");
  if (at == std::string::npos) return false;
  const char* p = status.c_str() + at + 5;
  char* end = nullptr;
  errno = 0;
  const unsigned long r = strtoul(p, &end, 10);
  if (end == p || errno != 0) return false;
  p = end;
  const unsigned long e = strtoul(p, &end, 10);
  if (end == p || errno != 0) return false;
  *real = static_cast<uid_t>(r);
  *effective = static_cast<uid_t>(e);
  return true;
}

}  // namespace

std::string ReportHelperCallerProblem(int fd, pid_t* parent) {
  // The kernel sets AT_SECURE when exec changed our credentials: acting
  // then would lend them to whoever ran us.
  if (getauxval(AT_SECURE) != 0) {
    return "the program runs in secure-execution mode (AT_SECURE: "
           "set-user-ID, set-group-ID or file capabilities)";
  }
  // Checked before reading: a terminal or a pipe could block us, and any
  // other file would be a snapshot someone else wrote.
  const std::string fd_path = absl::StrCat("/proc/self/fd/", fd);
  const std::string memfd =
      absl::StrCat("/memfd:", kSnapshotMemfdName, " (deleted)");
  char target[PATH_MAX];
  const ssize_t n = readlink(fd_path.c_str(), target, sizeof(target) - 1);
  if (n < 0) {
    return absl::StrCat("descriptor ", fd, " is not open (", fd_path, ": ",
                        strerror(errno), ")");
  }
  if (std::string(target, static_cast<size_t>(n)) != memfd) {
    return absl::StrCat("descriptor ", fd, " is ", LinkForMessage(fd_path),
                        ", not the watchdog's \"", memfd, "\"");
  }
  // 0: the parent is outside our pid namespace. 1 may be a real parent (a
  // test binary run as a container's init); the checks below judge it.
  *parent = getppid();
  if (*parent <= 0) {
    return "the parent process is outside this pid namespace (getppid() "
           "returned 0)";
  }
  // The same file, even if deleted or replaced on disk since: the stall
  // path starts us from its /proc/self/exe, which pins its inode.
  const std::string parent_exe = absl::StrCat("/proc/", *parent, "/exe");
  struct stat ours = {};
  struct stat theirs = {};
  if (stat("/proc/self/exe", &ours) != 0) {
    return absl::StrCat("cannot stat /proc/self/exe: ", strerror(errno));
  }
  if (stat(parent_exe.c_str(), &theirs) != 0) {
    return absl::StrCat("cannot stat ", parent_exe,
                        " (the parent's executable): ", strerror(errno));
  }
  if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) {
    return absl::StrCat("the parent process ", *parent, " runs ",
                        LinkForMessage(parent_exe), ", not this executable ",
                        LinkForMessage("/proc/self/exe"));
  }
  uid_t real = 0;
  uid_t effective = 0;
  if (!ProcessUids(*parent, &real, &effective)) {
    return absl::StrCat("cannot read the uids of the parent process ", *parent,
                        " from /proc/", *parent, "/status");
  }
  if (real != getuid() || effective != geteuid()) {
    return absl::StrCat("the parent process ", *parent, " runs as uid ", real,
                        " (effective ", effective, "), this one as uid ",
                        getuid(), " (effective ", geteuid(), ")");
  }
  // Still our parent after the reads: it was alive throughout (we are
  // reparented the moment it exits), so /proc/PID was not a reused pid.
  if (getppid() != *parent) {
    return absl::StrCat("the parent process ", *parent,
                        " exited during the checks");
  }
  return "";
}

}  // namespace gtest_watchdog_internal

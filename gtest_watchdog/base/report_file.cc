#include "gtest_watchdog/base/report_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace gtest_watchdog_internal {
namespace {

// Closes on every way out of the walk below.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(-1); }
  int get() const { return fd_; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// O_PATH: only a handle to walk from and to openat in; it needs search
// (x) permission alone, not read, and cannot itself read or write.
constexpr int kDirFlags = O_PATH | O_DIRECTORY | O_CLOEXEC;

bool OwnedByUsOrRoot(uid_t uid) { return uid == geteuid() || uid == 0; }

// Anyone may rename, remove or add entries, and another user set it up
// that way: a trap. The sticky bit (/tmp) limits renames and removals to
// each entry's owner. One that we or root made writable by all (a
// Kubernetes emptyDir volume, a CI artifact directory) is the setup's own
// choice: accepted, since no link is followed and no file of another user
// is written (WhyNotReportFile).
bool ForeignAndWritableByAll(const struct stat& st) {
  return (st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0 &&
         !OwnedByUsOrRoot(st.st_uid);
}

std::string WritableByAllWhy(const std::string& shown, const struct stat& st) {
  // Four octal digits, as absl::StrFormat("%04o") gave before.
  char mode[16] = {};
  (void)snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
  return "its directory '" + shown + "' belongs to uid " +
         std::to_string(st.st_uid) + " and may be changed by any user (mode " +
         mode +
         ": writable by all, without the sticky bit), so the report could "
         "be swapped";
}

std::string Joined(const std::vector<std::string>& names) {
  if (names.empty()) return "/";
  std::string out;
  for (const std::string& n : names) out += "/" + n;
  return out;
}

// "/a//b" -> "", "a", "", "b": every piece between slashes, empty ones too.
std::vector<std::string> SplitAtSlashes(const std::string& path) {
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t slash; (slash = path.find('/', start)) != std::string::npos;
       start = slash + 1) {
    pieces.push_back(path.substr(start, slash - start));
  }
  pieces.push_back(path.substr(start));
  return pieces;
}

}  // namespace

int OpenReportDirectory(const std::string& dir, bool follow_links,
                        std::string* canonical, std::string* why) {
  if (dir.empty() || dir[0] != '/') {
    *why = "its directory '" + dir + "' is not an absolute path";
    return -1;
  }
  // Components still to walk, the next one last; a link's target is pushed
  // here and walked like the rest.
  std::vector<std::string> pending = SplitAtSlashes(dir);
  std::reverse(pending.begin(), pending.end());
  std::vector<std::string> walked;  // real directories below "/"
  Fd cur(open("/", kDirFlags));
  struct stat st;
  if (cur.get() < 0 || fstat(cur.get(), &st) != 0) {
    *why = std::string("cannot open '/': ") + strerror(errno);
    return -1;
  }
  if (ForeignAndWritableByAll(st)) {
    *why = WritableByAllWhy("/", st);
    return -1;
  }
  int links = 0;
  while (!pending.empty()) {
    const std::string name = std::move(pending.back());
    pending.pop_back();
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      // Back into a directory already checked on the way in; "/.." is "/".
      if (walked.empty()) continue;
      Fd up(openat(cur.get(), "..", kDirFlags));
      if (up.get() < 0) {
        *why = "cannot open '" + Joined(walked) + "/..': " + strerror(errno);
        return -1;
      }
      cur.Reset(up.Release());
      walked.pop_back();
      continue;
    }
    const std::string shown =
        (walked.empty() ? "" : Joined(walked)) + "/" + name;
    // O_NOFOLLOW: a link here fails with ENOTDIR instead of being followed
    // by the kernel; it is followed below only after the checks.
    Fd next(openat(cur.get(), name.c_str(), kDirFlags | O_NOFOLLOW));
    if (next.get() < 0) {
      const int err = errno;
      struct stat lst;
      const bool is_link =
          fstatat(cur.get(), name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(lst.st_mode);
      if (!is_link) {
        if (err == ENOENT) {
          *why = "its directory '" + shown + "' does not exist";
        } else if (err == ENOTDIR) {
          *why = "'" + shown + "' on its path is not a directory";
        } else {
          *why = "cannot open its directory '" + shown + "': " + strerror(err);
        }
        return -1;
      }
      if (!follow_links) {
        *why = "its directory '" + shown +
               "' is a symbolic link; the report is written only through "
               "real directories (links are resolved once, at start-up)";
        return -1;
      }
      // Like the kernel's protected_symlinks, everywhere: a link another
      // user made (in /tmp, say) must not pick where our report goes; one
      // of the directory's owner (root writing below the CI user's
      // workspace) may, as the kernel allows it too.
      struct stat holder;
      if (!OwnedByUsOrRoot(lst.st_uid) &&
          !(fstat(cur.get(), &holder) == 0 && holder.st_uid == lst.st_uid)) {
        *why = "'" + shown + "' on its path is a symbolic link owned by uid " +
               std::to_string(lst.st_uid) + ", not by this user (uid " +
               std::to_string(geteuid()) +
               "), root or its directory's owner; such links are not "
               "followed";
        return -1;
      }
      if (++links > 40) {  // the kernel's limit (MAXSYMLINKS)
        *why = "'" + shown + "' on its path: too many levels of symbolic links";
        return -1;
      }
      char target[PATH_MAX];
      const ssize_t n =
          readlinkat(cur.get(), name.c_str(), target, sizeof(target));
      if (n <= 0 || static_cast<size_t>(n) >= sizeof(target)) {
        *why = "cannot read the symbolic link '" + shown + "'" +
               (n < 0 ? std::string(": ") + strerror(errno) : std::string());
        return -1;
      }
      const std::string to(target, static_cast<size_t>(n));
      if (to[0] == '/') {
        cur.Reset(open("/", kDirFlags));
        walked.clear();
        if (cur.get() < 0) {
          *why = std::string("cannot open '/': ") + strerror(errno);
          return -1;
        }
      }
      std::vector<std::string> parts = SplitAtSlashes(to);
      pending.insert(pending.end(), parts.rbegin(), parts.rend());
      continue;
    }
    if (fstat(next.get(), &st) != 0) {
      *why = "cannot stat its directory '" + shown + "': " + strerror(errno);
      return -1;
    }
    if (ForeignAndWritableByAll(st)) {
      *why = WritableByAllWhy(shown, st);
      return -1;
    }
    cur.Reset(next.Release());
    walked.push_back(name);
  }
  // Not refused: a directory the file goes in that another user owns. A
  // test run as root in a container often writes below the CI user's
  // workspace; that owner could replace the report afterwards anyway, and
  // cannot redirect our write: no link is followed, and a file of theirs or
  // with a second name is refused (WhyNotReportFile).
  *canonical = Joined(walked);
  return cur.Release();
}

std::string WhyNotReportFile(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    return "it is a symbolic link; the report is never written through one";
  }
  if (!S_ISREG(st.st_mode)) return "it exists and is not a regular file";
  // Rewriting in place would change the file under its other names too.
  if (st.st_nlink != 1) {
    return "it is a regular file with " +
           std::to_string(static_cast<int64_t>(st.st_nlink)) + " hard links";
  }
  if (st.st_uid != geteuid()) {
    return "it belongs to uid " + std::to_string(st.st_uid) +
           ", not to this user (uid " + std::to_string(geteuid()) +
           "); remove it first";
  }
  return "";
}

bool WriteReportFile(const std::string& path, const std::string& contents,
                     std::string* why) {
  const auto fail = [&](const std::string& reason) {
    *why = reason;
    return false;
  };
  if (path.empty() || path[0] != '/') {
    return fail("it is not an absolute path");
  }
  const size_t slash = path.rfind('/');
  const std::string base = path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    return fail("it names a directory; expected a file");
  }
  std::string refused;
  std::string canonical;
  // One descriptor for the directory, then openat: the directory cannot be
  // swapped for another between the checks and the write.
  const Fd dir(OpenReportDirectory(slash == 0 ? "/" : path.substr(0, slash),
                                   /*follow_links=*/false, &canonical,
                                   &refused));
  if (dir.get() < 0) return fail(refused);
  // A new file first (O_EXCL): it is ours whatever its owner says (NFS
  // with root_squash, a vfat mount with a fixed uid=), and needs no check.
  // Else the existing one, with no O_TRUNC: nothing is changed before fstat
  // has vetted it. O_NONBLOCK: opening a FIFO for writing would otherwise
  // wait for a reader forever; with it, open fails (ENXIO) or fstat below
  // refuses the FIFO. O_NOCTTY: a terminal must not become ours.
  constexpr int kFlags =
      O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  Fd fd(openat(dir.get(), base.c_str(), kFlags | O_CREAT | O_EXCL, 0644));
  const bool created = fd.get() >= 0;
  if (!created && errno == EEXIST) {
    fd.Reset(openat(dir.get(), base.c_str(), kFlags));
  }
  if (fd.get() < 0) {
    const int err = errno;
    // Name the real cause: "No such device or address" for a FIFO with no
    // reader, "Too many levels of symbolic links", or "Permission denied"
    // for another user's file in /tmp (protected_regular) would puzzle.
    struct stat lst;
    if (fstatat(dir.get(), base.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0) {
      refused = WhyNotReportFile(lst);
      if (!refused.empty()) return fail(refused);
    }
    return fail(strerror(err));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return fail(strerror(errno));
  refused = created ? "" : WhyNotReportFile(st);
  if (!refused.empty()) return fail(refused);
  // Back to blocking writes (regular files ignore it, but say what we mean).
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags >= 0) fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  // Only now, for a file that is ours alone: a shorter report must leave
  // no tail of the old one.
  if (ftruncate(fd.get(), 0) != 0) return fail(strerror(errno));
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // close() reports deferred write errors (NFS, quota).
  if (close(fd.Release()) != 0) return fail(strerror(errno));
  return true;
}

}  // namespace gtest_watchdog_internal

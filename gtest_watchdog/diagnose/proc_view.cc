#include "gtest_watchdog/diagnose/proc_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace gtest_watchdog_internal {
namespace {

class SystemProcView : public ProcView {
 public:
  std::string ReadFile(const std::string& path) const override {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string text;
    char buf[65536];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return text;
  }

  std::string ReadLink(const std::string& path) const override {
    char buf[PATH_MAX];
    const ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  std::vector<int> ListNumeric(const std::string& path) const override {
    std::vector<int> out;
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return out;
    while (const dirent* e = readdir(dir)) {
      const char* s = e->d_name;
      if (*s < '0' || *s > '9') continue;
      long v = 0;
      for (; *s >= '0' && *s <= '9' && v < INT_MAX / 10; ++s)
        v = v * 10 + (*s - '0');
      if (*s == '\0') out.push_back(static_cast<int>(v));
    }
    closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
  }

  unsigned FileType(const std::string& path) const override {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
  }

  bool ReadMemory(pid_t pid, uint64_t addr, void* out,
                  size_t size) const override {
    iovec local = {out, size};
    iovec remote = {reinterpret_cast<void*>(addr), size};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) ==
           static_cast<ssize_t>(size);
  }

  int64_t NowNs(int clock) const override {
    timespec ts;
    if (clock_gettime(static_cast<clockid_t>(clock), &ts) != 0) return -1;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
  }
};

}  // namespace

std::unique_ptr<ProcView> MakeSystemProcView() {
  return std::make_unique<SystemProcView>();
}

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/diagnose/proc_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace gtest_watchdog_internal {
namespace {

class SystemProcView : public ProcView {
 public:
  std::string ReadFile(const std::string& path) const override {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string text = ReadToEnd(fd);
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

  uint64_t UnixPeerInode(uint64_t inode) const override {
    if (inode == 0 || inode > UINT32_MAX) return 0;
    const int fd =
        socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return 0;
    struct {
      nlmsghdr header;
      unix_diag_req request;
    } message = {};
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = ~0u;
    message.request.udiag_ino = static_cast<uint32_t>(inode);
    message.request.udiag_show = UDIAG_SHOW_PEER;
    // "No cookie": look the socket up by inode alone.
    message.request.udiag_cookie[0] = message.request.udiag_cookie[1] = ~0u;
    sockaddr_nl kernel = {};
    kernel.nl_family = AF_NETLINK;
    uint64_t peer = 0;
    alignas(nlmsghdr) char buf[8192];
    pollfd p = {fd, POLLIN, 0};
    if (sendto(fd, &message, sizeof(message), 0,
               reinterpret_cast<const sockaddr*>(&kernel),
               sizeof(kernel)) == sizeof(message) &&
        poll(&p, 1, 500) == 1) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf);
      if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(unix_diag_msg))) &&
          NLMSG_OK(h, static_cast<unsigned>(n)) &&
          h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
        int len = static_cast<int>(h->nlmsg_len) -
                  static_cast<int>(NLMSG_LENGTH(sizeof(unix_diag_msg)));
        const char* attrs = static_cast<const char*>(NLMSG_DATA(h)) +
                            NLMSG_ALIGN(sizeof(unix_diag_msg));
        for (const rtattr* a = reinterpret_cast<const rtattr*>(attrs);
             RTA_OK(a, len); a = RTA_NEXT(a, len)) {
          if (a->rta_type == UNIX_DIAG_PEER &&
              RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
            uint32_t value;
            memcpy(&value, RTA_DATA(a), sizeof(value));
            peer = value;
          }
        }
      }
    }
    close(fd);
    return peer;
  }

  int64_t NowNs(int clock) const override {
    timespec ts;
    if (clock_gettime(static_cast<clockid_t>(clock), &ts) != 0) return -1;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
  }
};

}  // namespace

std::string ReadToEnd(int fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::unique_ptr<ProcView> MakeSystemProcView() {
  return std::make_unique<SystemProcView>();
}

}  // namespace gtest_watchdog_internal

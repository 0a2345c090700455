// Tests for decoding what a blocked thread waits for
// (gtest_watchdog/diagnose/blocking_call.h) against a made-up process: its
// /proc files, descriptor links and memory are a FakeProcView's maps. Also
// the system call names (libseccomp) and one decode against this very
// process, through the real /proc.

#include "gtest_watchdog/diagnose/blocking_call.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/syscall_names.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr pid_t kPid = 1000;

class FakeProcView : public ProcView {
 public:
  std::map<std::string, std::string> files;
  // What the first read of a path returns instead of files[path] (a table
  // the kernel walked while sockets came and went).
  mutable std::map<std::string, std::string> first_read;
  std::map<std::string, std::string> links;
  std::map<std::string, unsigned> types;
  std::map<uint64_t, std::string> memory;  // start address -> bytes
  int64_t now_ns = 0;

  std::string ReadFile(const std::string& path) const override {
    const auto first = first_read.find(path);
    if (first != first_read.end()) {
      std::string text = first->second;
      first_read.erase(first);
      return text;
    }
    const auto it = files.find(path);
    return it == files.end() ? "" : it->second;
  }
  std::string ReadLink(const std::string& path) const override {
    const auto it = links.find(path);
    return it == links.end() ? "" : it->second;
  }
  std::vector<int> ListNumeric(const std::string& path) const override {
    std::vector<int> out;
    for (const auto& [link, target] : links) {
      if (link.rfind(path, 0) == 0) {
        out.push_back(std::stoi(link.substr(path.size())));
      }
    }
    return out;
  }
  unsigned FileType(const std::string& path) const override {
    const auto it = types.find(path);
    return it == types.end() ? S_IFREG : it->second;
  }
  bool ReadMemory(pid_t pid, uint64_t addr, void* out,
                  size_t size) const override {
    if (pid != kPid) return false;
    for (const auto& [start, bytes] : memory) {
      if (addr >= start && addr + size <= start + bytes.size()) {
        memcpy(out, bytes.data() + (addr - start), size);
        return true;
      }
    }
    return false;
  }
  int64_t NowNs(int) const override { return now_ns; }
  uint64_t UnixPeerInode(uint64_t inode) const override {
    const auto it = unix_peers.find(inode);
    return it == unix_peers.end() ? 0 : it->second;
  }
  std::map<uint64_t, uint64_t> unix_peers;

  // fd `fd` of `pid` links to `target`, opened with `flags`.
  void Fd(pid_t pid, int fd, const std::string& target, int flags = O_RDWR) {
    const std::string n = std::to_string(fd);
    links["/proc/" + std::to_string(pid) + "/fd/" + n] = target;
    files["/proc/" + std::to_string(pid) + "/fdinfo/" + n] =
        "pos:\t0\nflags:\t0" + Octal(flags) + "\nmnt_id:\t15\n";
  }
  template <typename T>
  void Memory(uint64_t addr, const T& value) {
    memory[addr] =
        std::string(reinterpret_cast<const char*>(&value), sizeof(value));
  }

 private:
  static std::string Octal(int v) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%o", v);
    return buf;
  }
};

// The made-up process's thread, asleep in system call `nr`.
SnapshotThread InCall(long nr, std::initializer_list<uint64_t> args) {
  SnapshotThread t = Thread(kPid, "");
  InSyscall(&t, nr, args);
  return t;
}

const char kTcpHeader[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode\n";

// A client (inode 501) connected to 127.0.0.1:5555, whose listener (inode
// 500) has not accepted it; the pending connection's row has inode 0.
std::string TcpTable() {
  return std::string(kTcpHeader) +
         "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
         "00000000  1000        0 500 1 0000000000000000 100 0 0 10 0\n"
         "   1: 0100007F:9CB8 0100007F:15B3 01 00000000:00000000 00:00000000 "
         "00000000  1000        0 501 1 0000000000000000 20 4 30 10 -1\n"
         "   2: 0100007F:15B3 0100007F:9CB8 01 00000000:00000000 00:00000000 "
         "00000000  1000        0 0 1 0000000000000000 20 4 30 10 -1\n";
}

TEST(SyscallNameTest, KnownAndUnknown) {
  EXPECT_EQ(SyscallName(SYS_read), "read");
  EXPECT_EQ(SyscallName(SYS_futex), "futex");
  EXPECT_EQ(SyscallName(SYS_clock_nanosleep), "clock_nanosleep");
  EXPECT_EQ(SyscallName(SYS_recvfrom), "recvfrom");
  EXPECT_EQ(SyscallName(-1), "");
  EXPECT_EQ(SyscallName(100000), "");
}

TEST(BlockingCallTest, RecvOnATcpSocketNamesBothEndsAndTheListener) {
  FakeProcView view;
  view.files["/proc/1000/net/tcp"] = TcpTable();
  view.Fd(kPid, 5, "socket:[500]");
  view.Fd(kPid, 6, "socket:[501]");
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call =
      decoder.Decode(InCall(SYS_recvfrom, {6, 0x7000, 16, 0, 0, 0}));
  EXPECT_EQ(call.kind, BlockKind::kFd);
  EXPECT_EQ(call.name, "recvfrom");
  ASSERT_EQ(call.fds.size(), 1u);
  EXPECT_EQ(call.fds[0].kind, "tcp");
  EXPECT_EQ(call.fds[0].socket.remote, "127.0.0.1:5555");
  EXPECT_TRUE(call.fds[0].peer_not_accepted);
  EXPECT_EQ(call.text,
            "recvfrom() on fd 6: TCP socket 127.0.0.1:40120 → 127.0.0.1:5555 "
            "(established); the other end is a listening socket of this "
            "process (fd 5) that has not accepted it");
}

// A table read while sockets came and went can miss an entry: a socket not
// found is looked up once more in freshly read tables.
TEST(BlockingCallTest, ASocketMissingFromTheTablesIsLookedUpOnceMore) {
  FakeProcView view;
  view.files["/proc/1000/net/tcp"] = TcpTable();
  view.first_read["/proc/1000/net/tcp"] =
      TcpTable().substr(0, TcpTable().find('\n') + 1);  // the header only
  view.Fd(kPid, 5, "socket:[500]");
  view.Fd(kPid, 6, "socket:[501]");
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call =
      decoder.Decode(InCall(SYS_recvfrom, {6, 0x7000, 16, 0, 0, 0}));
  ASSERT_EQ(call.fds.size(), 1u);
  EXPECT_EQ(call.fds[0].kind, "tcp");
  EXPECT_EQ(call.fds[0].socket.remote, "127.0.0.1:5555");
}

TEST(BlockingCallTest, AcceptedPeerIsNamedWithItsHolder) {
  FakeProcView view;
  std::string table = TcpTable();
  // The server side now has a descriptor (inode 502) in a child process.
  const std::string pending = " 0 1 0000000000000000 20 4 30 10 -1\n";
  table.replace(table.rfind(pending), pending.size(),
                " 502 1 0000000000000000 20 4 30 10 -1\n");
  view.files["/proc/1000/net/tcp"] = table;
  view.Fd(kPid, 6, "socket:[501]");
  view.Fd(2000, 3, "socket:[502]");
  CallDecoder decoder(view, kPid, {ChildProcess{2000, kPid, 'S', "server"}});
  const BlockingCall call = decoder.Decode(InCall(SYS_recvfrom, {6}));
  EXPECT_THAT(call.text,
              HasSubstr("the other end is held by pid 2000 (server), fd 3"));
}

// An IPv4 client of a dual-stack IPv6 server: the server's side of the
// connection shows the client as [::ffff:127.0.0.1].
TEST(BlockingCallTest, PeerFoundAcrossIpv4AndIpv6) {
  FakeProcView view;
  view.files["/proc/1000/net/tcp"] = TcpTable();  // the client, inode 501
  view.files["/proc/1000/net/tcp6"] =
      std::string(kTcpHeader) +
      "   0: 0000000000000000FFFF00000100007F:15B3 "
      "0000000000000000FFFF00000100007F:9CB8 01 00000000:00000000 "
      "00:00000000 00000000  1000        0 600 1 0000000000000000 20 4 30 "
      "10 -1\n";
  view.Fd(kPid, 6, "socket:[501]");
  view.Fd(2000, 3, "socket:[600]");
  CallDecoder decoder(view, kPid, {ChildProcess{2000, kPid, 'S', "server"}});
  EXPECT_THAT(decoder.Decode(InCall(SYS_recvfrom, {6})).text,
              HasSubstr("the other end is held by pid 2000 (server), fd 3"));
}

TEST(BlockingCallTest, PipeReadSaysWhoHoldsTheWriteEnd) {
  FakeProcView view;
  view.Fd(kPid, 3, "pipe:[77]", O_RDONLY);
  view.Fd(kPid, 4, "pipe:[77]", O_WRONLY);
  view.Fd(2000, 1, "pipe:[77]", O_WRONLY);
  view.Fd(2000, 0, "pipe:[77]", O_RDONLY);  // a reader: not the other end
  CallDecoder decoder(view, kPid, {ChildProcess{2000, kPid, 'S', "cat"}});
  const BlockingCall call = decoder.Decode(InCall(SYS_read, {3, 0x7000, 1}));
  ASSERT_EQ(call.fds.size(), 1u);
  EXPECT_EQ(call.fds[0].access, "read");
  ASSERT_EQ(call.fds[0].other_end.size(), 2u);
  EXPECT_EQ(call.text,
            "read() on fd 3: pipe (read end; write end held by this process "
            "(fd 4), pid 2000 (cat), fd 1)");
}

TEST(BlockingCallTest, PipeWriteWithNoReaderInTheTest) {
  FakeProcView view;
  view.Fd(kPid, 4, "pipe:[78]", O_WRONLY);
  CallDecoder decoder(view, kPid, {});
  EXPECT_EQ(decoder.Decode(InCall(SYS_write, {4})).text,
            "write() on fd 4: pipe (write end; read end held by no process "
            "of the test)");
}

TEST(BlockingCallTest, FilesFifosDevicesAndClosedDescriptors) {
  FakeProcView view;
  view.Fd(kPid, 3, "/tmp/data.bin");
  view.Fd(kPid, 4, "/tmp/fifo", O_RDONLY);
  view.types["/proc/1000/fd/4"] = S_IFIFO;
  view.Fd(kPid, 5, "/dev/ttyS0");
  view.types["/proc/1000/fd/5"] = S_IFCHR;
  view.Fd(kPid, 6, "anon_inode:[eventfd]");
  CallDecoder decoder(view, kPid, {});
  EXPECT_EQ(decoder.DescribeFd(3).text, "file /tmp/data.bin");
  EXPECT_EQ(decoder.DescribeFd(4).text,
            "FIFO /tmp/fifo (read end; write end held by no process of the "
            "test)");
  EXPECT_EQ(decoder.DescribeFd(5).text, "device /dev/ttyS0");
  EXPECT_EQ(decoder.DescribeFd(6).kind, "eventfd");
  EXPECT_EQ(decoder.DescribeFd(9).text, "no longer open");
}

TEST(BlockingCallTest, UnixSocketShowsItsPathAndThePeers) {
  FakeProcView view;
  view.files["/proc/1000/net/unix"] =
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 900 "
      "/run/my app.sock\n"
      "0000000000000000: 00000003 00000000 00000000 0001 03 901\n"
      "0000000000000000: 00000003 00000000 00000000 0001 03 902 "
      "/run/my app.sock\n";
  view.Fd(kPid, 7, "socket:[900]");
  view.Fd(kPid, 8, "socket:[901]");
  view.Fd(2000, 4, "socket:[902]");
  view.unix_peers[901] = 902;
  view.unix_peers[902] = 901;
  CallDecoder decoder(view, kPid, {ChildProcess{2000, kPid, 'S', "server"}});
  EXPECT_EQ(decoder.Decode(InCall(SYS_accept, {7})).text,
            "accept() on fd 7: Unix stream socket /run/my app.sock "
            "(listening)");
  // A client's own name is empty; the accepted end carries the server's.
  const BlockingCall call = decoder.Decode(InCall(SYS_recvmsg, {8}));
  ASSERT_EQ(call.fds.size(), 1u);
  EXPECT_EQ(call.fds[0].socket.remote, "/run/my app.sock");
  EXPECT_EQ(call.text,
            "recvmsg() on fd 8: Unix stream socket (unnamed, connected) to "
            "/run/my app.sock; the other end is held by pid 2000 (server), fd "
            "4");
}

TEST(BlockingCallTest, PollListsEveryDescriptorWithItsEvents) {
  FakeProcView view;
  view.Fd(kPid, 3, "pipe:[1]", O_RDONLY);
  view.Fd(kPid, 8, "/tmp/out.log");
  struct {
    pollfd fds[3];
  } arr = {{{3, POLLIN, 0}, {-1, POLLIN, 0}, {8, POLLOUT, 0}}};
  view.Memory(0x5000, arr);
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call =
      decoder.Decode(InCall(SYS_poll, {0x5000, 3, static_cast<uint64_t>(-1)}));
  EXPECT_EQ(call.kind, BlockKind::kFd);
  ASSERT_EQ(call.fds.size(), 2u);  // the negative fd is ignored, as by poll
  EXPECT_EQ(call.fds[0].events, "read");
  EXPECT_EQ(call.fds[1].events, "write");
  EXPECT_EQ(call.timeout_ms, -1);
  EXPECT_EQ(call.text,
            "poll() on fd 3 (read): pipe (read end; write end held by no "
            "process of the test); fd 8 (write): file /tmp/out.log");
  const BlockingCall timed =
      decoder.Decode(InCall(SYS_poll, {0x5000, 3, 5000}));
  EXPECT_THAT(timed.text, StartsWith("poll() for 5.00 s on fd 3"));
}

TEST(BlockingCallTest, PollArrayThatCannotBeReadStillNamesTheCall) {
  FakeProcView view;
  CallDecoder decoder(view, kPid, {});
  EXPECT_EQ(decoder.Decode(InCall(SYS_ppoll, {0x9000, 2})).text,
            "ppoll() on no descriptor we could read");
}

TEST(BlockingCallTest, SelectReadsTheFdSets) {
  FakeProcView view;
  view.Fd(kPid, 3, "/tmp/a");
  view.Fd(kPid, 9, "/tmp/b");
  uint64_t read_set = (1u << 3) | (1u << 9);
  uint64_t write_set = 1u << 9;
  view.Memory(0x6000, read_set);
  view.Memory(0x6100, write_set);
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call =
      decoder.Decode(InCall(SYS_pselect6, {10, 0x6000, 0x6100, 0, 0, 0}));
  ASSERT_EQ(call.fds.size(), 2u);
  EXPECT_EQ(call.fds[0].fd, 3);
  EXPECT_EQ(call.fds[0].events, "read");
  EXPECT_EQ(call.fds[1].events, "read,write");
}

TEST(BlockingCallTest, EpollWaitListsWhatTheInstanceWatches) {
  FakeProcView view;
  view.Fd(kPid, 4, "anon_inode:[eventpoll]");
  view.files["/proc/1000/fdinfo/4"] =
      "pos:\t0\nflags:\t02\nmnt_id:\t15\n"
      "tfd:        3 events:       19 data:                3  pos:0 ino:1 "
      "sdev:d\n";
  view.Fd(kPid, 3, "/tmp/watched");
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call = decoder.Decode(
      InCall(SYS_epoll_wait, {4, 0x7000, 8, static_cast<uint64_t>(-1)}));
  ASSERT_EQ(call.fds.size(), 2u);
  EXPECT_EQ(call.fds[0].kind, "epoll");
  EXPECT_EQ(call.fds[1].events, "read");
  EXPECT_EQ(call.text,
            "epoll_wait() on fd 4, an epoll instance watching fd 3: file "
            "/tmp/watched");
}

TEST(BlockingCallTest, WaitForOneChildNamesItsCommandAndState) {
  FakeProcView view;
  CallDecoder decoder(view, kPid,
                      {ChildProcess{2000, kPid, 'S', "sleep 1000"},
                       ChildProcess{2001, kPid, 'R', "make"},
                       ChildProcess{2002, 2001, 'S', "cc1plus"}});
  const BlockingCall one = decoder.Decode(InCall(SYS_wait4, {2000}));
  EXPECT_EQ(one.kind, BlockKind::kChild);
  EXPECT_EQ(one.wait_for, "child pid 2000");
  ASSERT_EQ(one.children.size(), 1u);
  EXPECT_EQ(one.text, "wait4() for child pid 2000 (sleep 1000; sleeping)");
  // -1: any child of ours; a grandchild cannot be waited for.
  const BlockingCall any =
      decoder.Decode(InCall(SYS_wait4, {static_cast<uint64_t>(-1)}));
  EXPECT_EQ(any.children.size(), 2u);
  EXPECT_EQ(any.text,
            "wait4() for any child: pid 2000 (sleep 1000; sleeping), pid 2001 "
            "(make; running)");
  EXPECT_THAT(decoder.Decode(InCall(SYS_wait4, {3000})).text,
              HasSubstr("child pid 3000 (not among the test's processes"));
}

TEST(BlockingCallTest, WaitidOnAProcessGroupAndOnAPidfd) {
  FakeProcView view;
  view.files["/proc/2000/stat"] = "2000 (sleep) S 1000 2000 2000 0 -1";
  view.files["/proc/2001/stat"] = "2001 (make) S 1000 1000 1000 0 -1";
  view.Fd(kPid, 9, "anon_inode:[pidfd]");
  view.files["/proc/1000/fdinfo/9"] = "pos:\t0\nflags:\t02000002\nPid:\t2001\n";
  CallDecoder decoder(view, kPid,
                      {ChildProcess{2000, kPid, 'S', "sleep 1"},
                       ChildProcess{2001, kPid, 'S', "make"}});
  const BlockingCall group = decoder.Decode(InCall(SYS_waitid, {P_PGID, 2000}));
  ASSERT_EQ(group.children.size(), 1u);
  EXPECT_EQ(group.children[0].pid, 2000);
  // 0: the caller's own group (1000's stat says 1000), as wait4(0, ...).
  view.files["/proc/1000/stat"] = "1000 (tests) S 1 1000 1000 0 -1";
  const BlockingCall own = decoder.Decode(InCall(SYS_waitid, {P_PGID, 0}));
  ASSERT_EQ(own.children.size(), 1u);
  EXPECT_EQ(own.children[0].pid, 2001);
  EXPECT_EQ(decoder.Decode(InCall(SYS_wait4, {0})).children.size(), 1u);
  const BlockingCall pidfd = decoder.Decode(InCall(SYS_waitid, {3, 9}));
  ASSERT_EQ(pidfd.children.size(), 1u);
  EXPECT_EQ(pidfd.children[0].pid, 2001);
}

TEST(BlockingCallTest, SleepsSayHowLongTheyAskedFor) {
  FakeProcView view;
  const timespec hour = {3600, 0};
  view.Memory(0x8000, hour);
  CallDecoder decoder(view, kPid, {});
  const BlockingCall nano = decoder.Decode(InCall(SYS_nanosleep, {0x8000}));
  EXPECT_EQ(nano.kind, BlockKind::kSleep);
  EXPECT_EQ(nano.sleep_ns, 3600'000'000'000);
  EXPECT_EQ(nano.text, "nanosleep() for 3600.00 s");
  const BlockingCall rel =
      decoder.Decode(InCall(SYS_clock_nanosleep, {CLOCK_REALTIME, 0, 0x8000}));
  EXPECT_EQ(rel.text, "clock_nanosleep() for 3600.00 s (CLOCK_REALTIME)");
  // Absolute: how long is left, on the same clock.
  view.now_ns = 3599'750'000'000;
  const BlockingCall abs = decoder.Decode(
      InCall(SYS_clock_nanosleep, {CLOCK_MONOTONIC, TIMER_ABSTIME, 0x8000}));
  EXPECT_TRUE(abs.sleep_absolute);
  EXPECT_EQ(abs.sleep_ns, 250'000'000);
  EXPECT_EQ(abs.text,
            "clock_nanosleep() until 250 ms from now (CLOCK_MONOTONIC)");
  // std::this_thread::sleep_for passes one timespec as request and
  // remainder: interrupted by the report's signal, it holds what is left.
  EXPECT_EQ(decoder
                .Decode(InCall(SYS_clock_nanosleep,
                               {CLOCK_REALTIME, 0, 0x8000, 0x8000}))
                .text,
            "clock_nanosleep() with 3600.00 s left (CLOCK_REALTIME)");
  EXPECT_EQ(decoder.Decode(InCall(SYS_nanosleep, {0x8000, 0x8000})).text,
            "nanosleep() with 3600.00 s left");
  // A CPU-time clock is not the helper's to read: no "from now".
  const BlockingCall cpu = decoder.Decode(InCall(
      SYS_clock_nanosleep, {CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, 0x8000}));
  EXPECT_EQ(cpu.text, "clock_nanosleep() (CLOCK_PROCESS_CPUTIME_ID)");
  // Unreadable: the call and clock still.
  EXPECT_EQ(
      decoder.Decode(InCall(SYS_clock_nanosleep, {CLOCK_MONOTONIC, 0, 1})).text,
      "clock_nanosleep() (CLOCK_MONOTONIC)");
}

TEST(BlockingCallTest, SignalWaitsNameTheSignals) {
  FakeProcView view;
  const uint64_t set = (1ull << (SIGUSR1 - 1)) | (1ull << (SIGTERM - 1));
  view.Memory(0x8100, set);
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call =
      decoder.Decode(InCall(SYS_rt_sigtimedwait, {0x8100, 0, 0, 8}));
  EXPECT_EQ(call.kind, BlockKind::kSignal);
  EXPECT_EQ(call.text, "rt_sigtimedwait(), waiting for SIGUSR1, SIGTERM");
  EXPECT_EQ(decoder.Decode(InCall(SYS_pause, {})).text,
            "pause(), waiting for a signal");
}

TEST(BlockingCallTest, OpeningAFifoWaitsForTheOtherEnd) {
  FakeProcView view;
  struct {
    char path[16];
  } path = {"/tmp/ctl.fifo"};
  view.Memory(0x8200, path);
  view.types["/tmp/ctl.fifo"] = S_IFIFO;
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call = decoder.Decode(
      InCall(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 0x8200, O_RDONLY}));
  EXPECT_EQ(call.kind, BlockKind::kFd);
  EXPECT_EQ(call.text,
            "openat() of FIFO /tmp/ctl.fifo: waits until the other end is "
            "opened");
}

TEST(BlockingCallTest, TimeoutsOfPpollSelectAndEpollPwait2) {
  FakeProcView view;
  view.Fd(kPid, 3, "/tmp/a");
  struct {
    pollfd fds[1];
  } arr = {{{3, POLLIN, 0}}};
  view.Memory(0x5000, arr);
  const timespec two_s = {2, 500'000'000};
  view.Memory(0x7000, two_s);
  const struct { int64_t sec, usec; } one_and_a_half = {1, 500'000};
  view.Memory(0x7100, one_and_a_half);
  uint64_t set = 1u << 3;
  view.Memory(0x6000, set);
  CallDecoder decoder(view, kPid, {});
  EXPECT_EQ(decoder.Decode(InCall(SYS_ppoll, {0x5000, 1, 0x7000})).timeout_ms,
            2500);
  EXPECT_EQ(decoder.Decode(InCall(SYS_ppoll, {0x5000, 1, 0})).timeout_ms, -1);
  EXPECT_EQ(decoder.Decode(InCall(SYS_pselect6, {4, 0x6000, 0, 0, 0x7000}))
                .timeout_ms,
            2500);
  // select(2) takes a timeval: microseconds.
  EXPECT_EQ(
      decoder.Decode(InCall(SYS_select, {4, 0x6000, 0, 0, 0x7100})).timeout_ms,
      1500);
  view.Fd(kPid, 4, "anon_inode:[eventpoll]");
  EXPECT_EQ(decoder.Decode(InCall(SYS_epoll_pwait2, {4, 0x9000, 8, 0x7000}))
                .timeout_ms,
            2500);
  EXPECT_EQ(
      decoder.Decode(InCall(SYS_epoll_pwait2, {4, 0x9000, 8, 0})).timeout_ms,
      -1);
  EXPECT_THAT(decoder.Decode(InCall(SYS_ppoll, {0x5000, 1, 0x7000})).text,
              StartsWith("ppoll() for 2.50 s on fd 3"));
}

TEST(BlockingCallTest, TeeTakesItsSecondDescriptorFromTheSecondArgument) {
  FakeProcView view;
  view.Fd(kPid, 3, "pipe:[1]", O_RDONLY);
  view.Fd(kPid, 5, "pipe:[2]", O_WRONLY);
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call = decoder.Decode(InCall(SYS_tee, {3, 5, 65536, 0}));
  ASSERT_EQ(call.fds.size(), 2u);
  EXPECT_EQ(call.fds[0].fd, 3);
  EXPECT_EQ(call.fds[1].fd, 5);
}

TEST(BlockingCallTest, CallsThatSayNothingAboutTheOutside) {
  FakeProcView view;
  CallDecoder decoder(view, kPid, {});
  // Resumed after a stop: which call it was is lost.
  EXPECT_EQ(decoder.Decode(InCall(SYS_restart_syscall, {})).kind,
            BlockKind::kUnknown);
  EXPECT_EQ(decoder.Decode(InCall(SYS_futex_waitv, {0x10, 2})).kind,
            BlockKind::kFutex);
  const BlockingCall mmap = decoder.Decode(InCall(SYS_mmap, {0, 4096}));
  EXPECT_EQ(mmap.kind, BlockKind::kMemory);
  EXPECT_EQ(mmap.text, "mmap(0x0, 0x1000, 0x0, 0x0, 0x0, 0x0)");
  EXPECT_EQ(UndecodedCall(InCall(SYS_munmap, {})).kind, BlockKind::kMemory);
  EXPECT_STREQ(BlockKindId(BlockKind::kMemory), "memory");
}

TEST(BlockingCallTest, OtherCallsShowNameAndArguments) {
  FakeProcView view;
  CallDecoder decoder(view, kPid, {});
  const BlockingCall call =
      decoder.Decode(InCall(SYS_msgrcv, {3, 0x10, 0x20, 0, 0, 0}));
  EXPECT_EQ(call.kind, BlockKind::kOther);
  EXPECT_EQ(call.text, "msgrcv(0x3, 0x10, 0x20, 0x0, 0x0, 0x0)");
}

TEST(BlockingCallTest, FutexRunningAndUnknownAreLeftToOthers) {
  FakeProcView view;
  CallDecoder decoder(view, kPid, {});
  EXPECT_EQ(decoder.Decode(InCall(SYS_futex, {0x10, 0x80})).kind,
            BlockKind::kFutex);
  EXPECT_EQ(decoder.Decode(InCall(SYS_futex, {0x10, 0x80})).text, "");
  EXPECT_EQ(decoder.Decode(InCall(kSyscallRunning, {})).kind,
            BlockKind::kRunning);
  EXPECT_EQ(decoder.Decode(InCall(kSyscallUnknown, {})).kind,
            BlockKind::kUnknown);
  EXPECT_EQ(UndecodedCall(InCall(SYS_read, {3})).kind, BlockKind::kOther);
}

TEST(BlockingCallTest, DurationText) {
  EXPECT_EQ(DurationText(2'000'000), "2 ms");
  EXPECT_EQ(DurationText(250'000'000), "250 ms");
  EXPECT_EQ(DurationText(1'500'000'000), "1.50 s");
}

// Against this process through the real /proc: a pipe we hold both ends of.
TEST(BlockingCallTest, RealProcessPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::unique_ptr<ProcView> view = MakeSystemProcView();
  CallDecoder decoder(*view, getpid(), {});
  const FdFacts f = decoder.DescribeFd(fds[0]);
  EXPECT_EQ(f.kind, "pipe");
  EXPECT_EQ(f.access, "read");
  ASSERT_EQ(f.other_end.size(), 1u);
  EXPECT_EQ(f.other_end[0].fd, fds[1]);
  EXPECT_TRUE(f.other_end[0].self);
  // Memory of our own: a timespec on the stack.
  const timespec ts = {7, 0};
  SnapshotThread t = InCall(SYS_nanosleep, {reinterpret_cast<uintptr_t>(&ts)});
  CallDecoder self(*view, getpid(), {});
  EXPECT_EQ(self.Decode(t).text, "nanosleep() for 7.00 s");
  close(fds[0]);
  close(fds[1]);
}

// A Unix connection within this process, through the real /proc and the
// kernel's sock_diag: the client's peer is the accepted socket.
TEST(BlockingCallTest, RealProcessUnixConnection) {
  const std::string path = testing::TempDir() + "blocking_call_test_" +
                           std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int server = socket(AF_UNIX, SOCK_STREAM, 0);
  const int client = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(server, 0);
  ASSERT_GE(client, 0);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(server, 1), 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  const int accepted = accept(server, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  const std::unique_ptr<ProcView> view = MakeSystemProcView();
  CallDecoder decoder(*view, getpid(), {});
  const FdFacts f = decoder.DescribeFd(client);
  EXPECT_EQ(f.kind, "unix");
  if (f.peer.empty()) {
    // sock_diag may be unavailable (no unix_diag module, a seccomp filter).
    EXPECT_EQ(view->UnixPeerInode(f.socket.inode), 0u);
  } else {
    EXPECT_EQ(f.socket.remote, path);
    ASSERT_EQ(f.peer.size(), 1u);
    EXPECT_EQ(f.peer[0].fd, accepted);
    EXPECT_TRUE(f.peer[0].self);
  }
  close(accepted);
  close(client);
  close(server);
  unlink(path.c_str());
}

}  // namespace
}  // namespace gtest_watchdog_internal

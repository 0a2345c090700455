// Tests for the /proc/net socket table parser
// (gtest_watchdog/diagnose/net_tables.h): lines as the kernel prints them on
// x86-64, garbage that must be skipped, and the live tables after opening
// sockets of our own.

#include "gtest_watchdog/diagnose/net_tables.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

constexpr char kTcpHeader[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode                                          "
    "           \n";
constexpr char kTcp6Header[] =
    "  sl  local_address                         remote_address            "
    "            st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n";
constexpr char kUdpHeader[] =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode ref pointer drops            \n";
constexpr char kUnixHeader[] =
    "Num       RefCount Protocol Flags    Type St Inode Path\n";

// 127.0.0.1:5555 listening.
constexpr char kTcpListen[] =
    "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000  1000        0 123456 1 0000000000000000 100 0 0 10 0\n";
// 192.168.1.10:48862 -> 93.184.216.34:443, established.
constexpr char kTcpEstablished[] =
    "   1: 0A01A8C0:BEDE 22D8B85D:01BB 01 00000000:00000000 02:0000034A "
    "00000000  1000        0 654321 2 00000000a1b2c3d4 20 4 30 10 -1\n";
// A time-wait row: no file behind it, so inode 0, and fewer trailing fields.
constexpr char kTcpTimeWait[] =
    "   2: 020200C0:BAFE 507100CB:0050 06 00000000:00000000 03:00000FD1 "
    "00000000     0        0 0 3 000000008a1c62c2\n";

std::string Lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line;
  return text;
}

// Closes a descriptor when the test ends, whatever assertion fails.
struct ScopedFd {
  explicit ScopedFd(int f) : fd(f) {}
  ~ScopedFd() {
    if (fd >= 0) close(fd);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int fd;
};

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream out;
  out << in.rdbuf();
  *text = out.str();
  return !in.bad();
}

uint64_t InodeOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

TEST(NetTablesInetTest, ParsesV4Listen) {
  const std::vector<SocketEntry> entries =
      ParseInetTable(Lines({kTcpHeader, kTcpListen}), "tcp");
  ASSERT_EQ(entries.size(), 1u);
  const SocketEntry& e = entries[0];
  EXPECT_EQ(e.protocol, "tcp");
  EXPECT_EQ(e.inode, 123456u);
  EXPECT_EQ(e.local, "127.0.0.1:5555");
  EXPECT_EQ(e.remote, "");
  EXPECT_EQ(e.state, "listen");
  EXPECT_EQ(e.type, "");
}

TEST(NetTablesInetTest, ParsesV4Established) {
  const std::vector<SocketEntry> entries =
      ParseInetTable(Lines({kTcpHeader, kTcpListen, kTcpEstablished}), "tcp");
  ASSERT_EQ(entries.size(), 2u);
  const SocketEntry& e = entries[1];
  EXPECT_EQ(e.inode, 654321u);
  EXPECT_EQ(e.local, "192.168.1.10:48862");
  EXPECT_EQ(e.remote, "93.184.216.34:443");
  EXPECT_EQ(e.state, "established");
}

TEST(NetTablesInetTest, ParsesTimeWaitWithInodeZero) {
  const std::vector<SocketEntry> entries =
      ParseInetTable(Lines({kTcpHeader, kTcpTimeWait}), "tcp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].inode, 0u);
  EXPECT_EQ(entries[0].local, "192.0.2.2:47870");
  EXPECT_EQ(entries[0].remote, "203.0.113.80:80");
  EXPECT_EQ(entries[0].state, "time-wait");
}

TEST(NetTablesInetTest, NamesEveryTcpState) {
  const char* const kNames[] = {"established", "syn-sent",   "syn-recv",
                                "fin-wait1",   "fin-wait2",  "time-wait",
                                "close",       "close-wait", "last-ack",
                                "listen",      "closing",    "new-syn-recv"};
  for (int st = 1; st <= 12; ++st) {
    const std::string line = absl::StrCat(
        "   0: 0100007F:15B3 0100007F:D431 ", absl::Hex(st, absl::kZeroPad2),
        " 00000000:00000000 00:00000000 00000000  1000 0 ", 100 + st,
        " 1 0000000000000000 100 0 0 10 0\n");
    const std::vector<SocketEntry> entries = ParseInetTable(line, "tcp");
    ASSERT_EQ(entries.size(), 1u) << line;
    EXPECT_EQ(entries[0].state, kNames[st - 1]) << line;
    EXPECT_EQ(entries[0].inode, static_cast<uint64_t>(100 + st));
  }
}

TEST(NetTablesInetTest, UnknownTcpStateKeepsRowWithEmptyState) {
  const std::vector<SocketEntry> entries = ParseInetTable(
      "   0: 0100007F:15B3 00000000:0000 0D 00000000:00000000 00:00000000 "
      "00000000  1000        0 77 1 0000000000000000 100 0 0 10 0\n",
      "tcp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, "");
  EXPECT_EQ(entries[0].inode, 77u);
}

TEST(NetTablesInetTest, ParsesV6Loopback) {
  const std::string text = Lines(
      {kTcp6Header,
       "   0: 00000000000000000000000001000000:1F90 "
       "00000000000000000000000000000000:0000 0A 00000000:00000000 "
       "00:00000000 00000000  1000        0 33722 1 00000000355eb329 100 0 0 "
       "10 0\n",
       "   1: 00000000000000000000000001000000:1F90 "
       "00000000000000000000000001000000:C350 01 00000000:00000000 "
       "00:00000000 00000000  1000        0 33730 1 00000000355eb330 20 4 30 "
       "10 -1\n"});
  const std::vector<SocketEntry> entries = ParseInetTable(text, "tcp6");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].protocol, "tcp6");
  EXPECT_EQ(entries[0].local, "[::1]:8080");
  EXPECT_EQ(entries[0].remote, "");
  EXPECT_EQ(entries[0].state, "listen");
  EXPECT_EQ(entries[0].inode, 33722u);
  EXPECT_EQ(entries[1].local, "[::1]:8080");
  EXPECT_EQ(entries[1].remote, "[::1]:50000");
  EXPECT_EQ(entries[1].state, "established");
}

TEST(NetTablesInetTest, ParsesV6AnyAndGlobalAddresses) {
  // [::]:22 listening; 2001:db8::1 printed word by word in host order.
  const std::string text = Lines(
      {kTcp6Header,
       "   0: 00000000000000000000000000000000:0016 "
       "00000000000000000000000000000000:0000 0A 00000000:00000000 "
       "00:00000000 00000000     0        0 900 1 0000000000000000 100 0 0 "
       "10 0\n",
       "   1: B80D0120000000000000000001000000:0016 "
       "B80D0120000000000000000002000000:D431 01 00000000:00000000 "
       "00:00000000 00000000     0        0 901 1 0000000000000000 100 0 0 "
       "10 0\n"});
  const std::vector<SocketEntry> entries = ParseInetTable(text, "tcp6");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].local, "[::]:22");
  EXPECT_EQ(entries[0].remote, "");
  EXPECT_EQ(entries[1].local, "[2001:db8::1]:22");
  EXPECT_EQ(entries[1].remote, "[2001:db8::2]:54321");
}

TEST(NetTablesInetTest, ParsesV4MappedV6) {
  const std::vector<SocketEntry> entries = ParseInetTable(
      Lines({kTcp6Header,
             "   1: 0000000000000000FFFF00000100007F:0050 "
             "0000000000000000FFFF00000100007F:E657 01 00000000:00000000 "
             "00:00000000 00000000     0        0 33723 1 000000008641032a "
             "100 0 0 10 0\n"}),
      "tcp6");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].local, "[::ffff:127.0.0.1]:80");
  EXPECT_EQ(entries[0].remote, "[::ffff:127.0.0.1]:58967");
}

TEST(NetTablesInetTest, ZeroAddressWithNonZeroPortIsAPeer) {
  // Only the all-zero address with port 0 means "not connected".
  const std::vector<SocketEntry> entries = ParseInetTable(
      "   0: 0100007F:15B3 00000000:0050 01 00000000:00000000 00:00000000 "
      "00000000  1000        0 5 1 0000000000000000 100 0 0 10 0\n",
      "tcp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].remote, "0.0.0.0:80");
}

TEST(NetTablesInetTest, ParsesUdpUnconnectedAndConnected) {
  const std::string text = Lines(
      {kUdpHeader,
       // 0.0.0.0:68 bound, unconnected (st 07, TCP_CLOSE).
       "  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 "
       "00000000     0        0 4242 2 0000000000000000 0         \n",
       // 127.0.0.1:59117 connected to 127.0.0.1:9; the sl has no padding.
       "12274: 0100007F:E6ED 0100007F:0009 01 00000000:00000000 00:00000000 "
       "00000000     0        0 33724 2 000000003ce8e54b 0         \n"});
  const std::vector<SocketEntry> entries = ParseInetTable(text, "udp");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].protocol, "udp");
  EXPECT_EQ(entries[0].local, "0.0.0.0:68");
  EXPECT_EQ(entries[0].remote, "");
  EXPECT_EQ(entries[0].state, "");
  EXPECT_EQ(entries[0].inode, 4242u);
  EXPECT_EQ(entries[1].local, "127.0.0.1:59117");
  EXPECT_EQ(entries[1].remote, "127.0.0.1:9");
  EXPECT_EQ(entries[1].state, "connected");
  EXPECT_EQ(entries[1].inode, 33724u);
}

TEST(NetTablesInetTest, ParsesUdp6) {
  const std::vector<SocketEntry> entries = ParseInetTable(
      "  200: 00000000000000000000000001000000:14E9 "
      "00000000000000000000000000000000:0000 07 00000000:00000000 "
      "00:00000000 00000000  1000        0 31337 2 0000000000000000 0\n",
      "udp6");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].protocol, "udp6");
  EXPECT_EQ(entries[0].local, "[::1]:5353");
  EXPECT_EQ(entries[0].state, "");
}

TEST(NetTablesInetTest, SkipsHeader) {
  EXPECT_TRUE(ParseInetTable(kTcpHeader, "tcp").empty());
  EXPECT_TRUE(ParseInetTable(kTcp6Header, "tcp6").empty());
  EXPECT_TRUE(ParseInetTable(kUdpHeader, "udp").empty());
  EXPECT_TRUE(ParseInetTable("", "tcp").empty());
  EXPECT_TRUE(ParseInetTable("\n\n", "tcp").empty());
}

TEST(NetTablesInetTest, AcceptsLastLineWithoutNewlineAndLowercaseHex) {
  const std::vector<SocketEntry> entries = ParseInetTable(
      "   0: 0100007f:15b3 00000000:0000 0a 00000000:00000000 00:00000000 "
      "00000000  1000        0 9",
      "tcp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].local, "127.0.0.1:5555");
  EXPECT_EQ(entries[0].state, "listen");
  EXPECT_EQ(entries[0].inode, 9u);
}

TEST(NetTablesInetTest, SkipsGarbageLines) {
  constexpr char kWithNul[] =
      "   0: 0100007F:15B3\0 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n";
  const std::vector<std::string> garbage = {
      "hello world\n",
      "\x01\x02\xff\xfe\n",
      std::string(kWithNul, sizeof(kWithNul) - 1),
      // Row number not decimal / missing its colon.
      "  x0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      // Address not hex, too short, too long, missing the port.
      "   0: 0100007G:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0: 100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0: 00100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      // Port of the wrong width or with a sign; two colons.
      "   0: 0100007F:15B 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0: 0100007F:-5B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0: 0100007F:15B3:1 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      // State not two hex digits.
      "   0: 0100007F:15B3 00000000:0000 A 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      "   0: 0100007F:15B3 00000000:0000 0x 00000000:00000000 00:00000000 "
      "00000000  1000        0 1 1 0 100 0 0 10 0\n",
      // Inode negative, not a number, or past uint64_t.
      "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 -1 1 0 100 0 0 10 0\n",
      "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 +1 1 0 100 0 0 10 0\n",
      "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 abc 1 0 100 0 0 10 0\n",
      "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 18446744073709551616 1 0 100 0 0 10 0\n",
  };
  for (const std::string& line : garbage) {
    EXPECT_TRUE(ParseInetTable(line, "tcp").empty()) << line;
  }
  // Garbage between good rows does not hide them.
  const std::vector<SocketEntry> entries = ParseInetTable(
      Lines({kTcpHeader, garbage[0], kTcpListen, garbage[5], kTcpEstablished}),
      "tcp");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].inode, 123456u);
  EXPECT_EQ(entries[1].inode, 654321u);
}

TEST(NetTablesInetTest, KeepsLargestInode) {
  const std::vector<SocketEntry> entries = ParseInetTable(
      "   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 "
      "00000000  1000        0 18446744073709551615 1 0 100 0 0 10 0\n",
      "tcp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].inode, UINT64_MAX);
}

TEST(NetTablesInetTest, SkipsTruncatedLines) {
  const std::string full(kTcpListen);
  // Every prefix that stops before the inode field is complete must be
  // skipped; none may crash.
  const size_t inode_start = full.find("123456");
  ASSERT_NE(inode_start, std::string::npos);
  for (size_t n = 0; n < inode_start; ++n) {
    EXPECT_TRUE(ParseInetTable(full.substr(0, n), "tcp").empty())
        << full.substr(0, n);
  }
  for (size_t n = inode_start; n <= full.size(); ++n) {
    ParseInetTable(full.substr(0, n), "tcp");  // Must not crash.
  }
}

TEST(NetTablesInetTest, AddressWidthMustMatchProtocol) {
  // A v4 row read as tcp6 and a v6 row read as tcp are both malformed.
  EXPECT_TRUE(ParseInetTable(kTcpListen, "tcp6").empty());
  EXPECT_TRUE(
      ParseInetTable(
          "   0: 00000000000000000000000001000000:1F90 "
          "00000000000000000000000000000000:0000 0A 00000000:00000000 "
          "00:00000000 00000000  1000        0 33722 1 0 100 0 0 10 0\n",
          "tcp")
          .empty());
}

TEST(NetTablesInetTest, UnknownProtocolGivesNothing) {
  EXPECT_TRUE(ParseInetTable(kTcpListen, "sctp").empty());
  EXPECT_TRUE(ParseInetTable(kTcpListen, "").empty());
}

TEST(NetTablesUnixTest, ParsesBoundPath) {
  const std::vector<SocketEntry> entries = ParseUnixTable(
      Lines({kUnixHeader,
             "0000000000000000: 00000002 00000000 00000000 0001 03 23456 "
             "/run/foo.sock\n"}));
  ASSERT_EQ(entries.size(), 1u);
  const SocketEntry& e = entries[0];
  EXPECT_EQ(e.protocol, "unix");
  EXPECT_EQ(e.inode, 23456u);
  EXPECT_EQ(e.local, "/run/foo.sock");
  EXPECT_EQ(e.remote, "");
  EXPECT_EQ(e.state, "connected");
  EXPECT_EQ(e.type, "stream");
}

TEST(NetTablesUnixTest, ParsesListening) {
  const std::vector<SocketEntry> entries = ParseUnixTable(
      "0000000000000000: 00000002 00000000 00010000 0001 01 23456 "
      "/run/foo.sock\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, "listening");
  EXPECT_EQ(entries[0].type, "stream");
  EXPECT_EQ(entries[0].local, "/run/foo.sock");
}

TEST(NetTablesUnixTest, ParsesAbstractName) {
  const std::vector<SocketEntry> entries = ParseUnixTable(
      "00000000395a09a2: 00000002 00000000 00010000 0001 01 33725 "
      "@/tmp/.X11-unix/X0\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].local, "@/tmp/.X11-unix/X0");
  EXPECT_EQ(entries[0].inode, 33725u);
}

TEST(NetTablesUnixTest, ParsesUnnamedWithPaddedInode) {
  // The kernel prints the inode as %5lu, so short inodes come padded, and an
  // unnamed socket has nothing after it.
  const std::vector<SocketEntry> entries = ParseUnixTable(
      Lines({kUnixHeader,
             "00000000664f5efa: 00000003 00000000 00000000 0001 03   568\n",
             "00000000c59a5da3: 00000003 00000000 00000000 0002 01   567"}));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].inode, 568u);
  EXPECT_EQ(entries[0].local, "");
  EXPECT_EQ(entries[0].state, "connected");
  EXPECT_EQ(entries[0].type, "stream");
  EXPECT_EQ(entries[1].inode, 567u);
  EXPECT_EQ(entries[1].local, "");
  EXPECT_EQ(entries[1].state, "unconnected");
  EXPECT_EQ(entries[1].type, "datagram");
}

TEST(NetTablesUnixTest, KeepsSpacesInPath) {
  const std::vector<SocketEntry> entries = ParseUnixTable(
      "000000004544205e: 00000002 00000000 00000000 0005 01 33726 "
      "/tmp/a b  c.sock\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].local, "/tmp/a b  c.sock");
  EXPECT_EQ(entries[0].type, "seqpacket");
  EXPECT_EQ(entries[0].state, "unconnected");
}

TEST(NetTablesUnixTest, NamesStatesAndTypes) {
  struct Case {
    const char* flags;
    const char* type;
    const char* st;
    const char* want_state;
    const char* want_type;
  };
  const Case kCases[] = {
      {"00000000", "0001", "01", "unconnected", "stream"},
      {"00000000", "0001", "02", "connecting", "stream"},
      {"00000000", "0002", "03", "connected", "datagram"},
      {"00000000", "0005", "04", "disconnecting", "seqpacket"},
      {"00000000", "0003", "05", "", ""},  // SOCK_RAW, unknown state.
      {"00000000", "0001", "00", "", "stream"},
      {"00010000", "0005", "01", "listening", "seqpacket"},
      {"00010000", "0001", "03", "listening", "stream"},
  };
  for (const Case& c : kCases) {
    const std::string line =
        absl::StrCat("0000000000000000: 00000002 00000000 ", c.flags, " ",
                     c.type, " ", c.st, " 1000 /x\n");
    const std::vector<SocketEntry> entries = ParseUnixTable(line);
    ASSERT_EQ(entries.size(), 1u) << line;
    EXPECT_EQ(entries[0].state, c.want_state) << line;
    EXPECT_EQ(entries[0].type, c.want_type) << line;
  }
}

TEST(NetTablesUnixTest, SkipsHeaderGarbageAndTruncatedLines) {
  EXPECT_TRUE(ParseUnixTable(kUnixHeader).empty());
  EXPECT_TRUE(ParseUnixTable("").empty());
  const std::vector<std::string> garbage = {
      "hello world\n",
      "\xff\xfe\x01\n",
      // No colon after Num; Num not hex.
      "0000000000000000 00000002 00000000 00000000 0001 01 23456 /a\n",
      "000000000000000z: 00000002 00000000 00000000 0001 01 23456 /a\n",
      // A field not hex, or wider than the kernel ever prints.
      "0000000000000000: 0000000g 00000000 00000000 0001 01 23456 /a\n",
      "0000000000000000: 00000002 00000000 000000000 0001 01 23456 /a\n",
      // Inode not decimal.
      "0000000000000000: 00000002 00000000 00000000 0001 01 2345x /a\n",
      "0000000000000000: 00000002 00000000 00000000 0001 01 /a\n",
  };
  for (const std::string& line : garbage) {
    EXPECT_TRUE(ParseUnixTable(line).empty()) << line;
  }
  const std::string full =
      "0000000000000000: 00000002 00000000 00010000 0001 01 23456 /run/x\n";
  const size_t inode_start = full.find("23456");
  for (size_t n = 0; n < inode_start; ++n) {
    EXPECT_TRUE(ParseUnixTable(full.substr(0, n)).empty()) << full.substr(0, n);
  }
  // Garbage between good rows does not hide them.
  const std::string other =
      "0000000000000000: 00000002 00000000 00010000 0001 01 23457 /run/y\n";
  const std::vector<SocketEntry> entries =
      ParseUnixTable(Lines({kUnixHeader, garbage[0], full, garbage[6], other}));
  EXPECT_EQ(entries.size(), 2u);
}

TEST(NetTablesUnixTest, SkipsFieldsNotAsWideAsTheKernelPrintsThem) {
  // "%pK: %08X %08X %08X %04X %02X %5lu": each hex field has its width.
  const std::vector<std::string> lines = {
      "0000000000000000: 2 00000000 00000000 0001 01 23456 /a\n",
      "0000000000000000: 00000002 0 00000000 0001 01 23456 /a\n",
      "0000000000000000: 00000002 00000000 10000 0001 01 23456 /a\n",
      "0000000000000000: 00000002 00000000 00000000 1 01 23456 /a\n",
      "0000000000000000: 00000002 00000000 00000000 00001 01 23456 /a\n",
      "0000000000000000: 00000002 00000000 00000000 0001 1 23456 /a\n",
      "0000000000000000: 00000002 00000000 00000000 0001 001 23456 /a\n",
  };
  for (const std::string& line : lines) {
    EXPECT_TRUE(ParseUnixTable(line).empty()) << line;
  }
}

// /proc/net/unix prints a bound name verbatim, newlines included: another
// local user can bind "/tmp/x\n<a well-formed row>" where the row claims
// the inode of the test's socket with a path of their choosing. The kernel
// lists the real socket too, before or after the forged row.
constexpr char kAttackerRow[] =
    "0000000000000000: 00000002 00000000 00000000 0002 01 77777 /tmp/x\n";
constexpr char kForgedRow[] =  // the rest of the attacker's name
    "0000000000000000: 00000002 00000000 00010000 0001 01 23456 "
    "/run/forged.sock\n";
constexpr char kRealRow[] =
    "0000000000000000: 00000003 00000000 00000000 0001 03 23456\n";

TEST(NetTablesUnixTest, ForgedRowInANameIsNeverBelieved) {
  for (const std::string& text :
       {Lines({kUnixHeader, kAttackerRow, kForgedRow, kRealRow}),
        Lines({kUnixHeader, kRealRow, kAttackerRow, kForgedRow})}) {
    const std::vector<SocketEntry> entries = ParseUnixTable(text);
    EXPECT_EQ(FindSocket(entries, 23456), nullptr) << text;
    for (const SocketEntry& e : entries) {
      EXPECT_NE(e.inode, 23456u) << text;
      EXPECT_NE(e.local, "/run/forged.sock") << text;
    }
    // The attacker's own socket is still listed, under the part of its
    // name before the newline.
    const SocketEntry* attacker = FindSocket(entries, 77777);
    ASSERT_NE(attacker, nullptr) << text;
    EXPECT_EQ(attacker->local, "/tmp/x");
  }
}

TEST(NetTablesUnixTest, RowsOfOtherInodesAreKeptBesideAForgery) {
  constexpr char kOtherRow[] =
      "0000000000000000: 00000002 00000000 00000000 0001 03 23458 "
      "/run/ok.sock\n";
  const std::vector<SocketEntry> entries = ParseUnixTable(
      Lines({kUnixHeader, kAttackerRow, kForgedRow, kRealRow, kOtherRow}));
  ASSERT_EQ(entries.size(), 2u);
  const SocketEntry* ok = FindSocket(entries, 23458);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->local, "/run/ok.sock");
}

TEST(NetTablesFindSocketTest, FindsByInode) {
  const std::vector<SocketEntry> entries = ParseInetTable(
      Lines({kTcpHeader, kTcpListen, kTcpEstablished, kTcpTimeWait}), "tcp");
  ASSERT_EQ(entries.size(), 3u);
  const SocketEntry* hit = FindSocket(entries, 654321);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit, &entries[1]);
  EXPECT_EQ(hit->remote, "93.184.216.34:443");
  EXPECT_EQ(FindSocket(entries, 123456), &entries[0]);
}

// The report helper looks inodes up in all tables merged: an inode claimed
// by two rows (a forged one among them) is not believed from either.
TEST(NetTablesFindSocketTest, InodeOnTwoRowsIsNotFound) {
  std::vector<SocketEntry> entries =
      ParseInetTable(Lines({kTcpHeader, kTcpListen}), "tcp");
  ASSERT_EQ(entries.size(), 1u);
  ASSERT_NE(FindSocket(entries, 123456), nullptr);
  for (SocketEntry& e : ParseUnixTable(
           "0000000000000000: 00000002 00000000 00010000 0001 01 123456 "
           "/run/forged.sock\n")) {
    entries.push_back(e);
  }
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(FindSocket(entries, 123456), nullptr);
}

TEST(NetTablesFindSocketTest, MissesUnknownInodeAndZero) {
  const std::vector<SocketEntry> entries =
      ParseInetTable(Lines({kTcpHeader, kTcpListen, kTcpTimeWait}), "tcp");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(FindSocket(entries, 999), nullptr);
  // The time-wait row has inode 0, which no descriptor can name.
  EXPECT_EQ(FindSocket(entries, 0), nullptr);
  EXPECT_EQ(FindSocket({}, 123456), nullptr);
}

TEST(NetTablesLiveTest, FindsOwnListeningTcpSocket) {
  ScopedFd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(sock.fd, 0) << std::strerror(errno);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  ASSERT_EQ(listen(sock.fd, 1), 0) << std::strerror(errno);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(sock.fd, reinterpret_cast<sockaddr*>(&addr), &len), 0)
      << std::strerror(errno);
  const uint64_t inode = InodeOf(sock.fd);
  ASSERT_NE(inode, 0u);

  std::string text;
  if (!ReadFile("/proc/net/tcp", &text)) {
    GTEST_SKIP() << "/proc/net/tcp is not readable";
  }
  const std::vector<SocketEntry> entries = ParseInetTable(text, "tcp");
  const SocketEntry* e = FindSocket(entries, inode);
  ASSERT_NE(e, nullptr) << text;
  EXPECT_EQ(e->protocol, "tcp");
  EXPECT_EQ(e->state, "listen");
  EXPECT_EQ(e->local, absl::StrCat("127.0.0.1:", ntohs(addr.sin_port)));
  EXPECT_EQ(e->remote, "");
}

TEST(NetTablesLiveTest, FindsOwnAbstractUnixSocket) {
  ScopedFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_GE(sock.fd, 0) << std::strerror(errno);
  // An abstract name leaves nothing in the file system to clean up; the pid
  // keeps parallel runs apart, and the blank checks the path is kept whole.
  const std::string name =
      absl::StrCat("gtest_watchdog net_tables_test ", getpid());
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(name.size() + 1, sizeof(addr.sun_path));
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  const socklen_t len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(sock.fd, reinterpret_cast<sockaddr*>(&addr), len), 0)
      << std::strerror(errno);
  ASSERT_EQ(listen(sock.fd, 1), 0) << std::strerror(errno);
  const uint64_t inode = InodeOf(sock.fd);
  ASSERT_NE(inode, 0u);

  std::string text;
  if (!ReadFile("/proc/net/unix", &text)) {
    GTEST_SKIP() << "/proc/net/unix is not readable";
  }
  const std::vector<SocketEntry> entries = ParseUnixTable(text);
  const SocketEntry* e = FindSocket(entries, inode);
  ASSERT_NE(e, nullptr) << text;
  EXPECT_EQ(e->protocol, "unix");
  EXPECT_EQ(e->local, "@" + name);
  EXPECT_EQ(e->state, "listening");
  EXPECT_EQ(e->type, "seqpacket");
}

}  // namespace
}  // namespace gtest_watchdog_internal

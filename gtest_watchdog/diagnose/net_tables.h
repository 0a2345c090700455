// File: gtest_watchdog/diagnose/net_tables.h
//
// The rows of Linux's /proc/net socket tables (tcp, tcp6, udp, udp6, unix),
// so that a thread blocked in connect(2), accept(2), recv(2) and the like can
// be reported with what its socket is bound and connected to: /proc/PID/fd
// only says "socket:[INODE]", and these tables map that inode to addresses
// and a state.
//
// Report helper process only: allocates, not signal-safe. Pure: no system
// call; the caller reads the files and passes their text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gtest_watchdog_internal {

// One row of /proc/net/{tcp,tcp6,udp,udp6,unix}.
struct SocketEntry {
  std::string protocol;  // "tcp", "tcp6", "udp", "udp6", "unix"
  uint64_t inode = 0;
  // inet: "127.0.0.1:5555" or "[::1]:80" ("[::ffff:127.0.0.1]:80" for mapped);
  // unix: the bound path, "@name" for an abstract name, "" when unnamed.
  std::string local;
  // inet: the peer, "" when not connected (all-zero address and port 0);
  // unix: always "".
  std::string remote;
  // tcp/tcp6: "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2",
  // "time-wait", "close", "close-wait", "last-ack", "listen", "closing",
  // "new-syn-recv"; udp/udp6: "connected" when st is 01 (TCP_ESTABLISHED),
  // else ""; unix: "listening" (flags has __SO_ACCEPTCON 0x10000 set), else by
  // St column: 01 "unconnected", 02 "connecting", 03 "connected",
  // 04 "disconnecting". A number outside these gives "".
  std::string state;
  // unix: "stream" (Type 0001), "datagram" (0002), "seqpacket" (0005); else "".
  std::string type;
};

// Parses the text of /proc/net/tcp, tcp6, udp or udp6; `protocol` is one of
// "tcp", "tcp6", "udp", "udp6" and is copied into each entry (any other value
// gives no entries). Skips the header line and any malformed line (never
// throws, never crashes on garbage). Helper process only.
std::vector<SocketEntry> ParseInetTable(const std::string& text,
                                        const std::string& protocol);

// Parses the text of /proc/net/unix. Skips the header and malformed lines
// (the five hex fields must have the kernel's widths). A bound name is
// printed verbatim, newlines included, so another user's name can carry a
// forged row: every row whose inode appears on more than one row is left
// out, so the returned inodes are unique and a forged row for an inode the
// kernel also lists is never believed. Helper process only.
std::vector<SocketEntry> ParseUnixTable(const std::string& text);

// The entry with this inode, or null. Inode 0 never matches: rows without a
// file behind them (time-wait, pending connections) all carry 0, and no
// descriptor can refer to them. Null too when several entries carry the
// inode (the caller merges tables, and one of them lies). Helper process only.
const SocketEntry* FindSocket(const std::vector<SocketEntry>& entries,
                              uint64_t inode);

}  // namespace gtest_watchdog_internal

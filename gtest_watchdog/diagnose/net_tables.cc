#include "gtest_watchdog/diagnose/net_tables.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace gtest_watchdog_internal {
namespace {

// TCP states as numbered by the kernel (include/net/tcp_states.h):
// TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12. Index 0 is unused.
constexpr const char* kTcpStates[] = {
    "",          "established", "syn-sent",    "syn-recv",   "fin-wait1",
    "fin-wait2", "time-wait",   "close",       "close-wait", "last-ack",
    "listen",    "closing",     "new-syn-recv"};
constexpr uint64_t kTcpEstablished = 1;

// /proc/net/unix: Flags holds __SO_ACCEPTCON for a listening socket; St is
// the socket_state (SS_UNCONNECTED = 1 ... SS_DISCONNECTING = 4).
constexpr uint64_t kSoAcceptCon = 0x10000;
constexpr const char* kUnixStates[] = {"", "unconnected", "connecting",
                                       "connected", "disconnecting"};

// Hex digits only: SimpleHexAtoi alone would also take "0x", a sign and
// surrounding blanks, which never appear in these tables and so mark garbage.
bool ParseHex(absl::string_view s, size_t min_digits, size_t max_digits,
              uint64_t* out) {
  if (s.size() < min_digits || s.size() > max_digits) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleHexAtoi(s, out);
}

// Decimal digits only; fails on overflow of uint64_t.
bool ParseDecimal(absl::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(s, out);
}

// "sl:" in the inet tables (decimal), "Num:" in the unix table (a kernel
// pointer in hex, hashed or zeroed by kptr_restrict).
bool IsRowNumber(absl::string_view s, bool hex) {
  if (s.size() < 2 || s.back() != ':') return false;
  s.remove_suffix(1);
  uint64_t unused;
  return hex ? ParseHex(s, 1, 16, &unused) : ParseDecimal(s, &unused);
}

// Formats "HEX:PORT" of an inet table. The kernel prints each 32-bit word of
// the address as a host-order integer, so copying the parsed words back into
// memory in host order restores the network-order bytes on any endianness.
// Sets *unspecified when both address and port are zero (no peer).
bool FormatEndpoint(absl::string_view field, bool v6, std::string* out,
                    bool* unspecified) {
  const size_t colon = field.find(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view hex = field.substr(0, colon);
  uint64_t port;
  if (!ParseHex(field.substr(colon + 1), 4, 4, &port)) return false;

  unsigned char bytes[sizeof(in6_addr)] = {};
  const size_t words = v6 ? 4 : 1;
  if (hex.size() != words * 8) return false;
  for (size_t i = 0; i < words; ++i) {
    uint64_t word;
    if (!ParseHex(hex.substr(i * 8, 8), 8, 8, &word)) return false;
    const uint32_t word32 = static_cast<uint32_t>(word);
    std::memcpy(bytes + i * 4, &word32, sizeof(word32));
  }

  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text, sizeof(text)) ==
      nullptr) {
    return false;
  }
  *unspecified = port == 0;
  for (size_t i = 0; i < words * 4; ++i) {
    if (bytes[i] != 0) *unspecified = false;
  }
  *out =
      v6 ? absl::StrCat("[", text, "]:", port) : absl::StrCat(text, ":", port);
  return true;
}

// Next run of non-blanks from *pos; leaves *pos just past it.
bool NextToken(absl::string_view line, size_t* pos, absl::string_view* token) {
  while (*pos < line.size() && line[*pos] == ' ') ++*pos;
  const size_t start = *pos;
  while (*pos < line.size() && line[*pos] != ' ') ++*pos;
  *token = line.substr(start, *pos - start);
  return !token->empty();
}

// One line of /proc/net/{tcp,tcp6,udp,udp6}:
//   sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
// and more fields after the inode that differ between tables.
bool ParseInetLine(absl::string_view line, const std::string& protocol, bool v6,
                   bool tcp, SocketEntry* entry) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  if (fields.size() < 10 || !IsRowNumber(fields[0], /*hex=*/false)) {
    return false;
  }
  bool local_unspecified;
  bool remote_unspecified;
  uint64_t st;
  if (!FormatEndpoint(fields[1], v6, &entry->local, &local_unspecified) ||
      !FormatEndpoint(fields[2], v6, &entry->remote, &remote_unspecified) ||
      !ParseHex(fields[3], 2, 2, &st) ||
      !ParseDecimal(fields[9], &entry->inode)) {
    return false;
  }
  if (remote_unspecified) entry->remote.clear();
  entry->protocol = protocol;
  if (tcp) {
    entry->state =
        st < sizeof(kTcpStates) / sizeof(kTcpStates[0]) ? kTcpStates[st] : "";
  } else {
    // UDP reuses the TCP numbers: TCP_ESTABLISHED after connect(2),
    // TCP_CLOSE otherwise.
    entry->state = st == kTcpEstablished ? "connected" : "";
  }
  return true;
}

// One line of /proc/net/unix, printed by the kernel as
//   "%pK: %08X %08X %08X %04X %02X %5lu" then, if bound, ' ' and the path
// with every NUL shown as '@' (so an abstract name starts with '@'). The path
// is the rest of the line verbatim: it may hold blanks, and newlines too,
// so a line may also be the tail of someone's name (ParseUnixTable).
bool ParseUnixLine(absl::string_view line, SocketEntry* entry) {
  size_t pos = 0;
  absl::string_view token;
  if (!NextToken(line, &pos, &token) || !IsRowNumber(token, /*hex=*/true)) {
    return false;
  }
  // RefCount, Protocol, Flags, Type, St, each as wide as the kernel's
  // format makes it: anything else is not a row the kernel wrote.
  constexpr size_t kWidths[] = {8, 8, 8, 4, 2};
  uint64_t values[5];
  for (size_t i = 0; i < 5; ++i) {
    if (!NextToken(line, &pos, &token) ||
        !ParseHex(token, kWidths[i], kWidths[i], &values[i])) {
      return false;
    }
  }
  if (!NextToken(line, &pos, &token) || !ParseDecimal(token, &entry->inode)) {
    return false;
  }
  const uint64_t flags = values[2];
  const uint64_t type = values[3];
  const uint64_t st = values[4];

  entry->protocol = "unix";
  // NextToken stopped at the blank before the path, or at the end.
  entry->local = pos < line.size() ? std::string(line.substr(pos + 1)) : "";
  entry->remote.clear();
  if (flags & kSoAcceptCon) {
    entry->state = "listening";
  } else {
    entry->state = st < sizeof(kUnixStates) / sizeof(kUnixStates[0])
                       ? kUnixStates[st]
                       : "";
  }
  // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET.
  switch (type) {
    case 1:
      entry->type = "stream";
      break;
    case 2:
      entry->type = "datagram";
      break;
    case 5:
      entry->type = "seqpacket";
      break;
    default:
      entry->type.clear();
      break;
  }
  return true;
}

}  // namespace

std::vector<SocketEntry> ParseInetTable(const std::string& text,
                                        const std::string& protocol) {
  std::vector<SocketEntry> entries;
  const bool tcp = protocol == "tcp" || protocol == "tcp6";
  const bool udp = protocol == "udp" || protocol == "udp6";
  if (!tcp && !udp) return entries;
  const bool v6 = protocol == "tcp6" || protocol == "udp6";
  // The header's first field is "sl", not a row number, so it is skipped as
  // malformed like any other line that does not look like a row.
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    SocketEntry entry;
    if (ParseInetLine(line, protocol, v6, tcp, &entry)) {
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

std::vector<SocketEntry> ParseUnixTable(const std::string& text) {
  std::vector<SocketEntry> entries;
  std::unordered_map<uint64_t, int> rows_per_inode;
  // The header starts with "Num", not "<hex>:", and is skipped as malformed.
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    SocketEntry entry;
    if (ParseUnixLine(line, &entry)) {
      ++rows_per_inode[entry.inode];
      entries.push_back(std::move(entry));
    }
  }
  // Names are printed verbatim: any local user can bind one holding "\n"
  // and a well-formed row that claims an inode of the test's socket with a
  // path of their choosing. The kernel lists each socket once, so the real
  // row is there too: an inode on several rows is refused on all of them
  // (unknown), never attributed to whichever row came first.
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const SocketEntry& e) {
                                 return rows_per_inode[e.inode] > 1;
                               }),
                entries.end());
  return entries;
}

const SocketEntry* FindSocket(const std::vector<SocketEntry>& entries,
                              uint64_t inode) {
  if (inode == 0) return nullptr;
  const SocketEntry* found = nullptr;
  for (const SocketEntry& entry : entries) {
    if (entry.inode != inode) continue;
    if (found != nullptr) return nullptr;  // claimed twice: believe neither
    found = &entry;
  }
  return found;
}

}  // namespace gtest_watchdog_internal

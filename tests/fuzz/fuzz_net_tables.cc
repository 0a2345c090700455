// libFuzzer target: ParseInetTable and ParseUnixTable
// (diagnose/net_tables.h), which the report helper runs on the text of
// /proc/net/{tcp,tcp6,udp,udp6,unix}. The input is the table's text, given
// to every parser.
//
// Properties, for every input:
//  - each parser returns at most one entry per line, never throws or
//    crashes, and an unknown protocol gives no entries;
//  - every inet entry has its protocol, an address of its family
//    ("1.2.3.4:80", "[::1]:80"), a peer that is empty or of the same
//    family, a state the header lists, no type;
//  - every unix entry has no peer, a state and type the header lists, and
//    no two unix entries share an inode (a name can forge a row);
//  - FindSocket finds the entry with the inode asked for when exactly one
//    entry has it, else nothing; never for 0.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz_check.h"
#include "gtest_watchdog/diagnose/net_tables.h"

namespace wi = gtest_watchdog_internal;

namespace {

const std::set<std::string>& TcpStates() {
  static const auto* states = new std::set<std::string>{
      "",          "established", "syn-sent",    "syn-recv",   "fin-wait1",
      "fin-wait2", "time-wait",   "close",       "close-wait", "last-ack",
      "listen",    "closing",     "new-syn-recv"};
  return *states;
}

bool IsEndpoint(const std::string& text, bool v6) {
  if (v6) return absl::StartsWith(text, "[") && absl::StrContains(text, "]:");
  return !text.empty() &&
         text.find_first_not_of("0123456789.:") == std::string::npos;
}

void CheckFind(const std::vector<wi::SocketEntry>& entries,
               const std::string& shown) {
  FUZZ_CHECK(wi::FindSocket(entries, 0) == nullptr, shown);
  std::map<uint64_t, int> rows;
  for (const wi::SocketEntry& entry : entries) ++rows[entry.inode];
  for (const wi::SocketEntry& entry : entries) {
    const wi::SocketEntry* found = wi::FindSocket(entries, entry.inode);
    if (entry.inode == 0) continue;
    FUZZ_CHECK(rows[entry.inode] == 1 ? found == &entry : found == nullptr,
               shown);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(gtest_watchdog_fuzz::AsText(data, size));
  const std::string shown = absl::CHexEscape(text);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';

  for (const char* protocol : {"tcp", "tcp6", "udp", "udp6"}) {
    const bool v6 = absl::EndsWith(protocol, "6");
    const bool tcp = absl::StartsWith(protocol, "tcp");
    const std::vector<wi::SocketEntry> entries =
        wi::ParseInetTable(text, protocol);
    FUZZ_CHECK(entries.size() <= lines, shown);
    for (const wi::SocketEntry& e : entries) {
      const std::string what =
          absl::StrCat(shown, ": ", protocol, " ", e.local, " -> ", e.remote);
      FUZZ_CHECK(e.protocol == protocol, what);
      FUZZ_CHECK(IsEndpoint(e.local, v6), what);
      FUZZ_CHECK(e.remote.empty() || IsEndpoint(e.remote, v6), what);
      FUZZ_CHECK(tcp ? TcpStates().count(e.state) == 1
                     : (e.state.empty() || e.state == "connected"),
                 what + " state " + e.state);
      FUZZ_CHECK(e.type.empty(), what);
    }
    CheckFind(entries, shown);
  }
  FUZZ_CHECK(wi::ParseInetTable(text, "unix").empty(), shown);
  FUZZ_CHECK(wi::ParseInetTable(text, "sctp").empty(), shown);

  const std::vector<wi::SocketEntry> unix_entries = wi::ParseUnixTable(text);
  FUZZ_CHECK(unix_entries.size() <= lines, shown);
  for (const wi::SocketEntry& e : unix_entries) {
    const std::string what = absl::StrCat(shown, ": unix ", e.local);
    FUZZ_CHECK(e.protocol == "unix" && e.remote.empty(), what);
    FUZZ_CHECK(e.state.empty() || e.state == "listening" ||
                   e.state == "unconnected" || e.state == "connecting" ||
                   e.state == "connected" || e.state == "disconnecting",
               what + " state " + e.state);
    FUZZ_CHECK(e.type.empty() || e.type == "stream" || e.type == "datagram" ||
                   e.type == "seqpacket",
               what + " type " + e.type);
    FUZZ_CHECK(e.local.find('\n') == std::string::npos, what);
    FUZZ_CHECK(wi::FindSocket(unix_entries, e.inode) == &e || e.inode == 0,
               what);
  }
  CheckFind(unix_entries, shown);
  return 0;
}

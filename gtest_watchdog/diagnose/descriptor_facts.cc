#include "gtest_watchdog/diagnose/descriptor_facts.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace gtest_watchdog_internal {
namespace {

// "[::ffff:127.0.0.1]:80" -> "127.0.0.1:80"; anything else unchanged.
std::string PlainAddress(const std::string& address) {
  absl::string_view a = address;
  if (!absl::ConsumePrefix(&a, "[::ffff:")) return address;
  const size_t close = a.find(']');
  if (close == absl::string_view::npos ||
      a.substr(0, close).find(':') != absl::string_view::npos) {
    return address;
  }
  return absl::StrCat(a.substr(0, close), a.substr(close + 1));
}

std::string HolderText(const FdHolder& h) {
  if (h.self) return absl::StrCat("this process (fd ", h.fd, ")");
  return absl::StrCat(
      "pid ", h.pid,
      h.command.empty() ? "" : absl::StrCat(" (", h.command, ")"), ", fd ",
      h.fd);
}

std::string HoldersText(const std::vector<FdHolder>& holders) {
  std::vector<std::string> parts;
  parts.reserve(holders.size());
  for (const FdHolder& h : holders) parts.push_back(HolderText(h));
  return absl::StrJoin(parts, ", ");
}

std::string InetText(const FdFacts& f) {
  const SocketEntry& s = f.socket;
  const bool tcp = absl::StartsWith(s.protocol, "tcp");
  std::string text = tcp ? "TCP socket " : "UDP socket ";
  if (s.state == "listen") {
    absl::StrAppend(&text, "listening on ", s.local);
    return text;
  }
  absl::StrAppend(&text, s.local);
  if (!s.remote.empty()) absl::StrAppend(&text, " → ", s.remote);
  if (!s.state.empty()) absl::StrAppend(&text, " (", s.state, ")");
  if (f.peer_not_accepted) {
    absl::StrAppend(&text, "; the other end is a listening socket of ",
                    HoldersText(f.peer), " that has not accepted it");
  } else if (!f.peer.empty()) {
    absl::StrAppend(&text, "; the other end is held by ", HoldersText(f.peer));
  }
  return text;
}

std::string PipeText(const FdFacts& f) {
  std::string text = f.kind == "fifo" ? absl::StrCat("FIFO ", f.path) : "pipe";
  const bool reader = f.access == "read";
  const bool writer = f.access == "write";
  if (!reader && !writer) return text;
  absl::StrAppend(&text, " (", reader ? "read end; " : "write end; ",
                  reader ? "write end " : "read end ");
  if (f.other_end.empty()) {
    absl::StrAppend(&text, "held by no process of the test)");
  } else {
    absl::StrAppend(&text, "held by ", HoldersText(f.other_end), ")");
  }
  return text;
}

std::string FactsText(const FdFacts& f) {
  if (f.kind == "closed") return "no longer open";
  if (f.kind == "pipe" || f.kind == "fifo") return PipeText(f);
  if (f.kind == "tcp" || f.kind == "tcp6" || f.kind == "udp" ||
      f.kind == "udp6") {
    return InetText(f);
  }
  if (f.kind == "unix") {
    std::vector<std::string> notes;
    if (f.socket.local.empty()) notes.push_back("unnamed");
    if (!f.socket.state.empty()) notes.push_back(f.socket.state);
    std::string text = absl::StrCat(
        "Unix ", f.socket.type.empty() ? "" : f.socket.type + " ", "socket",
        f.socket.local.empty() ? "" : " " + f.socket.local);
    if (!notes.empty()) {
      absl::StrAppend(&text, " (", absl::StrJoin(notes, ", "), ")");
    }
    if (!f.socket.remote.empty()) {
      absl::StrAppend(&text, " to ", f.socket.remote);
    }
    if (!f.peer.empty()) {
      absl::StrAppend(&text, "; the other end is held by ",
                      HoldersText(f.peer));
    }
    return text;
  }
  if (f.kind == "file" || f.kind == "directory" || f.kind == "device") {
    return absl::StrCat(f.kind, " ", f.path);
  }
  if (f.kind == "socket") return absl::StrCat("socket ", f.target);
  if (f.kind == "epoll") return "epoll instance";
  return f.kind;
}

}  // namespace

FdDescriber::FdDescriber(const ProcView& view, pid_t pid,
                         std::vector<ChildProcess> children)
    : view_(view), pid_(pid), children_(std::move(children)) {}

const std::vector<SocketEntry>& FdDescriber::Sockets() {
  if (sockets_read_) return sockets_;
  sockets_read_ = true;
  // The process's own network namespace, which may not be ours.
  const std::string net = absl::StrCat("/proc/", pid_, "/net/");
  for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
    for (SocketEntry& e : ParseInetTable(view_.ReadFile(net + proto), proto)) {
      sockets_.push_back(std::move(e));
    }
  }
  for (SocketEntry& e : ParseUnixTable(view_.ReadFile(net + "unix"))) {
    sockets_.push_back(std::move(e));
  }
  return sockets_;
}

const std::vector<FdDescriber::Held>& FdDescriber::Holders() {
  if (holders_read_) return holders_;
  holders_read_ = true;
  std::vector<std::pair<pid_t, std::string>> procs = {{pid_, ""}};
  for (const ChildProcess& c : children_) procs.emplace_back(c.pid, c.command);
  for (const auto& [pid, command] : procs) {
    const std::string dir = absl::StrCat("/proc/", pid, "/fd/");
    for (int fd : view_.ListNumeric(dir)) {
      Held h;
      h.holder = FdHolder{pid, fd, pid == pid_, command};
      h.target = view_.ReadLink(absl::StrCat(dir, fd));
      if (!h.target.empty()) holders_.push_back(std::move(h));
    }
  }
  return holders_;
}

std::string FdDescriber::AccessOf(pid_t pid, int fd) {
  const std::string info =
      view_.ReadFile(absl::StrCat("/proc/", pid, "/fdinfo/", fd));
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    if (!absl::ConsumePrefix(&line, "flags:")) continue;
    line = absl::StripAsciiWhitespace(line);
    unsigned flags = 0;
    for (char c : line) {
      if (c < '0' || c > '7') return "";
      flags = flags * 8 + static_cast<unsigned>(c - '0');
    }
    switch (flags & 3) {  // O_ACCMODE
      case 0:
        return "read";
      case 1:
        return "write";
      case 2:
        return "read-write";
      default:
        return "";
    }
  }
  return "";
}

std::vector<FdHolder> FdDescriber::HoldersOf(const std::string& target) {
  std::vector<FdHolder> out;
  for (const Held& h : Holders()) {
    if (h.target == target) out.push_back(h.holder);
  }
  return out;
}

void FdDescriber::FindOtherEnd(FdFacts* f) {
  if (f->access != "read" && f->access != "write") return;
  const std::string other = f->access == "read" ? "write" : "read";
  for (const FdHolder& h : HoldersOf(f->target)) {
    if (h.self && h.fd == f->fd) continue;
    const std::string access = AccessOf(h.pid, h.fd);
    if (access == other || access == "read-write") f->other_end.push_back(h);
  }
}

void FdDescriber::FindPeer(FdFacts* f) {
  const SocketEntry& s = f->socket;
  if (!absl::StartsWith(s.protocol, "tcp") || s.remote.empty()) return;
  // An IPv4 client and a dual-stack IPv6 server see each other's address
  // as IPv4-mapped: compare them the same way.
  const std::string local = PlainAddress(s.local);
  const std::string remote = PlainAddress(s.remote);
  for (const SocketEntry& e : Sockets()) {
    if (!absl::StartsWith(e.protocol, "tcp") || e.inode == s.inode) continue;
    if (e.inode != 0 && PlainAddress(e.local) == remote &&
        PlainAddress(e.remote) == local) {
      f->peer = HoldersOf(absl::StrCat("socket:[", e.inode, "]"));
      if (!f->peer.empty()) return;
    }
  }
  // Not accepted yet: the connection waits in a listener's queue, which
  // has no descriptor of its own.
  const size_t colon = remote.rfind(':');
  const std::string port =
      colon == std::string::npos ? "" : remote.substr(colon);
  for (const SocketEntry& e : Sockets()) {
    if (!absl::StartsWith(e.protocol, "tcp") || e.state != "listen") continue;
    const std::string listening = PlainAddress(e.local);
    if (listening == remote || listening == "0.0.0.0" + port ||
        listening == "[::]" + port) {
      f->peer = HoldersOf(absl::StrCat("socket:[", e.inode, "]"));
      f->peer_not_accepted = !f->peer.empty();
      if (f->peer_not_accepted) return;
    }
  }
}

void FdDescriber::FindUnixPeer(FdFacts* f) {
  const uint64_t peer = view_.UnixPeerInode(f->socket.inode);
  if (peer == 0) return;
  // The accepted end of a connection carries the listener's name: a
  // client's peer tells which server it talks to.
  if (const SocketEntry* e = FindSocket(Sockets(), peer)) {
    f->socket.remote = e->local;
  }
  f->peer = HoldersOf(absl::StrCat("socket:[", peer, "]"));
}

FdFacts FdDescriber::Describe(int fd) {
  FdFacts f;
  f.fd = fd;
  const std::string link = absl::StrCat("/proc/", pid_, "/fd/", fd);
  f.target = view_.ReadLink(link);
  if (f.target.empty()) {
    f.kind = "closed";
  } else if (absl::StartsWith(f.target, "pipe:[")) {
    f.kind = "pipe";
  } else if (absl::StartsWith(f.target, "socket:[")) {
    f.kind = "socket";
    uint64_t inode = 0;
    absl::string_view digits = f.target;
    absl::ConsumePrefix(&digits, "socket:[");
    absl::ConsumeSuffix(&digits, "]");
    if (absl::SimpleAtoi(digits, &inode)) {
      const SocketEntry* e = FindSocket(Sockets(), inode);
      // The kernel walks its socket tables in chunks, one per read: with
      // sockets opened and closed meanwhile (a busy machine) an entry can
      // be skipped. Read the tables again once, for a socket not found.
      if (e == nullptr && !sockets_reread_) {
        sockets_reread_ = true;
        sockets_read_ = false;
        sockets_.clear();
        e = FindSocket(Sockets(), inode);
      }
      if (e != nullptr) {
        f.socket = *e;
        f.kind = e->protocol;
        if (e->protocol == "unix") {
          f.path = e->local;
          FindUnixPeer(&f);
        } else {
          FindPeer(&f);
        }
      }
    }
  } else if (absl::StartsWith(f.target, "anon_inode:")) {
    absl::string_view what = f.target;
    absl::ConsumePrefix(&what, "anon_inode:");
    absl::ConsumePrefix(&what, "[");
    absl::ConsumeSuffix(&what, "]");
    f.kind = what == "eventpoll" ? "epoll"
             : what == "eventfd" || what == "timerfd" || what == "signalfd" ||
                     what == "inotify" || what == "pidfd"
                 ? std::string(what)
                 : "anon";
  } else {
    f.path = f.target;
    switch (view_.FileType(link)) {
      case S_IFIFO:
        f.kind = "fifo";
        break;
      case S_IFDIR:
        f.kind = "directory";
        break;
      case S_IFCHR:
      case S_IFBLK:
        f.kind = "device";
        break;
      default:
        f.kind = "file";
    }
  }
  if (f.kind == "pipe" || f.kind == "fifo") {
    f.access = AccessOf(pid_, fd);
    FindOtherEnd(&f);
  }
  f.text = FactsText(f);
  return f;
}

}  // namespace gtest_watchdog_internal

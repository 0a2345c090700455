// File: gtest_watchdog/diagnose/descriptor_facts.h
//
// What a descriptor of the stalled process is, from outside the process: a
// file, a pipe, a FIFO, a TCP, UDP or Unix socket, an eventfd, an epoll
// instance. For a pipe or FIFO it finds who holds the other end, for a
// connected socket who holds the peer, among the test's processes (the
// stalled one and its children): "pipe (read end; write end held by this
// process: fd 7)", "TCP socket 127.0.0.1:40112 → 127.0.0.1:5555
// (established)". The call decoder (blocking_call.h) asks it about the
// descriptors a blocked system call waits on.
//
// Report helper process only: allocates, not signal-safe. Everything it
// learns comes through a ProcView (/proc/PID/fd, fdinfo, net tables), so it
// is unit-tested against a made-up process.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "gtest_watchdog/diagnose/net_tables.h"
#include "gtest_watchdog/diagnose/proc_view.h"
#include "gtest_watchdog/dump/child_processes.h"

namespace gtest_watchdog_internal {

// A descriptor held by one of the test's processes.
struct FdHolder {
  pid_t pid = 0;
  int fd = -1;
  bool self = false;    // the stalled process itself
  std::string command;  // a child's command line; "" for ourselves
};

// What one descriptor of the stalled process is.
struct FdFacts {
  int fd = -1;  // -1: not a descriptor yet (a FIFO being opened)
  // "file", "directory", "device", "pipe", "fifo", "tcp", "tcp6", "udp",
  // "udp6", "unix", "socket", "eventfd", "timerfd", "signalfd", "epoll",
  // "inotify", "pidfd", "anon", "closed".
  std::string kind;
  std::string target;  // the /proc/PID/fd link: a path, "pipe:[123]", ...
  std::string path;    // files, FIFOs, devices, named Unix sockets
  std::string access;  // "read", "write", "read-write"; "" unknown
  std::string events;  // poll/select/epoll: what is awaited ("read", ...)
  SocketEntry socket;  // sockets found in /proc/net; protocol "" otherwise
  // Pipes and FIFOs: the other end's holders among the test's processes
  // (the writers of a reader's pipe, the readers of a writer's).
  std::vector<FdHolder> other_end;
  // Connected TCP and Unix sockets: the peer's holders among the test's
  // processes (for a Unix socket, socket.remote is then the peer's name);
  // peer_not_accepted: the peer is a listener that has not accepted yet.
  std::vector<FdHolder> peer;
  bool peer_not_accepted = false;
  std::string text;  // the description as printed
};

// Describes the descriptors of one stalled process. Reads its socket
// tables and the descriptor tables of it and its children once, on first
// need. Helper process only.
class FdDescriber {
 public:
  FdDescriber(const ProcView& view, pid_t pid,
              std::vector<ChildProcess> children);

  // What descriptor `fd` of the process is; kind "closed" when it is not
  // open (any more).
  FdFacts Describe(int fd);

 private:
  struct Held {
    FdHolder holder;
    std::string target;
  };
  const std::vector<Held>& Holders();
  std::string AccessOf(pid_t pid, int fd);
  const std::vector<SocketEntry>& Sockets();
  void FindOtherEnd(FdFacts* f);
  void FindPeer(FdFacts* f);
  void FindUnixPeer(FdFacts* f);
  std::vector<FdHolder> HoldersOf(const std::string& target);

  const ProcView& view_;
  pid_t pid_;
  std::vector<ChildProcess> children_;
  bool sockets_read_ = false;
  bool sockets_reread_ = false;  // once, for a socket not found
  std::vector<SocketEntry> sockets_;
  bool holders_read_ = false;
  std::vector<Held> holders_;
};

}  // namespace gtest_watchdog_internal

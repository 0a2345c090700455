// File: gtest_watchdog/diagnose/proc_view.h
//
// The report helper's view of the stalled process: its /proc files,
// descriptor links, memory and clocks. An interface, so that decoding what
// a thread waits for is unit-tested against a made-up process; the real
// one reads /proc and the process's memory (process_vm_readv: the helper is
// the stalled process's permitted tracer).
//
// Report helper process only: allocates, not signal-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gtest_watchdog_internal {

// Helper process only: every member allocates.
class ProcView {
 public:
  virtual ~ProcView() = default;
  // A file's contents ("/proc/42/net/tcp"); "" when unreadable.
  virtual std::string ReadFile(const std::string& path) const = 0;
  // A symbolic link's target ("/proc/42/fd/5" -> "socket:[4711]"); "" when
  // unreadable.
  virtual std::string ReadLink(const std::string& path) const = 0;
  // The all-digit entries of a directory ("/proc/42/fd"), ascending.
  virtual std::vector<int> ListNumeric(const std::string& path) const = 0;
  // The S_IFMT bits of what `path` leads to (links followed); 0 unknown.
  virtual unsigned FileType(const std::string& path) const = 0;
  // Copies `size` bytes at `addr` of process `pid`; false when unreadable.
  virtual bool ReadMemory(pid_t pid, uint64_t addr, void* out,
                          size_t size) const = 0;
  // The time now on `clock` (CLOCK_MONOTONIC, ...) in ns; -1 unknown.
  virtual int64_t NowNs(int clock) const = 0;
  // The inode of the socket at the other end of a connected Unix socket
  // (the kernel's sock_diag; /proc/net/unix does not say); 0 unknown.
  virtual uint64_t UnixPeerInode(uint64_t inode) const = 0;
};

// The live system. Helper process only.
std::unique_ptr<ProcView> MakeSystemProcView();

// Everything readable from `fd` until end of file (retrying on EINTR).
// Helper process only.
std::string ReadToEnd(int fd);

}  // namespace gtest_watchdog_internal

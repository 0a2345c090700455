#include "gtest_watchdog/dump/memory_probe.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

namespace gtest_watchdog_internal {
namespace {

// Every page size Linux uses is a multiple of 4 KiB, and a 64-byte window
// holds at most one 4 KiB boundary; so the only place a window can turn
// unreadable is that boundary, whatever the real page size.
constexpr uint64_t kBoundary = 4096;

// The part of the window a lock analysis cannot do without.
constexpr uint64_t kMinAfter = 24;

bool TryWindow(uint64_t begin, uint64_t end, FutexWindow* out) {
  if (end <= begin || end - begin > kFutexWindowSize) return false;
  if (!ReadOwnMemory(begin, out->bytes, end - begin)) return false;
  out->base = begin;
  out->size = static_cast<int>(end - begin);
  return true;
}

}  // namespace

bool ReadOwnMemory(uint64_t addr, void* out, size_t len) {
  if (len == 0) return true;
  if (addr + len < addr) return false;  // wraps around
  struct iovec local = {out, len};
  struct iovec remote = {reinterpret_cast<void*>(addr), len};
  ssize_t n;
  do {
    n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  } while (n < 0 && errno == EINTR);
  // A short count means the copy stopped at an unreadable page.
  return n == static_cast<ssize_t>(len);
}

void ProbeFutexWindow(uint64_t uaddr, FutexWindow* out) {
  out->base = 0;
  out->size = 0;
  if (uaddr == 0 || uaddr + kFutexWindowSize < uaddr) return;
  const uint64_t begin =
      uaddr >= kFutexWindowBefore ? uaddr - kFutexWindowBefore : 0;
  const uint64_t end = begin + kFutexWindowSize;
  if (TryWindow(begin, end, out)) return;

  // The window holds at most one boundary: drop what lies on its far side
  // from uaddr, keeping the futex word's own page.
  const uint64_t boundary = (end - 1) & ~(kBoundary - 1);
  if (boundary <= begin) return;  // no boundary: the futex itself is bad
  if (boundary <= uaddr) {
    // The page before uaddr's is unreadable.
    TryWindow(boundary, end, out);
  } else if (boundary >= uaddr + kMinAfter) {
    // The page after uaddr's is unreadable.
    TryWindow(begin, boundary, out);
  }
  // Otherwise the bytes we need straddle the boundary: give up.
}

}  // namespace gtest_watchdog_internal

// Tests for the fault-free reads of our own memory
// (gtest_watchdog/dump/memory_probe.h).

#include "gtest_watchdog/dump/memory_probe.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>

#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

uint64_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Maps `pages` fresh pages filled with a byte pattern (byte i of the
// mapping = i % 251), so any copy can be checked against its source.
unsigned char* MapPattern(int pages) {
  const size_t len = static_cast<size_t>(pages) * getpagesize();
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* bytes = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < len; ++i)
    bytes[i] = static_cast<unsigned char>(i % 251);
  return bytes;
}

TEST(MemoryProbeTest, ReadsALockedMutexAndItsOwner) {
  std::mutex m;
  std::lock_guard<std::mutex> hold(m);
  unsigned char bytes[sizeof(pthread_mutex_t)];
  ASSERT_TRUE(ReadOwnMemory(Addr(&m), bytes, sizeof(bytes)));
  EXPECT_EQ(std::memcmp(bytes, &m, sizeof(bytes)), 0);
  // glibc keeps the owner's TID at offset 8 (__owner).
  int owner = 0;
  std::memcpy(&owner, bytes + 8, sizeof(owner));
  EXPECT_EQ(owner, GetTid());
}

TEST(MemoryProbeTest, ZeroLengthReadSucceeds) {
  EXPECT_TRUE(ReadOwnMemory(0, nullptr, 0));
}

TEST(MemoryProbeTest, UnmappedAddressFailsInsteadOfFaulting) {
  unsigned char* page = MapPattern(1);
  ASSERT_NE(page, nullptr);
  ASSERT_EQ(munmap(page, getpagesize()), 0);
  unsigned char buf[16];
  EXPECT_FALSE(ReadOwnMemory(Addr(page) + 64, buf, sizeof(buf)));
  EXPECT_FALSE(ReadOwnMemory(0, buf, sizeof(buf)));
  EXPECT_FALSE(ReadOwnMemory(~uint64_t{0} - 4, buf, sizeof(buf)));

  FutexWindow w;
  ProbeFutexWindow(Addr(page) + 64, &w);
  EXPECT_EQ(w.size, 0);
  EXPECT_EQ(w.base, 0u);
}

TEST(MemoryProbeTest, NullFutexGivesNoWindow) {
  FutexWindow w;
  ProbeFutexWindow(0, &w);
  EXPECT_EQ(w.size, 0);
}

TEST(MemoryProbeTest, FullWindowAroundARealMutex) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  ASSERT_EQ(pthread_mutex_lock(&m), 0);
  FutexWindow w;
  ProbeFutexWindow(Addr(&m), &w);
  ASSERT_EQ(w.size, kFutexWindowSize);
  EXPECT_EQ(w.base, Addr(&m) - kFutexWindowBefore);
  EXPECT_EQ(std::memcmp(w.bytes + kFutexWindowBefore, &m, sizeof(m)), 0);
  int owner = 0;
  std::memcpy(&owner, w.bytes + kFutexWindowBefore + 8, sizeof(owner));
  EXPECT_EQ(owner, GetTid());
  ASSERT_EQ(pthread_mutex_unlock(&m), 0);
}

TEST(MemoryProbeTest, WindowStartsAtThePageWhenThePreviousIsUnmapped) {
  const size_t page = getpagesize();
  unsigned char* map = MapPattern(2);
  ASSERT_NE(map, nullptr);
  ASSERT_EQ(munmap(map, page), 0);
  unsigned char* second = map + page;
  const uint64_t uaddr = Addr(second) + 8;

  FutexWindow w;
  ProbeFutexWindow(uaddr, &w);
  EXPECT_EQ(w.base, Addr(second));
  // From the page start to the end of the planned window.
  EXPECT_EQ(w.size, 8 + kFutexWindowSize - kFutexWindowBefore);
  EXPECT_EQ(std::memcmp(w.bytes, second, w.size), 0);
  munmap(second, page);
}

TEST(MemoryProbeTest, WindowEndsAtThePageWhenTheNextIsUnmapped) {
  const size_t page = getpagesize();
  unsigned char* map = MapPattern(2);
  ASSERT_NE(map, nullptr);
  ASSERT_EQ(munmap(map + page, page), 0);
  // 32 bytes left in the page: the 24 a mutex needs fit, the window not.
  const uint64_t uaddr = Addr(map) + page - 32;

  FutexWindow w;
  ProbeFutexWindow(uaddr, &w);
  EXPECT_EQ(w.base, uaddr - kFutexWindowBefore);
  EXPECT_EQ(w.size, kFutexWindowBefore + 32);
  EXPECT_EQ(std::memcmp(w.bytes, map + page - 32 - kFutexWindowBefore, w.size),
            0);
  munmap(map, page);
}

TEST(MemoryProbeTest, NoWindowWhenTheLockItselfCrossesIntoUnmappedMemory) {
  const size_t page = getpagesize();
  unsigned char* map = MapPattern(2);
  ASSERT_NE(map, nullptr);
  ASSERT_EQ(munmap(map + page, page), 0);
  // Only 16 bytes before the boundary: fewer than the 24 we need.
  FutexWindow w;
  ProbeFutexWindow(Addr(map) + page - 16, &w);
  EXPECT_EQ(w.size, 0);
  munmap(map, page);
}

}  // namespace
}  // namespace gtest_watchdog_internal

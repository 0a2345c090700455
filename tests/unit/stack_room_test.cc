// Tests for the /proc/self/maps parser and the stack-room search
// (gtest_watchdog/stall/stack_room.h).

#include "gtest_watchdog/stall/stack_room.h"

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "gtest_watchdog/dump/proc_threads.h"

namespace gtest_watchdog_internal {
namespace {

std::vector<Mapping> Parse(const std::string& text, int capacity = 16) {
  std::vector<Mapping> out(static_cast<size_t>(capacity));
  const int n = ParseMappings(text.data(), text.size(), out.data(), capacity);
  out.resize(static_cast<size_t>(n));
  return out;
}

// Lines as the kernel writes them (perms, offset, device, inode, path).
constexpr char kMaps[] =
    "555555554000-555555556000 r--p 00000000 08:01 1048601    /usr/bin/cat\n"
    "555555556000-55555555b000 r-xp 00002000 08:01 1048601    /usr/bin/cat\n"
    "55555555f000-555555580000 rw-p 00000000 00:00 0          [heap]\n"
    "7ffff7d80000-7ffff7f80000 rw-p 00000000 00:00 0 \n"
    "7ffff7f80000-7ffff7f81000 ---p 00000000 00:00 0          [stack:4242]\n"
    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0          [stack]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]";

TEST(ParseMappingsTest, ReadsBoundsOfEveryLine) {
  const std::vector<Mapping> maps = Parse(kMaps);
  ASSERT_EQ(maps.size(), 7u);
  EXPECT_EQ(maps[0].start, 0x555555554000u);
  EXPECT_EQ(maps[0].end, 0x555555556000u);
  EXPECT_EQ(maps[3].start, 0x7ffff7d80000u);
  EXPECT_EQ(maps[3].end, 0x7ffff7f80000u);
  // The last line has no newline.
  EXPECT_EQ(maps[6].start, 0xffffffffff600000u);
  EXPECT_EQ(maps[6].end, 0xffffffffff601000u);
}

TEST(ParseMappingsTest, OnlyTheMainStackGrowsDown) {
  const std::vector<Mapping> maps = Parse(kMaps);
  ASSERT_EQ(maps.size(), 7u);
  for (size_t i = 0; i < maps.size(); ++i) {
    // "[stack:TID]" (older kernels' thread stacks) is a fixed mapping.
    EXPECT_EQ(maps[i].grows_down, i == 5) << "line " << i;
  }
}

TEST(ParseMappingsTest, StopsAtCapacity) {
  EXPECT_EQ(Parse(kMaps, 3).size(), 3u);
  EXPECT_EQ(Parse(kMaps, 0).size(), 0u);
}

TEST(ParseMappingsTest, HonoursLength) {
  const std::string text = kMaps;
  std::vector<Mapping> out(16);
  const size_t two_lines = text.find('\n', text.find('\n') + 1) + 1;
  EXPECT_EQ(ParseMappings(text.data(), two_lines, out.data(), 16), 2);
  EXPECT_EQ(ParseMappings(text.data(), 0, out.data(), 16), 0);
}

TEST(StackRoomTest, RoomIsTheDistanceToTheMappingsStart) {
  const std::vector<Mapping> maps = Parse(kMaps);
  const int n = static_cast<int>(maps.size());
  EXPECT_EQ(StackRoom(maps.data(), n, 0x7ffff7d80000u + 0x1234), 0x1234u);
  EXPECT_EQ(StackRoom(maps.data(), n, 0x7ffff7d80000u), 0u);
  EXPECT_EQ(StackRoom(maps.data(), n, 0x7ffff7f7ffffu), 0x1fffffu);
  // The first and the last mapping are found too.
  EXPECT_EQ(StackRoom(maps.data(), n, 0x555555554010u), 0x10u);
  EXPECT_EQ(StackRoom(maps.data(), n, 0xffffffffff600008u), 8u);
}

TEST(StackRoomTest, AdjacentMappingsDoNotShareAnAddress) {
  const std::vector<Mapping> maps = Parse(kMaps);
  const int n = static_cast<int>(maps.size());
  // 7ffff7f80000 ends one mapping and starts the next.
  EXPECT_EQ(StackRoom(maps.data(), n, 0x7ffff7f80000u), 0u);
  EXPECT_EQ(StackRoom(maps.data(), n, 0x7ffff7f80008u), 8u);
}

TEST(StackRoomTest, NoMappingHoldsItGivesZero) {
  const std::vector<Mapping> maps = Parse(kMaps);
  const int n = static_cast<int>(maps.size());
  EXPECT_EQ(StackRoom(maps.data(), n, 0x1000u), 0u);              // below all
  EXPECT_EQ(StackRoom(maps.data(), n, 0x55555555b000u), 0u);      // a gap
  EXPECT_EQ(StackRoom(maps.data(), n, 0x55555555e000u), 0u);      // a gap
  EXPECT_EQ(StackRoom(maps.data(), n, 0xfffffffffffff000u), 0u);  // above
  EXPECT_EQ(StackRoom(maps.data(), 0, 0x7ffff7d81000u), 0u);      // no maps
}

TEST(StackRoomTest, TheMainStackIsNeverSmall) {
  const std::vector<Mapping> maps = Parse(kMaps);
  const int n = static_cast<int>(maps.size());
  EXPECT_EQ(StackRoom(maps.data(), n, 0x7ffffffde010u), UINT64_MAX);
}

// The room below an address on the calling thread's stack, from this
// process's own maps.
uint64_t RoomHere() {
  std::vector<char> text(4 << 20);
  const ssize_t len = ReadProcFile("/proc/self/maps", text.data(), text.size());
  if (len <= 0) return 0;
  std::vector<Mapping> maps(static_cast<size_t>(len) / 20 + 1);
  const int n = ParseMappings(text.data(), static_cast<size_t>(len),
                              maps.data(), static_cast<int>(maps.size()));
  // The frame, not a local: under AddressSanitizer a local may live on a
  // fake stack elsewhere.
  return StackRoom(maps.data(), n,
                   reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
}

TEST(StackRoomTest, StacksOfThisProcess) {
  // GoogleTest runs tests on the main thread: its "[stack]" grows.
  EXPECT_EQ(RoomHere(), UINT64_MAX);
  uint64_t room = 0;
  std::thread([&room] { room = RoomHere(); }).join();
  EXPECT_GT(room, uint64_t{16} * 1024);
  EXPECT_LT(room, UINT64_MAX);
}

}  // namespace
}  // namespace gtest_watchdog_internal

// File: gtest_watchdog/stall/stack_room.h
//
// How much stack a blocked thread has left below its stack pointer, from
// /proc/self/maps: a thread with too little is not asked to unwind itself,
// since the signal frame and the unwinder would overflow it. Pure functions
// on text the caller read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gtest_watchdog_internal {

// One line of /proc/self/maps, as much as the stall path needs.
// Signal-safe.
struct Mapping {
  uint64_t start;
  uint64_t end;
  bool grows_down;  // the main thread's "[stack]"
};

// Parses /proc/self/maps text (sorted by address) into `out`. Returns the
// number of mappings. Signal-safe.
int ParseMappings(const char* maps, size_t len, Mapping* out, int capacity);

// Room left below `sp` in its mapping (binary search); 0 if no mapping
// holds it. The main thread's "[stack]" grows on demand, so its mapping's
// start says nothing about the room left: never "small". Signal-safe.
uint64_t StackRoom(const Mapping* maps, int n, uint64_t sp);

}  // namespace gtest_watchdog_internal

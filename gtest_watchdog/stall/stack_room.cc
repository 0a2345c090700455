#include "gtest_watchdog/stall/stack_room.h"

#include <cstring>

#include "gtest_watchdog/dump/proc_threads.h"

namespace gtest_watchdog_internal {

int ParseMappings(const char* maps, size_t len, Mapping* out, int capacity) {
  int n = 0;
  const char* p = maps;
  const char* end = maps + len;
  while (p < end && n < capacity) {
    const char* eol = static_cast<const char*>(memchr(p, '\n', end - p));
    if (eol == nullptr) eol = end;
    const char* q = p;
    ParseHex(q, eol, &out[n].start);
    ++q;  // '-'
    ParseHex(q, eol, &out[n].end);
    const char* name = static_cast<const char*>(memchr(q, '[', eol - q));
    out[n].grows_down =
        name != nullptr && eol - name >= 7 && memcmp(name, "[stack]", 7) == 0;
    ++n;
    p = eol + 1;
  }
  return n;
}

uint64_t StackRoom(const Mapping* maps, int n, uint64_t sp) {
  int lo = 0;
  int hi = n;
  while (lo < hi) {  // first mapping with start > sp
    const int mid = lo + (hi - lo) / 2;
    if (maps[mid].start <= sp) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0 || sp >= maps[lo - 1].end) return 0;
  return maps[lo - 1].grows_down ? UINT64_MAX : sp - maps[lo - 1].start;
}

}  // namespace gtest_watchdog_internal

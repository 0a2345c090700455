#include "gtest_watchdog/stall/stall_state.h"

#include <sys/mman.h>

#include <type_traits>

namespace gtest_watchdog_internal {

// Constant-initialised, with no destructor: these fail to compile if a
// member ever needs code at load time or at exit (a report may run during
// static destruction).
static_assert(StallState{}.stderr_fd == 2,
              "StallState must be constant-initialisable");
static_assert(std::is_trivially_destructible<StallState>::value,
              "StallState must need no destructor");

StallState g_stall;

void* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace gtest_watchdog_internal

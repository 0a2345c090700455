#include "gtest_watchdog/diagnose/syscall_names.h"

#include <seccomp.h>

#include <cstdlib>

namespace gtest_watchdog_internal {

std::string SyscallName(long nr) {
  if (nr < 0 || nr > 0xffff) return "";
  // Returns a malloc'd copy, or null for an unknown number.
  char* name =
      seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr));
  if (name == nullptr) return "";
  std::string out(name);
  free(name);
  return out;
}

}  // namespace gtest_watchdog_internal

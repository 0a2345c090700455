// File: gtest_watchdog/diagnose/syscall_names.h
//
// Names of system calls, for a thread the report finds inside one. They
// come from libseccomp, which carries the kernel's tables for every
// architecture, so a call we do not decode still gets its real name.
//
// Report helper process only: allocates, not signal-safe.
#pragma once

#include <string>

namespace gtest_watchdog_internal {

// "recvfrom" for this architecture's number of recvfrom(2); "" for a
// number the kernel does not know (or a negative one). Helper process only.
std::string SyscallName(long nr);

}  // namespace gtest_watchdog_internal

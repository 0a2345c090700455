#include "gtest_watchdog/stall/stall_state.h"

#include <sys/mman.h>

namespace gtest_watchdog_internal {

StallPathSettings g_settings;
int g_stderr_fd = 2;
char g_exe[PATH_MAX] = {};
pid_t g_pid = 0;
pid_t g_watchdog_tid = 0;
int g_snapshot_fd = -1;
int g_spare_fds[2] = {-1, -1};
int g_message_fd = -1;
int g_go_pipe[2] = {-1, -1};
int g_done_pipe[2] = {-1, -1};
char g_json_report[PATH_MAX] = {};
bool g_color = false;
posix_spawn_file_actions_t g_spawn_actions;
bool g_have_spawn_actions = false;
char** g_helper_env = nullptr;
pid_t* g_tids = nullptr;
KernelThreadInfo* g_kernel = nullptr;
ThreadStack* g_stacks = nullptr;
SnapshotThreadIn* g_in = nullptr;
FutexWindow* g_futex = nullptr;
CpuSample* g_cpu = nullptr;
pid_t* g_frozen_pids = nullptr;

void* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace gtest_watchdog_internal

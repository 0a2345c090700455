// Scenarios for the report helper's trust boundary, one test each; the
// harness (tests/integration/helper_trust_test.cc) picks one with
// --gtest_filter.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

extern char** environ;

namespace {

__attribute__((noinline)) void SleepForever() {
  for (;;) pause();  // @block:sleep
}

// Changes the environment, then hangs: the report helper must get the
// environment of start-up. HELPER_TRUST_PRELOAD (set by the harness; at
// start-up an ordinary variable nobody loads) is what goes to LD_PRELOAD.
TEST(HelperTrust, SetsLdPreloadThenHangs) {
  const char* preload = std::getenv("HELPER_TRUST_PRELOAD");
  ASSERT_NE(preload, nullptr) << "HELPER_TRUST_PRELOAD is not set";
  // Only processes started from now on load it: the report helper.
  ASSERT_EQ(setenv("LD_PRELOAD", preload, 1), 0);
  SleepForever();
}

// A snapshot as the stall path writes it (format version 5), about process
// `pid`, asking for a JSON report at `json` (hex-encoded in the snapshot).
// Its one thread "exited": the helper ptraces nothing.
std::string Snapshot(pid_t pid, const char* json) {
  std::string hex;
  for (const char* p = json; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    hex += "0123456789abcdef"[c >> 4];
    hex += "0123456789abcdef"[c & 15];
  }
  const std::string p = std::to_string(pid);
  return "gtest_watchdog-snapshot 5\nkind timeout\nphase test\n"
         "test Forged.Test\nsuite Forged\n"
         "limit_origin --gtest_watchdog_timeout\nlimit_ns 1000000000\n"
         "elapsed_ns 1000000000\npid " +
         p + "\ntest_tid " + p + "\nwatchdog_tid 0\ncolor 0\n" +
         "json_report " + hex + "\nthread " + p +
         " S exited 0 -1 0 0 0 0 0 0 0 0\nname forged\nwchan 0\n"
         "cpu -1 -1 -1 -1\npcs 0\nend\n";
}

// Starts this executable as a report helper the way the stall path does
// now, before the snapshot exists: an empty memfd of the stall path's name
// on descriptor 3, the go pipe on 5, the done pipe on 6. Then, 300 ms later
// (the census), per HELPER_TRUST_LATE: "self" writes a snapshot about us
// and sends go; "other" one about our parent (the harness); "nogo" closes
// the go pipe unsent. Prints what the helper did.
TEST(HelperTrust, StartsItselfAsHelperBeforeItsSnapshot) {
  const char* json = std::getenv("HELPER_TRUST_JSON");
  const char* late = std::getenv("HELPER_TRUST_LATE");
  ASSERT_NE(json, nullptr) << "HELPER_TRUST_JSON is not set";
  ASSERT_NE(late, nullptr) << "HELPER_TRUST_LATE is not set";
  const int fd = memfd_create("gtest_watchdog_snapshot", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  int go[2];
  int done[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(done, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 3);
  posix_spawn_file_actions_adddup2(&actions, go[0], 5);
  posix_spawn_file_actions_adddup2(&actions, done[1], 6);
  char exe[] = "/proc/self/exe";
  char arg[] = "--gtest_watchdog_internal_report=3";
  char* argv[] = {exe, arg, nullptr};
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, exe, &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(go[0]);
  close(done[1]);
  // The census: the helper must still be waiting when it ends. A fixed time
  // on purpose: what is tested is a snapshot that comes late.
  int status = 0;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0)
        << "the helper ended before its snapshot, status " << status;
    usleep(10000);
  }
  printf("helper waited for the snapshot\n");
  if (std::string(late) == "nogo") {
    close(go[1]);
  } else {
    const std::string text =
        Snapshot(std::string(late) == "self" ? getpid() : getppid(), json);
    ASSERT_EQ(write(fd, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
    ASSERT_EQ(write(go[1], "g", 1), 1);
    char byte = 0;
    if (read(done[0], &byte, 1) == 1) printf("helper said done\n");
    close(go[1]);  // as if we were gone: the helper exits
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(fd);
  close(done[0]);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  printf("helper exit status %d\n", WEXITSTATUS(status));
}

// Starts this executable as a report helper, as the stall path does (a
// memfd of the stall path's name on descriptor 3, the same executable),
// on a snapshot about another process (our parent, the harness) that asks
// for a JSON report at HELPER_TRUST_JSON. Prints the helper's exit status.
TEST(HelperTrust, StartsItselfAsHelperForAnotherProcess) {
  const char* json = std::getenv("HELPER_TRUST_JSON");
  ASSERT_NE(json, nullptr) << "HELPER_TRUST_JSON is not set";
  std::string hex;
  for (const char* p = json; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    hex += "0123456789abcdef"[c >> 4];
    hex += "0123456789abcdef"[c & 15];
  }
  const std::string other = std::to_string(getppid());
  const std::string snapshot =
      "gtest_watchdog-snapshot 5\nkind timeout\nphase test\n"
      "test Forged.Test\nsuite Forged\n"
      "limit_origin --gtest_watchdog_timeout\nlimit_ns 1000000000\n"
      "elapsed_ns 1000000000\npid " +
      other + "\ntest_tid " + other + "\nwatchdog_tid 0\ncolor 0\n" +
      "json_report " + hex + "\nthread " + other +
      " S exited 0 -1 0 0 0 0 0 0 0 0\nname forged\nwchan 0\n"
      "cpu -1 -1 -1 -1\npcs 0\nend\n";
  const int fd = memfd_create("gtest_watchdog_snapshot", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, snapshot.data(), snapshot.size()),
            static_cast<ssize_t>(snapshot.size()));
  ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 3);
  char exe[] = "/proc/self/exe";
  char arg[] = "--gtest_watchdog_internal_report=3";
  char* argv[] = {exe, arg, nullptr};
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, exe, &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fd);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  printf("helper exit status %d\n", WEXITSTATUS(status));
}

}  // namespace

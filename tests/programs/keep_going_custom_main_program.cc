// Keep going with a custom main(): code before and after RUN_ALL_TESTS(), a
// global environment and a listener added after
// gtest_watchdog::InitGoogleTest. Each says which process it ran in, for
// tests/integration/keep_going_test (KeepGoing.CustomMain*); a test kills
// its own process, so a second child runs the rest.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "gtest/gtest.h"
#include "gtest_watchdog/gtest_watchdog.h"

namespace {

void Say(const char* what) {
  std::printf("custom_main: %s in %d\n", what, static_cast<int>(getpid()));
  std::fflush(stdout);
}

class Environment : public testing::Environment {
 public:
  void SetUp() override { Say("environment set up"); }
  void TearDown() override { Say("environment torn down"); }
};

class Listener : public testing::EmptyTestEventListener {
 public:
  void OnTestProgramStart(const testing::UnitTest&) override {
    Say("listener: program start");
  }
  void OnTestEnd(const testing::TestInfo&) override {
    Say("listener: test end");
  }
  void OnTestProgramEnd(const testing::UnitTest& unit) override {
    std::printf("custom_main: listener: program end in %d, %d failed\n",
                static_cast<int>(getpid()), unit.failed_test_count());
    std::fflush(stdout);
  }
};

TEST(Custom, Passes) {}
TEST(Custom, KillsItself) { raise(SIGKILL); }
TEST(Custom, AlsoPasses) {}

}  // namespace

int main(int argc, char** argv) {
  Say("before InitGoogleTest");
  gtest_watchdog::InitGoogleTest(&argc, argv);
  testing::AddGlobalTestEnvironment(new Environment);
  testing::UnitTest::GetInstance()->listeners().Append(new Listener);
  const int status = RUN_ALL_TESTS();
  std::printf("custom_main: RUN_ALL_TESTS gave %d in %d\n", status,
              static_cast<int>(getpid()));
  std::fflush(stdout);
  return status;
}

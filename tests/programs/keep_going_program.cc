// Tests that end their process in every way a keep-going run must survive:
// a stall, a crash, exit() mid-test, SIGKILL, SIGSTOP, and stalls in
// SetUpTestSuite and TearDownTestSuite; with tests that pass and fail
// around them. Run by tests/integration/keep_going_test with
// --gtest_watchdog_keep_going, a short limit and a --gtest_filter.
// `// @block:NAME` marks where a test stalls.
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "gtest/gtest.h"

namespace {

std::mutex g_mutex;
std::condition_variable g_never;

// Waits for a notify nobody sends.
void WaitForever() {
  std::unique_lock<std::mutex> lock(g_mutex);
  g_never.wait(lock, [] { return false; });  // @block:wait
}

TEST(First, PassesWithAProperty) {
  RecordProperty("color", "blue");
  SUCCEED();
}

TEST(First, FailsAnExpectation) {
  RecordProperty("size", 3);
  EXPECT_EQ(1 + 1, 3) << "a plain failure";
}

TEST(First, IsSkipped) { GTEST_SKIP() << "skipped on purpose"; }

TEST(Stall, WaitsForever) { WaitForever(); }

TEST(Crash, Segfaults) {
  volatile int* nowhere = nullptr;
  *nowhere = 1;
}

TEST(Exit, InTheMiddle) { std::exit(3); }

TEST(Kill, Itself) { raise(SIGKILL); }

TEST(Stop, Itself) { raise(SIGSTOP); }

// Says so on stderr, so that a test can signal the run right then.
TEST(Signal, WaitsAfterSayingSo) {
  fprintf(stderr, "waiting for a signal\n");
  fflush(stderr);
  WaitForever();
}

// Dies the first time it runs (KEEP_GOING_FLAKY_MARK names a file that
// says it ran), then passes: a flaky test for --gtest_watchdog_retries.
TEST(Flaky, DiesOnce) {
  const char* mark = std::getenv("KEEP_GOING_FLAKY_MARK");
  if (mark == nullptr) return;
  if (FILE* seen = std::fopen(mark, "r")) {
    std::fclose(seen);
    return;
  }
  FILE* f = std::fopen(mark, "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  raise(SIGKILL);
}

TEST(Last, Passes) { RecordProperty("last", "yes"); }

TEST(Last, AlsoPasses) {}

// A death-test suite by its name: GoogleTest runs such suites first and
// shuffles them apart from the rest, which the shuffle's order test needs.
TEST(OrderDeathTest, A) {}
TEST(OrderDeathTest, B) {}
TEST(OrderDeathTest, C) {}

class SetUpStalls : public testing::Test {
 protected:
  static void SetUpTestSuite() { WaitForever(); }
};

TEST_F(SetUpStalls, One) {}
TEST_F(SetUpStalls, Two) {}

class TearDownStalls : public testing::Test {
 protected:
  static void TearDownTestSuite() { WaitForever(); }
};

TEST_F(TearDownStalls, Runs) {}

TEST(Death, BothStyles) {
  EXPECT_DEATH(std::abort(), "");
  EXPECT_EXIT(std::exit(4), testing::ExitedWithCode(4), "");
}

// The global environment's SetUp stalls when asked to: every test child
// would meet it.
class StallingEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    if (std::getenv("KEEP_GOING_STALL_IN_ENVIRONMENT") != nullptr) {
      WaitForever();
    }
  }
  void TearDown() override {
    if (std::getenv("KEEP_GOING_STALL_IN_ENVIRONMENT_TEARDOWN") != nullptr) {
      WaitForever();
    }
  }
};
testing::Environment* const g_environment =
    testing::AddGlobalTestEnvironment(new StallingEnvironment);

// Many tests, for shuffle and shard orders.
class Many : public testing::TestWithParam<int> {};
TEST_P(Many, Passes) {}
INSTANTIATE_TEST_SUITE_P(Ten, Many, testing::Range(0, 10));

}  // namespace

// Tests that run before, at and after a stall, for --gtest_output on a stall:
// tests/integration/gtest_output_test.cc reads the XML/JSON file it leaves.
//
// GTO_STALL_AT picks where the run stalls: "test" (Hang.Blocks),
// "suite_setup" / "suite_teardown" (Phase's SetUpTestSuite /
// TearDownTestSuite), "env_setup" / "env_teardown" (the global environment).
// Unset, nothing stalls. GTO_STALL_RUN=N (with --gtest_repeat): Hang.Blocks
// stalls the Nth time it runs.
//
// GTO_DIRECT=1: instead of waiting for the watchdog, a second thread calls
// WriteGtestOutputAfterStall itself while the test thread is blocked, prints
// "gtest_output_program: wrote PATH" (or "wrote nothing") on stderr and ends
// the process with _exit(0) (3 if nothing was written). This exercises the
// function without the stall path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "gtest_watchdog/report/gtest_output.h"

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

bool StallsAt(const char* where) { return Env("GTO_STALL_AT") == where; }
bool Direct() { return Env("GTO_DIRECT") == "1"; }

// Characters the XML and JSON writers must escape, a CDATA terminator, and
// GoogleTest's stack trace marker (only the headline goes into XML's
// `message` attribute).
constexpr char kDirectMessage[] =
    "[ TIMEOUT  ] direct call <stalled> & \"quoted\" ]]> end\n"
    "Stack trace:\n"
    "  #0 BlockForever() gtest_output_program.cc";

[[noreturn]] void BlockForever() {
  std::mutex m;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(m);
  for (;;) never.wait(lock);
}

[[noreturn]] void StallHere() {
  if (Direct()) {
    std::thread([] {
      // Time in the stalled state, so the stalled test's time is not 0.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      using Kind = gtest_watchdog_internal::GtestOutputWritten::Kind;
      const gtest_watchdog_internal::GtestOutputWritten written =
          gtest_watchdog_internal::WriteGtestOutputAfterStall(kDirectMessage);
      const bool wrote = written.kind != Kind::kNone;
      const std::string line =
          written.kind == Kind::kComplete
              ? "gtest_output_program: wrote " + written.path + "\n"
          : written.kind == Kind::kMinimal
              ? "gtest_output_program: wrote a minimal " + written.path +
                    " (" + written.why + ")\n"
              : std::string("gtest_output_program: wrote nothing\n");
      (void)!write(2, line.data(), line.size());
      _exit(wrote ? 0 : 3);
    }).detach();
  }
  BlockForever();
}

class StallingEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    // Until start-up calls it: after InitGoogleTest, before any test.
    if (Direct()) gtest_watchdog_internal::PrepareGtestOutput();
    if (StallsAt("env_setup")) StallHere();
  }
  void TearDown() override {
    if (StallsAt("env_teardown")) StallHere();
  }
};
testing::Environment* const g_env =
    testing::AddGlobalTestEnvironment(new StallingEnvironment);

TEST(Before, Passes) { SUCCEED(); }

TEST(Before, Fails) { EXPECT_EQ(1, 2) << "an ordinary failure"; }

TEST(Before, Skips) { GTEST_SKIP() << "skipped on purpose"; }

// A relative --gtest_output path must not follow the program around.
TEST(Before, ChangesDirectory) { ASSERT_EQ(chdir("/"), 0); }

TEST(Hang, Blocks) {
  static int runs = 0;
  const std::string nth = Env("GTO_STALL_RUN");
  if (StallsAt("test") && ++runs >= (nth.empty() ? 1 : std::stoi(nth))) {
    StallHere();
  }
}

TEST(Hang, AfterInTheSameSuite) {}

class Phase : public testing::Test {
 public:
  static void SetUpTestSuite() {
    if (StallsAt("suite_setup")) StallHere();
  }
  static void TearDownTestSuite() {
    if (StallsAt("suite_teardown")) StallHere();
  }
};

TEST_F(Phase, First) {}

TEST_F(Phase, Second) {}

TEST(After, NeverReached) {}

TEST(After, NeverReachedEither) {}

TEST(After, DISABLED_Disabled) {}

}  // namespace

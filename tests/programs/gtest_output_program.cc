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
//
// GTO_GENERATOR_FAULT: a fault inside GoogleTest's output generator. The
// program's own fopen (which GoogleTest's generator calls, as it calls every
// libc function, through the program's symbol) hands it a stream that writes
// half of what it is given to the real file, then: "segv" writes through a
// null pointer, "hang" blocks for ever, "abort" calls abort(), "enospc"
// fails with ENOSPC (the
// generator ignores write errors and returns).
#include <dlfcn.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "gtest_watchdog/gtest_output/after_stall.h"

namespace {

ssize_t FaultyWrite(void* cookie, const char* data, size_t size) {
  const int fd = *static_cast<int*>(cookie);
  const size_t half = size / 2;
  if (write(fd, data, half) != static_cast<ssize_t>(half)) return -1;
  const char* fault = getenv("GTO_GENERATOR_FAULT");
  if (strcmp(fault, "segv") == 0) {
    // Volatile both ways: the compiler may drop a plain store through null.
    static volatile uintptr_t nowhere = 0;
    *reinterpret_cast<volatile int*>(nowhere) = 1;
  } else if (strcmp(fault, "hang") == 0) {
    for (;;) pause();
  } else if (strcmp(fault, "abort") == 0) {
    abort();
  }
  errno = ENOSPC;
  return -1;
}

int CloseFaulty(void* cookie) {
  const int fd = *static_cast<int*>(cookie);
  delete static_cast<int*>(cookie);
  return close(fd);
}

bool EndsWith(const char* s, const char* end) {
  const size_t n = strlen(s), m = strlen(end);
  return n >= m && strcmp(s + n - m, end) == 0;
}

}  // namespace

extern "C" FILE* fopen(const char* path, const char* mode) {
  using Fopen = FILE* (*)(const char*, const char*);
  static const Fopen real = reinterpret_cast<Fopen>(dlsym(RTLD_NEXT, "fopen"));
  FILE* const file = real(path, mode);
  if (file == nullptr || getenv("GTO_GENERATOR_FAULT") == nullptr ||
      mode[0] != 'w' || !(EndsWith(path, ".xml") || EndsWith(path, ".json"))) {
    return file;
  }
  int* fd = new int(dup(fileno(file)));
  fclose(file);
  return fopencookie(fd, mode, {nullptr, FaultyWrite, nullptr, CloseFaulty});
}

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
              ? "gtest_output_program: wrote a minimal " + written.path + " (" +
                    written.why + ")\n"
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

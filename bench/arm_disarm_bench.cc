// What the watchdog costs on the test's path: arming and disarming a phase
// (what the listener does around every test), with the watchdog thread
// running as in real use. Counts heap allocations made inside the timed
// loop: there must be none.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/limits.h"
#include "gtest_watchdog/watch/deadline_board.h"
#include "gtest_watchdog/watch/watchdog.h"
#include "gtest_watchdog/base/clock.h"

namespace {

namespace wi = ::gtest_watchdog_internal;

std::atomic<long> g_allocations{0};

void NoStall(wi::Action, const wi::ArmedPhase&, const wi::TotalLimit&,
             int64_t) {
  std::abort();  // a 60 s limit never expires here
}

// Board + a running watchdog thread, set up once.
struct Fixture {
  wi::DeadlineBoard board;
  wi::Watchdog watchdog{&board, int64_t{60} * 1000000000, &NoStall, nullptr};
  int tests[1000];
  Fixture() { watchdog.Start(); }
};

Fixture& Shared() {
  static auto* f = new Fixture;
  return *f;
}

// Allocations per iteration since `before`, as a benchmark counter.
benchmark::Counter AllocationsSince(long before,
                                    const benchmark::State& state) {
  return benchmark::Counter(static_cast<double>(g_allocations.load() - before) /
                            static_cast<double>(state.iterations()));
}

// One test's worth of listener work, as WatchdogListener::OnTestStart does
// it: find the test's limit (`limit_for` gets a reused name buffer) and arm
// the test phase. OnTestEnd publishes nothing but after a suite's last test.
template <typename LimitFor>
void RunTests(benchmark::State& state, LimitFor limit_for) {
  Fixture& f = Shared();
  std::string name;
  name.reserve(256);
  int i = 0;
  const long before = g_allocations.load();
  for (auto _ : state) {
    const void* test = &f.tests[i++ % 1000];
    const wi::Limit limit = limit_for(&name);
    f.board.Arm(wi::Phase::kTest, test, wi::MonotonicNowNs(), limit.ns,
                limit.origin);
  }
  state.counters["allocations_per_test"] = AllocationsSince(before, state);
}

// Without overrides or annotations: every test gets the default limit.
void BM_TestStartAndEnd(benchmark::State& state) {
  const wi::Limit limit{int64_t{60} * 1000000000, "bench"};
  RunTests(state, [&](std::string*) { return limit; });
}
BENCHMARK(BM_TestStartAndEnd);

// With three annotations and one override: the full name is built in the
// reused buffer and matched against the patterns.
void BM_TestStartAndEndWithPatterns(benchmark::State& state) {
  static wi::Options* options = new wi::Options;
  static wi::ConfigFile* file = [] {
    auto* cf = new wi::ConfigFile;
    std::string error;
    wi::ParseConfigText("[[override]]\nfilter = \"Db.*\"\ntimeout = \"5m\"\n",
                        "bench.toml", cf, &error);
    return cf;
  }();
  static wi::LimitPlan* plan = [] {
    wi::LimitPlan::Inputs in;
    in.options = options;
    in.file = file;
    in.annotations = {{"Network.*", 1e11L, "a.cc", 1},
                      {"Inst/Codec.*/*", 1e11L, "a.cc", 2},
                      {"Fuzz.Forever", 0, "a.cc", 3}};
    auto* p = new wi::LimitPlan;
    std::string error;
    p->Build(in, &error);
    return p;
  }();
  RunTests(state, [](std::string* name) {
    name->assign("Inst/Storage");
    name->push_back('.');
    name->append("ReadsBackWhatItWrote/17");
    return plan->ForTest(*name);
  });
}
BENCHMARK(BM_TestStartAndEndWithPatterns);

void BM_ArmDisarm(benchmark::State& state) {
  Fixture& f = Shared();
  const long before = g_allocations.load();
  for (auto _ : state) {
    f.board.Arm(wi::Phase::kTest, &f, wi::MonotonicNowNs(),
                int64_t{60} * 1000000000, "bench");
    f.board.Disarm();
  }
  state.counters["allocations_per_iteration"] = AllocationsSince(before, state);
}
BENCHMARK(BM_ArmDisarm);

// For scale: reading the clock, which every arm does once.
void BM_MonotonicNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(wi::MonotonicNowNs());
}
BENCHMARK(BM_MonotonicNow);

}  // namespace

// Counting allocator: every operator new in this process.
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

BENCHMARK_MAIN();

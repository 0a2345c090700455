// Healthy tests of every kind GoogleTest has — plain, fixture,
// parameterized, typed, type-parameterized, skipped, disabled — some taking
// a little time. Run under --gtest_repeat and --gtest_shuffle with a short
// limit, the watchdog must never fire: the harness expects exit status 0.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

void Work() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

TEST(Plain, Quick) { EXPECT_TRUE(true); }
TEST(Plain, TakesAMoment) { Work(); }
TEST(Plain, Skipped) { GTEST_SKIP() << "skipped on purpose"; }
TEST(Plain, DISABLED_NeverRuns) { FAIL(); }

class Fixture : public testing::Test {
 protected:
  static void SetUpTestSuite() { Work(); }
  static void TearDownTestSuite() { Work(); }
  void SetUp() override { Work(); }
  void TearDown() override { Work(); }
};
TEST_F(Fixture, One) { Work(); }
TEST_F(Fixture, Two) { SUCCEED(); }

class Param : public testing::TestWithParam<int> {};
TEST_P(Param, Sleeps) {
  std::this_thread::sleep_for(std::chrono::milliseconds(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Short, Param, testing::Values(0, 5, 10, 15));

template <typename T>
class Typed : public testing::Test {};
using Types = testing::Types<int, double, char>;
TYPED_TEST_SUITE(Typed, Types);
TYPED_TEST(Typed, DefaultIsZero) { EXPECT_EQ(TypeParam(), TypeParam(0)); }

template <typename T>
class TypeParameterized : public testing::Test {};
TYPED_TEST_SUITE_P(TypeParameterized);
TYPED_TEST_P(TypeParameterized, Works) { Work(); }
REGISTER_TYPED_TEST_SUITE_P(TypeParameterized, Works);
INSTANTIATE_TYPED_TEST_SUITE_P(My, TypeParameterized, Types);

class Environment : public testing::Environment {
 public:
  void SetUp() override { Work(); }
  void TearDown() override { Work(); }
};
testing::Environment* const g_env =
    testing::AddGlobalTestEnvironment(new Environment);

}  // namespace

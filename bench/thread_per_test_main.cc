// The obvious watchdog design, for comparison only: a new timer thread per
// test that waits on a condition variable until the test ends or its limit
// passes. This is what gtest_watchdog avoids.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace {

class ThreadPerTestListener : public testing::EmptyTestEventListener {
 public:
  void OnTestStart(const testing::TestInfo&) override {
    done_ = false;
    timer_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::seconds(60),
                        [this] { return done_; })) {
        std::abort();
      }
    });
  }
  void OnTestEnd(const testing::TestInfo&) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    timer_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread timer_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  testing::UnitTest::GetInstance()->listeners().Append(
      new ThreadPerTestListener);
  return RUN_ALL_TESTS();
}

// A test suite with one healthy test and one that deadlocks: two threads
// take two mutexes in opposite order. Run it and watch gtest_watchdog name
// the test and show where each thread is stuck.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace {

std::mutex g_accounts;
std::mutex g_audit_log;

void Transfer() {
  std::lock_guard<std::mutex> accounts(g_accounts);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard<std::mutex> audit(g_audit_log);  // waits for Audit()
}

void Audit() {
  std::lock_guard<std::mutex> audit(g_audit_log);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard<std::mutex> accounts(g_accounts);  // waits for Transfer()
}

TEST(Bank, Healthy) { EXPECT_EQ(2 + 2, 4); }

TEST(Bank, TransferWhileAuditing) {
  std::thread transfer(Transfer);
  std::thread audit(Audit);
  transfer.join();
  audit.join();
}

}  // namespace

#include "gtest_watchdog/watch/keep_going_page.h"

#include <cstring>

namespace gtest_watchdog_internal {
namespace {
std::atomic<KeepGoingPage*> g_child_page{nullptr};
}  // namespace

KeepGoingPage* ChildPage() {
  return g_child_page.load(std::memory_order_acquire);
}

void SetChildPage(KeepGoingPage* page) {
  g_child_page.store(page, std::memory_order_release);
}

void PageEnter(KeepGoingPage* page, ChildWhere where, int32_t suite_id,
               int32_t test_id, int64_t now_ns) {
  // The ids first, `where` last (release): a reader that sees `where`
  // sees the ids that go with it.
  page->suite_id.store(suite_id, std::memory_order_relaxed);
  page->test_id.store(test_id, std::memory_order_relaxed);
  page->since_ns.store(now_ns, std::memory_order_relaxed);
  if (where == ChildWhere::kTest) {
    page->tests_started.fetch_add(1, std::memory_order_relaxed);
  }
  page->where.store(static_cast<int32_t>(where), std::memory_order_release);
}

void PageKeepMessage(KeepGoingPage* page, const char* text, size_t len,
                     int32_t kind) {
  if (len > KeepGoingPage::kMessageBytes) len = KeepGoingPage::kMessageBytes;
  memcpy(page->message, text, len);
  page->message_kind.store(kind, std::memory_order_relaxed);
  page->message_bytes.store(static_cast<uint32_t>(len),
                            std::memory_order_release);
}

}  // namespace gtest_watchdog_internal

// CTest marks a test skipped when its output holds "[  SKIPPED ]"
// (gtest_discover_tests' SKIP_REGULAR_EXPRESSION), whatever its exit
// status. A failing case here prints its child's output, and a child that
// skipped a test of its own has that marker in it: the failure would show
// as a skip. This binary's printer therefore prints failure messages with
// the marker defused; its own "[  SKIPPED ] Suite.Name" lines stay.
#include <string>

#include "gtest/gtest.h"
#include "gtest_watchdog/keep_going/forwarding_listener.h"

namespace {

class DefusingPrinter : public gtest_watchdog_internal::ForwardingListener {
 public:
  using ForwardingListener::ForwardingListener;

  void OnTestPartResult(const testing::TestPartResult& r) override {
    const std::string marker = "[  SKIPPED ]";
    std::string message = r.message();
    if (message.find(marker) == std::string::npos) {
      to().OnTestPartResult(r);
      return;
    }
    for (size_t at = message.find(marker); at != std::string::npos;
         at = message.find(marker, at)) {
      message.replace(at, marker.size(), "[ (skipped) ]");
    }
    to().OnTestPartResult(testing::TestPartResult(
        r.type(), r.file_name(), r.line_number(), message.c_str()));
  }
};

// At static initialization, before gtest_main's main(): the listener list
// is a singleton's, with its default printer already in place.
const bool kWrapped = [] {
  testing::TestEventListeners& listeners =
      testing::UnitTest::GetInstance()->listeners();
  if (testing::TestEventListener* printer =
          listeners.Release(listeners.default_result_printer())) {
    listeners.Append(new DefusingPrinter(printer));
  }
  return true;
}();

}  // namespace

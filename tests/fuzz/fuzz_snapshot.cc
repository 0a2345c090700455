// libFuzzer target: ParseSnapshot (dump/snapshot.h), which the report
// helper runs on the text the stalled process wrote. The input is the
// snapshot's text.
//
// Properties, for every input:
//  - a failed parse leaves the output alone and gives a non-empty reason;
//  - a parsed snapshot has the version the writer writes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "fuzz_check.h"
#include "gtest_watchdog/dump/snapshot.h"

namespace wi = gtest_watchdog_internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(gtest_watchdog_fuzz::AsText(data, size));
  wi::Snapshot snapshot;
  snapshot.kind = "untouched";
  std::string error;
  if (!wi::ParseSnapshot(text, &snapshot, &error)) {
    FUZZ_CHECK(!error.empty() && snapshot.kind == "untouched" &&
                   snapshot.threads.empty(),
               absl::CHexEscape(text));
    return 0;
  }
  FUZZ_CHECK(snapshot.version == wi::kSnapshotVersion, absl::CHexEscape(text));
  return 0;
}

// libFuzzer target: ParseSignalList and FormatSignalSet
// (config/signal_list.h), the --gtest_watchdog_signals list. The input is
// the list's text.
//
// Properties, for every input:
//  - a failed parse leaves the output alone and gives a non-empty reason;
//  - a parsed set holds only signals 1..SIGRTMAX that can be reported (not
//    SIGKILL, SIGSTOP, the ones ignored or stopping by default, nor the C
//    library's reserved real-time ones), and is empty only for "none";
//  - the set reads back as itself from its numbers, and from
//    FormatSignalSet's names when it has no real-time signal (those are
//    printed as SIGRTMIN+N, a name the list does not take);
//  - blanks around the text change nothing.
#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fuzz_check.h"
#include "gtest_watchdog/config/signal_list.h"

namespace wi = gtest_watchdog_internal;

namespace {

constexpr wi::SignalSet kSentinel = 0x5a5a5a5a5a5a5a5a;

bool Reportable(int sig) {
  switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return false;
    default:
      return sig >= 1 && sig <= SIGRTMAX && !(sig >= 32 && sig < SIGRTMIN);
  }
}

bool Parse(absl::string_view text, wi::SignalSet* out) {
  wi::SignalSet set = kSentinel;
  std::string why;
  if (!wi::ParseSignalList(text, &set, &why)) {
    FUZZ_CHECK(set == kSentinel && !why.empty(), absl::CHexEscape(text));
    return false;
  }
  for (int sig = 1; sig <= 64; ++sig) {
    FUZZ_CHECK(!wi::HasSignal(set, sig) || Reportable(sig),
               absl::StrCat(absl::CHexEscape(text), ": signal ", sig));
  }
  *out = set;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = gtest_watchdog_fuzz::AsText(data, size);
  const std::string shown = absl::CHexEscape(text);
  wi::SignalSet set = 0;
  const bool ok = Parse(text, &set);

  wi::SignalSet padded = 0;
  FUZZ_CHECK(Parse(absl::StrCat(" ", text, "\t"), &padded) == ok, shown);
  if (!ok) return 0;
  FUZZ_CHECK(padded == set, shown);

  if (set == 0) {
    FUZZ_CHECK(
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(text)) == "none",
        shown);
    return 0;
  }

  std::vector<int> numbers;
  bool real_time = false;
  for (int sig = 1; sig <= 64; ++sig) {
    if (!wi::HasSignal(set, sig)) continue;
    numbers.push_back(sig);
    real_time = real_time || sig >= SIGRTMIN;
  }
  wi::SignalSet again = 0;
  const std::string by_number = absl::StrJoin(numbers, ",");
  FUZZ_CHECK(Parse(by_number, &again) && again == set,
             absl::StrCat(shown, " -> ", by_number));

  const std::string formatted = wi::FormatSignalSet(set);
  FUZZ_CHECK(!formatted.empty(), shown);
  if (!real_time) {
    again = 0;
    FUZZ_CHECK(Parse(formatted, &again) && again == set,
               absl::StrCat(shown, " -> ", formatted));
  }
  return 0;
}

#include "gtest_watchdog/config/signal_list.h"

#include <signal.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/base/signal_name.h"

namespace gtest_watchdog_internal {
namespace {

// Why a signal cannot be chosen, or "" if it can.
const char* Refusal(int sig) {
  switch (sig) {
    case SIGKILL:
    case SIGSTOP:
      return "it cannot be caught";
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
      return "its default action is to ignore it: it never ends the process";
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return "its default action stops the process instead of ending it";
    default:
      // glibc's threads use the first real-time signals itself.
      return sig >= 32 && sig < SIGRTMIN ? "the C library reserves it" : "";
  }
}

// "SIGTERM", "TERM", "sigterm" or "15" -> 15; 0 if unknown.
int SignalFromText(const std::string& item) {
  int number = 0;
  if (absl::SimpleAtoi(item, &number)) {
    return number >= 1 && number <= SIGRTMAX ? number : 0;
  }
  std::string name = absl::AsciiStrToUpper(item);
  if (name.rfind("SIG", 0) != 0) name = "SIG" + name;
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    if (name == SignalName(sig)) return sig;
  }
  return 0;
}

}  // namespace

SignalSet DefaultSignals() {
  return SignalBit(SIGSEGV) | SignalBit(SIGBUS) | SignalBit(SIGFPE) |
         SignalBit(SIGILL) | SignalBit(SIGABRT) | SignalBit(SIGQUIT);
}

bool ParseSignalList(absl::string_view text, SignalSet* out, std::string* why) {
  constexpr char kAccepted[] =
      "expected a comma-separated list of signal names or numbers, "
      "'default' (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT) or "
      "'none', e.g. default,SIGTERM";
  const std::vector<std::string> items =
      absl::StrSplit(text, ',', absl::AllowEmpty());
  SignalSet set = 0;
  bool none = false;
  for (const std::string& raw : items) {
    const std::string item(absl::StripAsciiWhitespace(raw));
    const std::string lower = absl::AsciiStrToLower(item);
    if (item.empty()) {
      *why =
          absl::StrCat(items.size() == 1 ? "it is empty" : "an item is empty",
                       "; ", kAccepted);
      return false;
    }
    if (lower == "none") {
      none = true;
    } else if (lower == "default") {
      set |= DefaultSignals();
    } else {
      const int sig = SignalFromText(item);
      if (sig == 0) {
        *why = absl::StrCat("'", item, "' is not a signal; ", kAccepted);
        return false;
      }
      const char* refusal = Refusal(sig);
      if (*refusal != '\0') {
        *why = absl::StrCat(SignalName(sig), " cannot be used: ", refusal);
        return false;
      }
      set |= SignalBit(sig);
    }
  }
  if (none && items.size() > 1) {
    *why =
        absl::StrCat("'none' cannot be combined with other items; ", kAccepted);
    return false;
  }
  *out = none ? 0 : set;
  return true;
}

std::string FormatSignalSet(SignalSet set) {
  std::vector<std::string> names;
  for (int sig = 1; sig <= 64; ++sig) {
    if (HasSignal(set, sig)) names.push_back(SignalName(sig));
  }
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/report/color_choice.h"

#include <strings.h>

#include <cstring>
#include <initializer_list>

namespace gtest_watchdog_internal {

bool ReportUsesColor(const char* gtest_color, const char* no_color,
                     const char* term, bool stderr_is_tty) {
  const char* c = gtest_color != nullptr ? gtest_color : "auto";
  // GoogleTest's spellings: an explicit choice beats NO_COLOR, as
  // no-color.org asks of command-line options.
  for (const char* yes : {"yes", "true", "t", "1"}) {
    if (strcasecmp(c, yes) == 0) return true;
  }
  if (strcasecmp(c, "auto") != 0) return false;
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return stderr_is_tty && term != nullptr && term[0] != '\0' &&
         strcmp(term, "dumb") != 0;
}

}  // namespace gtest_watchdog_internal

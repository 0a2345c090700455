// A library a test puts in LD_PRELOAD mid-run (helper_trust_program): any
// process that loads it says so and exits at once, before its own code
// runs. A report helper that loaded it would produce no report.
#include <unistd.h>

namespace {

__attribute__((constructor)) void EndThisProcess() {
  static const char kSay[] =
      "hostile_preload: loaded by a process started after the test set "
      "LD_PRELOAD\n";
  (void)!write(2, kSay, sizeof(kSay) - 1);
  _exit(97);
}

}  // namespace

// Tests for the signal list (config/signal_list.h) and the signal names and
// codes the reports print (dump/signal_info.h).
#include "gtest_watchdog/config/signal_list.h"

#include <signal.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/dump/signal_info.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;

SignalSet MustParse(const std::string& text) {
  SignalSet set = ~SignalSet{0};
  std::string why;
  EXPECT_TRUE(ParseSignalList(text, &set, &why)) << text << ": " << why;
  return set;
}

std::string ErrorOf(const std::string& text) {
  SignalSet set = 12345;
  std::string why;
  EXPECT_FALSE(ParseSignalList(text, &set, &why)) << text;
  EXPECT_EQ(set, 12345u) << "left alone on error";
  return why;
}

TEST(SignalList, DefaultIsTheCrashesAndSigquit) {
  EXPECT_EQ(FormatSignalSet(DefaultSignals()),
            "SIGQUIT, SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV");
  EXPECT_EQ(MustParse("default"), DefaultSignals());
  EXPECT_FALSE(HasSignal(DefaultSignals(), SIGTERM));
}

TEST(SignalList, NamesWithOrWithoutSigAnyCaseAndNumbers) {
  const SignalSet term = SignalBit(SIGTERM);
  EXPECT_EQ(MustParse("SIGTERM"), term);
  EXPECT_EQ(MustParse("TERM"), term);
  EXPECT_EQ(MustParse("sigterm"), term);
  EXPECT_EQ(MustParse(" 15 "), term);
  EXPECT_EQ(MustParse("default,SIGTERM, usr1"),
            DefaultSignals() | term | SignalBit(SIGUSR1));
  EXPECT_EQ(MustParse("SIGTERM,SIGTERM"), term);
  // A real-time signal by number (CTest and others may pick one).
  EXPECT_EQ(MustParse(std::to_string(SIGRTMIN + 1)), SignalBit(SIGRTMIN + 1));
}

TEST(SignalList, NoneIsEmptyAndAlone) {
  EXPECT_EQ(MustParse("none"), 0u);
  EXPECT_EQ(MustParse("NONE"), 0u);
  EXPECT_EQ(FormatSignalSet(0), "none");
  EXPECT_THAT(ErrorOf("none,SIGTERM"), HasSubstr("'none' cannot be combined"));
}

TEST(SignalList, ErrorsNameTheCulprit) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("it is empty"));
  EXPECT_THAT(ErrorOf("default,,SIGTERM"), HasSubstr("an item is empty"));
  EXPECT_THAT(ErrorOf("SIGBANANA"), HasSubstr("'SIGBANANA' is not a signal"));
  EXPECT_THAT(ErrorOf("0"), HasSubstr("'0' is not a signal"));
  EXPECT_THAT(ErrorOf("65"), HasSubstr("'65' is not a signal"));
  EXPECT_THAT(ErrorOf("-3"), HasSubstr("'-3' is not a signal"));
  EXPECT_THAT(ErrorOf("SIGKILL"),
              HasSubstr("SIGKILL cannot be used: it cannot be caught"));
  EXPECT_THAT(ErrorOf("stop"), HasSubstr("SIGSTOP cannot be used"));
  EXPECT_THAT(ErrorOf("SIGCHLD"), HasSubstr("never ends the process"));
  EXPECT_THAT(ErrorOf("SIGWINCH"), HasSubstr("never ends the process"));
  EXPECT_THAT(ErrorOf("SIGTSTP"), HasSubstr("stops the process"));
  EXPECT_THAT(ErrorOf("32"), HasSubstr("the C library reserves it"));
  // Every error says what is accepted.
  EXPECT_THAT(ErrorOf("SIGBANANA"), HasSubstr("e.g. default,SIGTERM"));
}

TEST(SignalInfo, NamesAndCodes) {
  EXPECT_STREQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_STREQ(SignalName(SIGQUIT), "SIGQUIT");
  EXPECT_STREQ(SignalName(34), "SIGRTMIN+2");
  EXPECT_STREQ(SignalName(0), "SIG?");
  EXPECT_STREQ(SignalName(99), "SIG?");
  EXPECT_STREQ(SignalCodeText(SIGSEGV, SEGV_MAPERR),
               "address not mapped to object");
  EXPECT_STREQ(SignalCodeText(SIGFPE, FPE_INTDIV), "integer divide by zero");
  EXPECT_STREQ(SignalCodeText(SIGBUS, BUS_ADRERR),
               "nonexistent physical address (a file mapped past its end?)");
  EXPECT_STREQ(SignalCodeText(SIGILL, ILL_ILLOPC), "illegal opcode");
  EXPECT_STREQ(SignalCodeText(SIGABRT, SI_TKILL),
               "abort() or raise() in this process");
  EXPECT_STREQ(SignalCodeText(SIGQUIT, SI_USER), "sent by kill()");
  EXPECT_STREQ(SignalCodeText(SIGSEGV, 999), "");
}

TEST(SignalInfo, FaultsAndSenders) {
  EXPECT_TRUE(IsFault(SIGSEGV, SEGV_MAPERR));
  EXPECT_TRUE(IsFault(SIGFPE, FPE_INTDIV));
  EXPECT_FALSE(IsFault(SIGSEGV, SI_USER));  // kill -SEGV: no fault address
  EXPECT_FALSE(IsFault(SIGABRT, SI_TKILL));
  EXPECT_TRUE(HasSender(SI_USER));
  EXPECT_TRUE(HasSender(SI_TKILL));
  EXPECT_FALSE(HasSender(SEGV_MAPERR));
  EXPECT_FALSE(HasSender(SI_KERNEL));
}

TEST(SignalInfo, StackOverflowIsAFaultJustBelowTheStackPointer) {
  const uint64_t sp = 0x7ffd00010000;
  EXPECT_TRUE(LooksLikeStackOverflow(SIGSEGV, sp - 8, sp));
  EXPECT_TRUE(LooksLikeStackOverflow(SIGSEGV, sp - 60000, sp));
  EXPECT_TRUE(LooksLikeStackOverflow(SIGSEGV, sp, sp));
  EXPECT_FALSE(LooksLikeStackOverflow(SIGSEGV, 0, sp));  // null pointer
  EXPECT_FALSE(LooksLikeStackOverflow(SIGSEGV, sp - 1000000, sp));
  EXPECT_FALSE(LooksLikeStackOverflow(SIGSEGV, sp + 4096, sp));
  EXPECT_FALSE(LooksLikeStackOverflow(SIGBUS, sp - 8, sp));
  EXPECT_FALSE(LooksLikeStackOverflow(SIGSEGV, sp - 8, 0));
}

// The call a signal interrupted, from the registers the signal frame saved.
TEST(InterruptedSyscallTest, RestartableCallIsBackOnItsSyscallInstruction) {
  InterruptedState st;
  st.rip = 0x1002;
  st.rax = 45;  // recvfrom, to be restarted
  for (int i = 0; i < 6; ++i) st.args[i] = 10 + i;
  const unsigned char code[4] = {0x90, 0x90, 0x0f, 0x05};
  memcpy(st.code, code, 4);
  st.readable = true;
  long nr = 0;
  uint64_t args[6];
  InterruptedSyscall(st, &nr, args);
  EXPECT_EQ(nr, 45);
  EXPECT_EQ(args[0], 10u);
  EXPECT_EQ(args[5], 15u);
}

TEST(InterruptedSyscallTest, CallThatReturnsEintrIsUnknown) {
  InterruptedState st;
  st.rax = -4;  // -EINTR: a sleep, poll, a timed futex
  const unsigned char code[4] = {0x0f, 0x05, 0x48, 0x3d};
  memcpy(st.code, code, 4);
  st.readable = true;
  long nr = 0;
  uint64_t args[6] = {1, 1, 1, 1, 1, 1};
  InterruptedSyscall(st, &nr, args);
  EXPECT_EQ(nr, -3);
  EXPECT_EQ(args[0], 0u);
}

TEST(InterruptedSyscallTest, UserCodeIsRunning) {
  InterruptedState st;
  st.rax = 45;
  const unsigned char code[4] = {0x48, 0x89, 0xc7, 0xe8};
  memcpy(st.code, code, 4);
  st.readable = true;
  long nr = 0;
  uint64_t args[6];
  InterruptedSyscall(st, &nr, args);
  EXPECT_EQ(nr, -2);
  // A syscall that just returned a result (not -EINTR) is past: running.
  const unsigned char after[4] = {0x0f, 0x05, 0x48, 0x3d};
  memcpy(st.code, after, 4);
  st.rax = 0;
  InterruptedSyscall(st, &nr, args);
  EXPECT_EQ(nr, -2);
  // Unreadable code: nothing known.
  st.readable = false;
  InterruptedSyscall(st, &nr, args);
  EXPECT_EQ(nr, -3);
}

}  // namespace
}  // namespace gtest_watchdog_internal

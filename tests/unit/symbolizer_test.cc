// Copyright 2024 The gtest_watchdog Authors.
//
// Symbolizes addresses of this very test process. The targets below are
// built with the project's RelWithDebInfo flags (-O2 -g), so the inlining and
// line assertions exercise real optimized DWARF.

#include "gtest_watchdog/symbolize/symbolizer.h"

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

// noclone keeps GCC from emitting ".constprop"/".isra" copies whose names
// would differ from the source; clang has no such clones (nor the attribute).
#if defined(__clang__)
#define SYMBOLIZER_TEST_NOINLINE __attribute__((noinline))
#else
#define SYMBOLIZER_TEST_NOINLINE __attribute__((noinline, noclone))
#endif

// Stops the compiler from turning a final call into a tail jump, which would
// make the recorded return address point into the caller's caller.
#define SYMBOLIZER_TEST_NO_TAIL_CALL() asm volatile("" ::: "memory")

namespace symbolizer_test {

// Filled in by RecordReturnAddress(); volatile so the stores are not elided.
volatile uintptr_t g_return_address = 0;
volatile int g_inner_line = 0;
volatile int g_outer_line = 0;

SYMBOLIZER_TEST_NOINLINE void RecordReturnAddress(int inner_line,
                                                  int outer_line) {
  g_return_address = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  g_inner_line = inner_line;
  g_outer_line = outer_line;
  SYMBOLIZER_TEST_NO_TAIL_CALL();
}

SYMBOLIZER_TEST_NOINLINE void DirectCaller() {
  RecordReturnAddress(__LINE__, 0);
  SYMBOLIZER_TEST_NO_TAIL_CALL();
}

// Internal linkage on purpose: GCC emits no DW_AT_linkage_name for these.
static inline __attribute__((always_inline)) void InlinedHelper(
    int outer_line) {
  RecordReturnAddress(__LINE__, outer_line);
}

namespace {

SYMBOLIZER_TEST_NOINLINE void OuterOfInline() {
  InlinedHelper(__LINE__);
  SYMBOLIZER_TEST_NO_TAIL_CALL();
}

}  // namespace

void CallOuterOfInline() { OuterOfInline(); }

}  // namespace symbolizer_test

// C linkage: no mangled name at all, so no parameter list is expected.
extern "C" SYMBOLIZER_TEST_NOINLINE void SymbolizerTestCFunction() {
  symbolizer_test::RecordReturnAddress(__LINE__, 0);
  SYMBOLIZER_TEST_NO_TAIL_CALL();
}

namespace gtest_watchdog_internal {

// Readable failure messages (found by gtest through ADL).
void PrintTo(const SourceFrame& frame, std::ostream* os) {
  *os << (frame.inlined ? "[inlined] " : "") << frame.function << " at "
      << frame.file << ":" << frame.line << ":" << frame.column << " ("
      << frame.module << "+0x" << std::hex << frame.module_offset << std::dec
      << ")";
}

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::unique_ptr<Symbolizer> SelfSymbolizer() {
  std::string error;
  std::unique_ptr<Symbolizer> symbolizer =
      Symbolizer::ForProcess(getpid(), &error);
  EXPECT_NE(symbolizer, nullptr) << error;
  return symbolizer;
}

TEST(SymbolizerTest, NoinlineFunctionHasNameFileAndLine) {
  symbolizer_test::DirectCaller();
  const uint64_t pc = symbolizer_test::g_return_address - 1;
  const int line = symbolizer_test::g_inner_line;

  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  const std::vector<SourceFrame>& frames = symbolizer->Symbolize(pc);

  ASSERT_THAT(frames, SizeIs(1));
  EXPECT_EQ(frames[0].function, "symbolizer_test::DirectCaller()");
  EXPECT_EQ(Basename(frames[0].file), "symbolizer_test.cc");
  EXPECT_EQ(frames[0].file[0], '/') << frames[0].file;
  EXPECT_EQ(frames[0].line, line);
  EXPECT_FALSE(frames[0].inlined);

  // The module is this executable; the offset is relative to its load base.
  char exe[PATH_MAX] = {};
  ASSERT_GT(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
  EXPECT_EQ(frames[0].module, exe);
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(pc), &info), 0);
  EXPECT_EQ(frames[0].module_offset,
            pc - reinterpret_cast<uintptr_t>(info.dli_fbase));
}

TEST(SymbolizerTest, CFunctionHasPlainName) {
  SymbolizerTestCFunction();
  const uint64_t pc = symbolizer_test::g_return_address - 1;
  const int line = symbolizer_test::g_inner_line;

  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  const std::vector<SourceFrame>& frames = symbolizer->Symbolize(pc);

  ASSERT_THAT(frames, SizeIs(1));
  EXPECT_EQ(frames[0].function, "SymbolizerTestCFunction");
  EXPECT_EQ(Basename(frames[0].file), "symbolizer_test.cc");
  EXPECT_EQ(frames[0].line, line);
}

TEST(SymbolizerTest, InlinedFramesComeInnermostFirst) {
  symbolizer_test::CallOuterOfInline();
  const uint64_t pc = symbolizer_test::g_return_address - 1;
  const int inner_line = symbolizer_test::g_inner_line;
  const int outer_line = symbolizer_test::g_outer_line;

  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  const std::vector<SourceFrame>& frames = symbolizer->Symbolize(pc);

  ASSERT_THAT(frames, SizeIs(2));
  // No parameter list: neither a linkage name (internal linkage) nor a
  // symbol (inlined) records it.
  EXPECT_THAT(frames[0].function, StartsWith("symbolizer_test::InlinedHelper"));
  EXPECT_TRUE(frames[0].inlined);
  EXPECT_EQ(Basename(frames[0].file), "symbolizer_test.cc");
  EXPECT_EQ(frames[0].line, inner_line);

  EXPECT_EQ(frames[1].function,
            "symbolizer_test::(anonymous namespace)::OuterOfInline()");
  EXPECT_FALSE(frames[1].inlined);
  EXPECT_EQ(Basename(frames[1].file), "symbolizer_test.cc");
  EXPECT_EQ(frames[1].file[0], '/') << frames[1].file;
  EXPECT_EQ(frames[1].line, outer_line);
  EXPECT_GT(frames[1].column, 0);

  // Both frames describe the same machine address.
  EXPECT_EQ(frames[0].module, frames[1].module);
  EXPECT_EQ(frames[0].module_offset, frames[1].module_offset);
}

TEST(SymbolizerTest, LibcAddressNamesModuleAndFunction) {
  // dlsym() yields libc's own getpid, not a PLT stub in this executable.
  void* getpid_address = dlsym(RTLD_DEFAULT, "getpid");
  ASSERT_NE(getpid_address, nullptr);
  const uint64_t pc = reinterpret_cast<uintptr_t>(getpid_address);

  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  const std::vector<SourceFrame>& frames = symbolizer->Symbolize(pc);

  ASSERT_THAT(frames, Not(IsEmpty()));
  EXPECT_THAT(frames.back().module, HasSubstr("libc.so"));
  EXPECT_THAT(frames.back().function, HasSubstr("getpid"));
  Dl_info info;
  ASSERT_NE(dladdr(getpid_address, &info), 0);
  EXPECT_EQ(frames.back().module_offset,
            pc - reinterpret_cast<uintptr_t>(info.dli_fbase));
}

TEST(SymbolizerTest, GarbageAddressesGiveOneEmptyFrame) {
  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  int on_stack = 0;
  const auto on_heap = std::make_unique<int>(0);
  // ~0 lies above every module: dwfl_addrmodule() alone would report the
  // highest one (ld.so) for it.
  for (uint64_t pc :
       {uint64_t{0}, uint64_t{1}, uint64_t{0xdeadbeef}, ~uint64_t{0},
        uint64_t{reinterpret_cast<uintptr_t>(&on_stack)},
        uint64_t{reinterpret_cast<uintptr_t>(on_heap.get())}}) {
    const std::vector<SourceFrame>& frames = symbolizer->Symbolize(pc);
    ASSERT_THAT(frames, SizeIs(1)) << pc;
    EXPECT_THAT(frames[0].function, IsEmpty()) << pc;
    EXPECT_THAT(frames[0].module, IsEmpty()) << pc;
    EXPECT_EQ(frames[0].line, 0) << pc;
  }
}

TEST(SymbolizerTest, ResultsAreCachedPerAddress) {
  symbolizer_test::DirectCaller();
  const uint64_t pc = symbolizer_test::g_return_address - 1;

  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  const std::vector<SourceFrame>& first = symbolizer->Symbolize(pc);
  const std::vector<SourceFrame> copy = first;
  // Other lookups must not invalidate or change the cached entry.
  symbolizer->Symbolize(1);
  symbolizer->Symbolize(pc + 1);
  const std::vector<SourceFrame>& second = symbolizer->Symbolize(pc);
  EXPECT_EQ(&first, &second);
  ASSERT_EQ(second.size(), copy.size());
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(second[i].function, copy[i].function);
    EXPECT_EQ(second[i].file, copy[i].file);
    EXPECT_EQ(second[i].line, copy[i].line);
    EXPECT_EQ(second[i].module_offset, copy[i].module_offset);
  }
}

// The production setup: a forked helper symbolizes its parent's addresses.
TEST(SymbolizerTest, ChildSymbolizesParentProcess) {
  symbolizer_test::DirectCaller();
  const uint64_t pc = symbolizer_test::g_return_address - 1;
  const int line = symbolizer_test::g_inner_line;

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    std::string error;
    std::unique_ptr<Symbolizer> symbolizer =
        Symbolizer::ForProcess(getppid(), &error);
    std::string result = "error: " + error;
    if (symbolizer != nullptr) {
      const SourceFrame& frame = symbolizer->Symbolize(pc).back();
      result = frame.function + "@" + Basename(frame.file) + ":" +
               std::to_string(frame.line);
    }
    const ssize_t written = write(fds[1], result.data(), result.size());
    _exit(written == static_cast<ssize_t>(result.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string result;
  char buffer[256];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0)
    result.append(buffer, n);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(result, "symbolizer_test::DirectCaller()@symbolizer_test.cc:" +
                        std::to_string(line));
}

TEST(SymbolizerTest, NonexistentProcessFails) {
  // Linux pids never exceed 2^22, so INT_MAX names no process.
  std::string error;
  EXPECT_EQ(Symbolizer::ForProcess(INT_MAX, &error), nullptr);
  EXPECT_THAT(error, Not(IsEmpty()));
}

}  // namespace
}  // namespace gtest_watchdog_internal

#include <mutex>

// Data objects for Symbolizer::DataSymbolName(), e.g. locks named after their
// variables.
namespace symbolizer_test_data {

std::mutex g_mutex;  // constexpr-constructed: in .bss
struct Pair {
  long first;
  std::mutex second;
};
Pair g_pair = {1, {}};  // in .data
// Large enough that its end lies beyond the file-backed pages of the
// executable, in the anonymous mapping that holds the rest of .bss.
char g_big[1 << 20];

SYMBOLIZER_TEST_NOINLINE std::mutex* StaticLocalMutex() {
  static std::mutex local;
  return &local;
}

}  // namespace symbolizer_test_data

namespace gtest_watchdog_internal {
namespace {

uint64_t AddressOf(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(SymbolizerTest, DataSymbolNameNamesGlobalsAndStaticLocals) {
  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  using symbolizer_test_data::g_big;
  using symbolizer_test_data::g_mutex;
  using symbolizer_test_data::g_pair;
  EXPECT_EQ(symbolizer->DataSymbolName(AddressOf(&g_mutex)),
            "symbolizer_test_data::g_mutex");
  // Anywhere inside the object, e.g. a member.
  EXPECT_EQ(symbolizer->DataSymbolName(AddressOf(&g_pair.second)),
            "symbolizer_test_data::g_pair");
  EXPECT_EQ(symbolizer->DataSymbolName(AddressOf(&g_big[sizeof(g_big) - 1])),
            "symbolizer_test_data::g_big");
  EXPECT_EQ(symbolizer->DataSymbolName(
                AddressOf(symbolizer_test_data::StaticLocalMutex())),
            "symbolizer_test_data::StaticLocalMutex()::local");
}

TEST(SymbolizerTest, DataSymbolNameIsEmptyOutsideDataObjects) {
  std::unique_ptr<Symbolizer> symbolizer = SelfSymbolizer();
  ASSERT_NE(symbolizer, nullptr);
  std::mutex on_stack;
  const auto on_heap = std::make_unique<std::mutex>();
  EXPECT_EQ(symbolizer->DataSymbolName(AddressOf(&on_stack)), "");
  EXPECT_EQ(symbolizer->DataSymbolName(AddressOf(on_heap.get())), "");
  EXPECT_EQ(symbolizer->DataSymbolName(0), "");
  EXPECT_EQ(symbolizer->DataSymbolName(~uint64_t{0}), "");
  // A function is a symbol, but not a data object.
  EXPECT_EQ(symbolizer->DataSymbolName(AddressOf(
                reinterpret_cast<const void*>(&symbolizer_test::DirectCaller))),
            "");
}

}  // namespace
}  // namespace gtest_watchdog_internal

// Tests for the snapshot text format (gtest_watchdog/dump/snapshot.h):
// WriteSnapshot to a real file descriptor, ParseSnapshot back.

#include "gtest_watchdog/dump/snapshot.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// Writes the snapshot into a memfd and returns the bytes written.
std::string WriteToString(const SnapshotHeader& header,
                          const SnapshotThreadIn* threads, int count) {
  const int fd = memfd_create("snapshot_test", MFD_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "memfd_create: " << strerror(errno);
    return "";
  }
  WriteSnapshot(fd, header, threads, count);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = pread(fd, buf, sizeof(buf), static_cast<off_t>(text.size()))) >
         0) {
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

void SetName(KernelThreadInfo* k, const char* name) {
  strncpy(k->name, name, sizeof(k->name) - 1);
}
void SetWchan(KernelThreadInfo* k, const char* wchan) {
  strncpy(k->wchan, wchan, sizeof(k->wchan) - 1);
}

class SnapshotRoundTripTest : public ::testing::Test {
 protected:
  SnapshotRoundTripTest() {
    header_ = TimeoutHeader("Suite/Param.Name/3", "Suite/Param", 1'500'000'000,
                            1'623'456'789);
    header_.pid = 4242;
    header_.test_tid = 4242;
    header_.watchdog_tid = 4250;

    // The test thread: stack taken, inside futex.
    test_.tid = 4242;
    test_.state = 'S';
    SetName(&test_, "unit tests");
    SetWchan(&test_, "futex_wait_queue");
    test_.syscall_nr = 202;
    const uint64_t args[6] = {0x55d0c0a0e0a0,    0x80, 0x2, 0x0, 0x0,
                              0xffffffffffffffff};
    memcpy(test_.syscall_args, args, sizeof(args));
    test_.sp = 0x7ffd00;
    test_.pc = 0x7f0011;
    test_.sig_blocked = 0x10000;
    test_stack_.tid = 4242;
    test_stack_.depth = 3;
    test_stack_.truncated = true;
    test_stack_.pcs[0] = 0x7f0011;
    test_stack_.pcs[1] = 0x55d0c0001234;
    test_stack_.pcs[2] = 0x55d0c0005678;

    // A thread that blocks every signal: kernel data only.
    blocked_.tid = 4243;
    blocked_.state = 'S';
    SetName(&blocked_, "blocker");
    blocked_.syscall_nr = 35;
    blocked_.pc = 0x7f00aa;
    blocked_.sig_blocked = 0xfffffffe7ffbfeff;

    // The watchdog itself, running.
    self_.tid = 4250;
    self_.state = 'R';
    SetName(&self_, "gtest_watchdog");
    self_.syscall_nr = kSyscallRunning;

    // A thread that exited: defaults only.
    gone_.tid = 4251;
    gone_.gone = true;

    threads_ = {
        {&test_, &test_stack_, StackStatus::kOk},
        {&blocked_, nullptr, StackStatus::kSignalsBlocked},
        {&self_, nullptr, StackStatus::kSelf},
        {&gone_, nullptr, StackStatus::kExited},
    };
  }

  SnapshotHeader header_;
  KernelThreadInfo test_, blocked_, self_, gone_;
  ThreadStack test_stack_;
  std::vector<SnapshotThreadIn> threads_;
};

TEST_F(SnapshotRoundTripTest, HeaderFields) {
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  EXPECT_THAT(text, StartsWith("gtest_watchdog-snapshot 5\n"));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error << "\n" << text;
  EXPECT_EQ(snap.version, kSnapshotVersion);
  EXPECT_EQ(snap.kind, "timeout");
  EXPECT_EQ(snap.phase_id, "test");
  EXPECT_EQ(snap.test_name, "Suite/Param.Name/3");
  EXPECT_EQ(snap.suite_name, "Suite/Param");
  EXPECT_EQ(snap.limit_origin, "--gtest_watchdog_timeout");
  EXPECT_EQ(snap.limit_ns, 1'500'000'000);
  EXPECT_EQ(snap.elapsed_ns, 1'623'456'789);
  EXPECT_EQ(snap.pid, 4242);
  EXPECT_EQ(snap.test_tid, 4242);
  EXPECT_EQ(snap.watchdog_tid, 4250);
  ASSERT_EQ(snap.threads.size(), 4u);
}

TEST_F(SnapshotRoundTripTest, SignalFields) {
  header_.kind = "crash";
  header_.signal = SignalFacts{SIGSEGV, SEGV_MAPERR, 0xdeadbeef000,  0,
                               0,       4243,        0x7ffd12345678, true};
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error << "\n" << text;
  EXPECT_EQ(snap.kind, "crash");
  EXPECT_EQ(snap.signal.signo, 11);
  EXPECT_EQ(snap.signal.code, 1);
  EXPECT_EQ(snap.signal.fault_addr, 0xdeadbeef000u);
  EXPECT_EQ(snap.signal.sender_pid, 0);
  EXPECT_EQ(snap.signal.tid, 4243);
  EXPECT_EQ(snap.signal.sp, 0x7ffd12345678u);
  EXPECT_TRUE(snap.signal.to_previous_handler);
  ASSERT_EQ(snap.threads.size(), 4u);

  // A signal sent by another process: its sender, no fault address.
  header_.kind = "signal";
  header_.signal = SignalFacts{SIGQUIT, SI_USER, 0, 777, 1000, 4243, 0, false};
  ASSERT_TRUE(
      ParseSnapshot(WriteToString(header_, threads_.data(), 1), &snap, &error))
      << error;
  EXPECT_EQ(snap.signal.signo, 3);
  EXPECT_EQ(snap.signal.sender_pid, 777);
  EXPECT_EQ(snap.signal.sender_uid, 1000);
  EXPECT_FALSE(snap.signal.to_previous_handler);
}

TEST_F(SnapshotRoundTripTest, NoSignalLineForATimeout) {
  const std::string text = WriteToString(header_, threads_.data(), 1);
  EXPECT_THAT(text, Not(HasSubstr("\nsignal ")));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_EQ(snap.signal.signo, 0);
}

// Where each answering thread's struct pthread is (joins on glibc 2.43 wait
// on a word inside the joined thread's): only with a stack.
TEST_F(SnapshotRoundTripTest, ThreadPointerOfAnsweringThreads) {
  test_stack_.thread_pointer = 0x7f12345678c0;
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error << "\n" << text;
  ASSERT_EQ(snap.threads.size(), 4u);
  EXPECT_EQ(snap.threads[0].thread_pointer, 0x7f12345678c0u);
  EXPECT_EQ(snap.threads[1].thread_pointer, 0u);
}

TEST_F(SnapshotRoundTripTest, ColourJsonPathAndFutexWindow) {
  header_.color = true;
  // Spaces, a newline and non-ASCII bytes survive the line-based format.
  header_.json_report = "/tmp/a dir/r\xc3\xa9port\n.json";
  FutexWindow fw;
  fw.base = 0x55d0c0a0e090;
  fw.size = kFutexWindowSize;
  for (int i = 0; i < fw.size; ++i)
    fw.bytes[i] = static_cast<unsigned char>(i * 7);
  threads_[0].futex = &fw;
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error << "\n" << text;
  EXPECT_TRUE(snap.color);
  EXPECT_EQ(snap.json_report, "/tmp/a dir/r\xc3\xa9port\n.json");
  ASSERT_EQ(snap.threads.size(), 4u);
  EXPECT_EQ(snap.threads[0].futex_base, 0x55d0c0a0e090u);
  ASSERT_EQ(snap.threads[0].futex_bytes.size(), size_t{kFutexWindowSize});
  EXPECT_EQ(snap.threads[0].futex_bytes[3], 21);
  EXPECT_EQ(snap.threads[0].futex_bytes[63],
            static_cast<unsigned char>(63 * 7));
  EXPECT_TRUE(snap.threads[1].futex_bytes.empty());
}

TEST(ParseSnapshotTest, BadHexInJsonPathIsAnError) {
  std::string text = "gtest_watchdog-snapshot 5\njson_report 2g\nend\n";
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, HasSubstr("json_report"));
}

TEST_F(SnapshotRoundTripTest, CpuUseBetweenTheSamples) {
  test_.cpu_ns = 245'000'000;
  test_.queued_ns = 3'000'000;
  test_.wakeups = 0;
  test_.interval_ns = 250'100'000;
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_EQ(snap.threads[0].cpu_ns, 245'000'000);
  EXPECT_EQ(snap.threads[0].queued_ns, 3'000'000);
  EXPECT_EQ(snap.threads[0].wakeups, 0);
  EXPECT_EQ(snap.threads[0].interval_ns, 250'100'000);
  // Not measured stays "not measured".
  EXPECT_EQ(snap.threads[1].cpu_ns, -1);
  EXPECT_EQ(snap.threads[1].wakeups, -1);
  EXPECT_EQ(snap.threads[1].interval_ns, -1);
}

TEST_F(SnapshotRoundTripTest, ThreadWithStack) {
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error << "\n" << text;
  ASSERT_EQ(snap.threads.size(), 4u);
  const SnapshotThread& t = snap.threads[0];
  EXPECT_EQ(t.tid, 4242);
  EXPECT_EQ(t.state, 'S');
  EXPECT_EQ(t.status, StackStatus::kOk);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.syscall_nr, 202);
  EXPECT_THAT(t.syscall_args, ElementsAre(0x55d0c0a0e0a0u, 0x80u, 0x2u, 0u, 0u,
                                          0xffffffffffffffffu));
  EXPECT_EQ(t.kernel_pc, 0x7f0011u);
  EXPECT_EQ(t.sig_blocked, 0x10000u);
  EXPECT_EQ(t.name, "unit tests");
  EXPECT_EQ(t.wchan, "futex_wait_queue");
  EXPECT_THAT(t.pcs, ElementsAre(0x7f0011u, 0x55d0c0001234u, 0x55d0c0005678u));
}

TEST_F(SnapshotRoundTripTest, ThreadsWithoutStack) {
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error << "\n" << text;
  ASSERT_EQ(snap.threads.size(), 4u);

  const SnapshotThread& blocked = snap.threads[1];
  EXPECT_EQ(blocked.tid, 4243);
  EXPECT_EQ(blocked.status, StackStatus::kSignalsBlocked);
  EXPECT_FALSE(blocked.truncated);
  EXPECT_EQ(blocked.syscall_nr, 35);
  EXPECT_EQ(blocked.kernel_pc, 0x7f00aau);
  EXPECT_EQ(blocked.sig_blocked, 0xfffffffe7ffbfeffu);
  EXPECT_EQ(blocked.name, "blocker");
  EXPECT_EQ(blocked.wchan, "");
  EXPECT_THAT(blocked.pcs, IsEmpty());

  const SnapshotThread& self = snap.threads[2];
  EXPECT_EQ(self.tid, 4250);
  EXPECT_EQ(self.state, 'R');
  EXPECT_EQ(self.status, StackStatus::kSelf);
  EXPECT_EQ(self.syscall_nr, kSyscallRunning);
  EXPECT_EQ(self.name, "gtest_watchdog");

  const SnapshotThread& gone = snap.threads[3];
  EXPECT_EQ(gone.tid, 4251);
  EXPECT_EQ(gone.state, '?');
  EXPECT_EQ(gone.status, StackStatus::kExited);
  EXPECT_EQ(gone.syscall_nr, kSyscallUnknown);
  EXPECT_EQ(gone.name, "");
}

TEST_F(SnapshotRoundTripTest, StackIgnoredUnlessStatusOk) {
  // A slot that answered late must not leak half-written frames.
  threads_[1].stack = &test_stack_;
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_THAT(snap.threads[1].pcs, IsEmpty());
}

TEST_F(SnapshotRoundTripTest, NewlinesInValuesDoNotBreakTheFormat) {
  header_.test_name = "Suite.Name\nend";
  SetName(&blocked_, "a\nb c");
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_EQ(snap.test_name, "Suite.Name end");
  ASSERT_EQ(snap.threads.size(), 4u);
  EXPECT_EQ(snap.threads[1].name, "a b c");
}

TEST_F(SnapshotRoundTripTest, LeadingAndTrailingSpacesInNameSurvive) {
  SetName(&test_, " lead trail ");
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_EQ(snap.threads[0].name, " lead trail ");
}

TEST_F(SnapshotRoundTripTest, FullDepthStack) {
  test_stack_.depth = kMaxFrames;
  for (int i = 0; i < kMaxFrames; ++i) {
    test_stack_.pcs[i] = 0x400000 + static_cast<uint64_t>(i) * 0x10;
  }
  const std::string text = WriteToString(header_, threads_.data(),
                                         static_cast<int>(threads_.size()));
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  ASSERT_EQ(snap.threads[0].pcs.size(), static_cast<size_t>(kMaxFrames));
  for (int i = 0; i < kMaxFrames; ++i) {
    EXPECT_EQ(snap.threads[0].pcs[i],
              0x400000 + static_cast<uint64_t>(i) * 0x10);
  }
}

TEST_F(SnapshotRoundTripTest, ManyThreadsLargerThanTheWriterBuffer) {
  std::vector<KernelThreadInfo> infos(200);
  std::vector<SnapshotThreadIn> many;
  for (size_t i = 0; i < infos.size(); ++i) {
    infos[i].tid = static_cast<pid_t>(10000 + i);
    infos[i].state = 'S';
    SetName(&infos[i], "worker thread");
    many.push_back({&infos[i], &test_stack_, StackStatus::kOk});
  }
  const std::string text =
      WriteToString(header_, many.data(), static_cast<int>(many.size()));
  EXPECT_GT(text.size(), 4096u);
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  ASSERT_EQ(snap.threads.size(), infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    EXPECT_EQ(snap.threads[i].tid, static_cast<pid_t>(10000 + i));
    EXPECT_EQ(snap.threads[i].name, "worker thread");
    EXPECT_EQ(snap.threads[i].pcs.size(), 3u);
  }
}

TEST_F(SnapshotRoundTripTest, NoThreads) {
  const std::string text = WriteToString(header_, nullptr, 0);
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_THAT(snap.threads, IsEmpty());
  EXPECT_EQ(snap.test_name, "Suite/Param.Name/3");
}

TEST_F(SnapshotRoundTripTest, EmptyHeaderStrings) {
  header_.test_name = "";
  header_.suite_name = "";
  header_.phase_id = "environment-setup";
  const std::string text = WriteToString(header_, nullptr, 0);
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(text, &snap, &error)) << error;
  EXPECT_EQ(snap.test_name, "");
  EXPECT_EQ(snap.suite_name, "");
  EXPECT_EQ(snap.phase_id, "environment-setup");
}

TEST(StackStatusIdTest, AllDistinct) {
  const std::vector<StackStatus> all = {StackStatus::kOk,
                                        StackStatus::kSelf,
                                        StackStatus::kSignalsBlocked,
                                        StackStatus::kUninterruptible,
                                        StackStatus::kNoAnswer,
                                        StackStatus::kExited};
  std::vector<std::string> ids;
  for (StackStatus s : all) ids.push_back(StackStatusId(s));
  EXPECT_THAT(ids, ElementsAre("ok", "self", "signals-blocked",
                               "uninterruptible", "no-answer", "exited"));
}

constexpr char kMinimal[] =
    "gtest_watchdog-snapshot 5\n"
    "kind timeout\n"
    "phase test\n"
    "test A.B\n"
    "suite A\n"
    "limit_origin GTEST_WATCHDOG_TIMEOUT\n"
    "limit_ns 1000000000\n"
    "elapsed_ns 1000000001\n"
    "pid 1\n"
    "test_tid 1\n"
    "watchdog_tid 2\n"
    "thread 1 S ok 0 202 0x1 0x0 0x0 0x0 0x0 0x0 0x7f 0x0\n"
    "name main\n"
    "wchan \n"
    "pcs 2 0x10 0x20\n"
    "end\n";

TEST(ParseSnapshotTest, ParsesHandWrittenText) {
  Snapshot snap;
  std::string error;
  ASSERT_TRUE(ParseSnapshot(kMinimal, &snap, &error)) << error;
  EXPECT_EQ(snap.limit_origin, "GTEST_WATCHDOG_TIMEOUT");
  ASSERT_EQ(snap.threads.size(), 1u);
  EXPECT_EQ(snap.threads[0].name, "main");
  EXPECT_THAT(snap.threads[0].pcs, ElementsAre(0x10u, 0x20u));
}

TEST(ParseSnapshotTest, MissingEndIsAnError) {
  std::string text = kMinimal;
  text.erase(text.rfind("end\n"));
  Snapshot snap;
  snap.kind = "untouched";
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, HasSubstr("end"));
  EXPECT_EQ(snap.kind, "untouched");
}

TEST(ParseSnapshotTest, CutInTheMiddleIsAnError) {
  const std::string text(kMinimal, strlen(kMinimal) / 2);
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, Not(IsEmpty()));
}

TEST(ParseSnapshotTest, WrongVersionIsAnError) {
  std::string text = kMinimal;
  text.replace(0, strlen("gtest_watchdog-snapshot 5"),
               "gtest_watchdog-snapshot 9");
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, HasSubstr("version"));
}

TEST(ParseSnapshotTest, MissingVersionLineIsAnError) {
  std::string text = kMinimal;
  text.erase(0, text.find('\n') + 1);
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, Not(IsEmpty()));
}

TEST(ParseSnapshotTest, EmptyInputIsAnError) {
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot("", &snap, &error));
  EXPECT_THAT(error, Not(IsEmpty()));
}

TEST(ParseSnapshotTest, MalformedThreadLineIsAnError) {
  std::string text = kMinimal;
  const size_t at = text.find("thread 1 ");
  text.replace(at, strlen("thread 1 "), "thread x ");
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, HasSubstr("malformed"));
}

TEST(ParseSnapshotTest, MalformedNumberIsAnError) {
  std::string text = kMinimal;
  const size_t at = text.find("limit_ns 1000000000");
  text.replace(at, strlen("limit_ns 1000000000"), "limit_ns soon");
  Snapshot snap;
  std::string error;
  EXPECT_FALSE(ParseSnapshot(text, &snap, &error));
  EXPECT_THAT(error, HasSubstr("limit_ns"));
}

}  // namespace
}  // namespace gtest_watchdog_internal

// Tests for RawWriter and WriteAll (gtest_watchdog/base/raw_writer.h).

#include "gtest_watchdog/base/raw_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

std::string Text(const RawWriter& w) { return std::string(w.data(), w.size()); }

std::string DecText(int64_t v) {
  RawWriter w(-1);
  w.Dec(v);
  return Text(w);
}

std::string HexText(uint64_t v) {
  RawWriter w(-1);
  w.Hex(v);
  return Text(w);
}

std::string SecondsText(int64_t ns) {
  RawWriter w(-1);
  w.Seconds(ns);
  return Text(w);
}

TEST(RawWriterTest, StartsEmpty) {
  RawWriter w(-1);
  EXPECT_EQ(w.size(), 0u);
}

TEST(RawWriterTest, StrCharAndChaining) {
  RawWriter w(-1);
  w.Str("abc").Char('-').Str("defgh", 2).Str("").Char('\n');
  EXPECT_EQ(Text(w), "abc-de\n");
}

TEST(RawWriterTest, StrWithEmbeddedNul) {
  RawWriter w(-1);
  w.Str("a\0b", 3);
  EXPECT_EQ(Text(w), std::string("a\0b", 3));
}

// The stall path's fallback prints thread names with Escaped: a name set
// to "\x1b[31mX" must not reach the terminal as an escape sequence.
TEST(RawWriterTest, EscapedThreadNameHasNoControlBytes) {
  RawWriter w(-1);
  w.Str("Thread 7 \"").Escaped("\x1b[31mX\r\n").Str("\" state S\n");
  EXPECT_EQ(Text(w), "Thread 7 \"\\x1b[31mX\\r\\n\" state S\n");
}

TEST(RawWriterTest, EscapedKeepsUtf8AndEscapesC1AndInvalidBytes) {
  RawWriter w(-1);
  w.Escaped("caf\xc3\xa9 \xc2\x9b \x9b \xff\\");
  EXPECT_EQ(Text(w), "caf\xc3\xa9 \\xc2\\x9b \\x9b \\xff\\\\");
}

TEST(RawWriterTest, EscapedWithLengthStopsThere) {
  RawWriter w(-1);
  // A name cut inside a character (the kernel keeps 15 bytes) shows the
  // partial bytes escaped, and nothing past the length is read.
  w.Escaped("ab\xc3\xa9", 3).Escaped("\0x", 2);
  EXPECT_EQ(Text(w), "ab\\xc3\\x00x");
}

TEST(RawWriterTest, Dec) {
  EXPECT_EQ(DecText(0), "0");
  EXPECT_EQ(DecText(7), "7");
  EXPECT_EQ(DecText(10), "10");
  EXPECT_EQ(DecText(1234567890), "1234567890");
  EXPECT_EQ(DecText(-1), "-1");
  EXPECT_EQ(DecText(-42), "-42");
  EXPECT_EQ(DecText(std::numeric_limits<int64_t>::max()),
            "9223372036854775807");
  EXPECT_EQ(DecText(std::numeric_limits<int64_t>::min()),
            "-9223372036854775808");
}

TEST(RawWriterTest, Hex) {
  EXPECT_EQ(HexText(0), "0x0");
  EXPECT_EQ(HexText(0xf), "0xf");
  EXPECT_EQ(HexText(0x10), "0x10");
  EXPECT_EQ(HexText(0xdeadbeef), "0xdeadbeef");
  EXPECT_EQ(HexText(0x7ffd00001234), "0x7ffd00001234");
  EXPECT_EQ(HexText(std::numeric_limits<uint64_t>::max()),
            "0xffffffffffffffff");
}

TEST(RawWriterTest, SecondsTwoDecimalsRoundedHalfUp) {
  EXPECT_EQ(SecondsText(0), "0.00");
  EXPECT_EQ(SecondsText(1'000'000'000), "1.00");
  EXPECT_EQ(SecondsText(1'234'000'000), "1.23");
  EXPECT_EQ(SecondsText(1'235'000'000), "1.24");  // half rounds up
  EXPECT_EQ(SecondsText(1'994'999'999), "1.99");
  EXPECT_EQ(SecondsText(1'995'000'000), "2.00");  // carries into the seconds
  EXPECT_EQ(SecondsText(5'000'000), "0.01");
  EXPECT_EQ(SecondsText(4'999'999), "0.00");
  EXPECT_EQ(SecondsText(90'000'000), "0.09");
  EXPECT_EQ(SecondsText(100'000'000), "0.10");
  EXPECT_EQ(SecondsText(3600'000'000'000), "3600.00");
}

TEST(RawWriterTest, NegativeSecondsClampToZero) {
  EXPECT_EQ(SecondsText(-1), "0.00");
  EXPECT_EQ(SecondsText(-1'500'000'000), "0.00");
  EXPECT_EQ(SecondsText(std::numeric_limits<int64_t>::min()), "0.00");
}

// Seconds() adds half a centisecond before dividing; for the largest inputs
// that addition overflows int64 (undefined behaviour). Built with -O0 or
// -fsanitize=undefined this prints "-9223372036.0-84"; at -O2 GCC happens to
// produce the right digits, so this may pass in an optimized build.
TEST(RawWriterTest, SecondsOfLargestValueDoesNotOverflow) {
  EXPECT_EQ(SecondsText(std::numeric_limits<int64_t>::max()), "9223372036.85");
}

TEST(RawWriterTest, MemoryModeTruncatesAtBufferSize) {
  const std::string big(5000, 'x');
  RawWriter w(-1);
  w.Str(big.c_str());
  EXPECT_EQ(w.size(), 4096u);
  EXPECT_EQ(Text(w), std::string(4096, 'x'));
  // Further output is dropped, not written past the buffer.
  w.Char('y').Dec(123).Hex(0xabc).Str("more");
  EXPECT_EQ(w.size(), 4096u);
  EXPECT_EQ(Text(w), std::string(4096, 'x'));
}

TEST(RawWriterTest, MemoryModeKeepsPrefixThatFits) {
  RawWriter w(-1);
  w.Str(std::string(4090, 'a').c_str());
  w.Str("0123456789");
  EXPECT_EQ(w.size(), 4096u);
  EXPECT_EQ(Text(w), std::string(4090, 'a') + "012345");
}

TEST(RawWriterTest, MemoryModeFlushIsNoOpButResets) {
  RawWriter w(-1);
  w.Str("abc");
  w.Flush();
  EXPECT_EQ(w.size(), 0u);
  w.Str("d");
  EXPECT_EQ(Text(w), "d");
}

class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == 0) {
      read_fd_ = fds[0];
      write_fd_ = fds[1];
    }
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  bool ok() const { return read_fd_ >= 0; }
  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  void CloseRead() {
    if (read_fd_ >= 0) close(read_fd_);
    read_fd_ = -1;
  }
  void CloseWrite() {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = -1;
  }
  // Reads until EOF (the write end must be closed by then).
  std::string ReadAll() {
    std::string out;
    char buf[8192];
    for (;;) {
      const ssize_t n = read(read_fd_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST(RawWriterTest, FdModeWritesEverythingPastTheBufferSize) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  // More than the pipe holds too, so a reader thread must drain it.
  const std::string expected = Pattern(200'000) + "|" + "-17" + "0xff";
  std::string received;
  std::thread reader([&] { received = p.ReadAll(); });
  {
    RawWriter w(p.write_fd());
    const std::string chunk = Pattern(200'000);
    w.Str(chunk.c_str(), chunk.size()).Char('|').Dec(-17).Hex(0xff);
  }  // the destructor flushes
  p.CloseWrite();
  reader.join();
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

TEST(RawWriterTest, FdModeWritesNothingUntilFlush) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(fcntl(p.read_fd(), F_SETFL, O_NONBLOCK), 0);
  RawWriter w(p.write_fd());
  w.Str("hello");
  char c;
  EXPECT_EQ(read(p.read_fd(), &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  w.Flush();
  EXPECT_EQ(w.size(), 0u);
  char buf[16];
  ASSERT_EQ(read(p.read_fd(), buf, sizeof(buf)), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(WriteAllTest, WritesAllBytesIntoPipe) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  const std::string data = Pattern(300'000);
  std::string received;
  std::thread reader([&] { received = p.ReadAll(); });
  const bool ok = WriteAll(p.write_fd(), data.data(), data.size());
  p.CloseWrite();
  reader.join();
  EXPECT_TRUE(ok);
  EXPECT_TRUE(received == data);
}

TEST(WriteAllTest, ZeroBytesSucceedsEvenOnBadFd) {
  EXPECT_TRUE(WriteAll(-1, "", 0));
}

TEST(WriteAllTest, BadFdFails) { EXPECT_FALSE(WriteAll(-1, "x", 1)); }

TEST(WriteAllTest, ClosedReadEndFails) {
  void (*const old)(int) = signal(SIGPIPE, SIG_IGN);
  Pipe p;
  ASSERT_TRUE(p.ok());
  p.CloseRead();
  EXPECT_FALSE(WriteAll(p.write_fd(), "hello", 5));
  EXPECT_EQ(errno, EPIPE);
  signal(SIGPIPE, old);
}

}  // namespace
}  // namespace gtest_watchdog_internal

// File: gtest_watchdog/base/raw_writer.h
//
// A fixed-capacity text buffer flushed with write(2). Used wherever a report
// must come out of a process that may be broken: it never allocates, never
// takes a lock and never touches stdio, so a thread stuck holding the stderr
// FILE lock or a malloc arena lock cannot block it.
//
// Every member is async-signal-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gtest_watchdog_internal {

// Writes all of [data, data+size) to fd, retrying on EINTR and short writes.
// Returns false if the descriptor fails (closed stderr, reader gone). Never
// raises SIGPIPE death: callers block SIGPIPE on the stall path.
// Signal-safe, no allocation, no lock.
bool WriteAll(int fd, const char* data, size_t size);

// Signal-safe: every member.
class RawWriter {
 public:
  // `fd` < 0 makes a writer that only formats (Flush is a no-op).
  explicit RawWriter(int fd) : fd_(fd) {}
  RawWriter(const RawWriter&) = delete;
  RawWriter& operator=(const RawWriter&) = delete;
  ~RawWriter() { Flush(); }

  RawWriter& Str(const char* s);
  RawWriter& Str(const char* s, size_t n);
  // Text the watchdog does not control (a thread name, a path): written
  // with control bytes and invalid UTF-8 escaped as in text_escape.h
  // ("\x1b", "\n"), so it cannot move the cursor or forge report lines.
  RawWriter& Escaped(const char* s);
  RawWriter& Escaped(const char* s, size_t n);
  RawWriter& Char(char c);
  RawWriter& Dec(int64_t v);
  RawWriter& Hex(uint64_t v);  // "0x..." lower case
  // Seconds with two decimals, from nanoseconds: "1.25".
  RawWriter& Seconds(int64_t ns);
  void Flush();

  // For formatting into memory (fd < 0): the text so far.
  const char* data() const { return buf_; }
  size_t size() const { return len_; }

 private:
  int fd_;
  size_t len_ = 0;
  char buf_[4096];
};

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/base/raw_writer.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gtest_watchdog/base/text_escape.h"

namespace gtest_watchdog_internal {

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // non-blocking stderr: wait until writable
        pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 1000) >= 0) continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

RawWriter& RawWriter::Str(const char* s) { return Str(s, strlen(s)); }

RawWriter& RawWriter::Str(const char* s, size_t n) {
  while (n > 0) {
    if (len_ == sizeof(buf_)) {
      if (fd_ < 0) return *this;  // memory-only writer: truncate
      Flush();
    }
    const size_t room = sizeof(buf_) - len_;
    const size_t take = n < room ? n : room;
    memcpy(buf_ + len_, s, take);
    len_ += take;
    s += take;
    n -= take;
  }
  return *this;
}

RawWriter& RawWriter::Escaped(const char* s) { return Escaped(s, strlen(s)); }

RawWriter& RawWriter::Escaped(const char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const size_t keep = ShownAsIs(s + i, n - i);
    if (keep > 0) {
      Str(s + i, keep);
      i += keep;
      continue;
    }
    char escape[kMaxByteEscape];
    Str(escape, EscapeByte(static_cast<unsigned char>(s[i]), escape));
    ++i;
  }
  return *this;
}

RawWriter& RawWriter::Char(char c) { return Str(&c, 1); }

RawWriter& RawWriter::Dec(int64_t v) {
  char tmp[24];
  int i = sizeof(tmp);
  const bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    tmp[--i] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (neg) tmp[--i] = '-';
  return Str(tmp + i, sizeof(tmp) - i);
}

RawWriter& RawWriter::Hex(uint64_t v) {
  char tmp[18];
  int i = sizeof(tmp);
  do {
    tmp[--i] = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v != 0);
  tmp[--i] = 'x';
  tmp[--i] = '0';
  return Str(tmp + i, sizeof(tmp) - i);
}

RawWriter& RawWriter::Seconds(int64_t ns) {
  if (ns < 0) ns = 0;
  // Rounded to centiseconds without adding first: no overflow near INT64_MAX.
  const int64_t centis = ns / 10000000 + (ns % 10000000 >= 5000000 ? 1 : 0);
  Dec(centis / 100).Char('.');
  const int64_t frac = centis % 100;
  if (frac < 10) Char('0');
  return Dec(frac);
}

void RawWriter::Flush() {
  if (fd_ >= 0 && len_ > 0) WriteAll(fd_, buf_, len_);
  len_ = 0;
}

}  // namespace gtest_watchdog_internal

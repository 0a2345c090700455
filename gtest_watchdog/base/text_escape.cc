#include "gtest_watchdog/base/text_escape.h"

#include <cstdint>

namespace gtest_watchdog_internal {
namespace {

// Characters that are well-formed but must not reach a log raw: C1
// controls, the Arabic letter mark, LRM/RLM, the line and paragraph
// separators, the bidirectional embeddings/overrides and isolates.
// Signal-safe.
bool IsHidden(uint32_t cp) {
  return cp <= 0x9f || cp == 0x061c || (cp >= 0x200e && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

size_t ShownAsIs(const char* s, size_t n) {
  if (n == 0) return 0;
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return b0 >= 0x20 && b0 < 0x7f && b0 != '\\' ? 1 : 0;
  // 0x80-0xbf: a continuation byte alone; 0xc0, 0xc1: overlong two-byte
  // forms; 0xf5 and up: beyond U+10FFFF.
  if (b0 < 0xc2 || b0 > 0xf4) return 0;
  const size_t len = b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
  if (n < len) return 0;
  uint32_t cp = b0 & (len == 2 ? 0x1fu : len == 3 ? 0x0fu : 0x07u);
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||  // overlong
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || IsHidden(cp)) {
    return 0;
  }
  return len;
}

size_t EscapeByte(unsigned char c, char* out) {
  out[0] = '\\';
  switch (c) {
    case '\n':
      out[1] = 'n';
      return 2;
    case '\r':
      out[1] = 'r';
      return 2;
    case '\t':
      out[1] = 't';
      return 2;
    case '\\':
      out[1] = '\\';
      return 2;
    default:
      break;
  }
  constexpr char kHex[] = "0123456789abcdef";
  out[1] = 'x';
  out[2] = kHex[c >> 4];
  out[3] = kHex[c & 0xf];
  return 4;
}

std::string EscapeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t keep = ShownAsIs(s.data() + i, s.size() - i);
    if (keep > 0) {
      out.append(s.data() + i, keep);
      i += keep;
      continue;
    }
    char escape[kMaxByteEscape];
    out.append(escape, EscapeByte(static_cast<unsigned char>(s[i]), escape));
    ++i;
  }
  return out;
}

}  // namespace gtest_watchdog_internal

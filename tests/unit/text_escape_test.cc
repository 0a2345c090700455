// Tests for the escaping of untrusted text in the human report
// (gtest_watchdog/base/text_escape.h).

#include "gtest_watchdog/base/text_escape.h"

#include <cstddef>
#include <string>

#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

// The characters from their code point, so that this file holds no
// bidirectional control itself (clang-tidy's misc-misleading-bidirectional).
std::string Utf8(char32_t cp) {
  std::string out;
  if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
  } else {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
  }
  out += static_cast<char>(0x80 | (cp & 0x3f));
  return out;
}

TEST(EscapeTextTest, KeepsPrintableAscii) {
  EXPECT_EQ(EscapeText(""), "");
  EXPECT_EQ(EscapeText("sleep 30 --flag=a/b 'x' \"y\" ~!@#$%^&*()"),
            "sleep 30 --flag=a/b 'x' \"y\" ~!@#$%^&*()");
}

TEST(EscapeTextTest, EscapesControlsAndBackslash) {
  EXPECT_EQ(EscapeText("\x1b[31mX"), "\\x1b[31mX");
  EXPECT_EQ(EscapeText("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(EscapeText("a\\nb"), "a\\\\nb");  // a literal backslash
  EXPECT_EQ(EscapeText("\x7f"), "\\x7f");
  EXPECT_EQ(EscapeText("\x01\x08\x0b\x0c\x1f"), "\\x01\\x08\\x0b\\x0c\\x1f");
  EXPECT_EQ(EscapeText(std::string("a\0b", 3)), "a\\x00b");
}

TEST(EscapeTextTest, KeepsWellFormedUtf8) {
  // 2-, 3- and 4-byte characters, and the last code point.
  const std::string text =
      "/tmp/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 "
      "\xf4\x8f\xbf\xbf \xc2\xa0 \xe2\x80\x94";
  EXPECT_EQ(EscapeText(text), text);
}

TEST(EscapeTextTest, EscapesC1ControlsAsUtf8AndAsRawBytes) {
  // U+009B (CSI) encoded as UTF-8, and the bare byte 0x9b a terminal in a
  // legacy 8-bit mode would take as CSI.
  EXPECT_EQ(EscapeText("\xc2\x9b"
                       "31m"),
            "\\xc2\\x9b31m");
  EXPECT_EQ(EscapeText("\xc2\x80\xc2\x9f"), "\\xc2\\x80\\xc2\\x9f");
  EXPECT_EQ(EscapeText("\x9b"
                       "31m"),
            "\\x9b31m");
  EXPECT_EQ(EscapeText("\x84\x85"), "\\x84\\x85");
}

TEST(EscapeTextTest, EscapesInvalidUtf8) {
  EXPECT_EQ(EscapeText("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(EscapeText("\xc3"), "\\xc3");           // cut short
  EXPECT_EQ(EscapeText("\xc3(x"), "\\xc3(x");       // not a continuation
  EXPECT_EQ(EscapeText("\xe6\x97"), "\\xe6\\x97");  // cut short
  EXPECT_EQ(EscapeText("\xc0\xaf"), "\\xc0\\xaf");  // overlong '/'
  EXPECT_EQ(EscapeText("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
  EXPECT_EQ(EscapeText("\xf0\x80\x80\xaf"), "\\xf0\\x80\\x80\\xaf");
  EXPECT_EQ(EscapeText("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(EscapeText("\xf4\x90\x80\x80"),
            "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(EscapeText("\xf8\x88\x80\x80\x80"), "\\xf8\\x88\\x80\\x80\\x80");
  // A bad byte does not swallow the good character after it.
  EXPECT_EQ(EscapeText("\xe6\xc3\xa9"), "\\xe6\xc3\xa9");
}

TEST(EscapeTextTest, EscapesCharactersThatReorderOrBreakLines) {
  EXPECT_EQ(EscapeText("a" + Utf8(0x202e) + "b"),
            "a\\xe2\\x80\\xaeb");                          // RLO
  EXPECT_EQ(EscapeText(Utf8(0x2028)), "\\xe2\\x80\\xa8");  // LINE SEP.
  EXPECT_EQ(EscapeText(Utf8(0x2066)), "\\xe2\\x81\\xa6");  // LRI
  EXPECT_EQ(EscapeText(Utf8(0x2069)), "\\xe2\\x81\\xa9");  // PDI
  EXPECT_EQ(EscapeText(Utf8(0x200f)), "\\xe2\\x80\\x8f");  // RLM
  EXPECT_EQ(EscapeText(Utf8(0x061c)), "\\xd8\\x9c");       // ALM
  // Their neighbours are ordinary characters.
  EXPECT_EQ(EscapeText("\xe2\x80\x94\xe2\x80\xaf\xe2\x81\xa0"),
            "\xe2\x80\x94\xe2\x80\xaf\xe2\x81\xa0");
}

TEST(EscapeTextTest, OutputHasNoControlByte) {
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte.push_back(static_cast<char>(c));
  const std::string escaped = EscapeText(every_byte);
  for (char c : escaped) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_TRUE(b >= 0x20 && b < 0x7f) << static_cast<int>(b);
  }
}

TEST(ShownAsIsTest, LengthsAndRefusals) {
  EXPECT_EQ(ShownAsIs("", 0), 0u);
  EXPECT_EQ(ShownAsIs("ab", 2), 1u);
  EXPECT_EQ(ShownAsIs("\\", 1), 0u);
  EXPECT_EQ(ShownAsIs("\xc3\xa9", 2), 2u);
  EXPECT_EQ(ShownAsIs("\xc3\xa9", 1), 0u);  // the length bounds the read
  EXPECT_EQ(ShownAsIs("\xe6\x97\xa5", 3), 3u);
  EXPECT_EQ(ShownAsIs("\xf0\x9f\x98\x80", 4), 4u);
}

TEST(EscapeByteTest, Forms) {
  char out[kMaxByteEscape];
  EXPECT_EQ(std::string(out, EscapeByte('\n', out)), "\\n");
  EXPECT_EQ(std::string(out, EscapeByte('\r', out)), "\\r");
  EXPECT_EQ(std::string(out, EscapeByte('\t', out)), "\\t");
  EXPECT_EQ(std::string(out, EscapeByte('\\', out)), "\\\\");
  EXPECT_EQ(std::string(out, EscapeByte(0x1b, out)), "\\x1b");
  EXPECT_EQ(std::string(out, EscapeByte(0xff, out)), "\\xff");
  EXPECT_EQ(std::string(out, EscapeByte(0, out)), "\\x00");
}

}  // namespace
}  // namespace gtest_watchdog_internal

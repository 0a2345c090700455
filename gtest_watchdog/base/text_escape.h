// File: gtest_watchdog/base/text_escape.h
//
// Makes text the watchdog does not control safe to print in the human
// report: thread names, command lines, file and socket paths come from the
// test's children and from other users, and a raw ESC, carriage return or
// newline in them would rewrite what a terminal or CI log shows. Bytes that
// are not well-formed printable UTF-8 are written C style ("\x1b", "\n",
// "\r", "\t"), and a backslash as "\\" so that an escape can be told from
// the same characters in a name. Well-formed UTF-8 is kept: paths and names
// may be in any language.
//
// Escaped besides ASCII controls and DEL: invalid UTF-8 (stray or missing
// continuation bytes, overlong forms, surrogates, beyond U+10FFFF), the C1
// controls U+0080-U+009F (a terminal may take U+009B as ESC [), and the
// characters that reorder or break lines in a browser-rendered CI log
// (U+061C, U+200E-U+200F, U+2028-U+202E, U+2066-U+2069). Such a character
// is shown as its bytes: U+202E is "\xe2\x80\xae".
//
// ShownAsIs and EscapeByte are async-signal-safe (RawWriter::Escaped uses
// them on the stall path); EscapeText allocates (report helper only).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gtest_watchdog_internal {

// The longest escape of one byte: "\xhh".
constexpr size_t kMaxByteEscape = 4;

// How many bytes at the start of [s, s + n) are printed as they are: 1 for
// printable ASCII other than '\\', 2 to 4 for one well-formed UTF-8
// character that is not escaped (see above); 0 when the first byte must be
// escaped, or n is 0. Signal-safe: no allocation, no lock.
size_t ShownAsIs(const char* s, size_t n);

// Writes the escape of `c` to `out` (room for kMaxByteEscape bytes, no NUL
// added): "\n", "\r", "\t", "\\", else "\xhh" in lower case. Returns its
// length. Signal-safe: no allocation, no lock.
size_t EscapeByte(unsigned char c, char* out);

// `s` with every byte that ShownAsIs refuses escaped. Not on the stall path:
// allocates (the report helper's renderers).
std::string EscapeText(std::string_view s);

}  // namespace gtest_watchdog_internal

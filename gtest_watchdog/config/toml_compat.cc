#include "gtest_watchdog/config/toml_compat.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gtest_watchdog_internal {
namespace {

// The first non-ASCII character where toml++ would ask whether it is
// whitespace (toml_compat.h says where and why that is refused).
struct Trap {
  int line = 1;  // 1-based; the column counts characters, as toml++ does
  int column = 1;
  absl::string_view character;  // its UTF-8 bytes
  uint32_t code_point = 0;
  bool in_string = false;
};

// The length of the UTF-8 sequence at text[i] (decoded into *code_point),
// or 0 if there is none; lenient, so that it takes whatever toml++ takes.
size_t DecodeUtf8(absl::string_view text, size_t i, uint32_t* code_point) {
  const unsigned char lead = static_cast<unsigned char>(text[i]);
  const size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  if (lead < 0xc0 || lead >= 0xf8 || i + length > text.size()) return 0;
  uint32_t value = lead & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    const unsigned char next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xc0) != 0x80) return 0;
    value = value << 6 | (next & 0x3f);
  }
  *code_point = value;
  return length;
}

// The first trap in `text`, if toml++ would read that far: it stops at bad
// UTF-8 and at a line break inside a one-line string, and reports them.
// Follows TOML's structure only as far as needed to tell strings and
// comments from the rest: a quote inside a bare value ("1979-05-27'x") is
// no string, toml++ reads on to the value's end.
bool FindTrap(absl::string_view text, Trap* trap) {
  enum class In {
    kKeysAndValues,
    kComment,
    kString,
    kLiteral,
    kMultiString,
    kMultiLiteral
  };
  In in = In::kKeysAndValues;
  bool escaped = false;     // the last character was an escaping backslash
  bool skipping = false;    // kMultiString: after a line-ending backslash
  bool value_next = false;  // what starts next is a value, not a key
  bool in_key = false;      // inside a bare key
  bool in_value = false;    // inside a bare value (number, date, ...)
  size_t value_start = 0;   // where that value started
  bool date_space = false;  // it went on past a space: "1979-05-27 07:32"
  // Such a value ended at a blank: up to the next separator, toml++'s look
  // ahead for the time may still be reading ("1979-05-27 0 'X'" asks about
  // the X). Only junk can stand there in valid TOML, so it is all taken as
  // outside a string: a quote starts nothing.
  bool after_date_space = false;
  std::string nesting;  // '[' arrays, '{' inline tables, 'h' headers
  int line = 1;
  int column = 0;
  // toml++ skips a byte order mark, and counts columns after it.
  size_t i = absl::StartsWith(text, "\xef\xbb\xbf") ? 3 : 0;
  auto run_of = [&](char quote) {
    size_t n = 0;
    while (i + n < text.size() && text[i + n] == quote) ++n;
    return n;
  };
  while (i < text.size()) {
    const char c = text[i];
    uint32_t code_point = static_cast<unsigned char>(c);
    size_t length = 1;
    if (code_point >= 0x80) {
      length = DecodeUtf8(text, i, &code_point);
      if (length == 0) return false;
    }
    ++column;
    if (code_point >= 0x80 &&
        (in == In::kKeysAndValues ||
         (in == In::kMultiString && (escaped || skipping)))) {
      trap->line = line;
      trap->column = column;
      trap->character = text.substr(i, length);
      trap->code_point = code_point;
      trap->in_string = in == In::kMultiString;
      return true;
    }
    if (c == '\n') {
      ++line;
      column = 0;
    }
    const bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    const char open = nesting.empty() ? '\0' : nesting.back();
    switch (in) {
      case In::kKeysAndValues:
        // A bare value ends only where a value may (a date, at the space
        // before its time, does not); a bare key at anything but a key's
        // characters.
        if (in_value && !blank &&
            absl::string_view("]},#").find(c) == absl::string_view::npos) {
          break;
        }
        if (in_value && c == ' ' && !date_space &&
            std::count(text.begin() + value_start, text.begin() + i, '-') >=
                2) {
          date_space = true;
          break;
        }
        if (in_value && date_space && (c == ' ' || c == '\t')) {
          after_date_space = true;
        }
        in_value = false;
        if (c == '\n' || c == ',' || c == ']' || c == '}' || c == '#') {
          after_date_space = false;
        }
        if (after_date_space && !blank) break;  // junk, quotes included
        if (in_key && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                       c == '_' || c == '-')) {
          break;
        }
        in_key = false;
        if (c == '\n' && open != '[') {
          value_next = false;
        } else if (blank || c == '.') {
          // Between tokens, or a dotted key's dot.
        } else if (c == '#') {
          in = In::kComment;
        } else if (c == '=') {
          value_next = true;
        } else if (c == '[') {
          nesting += value_next ? '[' : 'h';
        } else if (c == '{') {
          nesting += '{';
          value_next = false;
        } else if (c == ']' || c == '}') {
          if (!nesting.empty()) nesting.pop_back();
          value_next = false;
        } else if (c == ',') {
          value_next = open == '[';
        } else if (c == '"' || c == '\'') {
          const bool multi_line = run_of(c) >= 3;
          in = c == '"' ? (multi_line ? In::kMultiString : In::kString)
                        : (multi_line ? In::kMultiLiteral : In::kLiteral);
          escaped = skipping = false;
          value_next = false;
          if (multi_line) {
            i += 3;
            column += 2;
            continue;
          }
        } else {
          (value_next ? in_value : in_key) = true;
          value_start = i;
          date_space = false;
          value_next = false;
        }
        break;
      case In::kComment:
        if (c == '\n') {
          in = In::kKeysAndValues;
          if (open != '[') value_next = false;
        }
        break;
      case In::kString:
      case In::kLiteral:
        if (c == '\n') return false;
        if (escaped) {
          escaped = false;
        } else if (in == In::kString && c == '\\') {
          escaped = true;
        } else if (c == (in == In::kString ? '"' : '\'')) {
          in = In::kKeysAndValues;
        }
        break;
      case In::kMultiString:
      case In::kMultiLiteral:
        if (escaped) {
          escaped = false;
          skipping = blank;  // a line-ending backslash
          break;
        }
        if (skipping && blank) break;
        skipping = false;
        if (in == In::kMultiString && c == '\\') {
          escaped = true;
        } else if (c == (in == In::kMultiString ? '"' : '\'')) {
          // Up to five quotes: the closing three, after one or two quotes
          // of the string's own.
          const size_t n = run_of(c);
          const size_t taken = n >= 3 ? std::min<size_t>(n, 5) : n;
          if (n >= 3) in = In::kKeysAndValues;
          i += taken;
          column += static_cast<int>(taken) - 1;
          continue;
        }
        break;
    }
    i += length;
  }
  return false;
}

std::string TrapError(const std::string& path, const Trap& trap) {
  const std::string where =
      absl::StrFormat("%s:%d:%d: character '%s' (U+%04X)", path, trap.line,
                      trap.column, trap.character, trap.code_point);
  if (trap.in_string) {
    return absl::StrFormat(
        "%s right after a backslash in a multi-line string is not "
        "supported; write it as \\u%04X",
        where, trap.code_point);
  }
  return absl::StrCat(where,
                      " outside a string or comment; TOML allows only ASCII "
                      "there");
}

}  // namespace

bool CheckTomlTraps(absl::string_view text, const std::string& path,
                    std::string* error) {
  Trap trap;
  if (!FindTrap(text, &trap)) return true;
  *error = TrapError(path, trap);
  return false;
}

}  // namespace gtest_watchdog_internal

// The reference in docs/flags.md cannot drift from the code: every flag,
// environment variable and config key the parser knows is documented there,
// every CMake option somewhere in docs/, and README and docs mention no flag,
// variable or option that does not exist.
#include <dirent.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/options.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::UnorderedElementsAreArray;

const std::string kSource = GTEST_WATCHDOG_SOURCE_DIR;

std::string Read(const std::string& relative) {
  std::ifstream in(kSource + "/" + relative);
  EXPECT_TRUE(in.good()) << "cannot read " << relative;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// README.md, CHANGELOG.md and every docs/*.md, by relative path.
std::map<std::string, std::string> UserDocs() {
  std::map<std::string, std::string> docs;
  docs["README.md"] = Read("README.md");
  std::ifstream changelog(kSource + "/CHANGELOG.md");
  if (changelog.good()) docs["CHANGELOG.md"] = Read("CHANGELOG.md");
  DIR* dir = opendir((kSource + "/docs").c_str());
  EXPECT_NE(dir, nullptr);
  if (dir == nullptr) return docs;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (absl::EndsWith(name, ".md")) {
      docs["docs/" + name] = Read("docs/" + name);
    }
  }
  closedir(dir);
  return docs;
}

// Every word made of `chars` that follows `lead` in `text` (libstdc++'s
// std::regex recurses per character and overflows the stack on a long
// file, so plain scanning). `before` (if not empty) lists the characters
// that must precede `lead`; otherwise `lead` must start a word.
std::vector<std::string> WordsAfter(const std::string& text,
                                    const std::string& lead,
                                    const std::string& before,
                                    bool (*is_char)(char)) {
  std::vector<std::string> words;
  for (size_t at = text.find(lead); at != std::string::npos;
       at = text.find(lead, at + 1)) {
    const char prev = at == 0 ? ' ' : text[at - 1];
    if (before.empty() ? (absl::ascii_isalnum(prev) || prev == '_')
                       : before.find(prev) == std::string::npos) {
      continue;
    }
    size_t end = at + lead.size();
    while (end < text.size() && is_char(text[end])) ++end;
    words.push_back(text.substr(at + lead.size(), end - at - lead.size()));
  }
  return words;
}

bool IsLowerWordChar(char c) { return absl::ascii_islower(c) || c == '_'; }
bool IsUpperWordChar(char c) { return absl::ascii_isupper(c) || c == '_'; }

std::string EnvName(const std::string& flag) {
  return absl::AsciiStrToUpper(absl::StrCat("GTEST_WATCHDOG_", flag));
}

// The "## Config file keys" section of docs/flags.md.
std::string ConfigSection() {
  const std::string flags = Read("docs/flags.md");
  const size_t start = flags.find("\n## Config file keys");
  if (start == std::string::npos) return "";
  const size_t end = flags.find("\n## ", start + 1);
  return flags.substr(start, end == std::string::npos ? end : end - start);
}

// CMake options and cache variables of ours, from the top-level
// CMakeLists.txt.
std::set<std::string> CMakeOptions() {
  std::set<std::string> options;
  std::istringstream cmake(Read("CMakeLists.txt"));
  for (std::string line; std::getline(cmake, line);) {
    for (const char* command : {"option(", "set("}) {
      if (!absl::StartsWith(line, absl::StrCat(command, "GTEST_WATCHDOG_"))) {
        continue;
      }
      if (command[0] == 's' && !absl::StrContains(line, " CACHE ")) continue;
      const size_t start = strlen(command);
      options.insert(line.substr(start, line.find(' ') - start));
    }
  }
  return options;
}

TEST(DocsReferenceTest, EveryFlagAndVariableIsInFlagsMd) {
  const std::string flags = Read("docs/flags.md");
  ASSERT_FALSE(FlagNames().empty());
  for (const std::string& name : FlagNames()) {
    EXPECT_TRUE(absl::StrContains(flags, "`--gtest_watchdog_" + name + "`"))
        << "docs/flags.md does not document --gtest_watchdog_" << name;
    EXPECT_TRUE(absl::StrContains(flags, "`" + EnvName(name) + "`"))
        << "docs/flags.md does not document " << EnvName(name);
  }
}

TEST(DocsReferenceTest, EveryConfigKeyIsInFlagsMd) {
  const std::string section = ConfigSection();
  ASSERT_FALSE(section.empty())
      << "docs/flags.md has no \"## Config file keys\" section";
  std::set<std::string> known;
  for (const std::string& key : TopLevelConfigKeys()) {
    if (key == "override") {
      EXPECT_TRUE(absl::StrContains(section, "`[[override]]`"))
          << "docs/flags.md does not document [[override]]";
      continue;
    }
    known.insert(key);
    EXPECT_TRUE(absl::StrContains(section, "`" + key + "`"))
        << "docs/flags.md does not document the config key " << key;
  }
  for (const std::string& key : OverrideConfigKeys()) {
    known.insert(key);
    EXPECT_TRUE(absl::StrContains(section, "`" + key + "`"))
        << "docs/flags.md does not document the [[override]] key " << key;
  }
  // And documents no key the parser does not know: the first cell of each
  // table row.
  std::istringstream lines(section);
  for (std::string line; std::getline(lines, line);) {
    if (!absl::StartsWith(line, "| `")) continue;
    const std::string key = line.substr(3, line.find('`', 3) - 3);
    EXPECT_TRUE(known.count(key) == 1 || key == "[[override]]")
        << "docs/flags.md documents a config key the parser does not know: "
        << key;
  }
}

TEST(DocsReferenceTest, TheListedConfigKeysAreTheOnesAccepted) {
  // A sample value for every key the error messages list; a key added to
  // the parser must be added to that list (and then here, and to the docs).
  const std::map<std::string, std::string> samples = {
      {"timeout", "timeout = \"1s\""},
      {"total_timeout", "total_timeout = \"1m\""},
      {"scale", "scale = 2.0"},
      {"slow", "slow = \"1s\""},
      {"suite_timeout", "suite_timeout = \"1s\""},
      {"environment_timeout", "environment_timeout = \"1s\""},
      {"signals", "signals = [\"default\"]"},
      {"keep_going", "keep_going = true"},
      {"max_stalls", "max_stalls = 3"},
      {"retries", "retries = 2"},
      {"override", "[[override]]\nfilter = \"A.*\"\ntimeout = \"1s\""}};
  std::vector<std::string> sample_keys;
  for (const auto& [key, text] : samples) sample_keys.push_back(key);
  EXPECT_THAT(TopLevelConfigKeys(), UnorderedElementsAreArray(sample_keys));
  EXPECT_THAT(OverrideConfigKeys(),
              UnorderedElementsAreArray({"filter", "timeout"}));
  for (const auto& [key, text] : samples) {
    ConfigFile file;
    std::string error;
    EXPECT_TRUE(ParseConfigText(text + "\n", "sample.toml", &file, &error))
        << key << ": " << error;
  }
}

TEST(DocsReferenceTest, DocsNameNoFlagThatDoesNotExist) {
  const std::vector<std::string> names = FlagNames();
  std::set<std::string> flags(names.begin(), names.end());
  // Not flags users set: the report helper's internal argument, and the
  // placeholder and bad-input examples.
  flags.insert({"internal_report", "x", "bogus"});
  for (const auto& [path, text] : UserDocs()) {
    for (const std::string& name :
         WordsAfter(text, "gtest_watchdog_", "-/", IsLowerWordChar)) {
      EXPECT_EQ(flags.count(name), 1u)
          << path << " mentions a flag that does not exist: --gtest_watchdog_"
          << name;
    }
  }
}

TEST(DocsReferenceTest, DocsNameNoVariableOrOptionThatDoesNotExist) {
  std::set<std::string> names = CMakeOptions();
  for (const std::string& flag : FlagNames()) names.insert(EnvName(flag));
  // The annotation macro (also the variable's name) and the export macro.
  names.insert({"GTEST_WATCHDOG_TIMEOUT", "GTEST_WATCHDOG_API"});
  for (const auto& [path, text] : UserDocs()) {
    for (std::string word :
         WordsAfter(text, "GTEST_WATCHDOG_", "", IsUpperWordChar)) {
      while (!word.empty() && word.back() == '_') word.pop_back();
      if (word.empty()) continue;  // "GTEST_WATCHDOG_*" and the like
      const std::string name = "GTEST_WATCHDOG_" + word;
      EXPECT_EQ(names.count(name), 1u)
          << path << " mentions " << name
          << ", which is no environment variable, macro or CMake option";
    }
  }
}

TEST(DocsReferenceTest, EveryCMakeOptionIsDocumented) {
  const std::set<std::string> options = CMakeOptions();
  ASSERT_TRUE(options.count("GTEST_WATCHDOG_TESTS")) << "option() not parsed";
  std::string all;
  for (const auto& [path, text] : UserDocs()) all += text;
  for (const std::string& option : options) {
    EXPECT_TRUE(absl::StrContains(all, "`" + option))
        << "the CMake option " << option << " is not documented in docs/";
  }
}

}  // namespace
}  // namespace gtest_watchdog_internal

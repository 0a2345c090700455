#include "gtest_watchdog/keep_going/run_report.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/base/report_file.h"
#include "nlohmann/json.hpp"

namespace gtest_watchdog_internal {
namespace {

nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace

std::string FormatRunReport(const std::vector<RunIncident>& incidents) {
  nlohmann::ordered_json doc;
  doc["schema_version"] = kJsonReportSchemaVersion;
  doc["generator"] = {{"name", "gtest_watchdog"},
                      {"version", kJsonReportGeneratorVersion}};
  doc["kind"] = "keep-going";
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const RunIncident& i : incidents) {
    nlohmann::ordered_json e;
    e["iteration"] = i.iteration;
    e["where"] = i.where;
    e["test"] = OrNull(i.test);
    e["suite"] = OrNull(i.suite);
    e["label"] = i.label;
    e["how"] = i.how;
    e["verdict"] = OrNull(i.verdict);
    e["retried"] = i.retried;
    e["outside"] = OrNull(i.outside);
    nlohmann::ordered_json report = nullptr;
    if (!i.report.empty()) {
      report = nlohmann::ordered_json::parse(i.report, nullptr,
                                             /*allow_exceptions=*/false);
      if (report.is_discarded() || !report.is_object()) report = nullptr;
    }
    e["report"] = std::move(report);
    list.push_back(std::move(e));
  }
  doc["incidents"] = std::move(list);
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string TakeChildReport(const std::string& path) {
  if (path.empty()) return "";
  std::string text;
  if (FILE* f = fopen(path.c_str(), "re")) {
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
    (void)fclose(f);
  }
  unlink(path.c_str());
  return text;
}

void IncidentLog::StartIteration() {
  lines_.clear();
  flaky_.clear();
}

void IncidentLog::SetEnd(std::string how, std::string outside,
                         std::string report) {
  how_ = std::move(how);
  outside_ = std::move(outside);
  report_ = std::move(report);
}

void IncidentLog::Record(const std::string& label, const std::string& where,
                         const std::string& message, const std::string& said,
                         RunIncident incident) {
  std::string why = said;
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    if (absl::ConsumePrefix(&line, "[ VERDICT  ] ")) {
      why = std::string(line);
      incident.verdict = why;
      break;
    }
  }
  lines_.push_back(absl::StrFormat("[ %-9s] %s: %s", label, where, why));
  Say(lines_.back());
  incident.label = absl::AsciiStrToLower(label);
  incident.how = how_;
  incident.outside = outside_;
  incident.report = report_;
  all_.push_back(std::move(incident));
  if (report_path_.empty()) return;
  std::string problem;
  if (!WriteReportFile(report_path_, FormatRunReport(all_), &problem)) {
    Say(absl::StrCat("[ KEEP GOING ] cannot write the report ", report_path_,
                     ": ", problem));
  }
}

void IncidentLog::Print(const std::string& stopped) const {
  for (const std::string& f : flaky_) Say("[ FLAKY    ] " + f);
  if (lines_.empty()) return;
  Say(absl::StrCat(
      "[ KEEP GOING ] ", lines_.size(),
      lines_.size() == 1 ? " stall or crash" : " stalls and crashes",
      stopped.empty()
          ? ", each in a process of its own; the run went on:"
          : absl::StrCat("; the run stopped early (", stopped, "):")));
  for (const std::string& line : lines_) Say(line);
}

void IncidentLog::Say(const std::string& line) {
  (void)fflush(stdout);
  const std::string text = line + "\n";
  (void)fwrite(text.data(), 1, text.size(), stdout);
  (void)fflush(stdout);
}

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/keep_going/run_report.h"

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

}  // namespace gtest_watchdog_internal

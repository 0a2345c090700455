// File: gtest_watchdog/report/json_report.h
//
// The stall report as one JSON document (--gtest_watchdog_report=PATH), for
// CI tools and scripts: the same ReportModel the text report renders, so the
// two never disagree. The format is documented in docs/report-json.md and
// pinned by docs/report.schema.json; bump kJsonReportSchemaVersion
// (base/report_file.h) on any change a reader could notice (a field removed,
// renamed or retyped).
//
// Helper process only: allocates, not signal-safe.
#pragma once

#include <string>

#include "gtest_watchdog/base/report_file.h"
#include "gtest_watchdog/diagnose/report_model.h"

namespace gtest_watchdog_internal {

// One pretty-printed JSON document (2-space indent, trailing newline).
// Bytes that are not valid UTF-8 (thread names, paths, commands) are
// replaced by U+FFFD rather than failing the report. Helper process only.
std::string FormatJsonReport(const ReportModel& model);

// Writes `json` to `path` with WriteReportFile (base/report_file.h), which
// refuses a planted link, FIFO, device, hard link or other user's file.
// Returns false with *error naming the path and the reason. Helper process
// only.
bool WriteJsonReportFile(const std::string& path, const std::string& json,
                         std::string* error);

}  // namespace gtest_watchdog_internal

// File: gtest_watchdog/report/json_report.h
//
// The stall report as one JSON document (--gtest_watchdog_report=PATH), for
// CI tools and scripts: the same ReportModel the text report renders, so the
// two never disagree. The format is documented in docs/report-json.md and
// pinned by docs/report.schema.json; bump kJsonReportSchemaVersion on any
// change a reader could notice (a field removed, renamed or retyped).
//
// Helper process (and, for OpenReportDirectory and WhyNotReportFile, start-up
// option parsing) only: allocates, not signal-safe.
#pragma once

#include <sys/stat.h>

#include <string>

#include "gtest_watchdog/diagnose/report_model.h"

namespace gtest_watchdog_internal {

constexpr int kJsonReportSchemaVersion = 2;

// One pretty-printed JSON document (2-space indent, trailing newline).
// Bytes that are not valid UTF-8 (thread names, paths, commands) are
// replaced by U+FFFD rather than failing the report.
std::string FormatJsonReport(const ReportModel& model);

// Writes `json` to `path` (absolute; ResolveReportPath made it so at
// start-up), replacing a regular file there. The directory is opened once
// with OpenReportDirectory (no symbolic links on the way) and the file with
// openat, O_NOFOLLOW, O_NONBLOCK and without O_TRUNC; it is emptied only
// after fstat says it is a regular file with one link, owned by this user
// (WhyNotReportFile); a file it creates (O_EXCL) needs no such check. So a
// planted link, FIFO, device, hard link or other user's file is refused
// untouched, and the helper never blocks on it. Returns false with *error
// naming the path and the reason.
bool WriteJsonReportFile(const std::string& path, const std::string& json,
                         std::string* error);

// Opens the absolute directory `dir` for the report one component at a
// time from "/" (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), so what is
// checked is what the returned descriptor points to. Refused: a directory
// on the way that another user than this one or root owns and every user
// may change (writable by all without the sticky bit). With `follow_links`
// (at start-up) symbolic links on the way are resolved, but only links
// owned by this user, root or their directory's owner, at most 40; without
// (when the report is written) any link is refused. *canonical gets the
// directory walked: absolute, no links, no "." or "..". Returns the
// descriptor (the caller closes it) or -1 with *why naming the directory.
int OpenReportDirectory(const std::string& dir, bool follow_links,
                        std::string* canonical, std::string* why);

// Why a file with `st` (from lstat: links are not followed) must not be
// replaced by the report, or "" if it may: it must be a regular file with
// one link, owned by this process's effective uid.
std::string WhyNotReportFile(const struct stat& st);

}  // namespace gtest_watchdog_internal

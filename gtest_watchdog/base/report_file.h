// File: gtest_watchdog/base/report_file.h
//
// Opening the report file safely (--gtest_watchdog_report=PATH). The path
// is checked twice: at start-up, when the options are parsed, so a path
// the writer would refuse fails at once instead of costing the report at a
// stall; and by the report helper when it writes. Both walk the directory
// one component at a time and vet the file with these functions, so what
// is checked is what is written, and a planted link, FIFO, device, hard
// link or other user's file is refused untouched.
//
// Standard library only (base/ is part of the signal-safe core's target),
// but not signal-safe: it allocates.
#pragma once

#include <sys/stat.h>

#include <string>

namespace gtest_watchdog_internal {

// The JSON report's schema_version (docs/report-json.md), for both its
// writers: the report helper's single report and a keep-going supervisor's
// file of every stall and crash of the run.
constexpr int kJsonReportSchemaVersion = 4;
// Must equal project(VERSION) in the top-level CMakeLists.txt; the unit test
// JsonReport.GeneratorVersionMatchesProject checks it, so it cannot drift.
constexpr char kJsonReportGeneratorVersion[] = "0.1.0";

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
// Not on the stall path.
int OpenReportDirectory(const std::string& dir, bool follow_links,
                        std::string* canonical, std::string* why);

// Why a file with `st` (from lstat: links are not followed) must not be
// replaced by the report, or "" if it may: it must be a regular file with
// one link, owned by this process's effective uid. Not on the stall path.
std::string WhyNotReportFile(const struct stat& st);

// Writes `contents` to `path` (absolute; ResolveReportPath made it so at
// start-up), replacing a regular file there. The directory is opened once
// with OpenReportDirectory (no symbolic links on the way) and the file with
// openat, O_NOFOLLOW, O_NONBLOCK and without O_TRUNC; it is emptied only
// after fstat says it is a regular file with one link, owned by this user
// (WhyNotReportFile); a file it creates (O_EXCL) needs no such check. So a
// planted link, FIFO, device, hard link or other user's file is refused
// untouched, and the helper never blocks on it. Returns false with *why
// giving the reason (the caller names the path). Helper process only.
bool WriteReportFile(const std::string& path, const std::string& contents,
                     std::string* why);

}  // namespace gtest_watchdog_internal

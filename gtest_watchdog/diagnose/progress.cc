#include "gtest_watchdog/diagnose/progress.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/user_code.h"

namespace gtest_watchdog_internal {
namespace {

// The frame a sample is counted at: the first in the user's code, else the
// innermost.
const SourceFrame* CountedFrame(const std::vector<SourceFrame>& frames) {
  const SourceFrame* f = FirstUserFrame(frames);
  if (f == nullptr && !frames.empty()) f = &frames.front();
  return f;
}

}  // namespace

std::string StackSpot(const std::vector<SourceFrame>& frames) {
  const SourceFrame* user = FirstUserFrame(frames);
  if (user == nullptr) {
    return frames.empty() ? std::string() : frames.front().function;
  }
  std::string spot = user->function;
  for (const SourceFrame* f = user + 1; f != frames.data() + frames.size();
       ++f) {
    absl::StrAppend(&spot, "\n", f->function, ":", f->line);
  }
  return spot;
}

Motion DecideMotion(const ThreadModel& t) {
  const SnapshotThread& raw = *t.raw;
  if (raw.interval_ns <= 0 || raw.cpu_ns < 0) return Motion::kUnknown;
  if (raw.cpu_ns == 0 && raw.wakeups == 0) return Motion::kIdle;
  if (t.frames.empty()) return Motion::kUnknown;
  const std::string first = StackSpot(t.frames);
  bool compared = false;
  for (const std::vector<SourceFrame>& sample : t.samples) {
    if (sample.empty()) continue;
    compared = true;
    if (StackSpot(sample) != first) return Motion::kMoved;
  }
  return compared ? Motion::kSameSpot : Motion::kUnknown;
}

TimeSpent SummarizeSamples(const ReportModel& m,
                           const std::vector<int>& threads, size_t max_spots) {
  TimeSpent out;
  // Keyed by function and place; the order of first sight breaks ties.
  std::map<std::string, size_t> index;
  std::vector<HotSpot> spots;
  const auto count = [&](const std::vector<SourceFrame>& frames) {
    const SourceFrame* f = CountedFrame(frames);
    if (f == nullptr) return;
    ++out.samples;
    const std::string key =
        absl::StrCat(f->function, "|", f->file, "|", f->line);
    const auto [it, added] = index.emplace(key, spots.size());
    if (added) spots.push_back(HotSpot{*f, 0});
    ++spots[it->second].count;
  };
  for (int i : threads) {
    const ThreadModel& t = m.threads[i];
    if (t.frames.empty()) continue;
    ++out.threads;
    count(t.frames);
    for (const std::vector<SourceFrame>& sample : t.samples) {
      if (!sample.empty()) count(sample);
    }
  }
  std::stable_sort(
      spots.begin(), spots.end(),
      [](const HotSpot& a, const HotSpot& b) { return a.count > b.count; });
  if (spots.size() > max_spots) spots.resize(max_spots);
  out.spots = std::move(spots);
  return out;
}

// Whether the thread's innermost frames are taking a lock (a spinning
// mutex, a spin lock): busy there, it waits for whoever holds it.
bool AcquiringALock(const ThreadModel& t) {
  for (const SourceFrame& f : t.frames) {
    const std::string& fn = f.function;
    if (fn.find("Mutex::Lock") != std::string::npos ||
        fn.find("Mutex::ReaderLock") != std::string::npos ||
        fn.find("Mutex::WriterLock") != std::string::npos ||
        fn.find("LockSlow") != std::string::npos ||
        fn.rfind("pthread_mutex_lock", 0) == 0 ||
        fn.rfind("pthread_spin_lock", 0) == 0 ||
        fn.rfind("pthread_rwlock_", 0) == 0 ||
        fn.rfind("std::mutex::lock", 0) == 0 ||
        fn.find("spinlock") != std::string::npos ||
        fn.find("SpinLock") != std::string::npos) {
      return true;
    }
    if (FirstUserFrame({f}) != nullptr) break;  // up to the user's code
  }
  return false;
}

// "where the time went (12 samples of 4 threads): f(…) at a.cc:12 ×6, …"
std::string TimeSpentText(const TimeSpent& spent) {
  std::vector<std::string> parts;
  for (const HotSpot& h : spent.spots) {
    std::string part = ShortFunction(h.where.function);
    if (!h.where.file.empty() && h.where.line > 0) {
      absl::StrAppend(&part, " at ", Basename(h.where.file), ":", h.where.line);
    }
    absl::StrAppend(&part, " ×", h.count);
    parts.push_back(part);
  }
  return absl::StrCat("where the time went (", spent.samples, " samples of ",
                      spent.threads,
                      spent.threads == 1 ? " thread" : " threads",
                      "): ", absl::StrJoin(parts, ", "));
}

}  // namespace gtest_watchdog_internal

#include "gtest_watchdog/report/json_report.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gtest_watchdog/base/report_file.h"
#include "gtest_watchdog/config/duration.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/syscall_names.h"
#include "gtest_watchdog/diagnose/user_code.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "nlohmann/json.hpp"

namespace gtest_watchdog_internal {
namespace {

// Keeps keys in the order written: the document reads top-down like the
// text report (headline first, threads after).
using Json = nlohmann::ordered_json;

// Addresses as strings: many JSON readers (JavaScript, jq) hold numbers as
// doubles and would silently round a 64-bit address.
std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

Json HexOrNull(uint64_t v) { return v == 0 ? Json(nullptr) : Json(Hex(v)); }

Json StringOrNull(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json TidOrNull(pid_t tid) { return tid == 0 ? Json(nullptr) : Json(tid); }

Json FrameJson(const SourceFrame& f) {
  Json j;
  j["function"] = StringOrNull(f.function);
  j["file"] = StringOrNull(f.file);
  j["line"] = f.line > 0 ? Json(f.line) : Json(nullptr);
  j["column"] = f.column > 0 ? Json(f.column) : Json(nullptr);
  j["module"] = StringOrNull(f.module);
  // The offset is only meaningful inside a module (addr2line -e MODULE).
  j["offset"] = f.module.empty() ? Json(nullptr) : Json(Hex(f.module_offset));
  j["inlined"] = f.inlined;
  return j;
}

Json SyscallJson(const SnapshotThread& t) {
  // Negative: running on a CPU, stopped, or unreadable; no call to show.
  if (t.syscall_nr < 0) return nullptr;
  Json j;
  j["nr"] = t.syscall_nr;
  j["name"] = StringOrNull(SyscallName(t.syscall_nr));
  Json args = Json::array();
  for (uint64_t a : t.syscall_args) args.push_back(Hex(a));
  j["args"] = std::move(args);
  return j;
}

Json HoldersJson(const std::vector<FdHolder>& holders) {
  Json out = Json::array();
  for (const FdHolder& h : holders) {
    out.push_back({{"pid", h.pid},
                   {"fd", h.fd},
                   {"self", h.self},
                   {"command", StringOrNull(h.command)}});
  }
  return out;
}

Json FdJson(const FdFacts& f) {
  Json j;
  j["fd"] = f.fd >= 0 ? Json(f.fd) : Json(nullptr);
  j["kind"] = f.kind;
  j["target"] = StringOrNull(f.target);
  j["path"] = StringOrNull(f.path);
  j["access"] = StringOrNull(f.access);
  j["events"] = StringOrNull(f.events);
  const bool socket = !f.socket.protocol.empty();
  j["local"] = socket ? StringOrNull(f.socket.local) : Json(nullptr);
  j["remote"] = socket ? StringOrNull(f.socket.remote) : Json(nullptr);
  j["socket_state"] = socket ? StringOrNull(f.socket.state) : Json(nullptr);
  j["socket_type"] = socket ? StringOrNull(f.socket.type) : Json(nullptr);
  j["other_end"] = HoldersJson(f.other_end);
  j["peer"] = HoldersJson(f.peer);
  j["peer_not_accepted"] = f.peer_not_accepted;
  j["text"] = f.text;
  return j;
}

// What the thread's system call waits for; null when it is in none, and
// for futexes (the "wait" object says those).
Json BlockedInJson(const BlockingCall& c) {
  if (c.kind == BlockKind::kUnknown || c.kind == BlockKind::kRunning ||
      c.kind == BlockKind::kFutex || c.text.empty()) {
    return nullptr;
  }
  Json j;
  j["kind"] = BlockKindId(c.kind);
  j["text"] = c.text;
  Json fds = Json::array();
  for (const FdFacts& f : c.fds) fds.push_back(FdJson(f));
  j["fds"] = std::move(fds);
  j["timeout_ms"] = c.timeout_ms >= 0 ? Json(c.timeout_ms) : Json(nullptr);
  j["wait_for"] = StringOrNull(c.wait_for);
  Json children = Json::array();
  for (const ChildProcess& p : c.children) children.push_back(p.pid);
  j["children"] = std::move(children);
  j["sleep_ns"] = c.sleep_ns >= 0 ? Json(c.sleep_ns) : Json(nullptr);
  j["sleep_absolute"] = c.sleep_absolute;
  j["clock"] = StringOrNull(c.clock);
  Json signals = Json::array();
  for (int s : c.signals) signals.push_back(SignalName(s));
  j["signals"] = std::move(signals);
  return j;
}

Json CpuJson(const SnapshotThread& t) {
  if (t.cpu_ns < 0 || t.interval_ns <= 0) return nullptr;
  Json j;
  j["cpu_ns"] = t.cpu_ns;
  j["queued_ns"] = t.queued_ns >= 0 ? Json(t.queued_ns) : Json(nullptr);
  j["interval_ns"] = t.interval_ns;
  j["percent"] = 100.0 * static_cast<double>(t.cpu_ns) /
                 static_cast<double>(t.interval_ns);
  j["wakeups"] = t.wakeups >= 0 ? Json(t.wakeups) : Json(nullptr);
  return j;
}

Json WaitJson(const LockWait& w) {
  Json j;
  j["kind"] = WaitKindId(w.kind);
  j["lock_addr"] = HexOrNull(w.lock_addr);
  j["lock_name"] = StringOrNull(w.lock_name);
  j["owner_tid"] = TidOrNull(w.owner);
  j["primitive"] = StringOrNull(w.primitive);
  j["timed"] = w.timed;
  return j;
}

const char* RoleOf(const ReportModel& model, int index, const SnapshotThread& t,
                   const Snapshot& snap) {
  if (index == model.test_thread) return "test";
  if (snap.signal.signo != 0 && t.tid == snap.signal.tid) return "signalled";
  if (t.status == StackStatus::kSelf ||
      (snap.watchdog_tid != 0 && t.tid == snap.watchdog_tid)) {
    return "watchdog";
  }
  return "other";
}

}  // namespace

std::string FormatJsonReport(const ReportModel& model) {
  // Defensive defaults: a model without its snapshot still gives a valid
  // document rather than a crash in the helper.
  static const Snapshot kNoSnapshot;
  static const SnapshotThread kNoThread;
  const Snapshot& snap = model.snapshot ? *model.snapshot : kNoSnapshot;
  const auto raw_of = [&](int i) -> const SnapshotThread& {
    const ThreadModel& t = model.threads[static_cast<size_t>(i)];
    return t.raw ? *t.raw : kNoThread;
  };
  const int n_threads = static_cast<int>(model.threads.size());
  const auto valid = [&](int i) { return i >= 0 && i < n_threads; };

  // Only groups of two or more threads are listed: a group of one says
  // nothing. Model indices are remapped to positions in "groups".
  std::vector<int> group_index(model.groups.size(), -1);
  Json groups = Json::array();
  for (size_t g = 0; g < model.groups.size(); ++g) {
    Json tids = Json::array();
    for (int m : model.groups[g].members) {
      if (valid(m)) tids.push_back(raw_of(m).tid);
    }
    if (tids.size() < 2) continue;
    group_index[g] = static_cast<int>(groups.size());
    Json j;
    j["count"] = tids.size();
    j["threads"] = std::move(tids);
    groups.push_back(std::move(j));
  }

  Json doc;
  doc["schema_version"] = kJsonReportSchemaVersion;
  doc["generator"] = {{"name", "gtest_watchdog"},
                      {"version", kJsonReportGeneratorVersion}};
  doc["kind"] = snap.kind.empty() ? "timeout" : snap.kind;
  doc["phase"] = snap.phase_id.empty() ? "none" : snap.phase_id;
  doc["test"] = StringOrNull(snap.test_name);
  doc["suite"] = StringOrNull(snap.suite_name);
  doc["test_part"] = TestPartId(model.part);
  doc["limit_ns"] = snap.limit_ns;
  doc["limit_s"] = static_cast<double>(snap.limit_ns) / 1e9;
  doc["limit"] = FormatLimit(absl::Nanoseconds(snap.limit_ns));
  doc["limit_origin"] = StringOrNull(snap.limit_origin);
  doc["elapsed_ns"] = snap.elapsed_ns;
  doc["elapsed_s"] = static_cast<double>(snap.elapsed_ns) / 1e9;
  doc["pid"] = snap.pid;
  doc["test_tid"] = TidOrNull(snap.test_tid);
  doc["watchdog_tid"] = TidOrNull(snap.watchdog_tid);
  // The [ STALLED ] line's frame: where the test thread is in user code.
  const SourceFrame* user =
      valid(model.test_thread)
          ? FirstUserFrame(
                model.threads[static_cast<size_t>(model.test_thread)].frames)
          : nullptr;
  doc["stalled_at"] = user ? FrameJson(*user) : Json(nullptr);
  const Verdict& v = model.verdict;
  if (v.kind != VerdictKind::kNone) {
    Json verdict;
    verdict["kind"] = VerdictKindId(v.kind);
    verdict["text"] = v.text;
    verdict["thread"] =
        valid(v.culprit) ? Json(raw_of(v.culprit).tid) : Json(nullptr);
    Json chain = Json::array();
    for (int i : v.chain) {
      if (valid(i)) chain.push_back(raw_of(i).tid);
    }
    verdict["chain"] = std::move(chain);
    Json candidates = Json::array();
    for (int i : v.candidates) {
      if (valid(i)) candidates.push_back(raw_of(i).tid);
    }
    verdict["candidates"] = std::move(candidates);
    verdict["where"] = v.has_where ? FrameJson(v.where) : Json(nullptr);
    if (v.time_spent.samples > 0) {
      Json spots = Json::array();
      for (const HotSpot& h : v.time_spent.spots) {
        Json spot;
        spot["count"] = h.count;
        spot["frame"] = FrameJson(h.where);
        spots.push_back(std::move(spot));
      }
      Json spent;
      spent["samples"] = v.time_spent.samples;
      spent["threads"] = v.time_spent.threads;
      spent["spots"] = std::move(spots);
      verdict["time_spent"] = std::move(spent);
    } else {
      verdict["time_spent"] = nullptr;
    }
    doc["verdict"] = std::move(verdict);
  } else {
    doc["verdict"] = nullptr;
  }
  const SignalFacts& facts = snap.signal;
  if (facts.signo != 0) {
    Json sig;
    sig["number"] = facts.signo;
    sig["name"] = SignalName(facts.signo);
    sig["code"] = facts.code;
    sig["description"] = StringOrNull(SignalCodeText(facts.signo, facts.code));
    const bool fault = IsFault(facts.signo, facts.code);
    sig["fault_address"] = fault ? Json(Hex(facts.fault_addr)) : Json(nullptr);
    sig["sender_pid"] = TidOrNull(facts.sender_pid);
    sig["sender_uid"] =
        facts.sender_pid != 0 ? Json(facts.sender_uid) : Json(nullptr);
    sig["tid"] = facts.tid;
    // Where it hit, in the user's code.
    const SourceFrame* at = nullptr;
    for (int i = 0; i < n_threads; ++i) {
      if (raw_of(i).tid == facts.tid) {
        at = FirstUserFrame(model.threads[static_cast<size_t>(i)].frames);
      }
    }
    sig["crashed_at"] = at != nullptr ? FrameJson(*at) : Json(nullptr);
    sig["stack_overflow"] =
        LooksLikeStackOverflow(facts.signo, facts.fault_addr, facts.sp);
    sig["passed_to"] =
        facts.to_previous_handler ? "previous-handler" : "default-action";
    doc["signal"] = std::move(sig);
  } else {
    doc["signal"] = nullptr;
  }

  Json threads = Json::array();
  for (int i = 0; i < n_threads; ++i) {
    const ThreadModel& tm = model.threads[static_cast<size_t>(i)];
    const SnapshotThread& t = raw_of(i);
    Json j;
    j["tid"] = t.tid;
    j["name"] = t.name;
    j["state"] = std::string(1, t.state);
    j["state_name"] = StateName(t.state);
    j["role"] = RoleOf(model, i, t, snap);
    j["stack_source"] = StackSourceId(tm.source);
    j["stack_status"] = StackStatusId(t.status);
    j["stack_note"] = StringOrNull(tm.stack_note);
    j["syscall"] = SyscallJson(t);
    j["wchan"] = StringOrNull(t.wchan);
    j["sig_blocked"] = Hex(t.sig_blocked);
    j["wait"] = WaitJson(tm.wait);
    j["blocked_in"] = BlockedInJson(tm.call);
    j["cpu"] = CpuJson(t);
    j["motion"] = MotionId(tm.motion);
    Json samples = Json::array();
    for (const std::vector<SourceFrame>& sample : tm.samples) {
      Json frames = Json::array();
      for (const SourceFrame& f : sample) frames.push_back(FrameJson(f));
      samples.push_back(std::move(frames));
    }
    j["samples"] = std::move(samples);
    j["truncated"] = t.truncated;
    const bool grouped = tm.group >= 0 &&
                         static_cast<size_t>(tm.group) < group_index.size() &&
                         group_index[static_cast<size_t>(tm.group)] >= 0;
    j["group"] = grouped ? Json(group_index[static_cast<size_t>(tm.group)])
                         : Json(nullptr);
    j["kernel_pc"] = HexOrNull(t.kernel_pc);
    Json pcs = Json::array();
    for (uint64_t pc : t.pcs) pcs.push_back(Hex(pc));
    j["pcs"] = std::move(pcs);
    Json frames = Json::array();
    for (const SourceFrame& f : tm.frames) frames.push_back(FrameJson(f));
    j["frames"] = std::move(frames);
    threads.push_back(std::move(j));
  }
  doc["threads"] = std::move(threads);
  doc["groups"] = std::move(groups);

  Json deadlocks = Json::array();
  for (const DeadlockCycle& cycle : model.cycles) {
    const size_t n = cycle.threads.size();
    bool ok = n > 0;
    for (int m : cycle.threads) ok = ok && valid(m);
    if (!ok) continue;
    Json tids = Json::array();
    Json locks = Json::array();
    // threads[k] waits for a lock held by threads[k + 1] (wrapping).
    for (size_t k = 0; k < n; ++k) {
      const int waiter = cycle.threads[k];
      const int holder = cycle.threads[(k + 1) % n];
      const LockWait& w = model.threads[static_cast<size_t>(waiter)].wait;
      tids.push_back(raw_of(waiter).tid);
      Json lock;
      lock["addr"] = Hex(w.lock_addr);
      lock["name"] = StringOrNull(w.lock_name);
      lock["kind"] = WaitKindId(w.kind);
      lock["held_by"] = raw_of(holder).tid;
      lock["waited_by"] = raw_of(waiter).tid;
      locks.push_back(std::move(lock));
    }
    Json j;
    j["threads"] = std::move(tids);
    j["locks"] = std::move(locks);
    deadlocks.push_back(std::move(j));
  }
  doc["deadlocks"] = std::move(deadlocks);

  Json children = Json::array();
  for (const ChildProcess& c : model.children) {
    Json j;
    j["pid"] = c.pid;
    j["ppid"] = c.ppid;
    j["state"] = std::string(1, c.state);
    j["state_name"] = StateName(c.state);
    j["command"] = c.command;
    children.push_back(std::move(j));
  }
  doc["children"] = std::move(children);
  doc["ptrace_note"] = StringOrNull(model.ptrace_note);

  // replace: a thread name or path with invalid UTF-8 must not cost the
  // whole report (the default handler throws).
  std::string out = doc.dump(2, ' ', false, Json::error_handler_t::replace);
  out += '\n';
  return out;
}

bool WriteJsonReportFile(const std::string& path, const std::string& json,
                         std::string* error) {
  std::string why;
  if (WriteReportFile(path, json, &why)) return true;
  if (error) {
    *error =
        absl::StrCat("cannot write the JSON report to '", path, "': ", why);
  }
  return false;
}

}  // namespace gtest_watchdog_internal

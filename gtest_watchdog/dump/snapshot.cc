#include "gtest_watchdog/dump/snapshot.h"

#include <sstream>

#include "gtest_watchdog/base/raw_writer.h"

namespace gtest_watchdog_internal {

const char* StackStatusId(StackStatus s) {
  switch (s) {
    case StackStatus::kOk:
      return "ok";
    case StackStatus::kSelf:
      return "self";
    case StackStatus::kSignalsBlocked:
      return "signals-blocked";
    case StackStatus::kUninterruptible:
      return "uninterruptible";
    case StackStatus::kNoAnswer:
      return "no-answer";
    case StackStatus::kExited:
      return "exited";
    case StackStatus::kSmallStack:
      return "small-stack";
  }
  return "no-answer";
}

namespace {
// Values that end their line: newlines would break the format.
void Line(RawWriter& w, const char* key, const char* value) {
  w.Str(key).Char(' ');
  for (const char* p = value; *p != '\0'; ++p) w.Char(*p == '\n' ? ' ' : *p);
  w.Char('\n');
}
}  // namespace

void WriteSnapshot(int fd, const SnapshotHeader& h,
                   const SnapshotThreadIn* threads, int count) {
  RawWriter w(fd);
  w.Str("gtest_watchdog-snapshot ").Dec(kSnapshotVersion).Char('\n');
  Line(w, "kind", h.kind);
  Line(w, "phase", h.phase_id);
  Line(w, "test", h.test_name);
  Line(w, "suite", h.suite_name);
  Line(w, "limit_origin", h.limit_origin);
  w.Str("limit_ns ").Dec(h.limit_ns).Char('\n');
  w.Str("elapsed_ns ").Dec(h.elapsed_ns).Char('\n');
  w.Str("pid ").Dec(h.pid).Char('\n');
  w.Str("test_tid ").Dec(h.test_tid).Char('\n');
  w.Str("watchdog_tid ").Dec(h.watchdog_tid).Char('\n');
  w.Str("color ").Dec(h.color ? 1 : 0).Char('\n');
  // Hex: a path may hold any byte but NUL, the format is line-based.
  w.Str("json_report ");
  for (const char* p = h.json_report; *p != '\0'; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    w.Char("0123456789abcdef"[c >> 4]).Char("0123456789abcdef"[c & 15]);
  }
  w.Char('\n');
  const SignalFacts& sig = h.signal;
  if (sig.signo != 0) {
    w.Str("signal ").Dec(sig.signo).Char(' ').Dec(sig.code).Char(' ');
    w.Hex(sig.fault_addr).Char(' ').Dec(sig.sender_pid).Char(' ');
    w.Dec(sig.sender_uid).Char(' ').Dec(sig.tid).Char(' ');
    w.Hex(sig.sp).Char(' ').Dec(sig.to_previous_handler ? 1 : 0);
    w.Char('\n');
  }
  if (h.extra_samples > 0) {
    w.Str("samples ").Dec(h.extra_samples);
    for (int k = 0; k < h.extra_samples && k < kExtraStackSamples; ++k) {
      w.Char(' ').Dec(h.sample_offset_ns[k]);
    }
    w.Char('\n');
  }
  for (int i = 0; i < count; ++i) {
    const KernelThreadInfo& k = *threads[i].kernel;
    const ThreadStack* s = threads[i].stack;
    w.Str("thread ").Dec(k.tid).Char(' ').Char(k.state).Char(' ');
    w.Str(StackStatusId(threads[i].status)).Char(' ');
    w.Dec(s != nullptr && s->truncated ? 1 : 0).Char(' ');
    w.Dec(k.syscall_nr);
    for (uint64_t a : k.syscall_args) w.Char(' ').Hex(a);
    w.Char(' ').Hex(k.pc).Char(' ').Hex(k.sig_blocked).Char('\n');
    Line(w, "name", k.name);
    Line(w, "wchan", k.wchan);
    w.Str("cpu ").Dec(k.cpu_ns).Char(' ').Dec(k.queued_ns).Char(' ');
    w.Dec(k.wakeups).Char(' ');
    w.Dec(k.interval_ns).Char('\n');
    const int depth =
        (s != nullptr && threads[i].status == StackStatus::kOk) ? s->depth : 0;
    w.Str("pcs ").Dec(depth);
    for (int f = 0; f < depth; ++f) w.Char(' ').Hex(s->pcs[f]);
    w.Char('\n');
    // Set by the thread itself when it answered, even if its unwind failed.
    if (s != nullptr && s->thread_pointer != 0) {
      w.Str("tp ").Hex(s->thread_pointer).Char('\n');
    }
    for (int round = 0; round < kExtraStackSamples; ++round) {
      const ThreadStack* x = threads[i].extra[round];
      if (x == nullptr || x->depth <= 0) continue;
      w.Str("sample ").Dec(round).Char(' ').Dec(x->depth);
      for (int f = 0; f < x->depth && f < kMaxFrames; ++f) {
        w.Char(' ').Hex(x->pcs[f]);
      }
      w.Char('\n');
    }
    const FutexWindow* fw = threads[i].futex;
    if (fw != nullptr && fw->size > 0) {
      w.Str("futex ").Hex(fw->base).Char(' ');
      for (int b = 0; b < fw->size && b < kFutexWindowSize; ++b) {
        w.Char("0123456789abcdef"[fw->bytes[b] >> 4])
            .Char("0123456789abcdef"[fw->bytes[b] & 15]);
      }
      w.Char('\n');
    }
  }
  w.Str("end\n");
  w.Flush();
}

namespace {
StackStatus StatusFromId(const std::string& id) {
  for (StackStatus s :
       {StackStatus::kOk, StackStatus::kSelf, StackStatus::kSignalsBlocked,
        StackStatus::kUninterruptible, StackStatus::kNoAnswer,
        StackStatus::kExited, StackStatus::kSmallStack}) {
    if (id == StackStatusId(s)) return s;
  }
  return StackStatus::kNoAnswer;
}

// Decodes the hex digits of `hex` into bytes; false on odd length or a
// non-hex character.
bool FromHex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string RestOfLine(std::istringstream& in) {
  std::string rest;
  std::getline(in, rest);
  if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
  return rest;
}
}  // namespace

bool ParseSnapshot(const std::string& text, Snapshot* out, std::string* error) {
  std::istringstream lines(text);
  std::string line;
  Snapshot snap;
  bool ended = false;
  int lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "gtest_watchdog-snapshot") {
      in >> snap.version;
    } else if (key == "kind") {
      snap.kind = RestOfLine(in);
    } else if (key == "phase") {
      snap.phase_id = RestOfLine(in);
    } else if (key == "test") {
      snap.test_name = RestOfLine(in);
    } else if (key == "suite") {
      snap.suite_name = RestOfLine(in);
    } else if (key == "limit_origin") {
      snap.limit_origin = RestOfLine(in);
    } else if (key == "limit_ns") {
      in >> snap.limit_ns;
    } else if (key == "elapsed_ns") {
      in >> snap.elapsed_ns;
    } else if (key == "pid") {
      in >> snap.pid;
    } else if (key == "test_tid") {
      in >> snap.test_tid;
    } else if (key == "watchdog_tid") {
      in >> snap.watchdog_tid;
    } else if (key == "color") {
      int color = 0;
      in >> color;
      snap.color = color != 0;
    } else if (key == "json_report") {
      if (!FromHex(RestOfLine(in), &snap.json_report)) {
        *error = "snapshot line " + std::to_string(lineno) +
                 " malformed (json_report): " + line;
        return false;
      }
    } else if (key == "signal") {
      int to_previous = 0;
      SignalFacts& sig = snap.signal;
      in >> sig.signo >> sig.code >> std::hex >> sig.fault_addr >> std::dec >>
          sig.sender_pid >> sig.sender_uid >> sig.tid >> std::hex >> sig.sp >>
          std::dec >> to_previous;
      sig.to_previous_handler = to_previous != 0;
    } else if (key == "futex" && !snap.threads.empty()) {
      std::string hex, bytes;
      in >> std::hex >> snap.threads.back().futex_base >> hex;
      if (!FromHex(hex, &bytes)) {
        *error = "snapshot line " + std::to_string(lineno) +
                 " malformed (futex): " + line;
        return false;
      }
      snap.threads.back().futex_bytes.assign(bytes.begin(), bytes.end());
    } else if (key == "thread") {
      SnapshotThread t;
      std::string status;
      int truncated = 0;
      in >> t.tid >> t.state >> status >> truncated >> t.syscall_nr;
      in >> std::hex;
      for (uint64_t& a : t.syscall_args) in >> a;
      in >> t.kernel_pc >> t.sig_blocked;
      t.status = StatusFromId(status);
      t.truncated = truncated != 0;
      snap.threads.push_back(std::move(t));
    } else if (key == "tp" && !snap.threads.empty()) {
      in >> std::hex >> snap.threads.back().thread_pointer;
    } else if (key == "name" && !snap.threads.empty()) {
      snap.threads.back().name = RestOfLine(in);
    } else if (key == "wchan" && !snap.threads.empty()) {
      snap.threads.back().wchan = RestOfLine(in);
    } else if (key == "cpu" && !snap.threads.empty()) {
      SnapshotThread& t = snap.threads.back();
      in >> t.cpu_ns >> t.queued_ns >> t.wakeups >> t.interval_ns;
    } else if (key == "pcs" && !snap.threads.empty()) {
      int n = 0;
      in >> n >> std::hex;
      for (int i = 0; i < n; ++i) {
        uint64_t pc = 0;
        if (!(in >> pc)) break;
        snap.threads.back().pcs.push_back(pc);
      }
    } else if (key == "samples") {
      int n = 0;
      in >> n;
      for (int k = 0; k < n && k < kExtraStackSamples; ++k) {
        int64_t offset = 0;
        if (!(in >> offset)) break;
        snap.sample_offsets_ns.push_back(offset);
      }
    } else if (key == "sample" && !snap.threads.empty()) {
      int k = 0, n = 0;
      in >> k >> n >> std::hex;
      if (k < 0 || k >= kExtraStackSamples) {
        *error = "snapshot line " + std::to_string(lineno) +
                 " malformed (sample): " + line;
        return false;
      }
      std::vector<std::vector<uint64_t>>& samples = snap.threads.back().samples;
      if (samples.size() <= static_cast<size_t>(k)) samples.resize(k + 1);
      for (int i = 0; i < n; ++i) {
        uint64_t pc = 0;
        if (!(in >> pc)) break;
        samples[k].push_back(pc);
      }
    } else if (key == "end") {
      ended = true;
      break;
    }
    if (in.fail() && !in.eof()) {
      *error =
          "snapshot line " + std::to_string(lineno) + " malformed: " + line;
      return false;
    }
  }
  if (snap.version != kSnapshotVersion) {
    *error =
        "snapshot version " + std::to_string(snap.version) + " unsupported";
    return false;
  }
  if (!ended) {
    *error = "snapshot truncated (no 'end' line)";
    return false;
  }
  *out = std::move(snap);
  return true;
}

}  // namespace gtest_watchdog_internal

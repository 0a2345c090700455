#!/usr/bin/env python3
"""Drives the benchmarks of docs/benchmarks.md and prints Markdown tables.

Run through bench/run.sh, which builds the binaries first. --quick runs tiny
sizes once (the CI smoke test); nothing here asserts on time.
"""
import json
import os
import select
import statistics
import subprocess
import sys
import time

QUICK = "--quick" in sys.argv
# --latency-runs N: only the report-latency rows, N interleaved runs of each
# size, median and range (no gdb/eu-stack); for A/B comparisons.
# --keep-going: only the keep-going rows.
KEEP_GOING_ONLY = "--keep-going" in sys.argv
LATENCY_RUNS = (int(sys.argv[sys.argv.index("--latency-runs") + 1])
                if "--latency-runs" in sys.argv else 0)
B = os.environ.get("BENCH_BIN_DIR", "build-bench/bench") + "/"


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def run_timed(cmd, env=None):
    start = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, check=False)
    return time.monotonic() - start


def section(title):
    print(f"\n## {title}\n", flush=True)


def arm_disarm():
    section("Cost on the test's path")
    out = subprocess.run(
        [B + "arm_disarm_bench", "--benchmark_format=json",
         "--benchmark_min_time=" + ("0.01" if QUICK else "0.5")],
        capture_output=True, text=True, check=True).stdout
    print("| benchmark | ns per iteration | heap allocations per iteration |")
    print("|---|---|---|")
    for b in json.loads(out)["benchmarks"]:
        allocs = b.get("allocations_per_test", b.get("allocations_per_iteration", "–"))
        print(f"| {b['name']} | {b['real_time']:.1f} | {allocs} |")


def end_to_end():
    n = 2000 if QUICK else 100000
    reps = 1 if QUICK else 7
    section(f"{n:,} trivial tests, {reps} interleaved runs")
    variants = ["plain", "idle_thread", "watchdog", "thread_per_test"]
    times = {v: [] for v in variants}
    env = dict(os.environ, BENCH_TESTS=str(n))
    for _ in range(reps):
        for v in variants:
            times[v].append(run_timed([B + "trivial_tests_" + v], env))
    base = statistics.median(times["plain"])
    print("| binary | median wall time | min – max | ratio to plain (median) |")
    print("|---|---|---|---|")
    for v in variants:
        med = statistics.median(times[v])
        print(f"| {v} | {med:.3f} s | {min(times[v]):.3f} – {max(times[v]):.3f} s "
              f"| {med / base:.3f} |")


def syscalls():
    sizes = [100, 1000] if QUICK else [1000, 100000]
    section("System calls (strace -f -c)")
    print("| tests | plain | watchdog | difference |")
    print("|---|---|---|---|")
    for n in sizes:
        counts = {}
        for v in ["plain", "watchdog"]:
            r = subprocess.run(
                ["strace", "-f", "-c", "-o", "/dev/stderr", B + "trivial_tests_" + v],
                env=dict(os.environ, BENCH_TESTS=str(n)),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            total = [l for l in r.stderr.splitlines() if l.rstrip().endswith("total")]
            counts[v] = int(total[-1].split()[3])
        print(f"| {n:,} | {counts['plain']:,} | {counts['watchdog']:,} "
              f"| {counts['watchdog'] - counts['plain']:,} |")


def stalled_report(threads, limit_s, workers=0):
    """Deadline -> report complete ([ ABORT line) -> process gone, in s."""
    env = dict(os.environ, BENCH_THREADS=str(threads), BENCH_WORKERS=str(workers))
    p = subprocess.Popen([B + "blocked_threads", f"--gtest_watchdog_timeout={limit_s}s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    start_ns = None
    rss = {}
    report_done = None
    err_bytes = 0
    buf = b""
    streams = [p.stdout, p.stderr]
    while streams:
        ready, _, _ = select.select(streams, [], [], 60)
        if not ready:
            p.kill()
            break
        for s in ready:
            data = os.read(s.fileno(), 1 << 16)
            now = time.monotonic()
            if not data:
                streams.remove(s)
                continue
            if s is p.stdout:
                for line in data.decode().splitlines():
                    parts = line.split()
                    if parts and parts[0] == "start":
                        start_ns = int(parts[1])
                    elif parts and parts[0].startswith("rss_"):
                        rss[parts[0]] = int(parts[1])
            else:
                err_bytes += len(data)
                buf = (buf + data)[-4096:]
                if report_done is None and b"[ ABORT    ]" in buf:
                    report_done = now
    p.wait()
    gone = time.monotonic()
    deadline = start_ns / 1e9 + limit_s
    return (report_done - deadline if report_done else float("nan"),
            gone - deadline, err_bytes, rss)


def attach_time(threads, tool):
    env = dict(os.environ, BENCH_THREADS=str(threads))
    p = subprocess.Popen([B + "blocked_threads", "--gtest_watchdog_timeout=0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    for line in p.stdout:
        if line.startswith(b"ready"):
            break
    cmd = (["gdb", "-batch", "-nx", "-p", str(p.pid), "-ex", "thread apply all bt"]
           if tool == "gdb" else ["eu-stack", "-p", str(p.pid)])
    t = run_timed(cmd)
    p.kill()
    p.wait()
    return t


def latency():
    sizes = [10, 100] if QUICK else [10, 100, 1000, 5000]
    section("Report latency (from the deadline), and the same stacks by gdb and eu-stack")
    print("| blocked threads | report complete | process gone | report size "
          "| gdb `thread apply all bt` | eu-stack -p | gdb / watchdog |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        limit = 1 + n / 2000
        done, gone, size, _ = stalled_report(n, limit)
        gdb = attach_time(n, "gdb")
        eu = attach_time(n, "eu-stack")
        print(f"| {n:,} | {done:.3f} s | {gone:.3f} s | {size / 1024:.0f} KiB "
              f"| {gdb:.2f} s | {eu:.2f} s | {gdb / done:.1f}× |")


def latency_runs(runs):
    # (blocked threads, working threads): with workers, the report takes its
    # extra stack samples of them (docs/verdict.md, "Evidence over time").
    sizes = [(10, 0), (100, 0), (1000, 0), (5000, 0), (1000, 4), (5000, 4)]
    section(f"Report latency (from the deadline), {runs} interleaved runs")
    done = {n: [] for n in sizes}
    gone = {n: [] for n in sizes}
    for _ in range(runs):
        for n in sizes:
            d, g, _, _ = stalled_report(n[0], 1 + n[0] / 2000, n[1])
            done[n].append(d)
            gone[n].append(g)
    print("| blocked threads | working threads | report complete: median | min – max "
          "| process gone: median | min – max |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        print(f"| {n[0]:,} | {n[1]} | {statistics.median(done[n]):.3f} s "
              f"| {min(done[n]):.3f} – {max(done[n]):.3f} s "
              f"| {statistics.median(gone[n]):.3f} s "
              f"| {min(gone[n]):.3f} – {max(gone[n]):.3f} s |")
    print("\nall runs, report complete (s): " + "; ".join(
        f"{n[0]}+{n[1]}: " + " ".join(f"{x:.3f}" for x in done[n]) for n in sizes))


def memory():
    section("Resident memory (KiB)")
    print("| | watchdog off | watchdog on | added |")
    print("|---|---|---|---|")
    n = 100 if QUICK else 1000
    off = {}
    env = dict(os.environ, BENCH_THREADS=str(n))
    for timeout, store in [("0", off)]:
        p = subprocess.Popen([B + "blocked_threads", f"--gtest_watchdog_timeout={timeout}",
                              "--gtest_watchdog_signals=none"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        for line in p.stdout:
            parts = line.decode().split()
            if parts[0].startswith("rss_"):
                store[parts[0]] = int(parts[1])
            if parts[0] == "rss_threads_kib":
                break
        p.kill()
        p.wait()
    _, _, _, on = stalled_report(n, 1 + n / 2000)
    for key, label in [("rss_start_kib", "at start-up"),
                       ("rss_threads_kib", f"with {n:,} threads")]:
        print(f"| {label} | {off[key]:,} | {on[key]:,} | {on[key] - off[key]:,} |")


def read_stamps(path):
    """(kind, ns) pairs keep_going_tests wrote, in order."""
    with open(path) as f:
        return [(k, int(v)) for k, v in (l.split() for l in f if l.strip())]


KEEP_GOING = ["--gtest_watchdog_keep_going"]
TMP = os.environ.get("TMPDIR", "/tmp")


def keep_going():
    """Keep going (--gtest_watchdog_keep_going) against today's mode."""
    keep_going_trivial()
    keep_going_restart()
    keep_going_hangs()


def keep_going_trivial():
    kg = KEEP_GOING
    # Nothing stalls: the same 100,000 trivial tests, watchdog alone and with
    # keep going (one child runs them all), interleaved.
    n = 1000 if QUICK else 100000
    reps = 1 if QUICK else 5
    section(f"Keep going, nothing stalls: {n:,} trivial tests, {reps} interleaved runs")
    times = {"watchdog": [], "keep going": []}
    env = dict(os.environ, BENCH_TESTS=str(n))
    for _ in range(reps):
        times["watchdog"].append(run_timed([B + "trivial_tests_watchdog"], env))
        times["keep going"].append(run_timed([B + "trivial_tests_watchdog"] + kg, env))
    base = statistics.median(times["watchdog"])
    print("| mode | median wall time | min – max | ratio to watchdog (median) |")
    print("|---|---|---|---|")
    for v, t in times.items():
        med = statistics.median(t)
        print(f"| {v} | {med:.3f} s | {min(t):.3f} – {max(t):.3f} s | {med / base:.3f} |")


def keep_going_restart():
    kg = KEEP_GOING + ["--gtest_watchdog_max_stalls=0"]  # deaths count too
    # A child's end to the next test's start: every Dies test SIGKILLs its
    # child; the tests stamp "end" before the kill and "start" in the next
    # child. Against the binary's start-up (--gtest_list_tests).
    deaths = 10 if QUICK else 100
    section(f"Keep going, a child's end to the next test's start ({deaths} children killed)")
    stamps = os.path.join(TMP, f"keep_going_stamps.{os.getpid()}")
    if os.path.exists(stamps):
        os.remove(stamps)
    env = dict(os.environ, BENCH_DEATHS=str(deaths), BENCH_TIMES=stamps)
    run_timed([B + "keep_going_tests", "--gtest_filter=Many/Dies.*"] + kg, env)
    seq = read_stamps(stamps)
    os.remove(stamps)
    gaps = [b[1] - a[1] for a, b in zip(seq, seq[1:]) if a[0] == "end" and b[0] == "start"]
    lists = [run_timed([B + "keep_going_tests", "--gtest_list_tests"], env)
             for _ in range(5 if QUICK else 20)]
    med_gap = statistics.median(gaps) / 1e6
    med_list = statistics.median(lists) * 1e3
    print("| | median | min – max | runs |")
    print("|---|---|---|---|")
    print(f"| end → next start | {med_gap:.1f} ms | {min(gaps) / 1e6:.1f} – "
          f"{max(gaps) / 1e6:.1f} ms | {len(gaps)} |")
    print(f"| `--gtest_list_tests` (start-up) | {med_list:.1f} ms | "
          f"{min(lists) * 1e3:.1f} – {max(lists) * 1e3:.1f} ms | {len(lists)} |")
    print(f"\nend → next start minus start-up (medians): {med_gap - med_list:.1f} ms")


def keep_going_hangs():
    kg = KEEP_GOING
    stamps = os.path.join(TMP, f"keep_going_stamps.{os.getpid()}")
    if os.path.exists(stamps):
        os.remove(stamps)
    # Every test hangs: 100 ms limit, no cap on stalls. Every test must be in
    # the XML, each failed.
    hangs = 20 if QUICK else 1000
    section(f"Keep going, {hangs:,} tests that hang (100 ms limit, max_stalls=0)")
    xml = os.path.join(TMP, f"keep_going_hangs.{os.getpid()}.xml")
    env = dict(os.environ, BENCH_HANGS=str(hangs), BENCH_TIMES=stamps)
    wall = run_timed([B + "keep_going_tests", "--gtest_filter=Many/Hangs.*",
                      "--gtest_watchdog_timeout=100ms", "--gtest_watchdog_max_stalls=0",
                      "--gtest_output=xml:" + xml] + kg, env)
    starts = [t for k, t in read_stamps(stamps) if k == "start"]
    os.remove(stamps)
    with open(xml) as f:
        text = f.read()
    os.remove(xml)
    cases = text.count("<testcase ")
    failed = text.count("<failure ")
    per = [(b - a) / 1e6 for a, b in zip(starts, starts[1:])]
    print("| tests | reported in the XML | failed | wall time | per stall: wall / tests "
          "| start to next start: median | min – max |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {hangs:,} | {cases:,} | {failed:,} | {wall:.1f} s | {wall / hangs * 1e3:.0f} ms "
          f"| {statistics.median(per):.0f} ms | {min(per):.0f} – {max(per):.0f} ms |")


def main():
    print(f"# gtest_watchdog benchmarks ({'quick' if QUICK else 'full'} run)")
    print(f"\nload average before: {loadavg()}; CPUs: {os.cpu_count()}")
    if LATENCY_RUNS:
        latency_runs(LATENCY_RUNS)
        print(f"\nload average after: {loadavg()}")
        return
    if KEEP_GOING_ONLY:
        keep_going()
        print(f"\nload average after: {loadavg()}")
        return
    arm_disarm()
    end_to_end()
    syscalls()
    latency()
    memory()
    keep_going()
    print(f"\nload average after: {loadavg()}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compiles or runs every fenced code block in README.md, CHANGELOG.md and
docs/*.md, so the documentation cannot drift from the code.

Every block needs an info string; its first word says what the block is and
what is done with it:

  text, console  output, reports, error messages, transcripts: not checked.
  cpp            compiled (-Wall -Wextra -Werror) and linked against the
                 installed library — with gtest_watchdog_main when it has no
                 main(), with gtest_watchdog when it has one — then run with
                 --gtest_watchdog_list_timeouts (exit 0: every annotation is
                 valid). `cpp fragment`: statements, wrapped in a TEST body.
                 A block without #include gets a prelude: gtest, gtest_watchdog,
                 <chrono>, <thread>, `using namespace std::chrono_literals;`.
  cmake          a project of its own (cmake_minimum_required and project()
                 added when missing; every *.cc it names created as a small
                 gtest file), configured and built; `ctest -N` when it adds
                 tests. find_package finds the installed library
                 (CMAKE_PREFIX_PATH=$HOME/.local); add_subdirectory and
                 FetchContent get the source tree (FetchContent through
                 FETCHCONTENT_SOURCE_DIR_GTEST_WATCHDOG, no network) and build
                 the library again: the "source-tree" blocks.
                 `cmake fragment`: find_package, enable_testing() and a
                 `my_tests` target from my_tests.cc are put in front.
  toml           loaded by ./my_tests --gtest_watchdog_config=FILE
                 --gtest_watchdog_list_timeouts (exit 0).
  json           parsed.
  make           the Makefile is run with make in a directory holding
                 my_tests.cc, PKG_CONFIG_PATH naming the installed
                 gtest_watchdog.pc; a my_tests it builds is run with
                 --gtest_watchdog_list_timeouts.
  sh             run with `bash -euo pipefail` in the page's scratch
                 directory: ./my_tests (tests/docs/fixture) and my_tests.cc are
                 there, docs/ tests/ scripts/ bench/ examples/ link to the
                 source tree, HOME has the install in $HOME/.local, and every
                 block of the page marked `file=NAME` is saved there under
                 NAME first. The sh blocks of a page run in order, in the
                 same directory, like a reader following the page (files
                 persist; variables do not: each block is its own bash).
                 `sh norun=KEY`: not run, for a reason listed in NORUN (printed).
                 `sh needs=TOOL`: not run when TOOL is not installed (printed).
  anything else  an error.

`file=NAME` (cpp, cmake, toml, json, make) also saves the block under NAME
for the page's sh blocks (and for its cmake blocks that name NAME).

Also checked: every fence is closed, and every relative link points at a file
that exists (and an #anchor at a heading of that page).

Before anything runs, the build given by --build is installed with
`cmake --install` into WORK/home/.local, and ./my_tests is built against it.
Every command runs with HOME=WORK/home, without GTEST_*, CTEST_*, CMAKE_*,
TEST_TIMEOUT, XML_OUTPUT_FILE or compiler variables from the caller, and with
a c++/g++ wrapper first on PATH that calls --cxx with the --sanitize flags
(-fsanitize=LIST), so what a block compiles matches the library.

--blocks install: every block but the source-tree ones (Docs.CodeBlocks);
--blocks source-tree: only those (Docs.SourceTreeBlocks, default build only);
--blocks all: both. --self-test runs the checker on
tests/docs/selftest/broken.md and passes if it fails, naming FILE:LINE, for
each of its blocks.

Prints, for every block, FILE:LINE and what was done; a failure names the
block's FILE:LINE. Exit status 1 if any block failed.

  check_code_blocks.py --source DIR --build DIR --work DIR
      [--sanitize=LIST] [--cxx=COMPILER] [--blocks all|install|source-tree]
      [--self-test] [-v] [MARKDOWN...]
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

LANGS = ("text", "console", "cpp", "cmake", "toml", "json", "make", "sh")
ATTRS = {
    "text": set(),
    "console": set(),
    "cpp": {"fragment", "file"},
    "cmake": {"fragment", "file"},
    "toml": {"file"},
    "json": {"file"},
    "make": {"file"},
    "sh": {"norun", "needs"},
}

# Why a `sh norun=KEY` block is not run. Keep this list short.
NORUN = {
    "builds-gtest-watchdog":
        "builds and installs gtest_watchdog itself from its source tree; "
        "the Docs tests install the build they run in instead "
        "(cmake --install BUILD --prefix $HOME/.local), and scripts/test.sh "
        "builds it with the same commands",
    "scripts":
        "scripts/test.sh is what CI runs, so it is run there; scripts/demo.sh "
        "installs packages and rebuilds the project in build/ (its program, "
        "examples/demo_deadlock, is built by every build)",
    "bench":
        "the full benchmark takes minutes; scripts/test.sh runs its smoke "
        "test, bench/run.sh --quick",
    "bazel":
        "Bazel is not installed in CI; what it relies on (TEST_TIMEOUT, "
        "GTEST_WATCHDOG_SIGNALS) is run in the page's other examples",
    "fuzz":
        "fuzzing needs clang with libFuzzer, not the compiler the Docs tests "
        "build with, and runs for minutes; CI runs scripts/fuzz.sh, which "
        "runs the same commands",
}

DEFAULT_DOCS = ["README.md", "CHANGELOG.md", "docs/*.md"]

PRELUDE = """#include <gtest/gtest.h>
#include <gtest_watchdog/gtest_watchdog.h>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;
"""

FENCE = re.compile(r"^( {0,3}|\s*)(`{3,}|~{3,})(.*)$")


class Block:
    def __init__(self, doc, line, indent, fence, info, text):
        self.doc = doc      # path relative to the source tree
        self.line = line    # 1-based line of the opening fence
        self.indent = indent
        self.fence = fence
        self.info = info.strip()
        self.text = text
        words = self.info.split()
        self.lang = words[0] if words else ""
        self.attrs = {}
        for w in words[1:]:
            key, _, value = w.partition("=")
            self.attrs[key] = value

    @property
    def where(self):
        return "%s:%d" % (self.doc, self.line)

    @property
    def first_line(self):
        return self.line + 1

    def slug(self):
        return "%s-%d" % (self.doc.replace("/", "_").replace(".md", ""),
                          self.line)


def heading_anchors(path):
    """The anchors GitHub gives a page's headings: lower case, punctuation
    but '-' and '_' dropped, spaces made '-', repeats numbered."""
    anchors = set()
    seen = {}
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^\s*(`{3,}|~{3,})", line):
                in_code = not in_code
                continue
            m = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else "%s-%d" % (slug, n))
    return anchors


class Checker:
    def __init__(self, args):
        self.args = args
        self.source = os.path.realpath(args.source)
        self.work = os.path.realpath(args.work)
        self.build = os.path.realpath(args.build)
        self.failures = []
        self.counts = {"checked": 0, "text": 0, "not run": 0, "left out": 0}

    # --- reporting ---------------------------------------------------------

    def say(self, block, what, seconds=None):
        t = "" if seconds is None else " (%.1f s)" % seconds
        print("%s %s: %s%s" % (block.where, block.lang or "(none)", what, t),
              flush=True)

    def fail(self, where, message, output=""):
        text = "%s: FAIL: %s" % (where, message)
        if output:
            lines = output.rstrip().splitlines()
            if len(lines) > 80:
                lines = ["  ... (%d lines above left out)" % (len(lines) - 80)
                         ] + lines[-80:]
            text += "\n" + "\n".join("    | " + l for l in lines)
        print(text, flush=True)
        self.failures.append(where)

    # --- markdown ----------------------------------------------------------

    def parse(self, path):
        rel = os.path.relpath(path, self.source)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        blocks = []
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            indent, fence, info = m.group(1), m.group(2), m.group(3)
            start = i
            body = []
            i += 1
            closed = False
            while i < len(lines):
                c = re.match(r"^\s*(`{3,}|~{3,})\s*$", lines[i])
                if c and c.group(1)[0] == fence[0] and len(c.group(1)) >= len(fence):
                    closed = True
                    break
                line = lines[i]
                if indent and line.startswith(indent):
                    line = line[len(indent):]
                body.append(line)
                i += 1
            i += 1
            block = Block(rel, start + 1, indent, fence, info,
                          "\n".join(body) + "\n")
            if not closed:
                self.fail(block.where, "code block is never closed")
                continue
            blocks.append(block)
        return rel, lines, blocks

    def lint(self, rel, lines, blocks):
        """Info strings and their attributes; relative links."""
        ok = []
        for b in blocks:
            if not b.lang:
                self.fail(b.where, "code block without an info string; give "
                          "it one of: " + ", ".join(LANGS))
                continue
            if b.lang not in LANGS:
                self.fail(b.where, "unknown code block language '%s'; the "
                          "checker knows %s" % (b.lang, ", ".join(LANGS)))
                continue
            bad = [k for k in b.attrs if k not in ATTRS[b.lang]]
            if bad:
                self.fail(b.where, "unknown attribute(s) %s for a %s block "
                          "(allowed: %s)" % (", ".join(bad), b.lang,
                                             ", ".join(sorted(ATTRS[b.lang]))
                                             or "none"))
                continue
            if "norun" in b.attrs and b.attrs["norun"] not in NORUN:
                self.fail(b.where, "norun=%s: not a known reason (known: %s; "
                          "add one to NORUN in %s)" % (
                              b.attrs["norun"], ", ".join(sorted(NORUN)),
                              os.path.relpath(__file__, self.source)))
                continue
            if "file" in b.attrs and not re.fullmatch(r"[\w.-]+", b.attrs["file"]):
                self.fail(b.where, "file=%r: expected a plain file name" %
                          b.attrs["file"])
                continue
            if "file" in b.attrs:
                same = [o for o in ok if o.attrs.get("file") == b.attrs["file"]]
                if same:
                    self.fail(b.where, "file=%s is already the block at %s" % (
                        b.attrs["file"], same[0].where))
                    continue
            ok.append(b)
        # Relative links must point at something that exists, and an
        # #anchor at a heading of that page.
        in_code = False
        for n, line in enumerate(lines, 1):
            if re.match(r"^\s*(`{3,}|~{3,})", line):
                in_code = not in_code
                continue
            if in_code:
                continue
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"^[a-z]+:", target):
                    continue
                path, _, anchor = target.partition("#")
                full = os.path.normpath(os.path.join(
                    self.source, os.path.dirname(rel), path or
                    os.path.basename(rel)))
                if not os.path.exists(full):
                    self.fail("%s:%d" % (rel, n),
                              "link to '%s', which does not exist" % target)
                elif anchor and full.endswith(".md") and \
                        anchor not in heading_anchors(full):
                    self.fail("%s:%d" % (rel, n),
                              "link to '%s': %s has no heading with that "
                              "anchor" % (target, os.path.relpath(
                                  full, self.source)))
        return ok

    # --- processes ---------------------------------------------------------

    def run(self, cmd, cwd, timeout=600, env=None):
        """Returns (status, combined output, seconds); status None on timeout."""
        start = time.monotonic()
        try:
            p = subprocess.run(cmd, cwd=cwd, env=env or self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout)
            out = p.stdout.decode("utf-8", "replace")
            status = p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            out += "\n(timed out after %d s)" % timeout
            status = None
        return status, out, time.monotonic() - start

    def must(self, cmd, cwd, what, timeout=600):
        status, out, _ = self.run(cmd, cwd, timeout)
        if status != 0:
            print("check_code_blocks: %s failed (%s):\n%s" % (
                what, " ".join(shlex.quote(c) for c in cmd), out), flush=True)
            sys.exit(1)
        return out

    # --- set-up ------------------------------------------------------------

    def prepare(self):
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        # A c++/g++ first on PATH: the build's compiler, with the build's
        # sanitizers, for everything a block compiles (CMake, make, sh).
        self.bin = os.path.join(self.work, "bin")
        os.makedirs(self.bin)
        extra = ""
        if self.args.sanitize:
            extra = (" -fsanitize=%s -fno-omit-frame-pointer "
                     "-fno-sanitize-recover=all" % self.args.sanitize)
        for name in ("c++", "g++"):
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write('#!/bin/sh\nexec %s "$@"%s\n' % (
                    shlex.quote(self.args.cxx), extra))
            os.chmod(path, 0o755)

        self.home = os.path.join(self.work, "home")
        self.prefix = os.path.join(self.home, ".local")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GTEST_", "CTEST_", "CMAKE_", "MAKE"))
               and k not in ("TEST_TIMEOUT", "XML_OUTPUT_FILE", "CXX", "CC",
                             "CXXFLAGS", "LDFLAGS", "CPPFLAGS",
                             "PKG_CONFIG_PATH", "MFLAGS")}
        env["PATH"] = self.bin + os.pathsep + os.environ.get("PATH", "")
        env["HOME"] = self.home
        if "PYENV_ROOT" not in env and os.path.isdir(
                os.path.expanduser("~/.pyenv")):
            env["PYENV_ROOT"] = os.path.expanduser("~/.pyenv")
        env["CMAKE_BUILD_PARALLEL_LEVEL"] = "2"
        env["CTEST_PARALLEL_LEVEL"] = "2"
        env["CTEST_OUTPUT_ON_FAILURE"] = "1"
        self.env = env

        start = time.monotonic()
        self.must(["cmake", "--install", self.build, "--prefix",
                   self.prefix], self.work, "installing the build")
        pcs = []
        for root, _, files in os.walk(self.prefix):
            if "gtest_watchdog.pc" in files:
                pcs.append(root)
        self.pkg_config_path = pcs[0] if pcs else ""

        fixture_src = os.path.join(self.source, "tests", "docs", "fixture")
        self.fixture_build = os.path.join(self.work, "fixture")
        self.must(["cmake", "-S", fixture_src, "-B", self.fixture_build,
                   "-DCMAKE_PREFIX_PATH=" + self.prefix],
                  self.work, "configuring tests/docs/fixture")
        self.must(["cmake", "--build", self.fixture_build, "-j2"], self.work,
                  "building tests/docs/fixture")
        self.my_tests = os.path.join(self.fixture_build, "my_tests")
        self.my_tests_cc = os.path.join(fixture_src, "my_tests.cc")
        print("check_code_blocks: installed this build in %s, built ./my_tests "
              "(tests/docs/fixture) against it (%.1f s)%s" % (
                  self.prefix, time.monotonic() - start,
                  "; sanitizers: " + self.args.sanitize
                  if self.args.sanitize else ""), flush=True)

    # --- per language ------------------------------------------------------

    def check_json(self, b):
        try:
            json.loads(b.text)
        except ValueError as e:
            lineno = getattr(e, "lineno", 0)
            self.fail(b.where, "json block does not parse: %s%s" % (
                e, " (%s:%d)" % (b.doc, b.line + lineno) if lineno else ""))
            return
        self.counts["checked"] += 1
        self.say(b, "parsed as JSON: ok")

    def check_toml(self, b):
        d = os.path.join(self.work, "toml")
        os.makedirs(d, exist_ok=True)
        name = b.slug() + ".toml"
        with open(os.path.join(d, name), "w") as f:
            f.write(b.text)
        status, out, secs = self.run(
            [self.my_tests, "--gtest_watchdog_config=" + name,
             "--gtest_watchdog_list_timeouts"], d, timeout=120)
        if status != 0:
            # The message names NAME:LINE; say where that is in the page.
            out = re.sub(re.escape(name) + r":(\d+)",
                         lambda m: "%s:%d" % (b.doc, b.line + int(m.group(1))),
                         out)
            self.fail(b.where, "./my_tests --gtest_watchdog_config=<this block> "
                      "--gtest_watchdog_list_timeouts exited with %s" % status,
                      out)
            return
        self.counts["checked"] += 1
        self.say(b, "loaded by ./my_tests --gtest_watchdog_config=THIS_BLOCK "
                 "--gtest_watchdog_list_timeouts: ok", secs)

    def cpp_source(self, b):
        fragment = "fragment" in b.attrs
        text = b.text
        head = ""
        if fragment or "#include" not in text:
            head = PRELUDE
        if fragment:
            return (head + "\nTEST(DocsFragment, Line%d) {\n#line %d \"%s\"\n%s}\n"
                    % (b.line, b.first_line, b.doc, text))
        return head + '#line %d "%s"\n%s' % (b.first_line, b.doc, text)

    def check_cpp(self, blocks):
        if not blocks:
            return
        d = os.path.join(self.work, "cpp")
        os.makedirs(d, exist_ok=True)
        cml = ["cmake_minimum_required(VERSION 3.25)",
               "project(docs_cpp_blocks LANGUAGES CXX)",
               "find_package(gtest_watchdog CONFIG REQUIRED)"]
        targets = []
        for n, b in enumerate(blocks):
            target = "block%d" % n
            with open(os.path.join(d, target + ".cc"), "w") as f:
                f.write(self.cpp_source(b))
            has_main = re.search(r"\bmain\s*\(", b.text) is not None
            lib = ("gtest_watchdog::gtest_watchdog" if has_main
                   else "gtest_watchdog::gtest_watchdog_main")
            cml += ["add_executable(%s %s.cc)" % (target, target),
                    "target_link_libraries(%s PRIVATE %s)" % (target, lib),
                    "target_compile_options(%s PRIVATE -Wall -Wextra -Werror)"
                    % target]
            targets.append((b, target, lib))
        with open(os.path.join(d, "CMakeLists.txt"), "w") as f:
            f.write("\n".join(cml) + "\n")
        build = os.path.join(d, "build")
        status, out, _ = self.run(
            ["cmake", "-G", "Unix Makefiles", "-S", d, "-B", build,
             "-DCMAKE_PREFIX_PATH=" + self.prefix], d)
        if status != 0:
            for b, _, _ in targets:
                self.fail(b.where, "the cpp blocks' project does not configure",
                          out)
            return
        start = time.monotonic()
        self.run(["cmake", "--build", build, "-j2", "--", "-k"], d, timeout=1200)
        print("check_code_blocks: compiled %d cpp blocks (%.1f s)" % (
            len(targets), time.monotonic() - start), flush=True)
        for b, target, lib in targets:
            exe = os.path.join(build, target)
            if not os.path.exists(exe):
                _, out, _ = self.run(["cmake", "--build", build, "--target",
                                      target], d)
                self.fail(b.where, "cpp block does not compile or link (with %s)"
                          % lib, out)
                continue
            status, out, secs = self.run(
                [exe, "--gtest_watchdog_list_timeouts"], d, timeout=120)
            if status != 0:
                self.fail(b.where, "compiled, but --gtest_watchdog_list_timeouts "
                          "exited with %s" % status, out)
                continue
            self.counts["checked"] += 1
            self.say(b, "compiled%s, linked with %s, ran "
                     "--gtest_watchdog_list_timeouts: ok" % (
                         " (as a TEST body)" if "fragment" in b.attrs else "",
                         lib), secs)

    @staticmethod
    def is_source_tree(b):
        return (re.search(r"add_subdirectory\s*\([^)]*gtest_watchdog", b.text)
                is not None or "FetchContent" in b.text)

    def write_named_sources(self, d, text, page_files):
        """Creates every *.cc the CMake text names, if missing."""
        for name in sorted(set(re.findall(r"[\w./-]+\.cc\b", text))):
            path = os.path.join(d, name)
            if os.path.exists(path):
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            base = os.path.basename(name)
            if base in page_files:
                content = page_files[base]
            elif base == "my_tests.cc":
                with open(self.my_tests_cc) as f:
                    content = f.read()
            else:
                ident = re.sub(r"\W", "_", base[:-3]) or "t"
                content = ("#include <gtest/gtest.h>\n\nTEST(Docs, %s) "
                           "{ EXPECT_EQ(1 + 1, 2); }\n" % ident)
            with open(path, "w") as f:
                f.write(content)

    def check_cmake(self, b, page_files):
        d = os.path.join(self.work, "cmake", b.slug())
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        head = []
        if "fragment" in b.attrs:
            head = ["cmake_minimum_required(VERSION 3.25)",
                    "project(docs_cmake_block LANGUAGES CXX)",
                    "find_package(gtest_watchdog CONFIG REQUIRED)",
                    "enable_testing()",
                    "add_executable(my_tests my_tests.cc)",
                    "target_link_libraries(my_tests PRIVATE "
                    "gtest_watchdog::gtest_watchdog_main)"]
        else:
            if "cmake_minimum_required" not in b.text:
                head.append("cmake_minimum_required(VERSION 3.25)")
            if not re.search(r"^\s*project\s*\(", b.text, re.M):
                head.append("project(docs_cmake_block LANGUAGES CXX)")
        with open(os.path.join(d, "CMakeLists.txt"), "w") as f:
            f.write("\n".join(head + [b.text]))
        offset = len(head)
        self.write_named_sources(d, "\n".join(head) + b.text, page_files)
        source_tree = self.is_source_tree(b)
        for sub in re.findall(r"add_subdirectory\s*\(\s*([^\s)]+)", b.text):
            if "gtest_watchdog" in sub and not os.path.exists(os.path.join(d, sub)):
                os.makedirs(os.path.dirname(os.path.join(d, sub)), exist_ok=True)
                os.symlink(self.source, os.path.join(d, sub))
        build = os.path.join(d, "build")
        cmd = ["cmake", "-S", d, "-B", build, "-DCMAKE_PREFIX_PATH=" + self.prefix]
        if "FetchContent" in b.text:
            cmd += ["-DFETCHCONTENT_SOURCE_DIR_GTEST_WATCHDOG=" + self.source,
                    "-DFETCHCONTENT_FULLY_DISCONNECTED=ON"]

        def where_in_page(out):
            return re.sub(r"CMakeLists\.txt:(\d+)",
                          lambda m: ("%s:%d" % (b.doc, b.line + int(m.group(1))
                                                - offset)
                                     if int(m.group(1)) > offset
                                     else m.group(0)), out)

        status, out, secs1 = self.run(cmd, d)
        if status != 0:
            self.fail(b.where, "cmake block does not configure", where_in_page(out))
            return
        status, out, secs2 = self.run(["cmake", "--build", build, "-j2"], d,
                                      timeout=1800)
        if status != 0:
            self.fail(b.where, "cmake block configures but does not build",
                      where_in_page(out))
            return
        what = ("add_subdirectory/FetchContent of the source tree"
                if source_tree else "find_package of the install")
        did = "configured and built (%s)" % what
        if re.search(r"enable_testing|gtest_watchdog_discover_tests", b.text + "\n".join(head)):
            status, out, _ = self.run(["ctest", "--test-dir", build, "-N"], d)
            if status != 0 or "_NOT_BUILT" in out:
                self.fail(b.where, "built, but `ctest -N` (test discovery) "
                          "failed", out)
                return
            m = re.search(r"Total Tests: (\d+)", out)
            did += ", ctest -N lists %s tests" % (m.group(1) if m else "?")
        self.counts["checked"] += 1
        self.say(b, did + ": ok", secs1 + secs2)

    def check_make(self, b, page_files):
        d = os.path.join(self.work, "make", b.slug())
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write(b.text)
        self.write_named_sources(d, b.text + " my_tests.cc", page_files)
        env = dict(self.env, PKG_CONFIG_PATH=self.pkg_config_path)
        status, out, secs = self.run(["make"], d, env=env)
        if status != 0:
            out = re.sub(r"Makefile:(\d+)", lambda m: "%s:%d" % (
                b.doc, b.line + int(m.group(1))), out)
            self.fail(b.where, "make failed (PKG_CONFIG_PATH=%s)" %
                      self.pkg_config_path, out)
            return
        did = "make with PKG_CONFIG_PATH=$HOME/.local/...: ok"
        exe = os.path.join(d, "my_tests")
        if os.path.exists(exe):
            status, out, _ = self.run([exe, "--gtest_watchdog_list_timeouts"], d)
            if status != 0:
                self.fail(b.where, "built my_tests, but it exited with %s" % status,
                          out)
                return
            did = ("make with PKG_CONFIG_PATH=$HOME/.local/..., then "
                   "./my_tests --gtest_watchdog_list_timeouts: ok")
        self.counts["checked"] += 1
        self.say(b, did, secs)

    def sh_dir(self, rel):
        d = os.path.join(self.work, "sh", rel.replace("/", "_").replace(".md", ""))
        os.makedirs(d)
        shutil.copy2(self.my_tests, os.path.join(d, "my_tests"))
        shutil.copy2(self.my_tests_cc, os.path.join(d, "my_tests.cc"))
        for name in ("docs", "tests", "scripts", "bench", "examples"):
            if os.path.exists(os.path.join(self.source, name)):
                os.symlink(os.path.join(self.source, name), os.path.join(d, name))
        return d

    def check_sh(self, b, d):
        if "norun" in b.attrs:
            self.counts["not run"] += 1
            self.say(b, "NOT RUN: " + NORUN[b.attrs["norun"]])
            return
        tool = b.attrs.get("needs")
        if tool and shutil.which(tool, path=self.env["PATH"]) is None:
            self.counts["not run"] += 1
            self.say(b, "NOT RUN: needs %s, which is not installed" % tool)
            return
        script = os.path.join(d, ".block-%d.sh" % b.line)
        with open(script, "w") as f:
            f.write(b.text)
        status, out, secs = self.run(["bash", "-euo", "pipefail", script], d,
                                     timeout=600)
        out = re.sub(re.escape(script) + r": line (\d+)",
                     lambda m: "%s:%d" % (b.doc, b.line + int(m.group(1))), out)
        if status != 0:
            self.fail(b.where, "sh block exited with %s (run with bash -euo "
                      "pipefail in %s)" % (status, d), out)
            return
        self.counts["checked"] += 1
        self.say(b, "ran with bash -euo pipefail: ok", secs)
        if self.args.verbose and out.strip():
            print("\n".join("    | " + l for l in out.rstrip().splitlines()))

    # --- the whole run -----------------------------------------------------

    def wanted(self, b):
        """Whether this run checks the block (--blocks)."""
        if b.lang in ("text", "console"):
            return False
        if self.args.blocks == "all":
            return True
        source_tree = b.lang == "cmake" and self.is_source_tree(b)
        return source_tree == (self.args.blocks == "source-tree")

    def main(self, docs):
        pages = []
        parsed = 0
        for path in docs:
            rel, lines, blocks = self.parse(path)
            parsed += len(blocks)
            # Blocks with a bad info string are reported and left out.
            pages.append((rel, self.lint(rel, lines, blocks)))
        self.prepare()

        # Blocks that are not checked, and those left to the other test.
        for rel, blocks in pages:
            for b in blocks:
                if b.lang in ("text", "console"):
                    self.counts["text"] += 1
                    self.say(b, "not checked (output or illustration)")
                elif not self.wanted(b):
                    self.counts["left out"] += 1
                    if self.args.blocks == "install":
                        self.say(b, "left out here: a source-tree block (it "
                                 "builds the library again), checked by "
                                 "Docs.SourceTreeBlocks in the default, "
                                 "non-sanitizer build")
                    else:
                        self.say(b, "left out here: checked by "
                                 "Docs.CodeBlocks")

        all_blocks = [b for _, blocks in pages for b in blocks]
        wanted = [b for b in all_blocks if self.wanted(b)]
        for b in wanted:
            if b.lang == "json":
                self.check_json(b)
        for b in wanted:
            if b.lang == "toml":
                self.check_toml(b)
        self.check_cpp([b for b in wanted if b.lang == "cpp"])
        for rel, blocks in pages:
            page_files = {b.attrs["file"]: b.text for b in blocks
                          if "file" in b.attrs}
            for b in blocks:
                if b.lang == "cmake" and self.wanted(b):
                    self.check_cmake(b, page_files)
                elif b.lang == "make" and self.wanted(b):
                    self.check_make(b, page_files)
        # Shell blocks last, page by page, in the page's order.
        for rel, blocks in pages:
            if not any(b.lang == "sh" and self.wanted(b) for b in blocks):
                continue
            d = self.sh_dir(rel)
            for b in blocks:
                if "file" in b.attrs:
                    with open(os.path.join(d, b.attrs["file"]), "w") as f:
                        f.write(b.text)
            for b in blocks:
                if b.lang == "sh" and self.wanted(b):
                    self.check_sh(b, d)

        print("check_code_blocks: %d blocks in %d files: %d checked, %d text "
              "(not checked), %d not run (reasons above)%s" % (
                  parsed, len(pages), self.counts["checked"],
                  self.counts["text"], self.counts["not run"],
                  ", %d left to the other Docs test" % self.counts["left out"]
                  if self.counts["left out"] else ""))
        if self.failures:
            print("check_code_blocks: %d block(s) FAILED: %s" % (
                len(self.failures), ", ".join(self.failures)))
            return 1
        return 0


def expand(source, patterns):
    import glob
    out = []
    for p in patterns:
        full = p if os.path.isabs(p) else os.path.join(source, p)
        matches = sorted(glob.glob(full))
        if not matches:
            print("check_code_blocks: no file matches %s" % p)
            sys.exit(1)
        out += matches
    return out


def self_test(args):
    """The checker must fail, naming FILE:LINE, on every block of
    tests/docs/selftest/broken.md: each one is broken on purpose."""
    source = os.path.realpath(args.source)
    broken = os.path.join(source, "tests", "docs", "selftest", "broken.md")
    cmd = [sys.executable, os.path.realpath(__file__), "--source", source,
           "--build", os.path.realpath(args.build), "--work", args.work,
           "--cxx", args.cxx,
           broken]
    if args.sanitize:
        cmd += ["--sanitize", args.sanitize]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode("utf-8", "replace")
    print(out)
    rel = os.path.relpath(broken, source)
    opening = []
    inside = False
    with open(broken) as f:
        for n, line in enumerate(f.read().split("\n"), 1):
            if re.match(r"^\s*`{3,}", line):
                if not inside:
                    opening.append(n)
                inside = not inside
    missing = [n for n in opening if "%s:%d: FAIL" % (rel, n) not in out]
    if p.returncode != 1 or missing:
        print("self-test FAILED: the checker exited %d; no failure named for %s"
              % (p.returncode, ", ".join("%s:%d" % (rel, n) for n in missing)
                 or "(every block was named)"))
        return 1
    print("self-test: ok: the checker exited 1 and named FILE:LINE for each "
          "of the %d broken blocks in %s" % (len(opening), rel))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sanitize", default="")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--blocks", choices=("all", "install", "source-tree"),
                    default="all")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print what each sh block printed")
    ap.add_argument("docs", nargs="*")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args)
    checker = Checker(args)
    docs = expand(checker.source, args.docs or DEFAULT_DOCS)
    return checker.main(docs)


if __name__ == "__main__":
    sys.exit(main())

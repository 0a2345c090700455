#!/usr/bin/env python3
"""Checks that the library's layout matches what docs/architecture.md says.

docs/architecture.md holds three things this script reads and enforces:

  layers   The "Layers" section's ```text block: one line per process side,
           `NAME: a < b < c`. A folder of gtest_watchdog/ may include a
           folder below it in some line, never one above, and no two folders
           include each other. `init` stands for the top-level files.
  sizes    The "Files over 600 lines" table: `| path | reason |`. Every
           other library file has at most 600 lines, and every listed one is
           really over (a stale entry is an error too).
  tags     The "Safety tags" table: `| header | tags |`. Every function
           declared in a header of the folders the table covers carries
           exactly one safety tag in the comment right above it (a tag on
           its class's comment covers members without one); the tags seen in
           a header are the row's tags; every header of those folders has a
           row, and every row a header.

And one thing from gtest_watchdog/CMakeLists.txt:

  core     The sources of the OBJECT target gtest_watchdog_core include, at
           any depth, no header of Abseil, spdlog, {fmt}, nlohmann_json or
           toml++. With --objects FILE (a list of the built objects, one per
           line), their undefined symbols name none of those libraries.

Usage:
  check_layout.py --source DIR [--objects FILE]   check the tree at DIR
  check_layout.py --self-test                     prove each check can fail

Exit status 0 when everything holds; 1 with one line per problem, naming the
file (and line) and what is wrong.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_LINES = 600
TAGS = (
    "Signal-safe",
    "Start-up only",
    "Helper process only",
    "After the report, best effort",
    "Not on the stall path",
)
# A tag is a sentence of its own or leads one: "Signal-safe." or
# "Signal-safe: no allocation, no lock." Never "signal-safe" inside another
# sentence ("Not signal-safe", "signal-safe in the sense above"), and never
# "Signal-safe: no".
TAG_RE = re.compile(r"(?<![A-Za-z-])(" + "|".join(re.escape(t) for t in TAGS) +
                    r")(?=[.:;,]|$)(?!:\s*no\s*(?:[.;,)]|$))")
FORBIDDEN_HEADERS = ("absl/", "spdlog/", "fmt/", "nlohmann/", "toml++/")
FORBIDDEN_SYMBOLS = ("absl::", "spdlog::", "fmt::", "nlohmann::", "toml::")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
OWN_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"gtest_watchdog/([^"]+)"', re.M)


def section(text, title):
    """The lines of the markdown section `title` (any heading level)."""
    lines = text.split("\n")
    out = None
    level = 0
    for line in lines:
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m:
            if out is not None and len(m.group(1)) <= level:
                break
            if m.group(2).strip().lower() == title.lower():
                out = []
                level = len(m.group(1))
                continue
        if out is not None:
            out.append(line)
    return out


def table_rows(lines, first_header):
    """Cells of the body rows of the markdown table in `lines` whose header
    row's first cell is `first_header` (case-insensitive)."""
    rows = []
    header = None
    seen_rule = False
    for line in lines or []:
        if not line.startswith("|"):
            if seen_rule and header == first_header.lower():
                break
            header = None
            seen_rule = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells[0].lower()
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            seen_rule = True
            continue
        if seen_rule and header == first_header.lower():
            rows.append(cells)
    return rows


def strip_code(cell):
    return cell.strip().strip("`").strip()


class Docs:
    def __init__(self, path, problems):
        self.path = path
        text = open(path, encoding="utf-8").read()
        self.chains = []
        layers = section(text, "Layers")
        if layers is None:
            problems.append(f"{path}: no 'Layers' section")
        else:
            block = False
            for line in layers:
                if line.startswith("```"):
                    block = not block
                    continue
                m = re.match(r"^\s*[^:]+:\s*(\w+(?:\s*<\s*\w+)+)\s*$", line)
                if block and m:
                    self.chains.append(
                        [w.strip() for w in m.group(1).split("<")])
            if not self.chains:
                problems.append(f"{path}: the 'Layers' section has no "
                                "'NAME: a < b < c' line in a ```text block")
        self.large = {}
        for cells in table_rows(section(text, "Files over 600 lines"), "file"):
            if len(cells) >= 2 and cells[0]:
                self.large[strip_code(cells[0])] = cells[1]
        self.text = text
        self.folders = {}
        for cells in table_rows(section(text, "Folders"), "folder"):
            m = re.fullmatch(r"`(\w+)/`", cells[0].strip())
            if m and len(cells) >= 3:
                self.folders[m.group(1)] = cells[-1]
        if not self.folders:
            problems.append(f"{path}: no 'Folders' table (| folder | side | "
                            "what lives there |)")
        self.tags = {}
        rows = table_rows(section(text, "Safety tags"), "header")
        if not rows:
            problems.append(f"{path}: no 'Safety tags' table")
        for cells in rows:
            if len(cells) < 2:
                continue
            found = set(TAG_RE.findall(cells[1]))
            self.tags[strip_code(cells[0])] = found
        self.tagged_folders = sorted(
            {h.split("/")[0] for h in self.tags if "/" in h})


def library_files(src):
    root = os.path.join(src, "gtest_watchdog")
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith((".h", ".cc")):
                p = os.path.join(d, f)
                yield os.path.relpath(p, root), p


def folder_of(rel):
    return rel.split("/")[0] if "/" in rel else "init"


def check_layers(src, docs, problems):
    below = {}  # folder -> folders it may include
    for chain in docs.chains:
        for i, f in enumerate(chain):
            below.setdefault(f, set()).update(chain[:i])
    edges = {}
    for rel, path in library_files(src):
        text = open(path, encoding="utf-8").read()
        a = folder_of(rel)
        for m in OWN_INCLUDE_RE.finditer(text):
            b = folder_of(m.group(1))
            if a == b:
                continue
            line = text.count("\n", 0, m.start()) + 1
            edges.setdefault((a, b), []).append(f"gtest_watchdog/{rel}:{line}")
    for folder in sorted({f for e in edges for f in e}):
        if folder not in below:
            problems.append(f"layers: folder '{folder}' is in no line of "
                            f"{docs.path}'s Layers section")
    for (a, b), where in sorted(edges.items()):
        if a in below and b in below and b not in below[a]:
            problems.append(
                f"layers: {a} includes {b}, which is not below it "
                f"({len(where)} include(s), first at {where[0]})")
    return edges


def check_sizes(src, docs, problems):
    seen = set()
    for rel, path in library_files(src):
        n = sum(1 for _ in open(path, encoding="utf-8"))
        name = f"gtest_watchdog/{rel}"
        if name in docs.large:
            seen.add(name)
            if n <= MAX_LINES:
                problems.append(f"sizes: {name} has {n} lines, no longer over "
                                f"{MAX_LINES}: take it off {docs.path}'s list")
        elif n > MAX_LINES:
            problems.append(f"sizes: {name} has {n} lines (at most "
                            f"{MAX_LINES}, unless {docs.path} lists it with a "
                            "reason)")
    for name in sorted(set(docs.large) - seen):
        problems.append(f"sizes: {docs.path} lists {name}, which does not exist")


def code(line):
    """`line` without its // comment and with its string literals emptied."""
    return re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"//.*$", "", line))


def braces(text, depth):
    """The brace depth after `text`, from `depth`; stops counting at 0."""
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
    return depth


def declarations(text):
    """(line, name, own_comment, class_comment) for each function declared.

    A light parser for this project's headers (clang-format, Google style):
    statements at namespace or class scope that declare a function, with the
    `//` comment block right above them. Constructors, destructors,
    operators, deleted and defaulted members and function-pointer fields are
    not counted."""
    lines = text.split("\n")
    out = []
    comment = []
    # A declaration right below another (no blank line, no comment of its
    # own: an overload, a getter and setter) shares that one's comment.
    group = []
    scopes = []  # (kind, name, comment, depth)
    depth = 0
    i = 0
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        if s.startswith("//"):
            comment.append(s[2:].strip())
            i += 1
            continue
        if not s or s.startswith("#"):
            comment = []
            group = []
            i += 1
            continue
        if re.fullmatch(r"(public|private|protected)\s*:", s):
            i += 1  # an access label keeps the comment below it
            continue
        # One statement: up to a ';' or '{' outside parentheses.
        start = i
        stmt = ""
        parens = 0
        end_char = None
        while i < len(lines):
            for ch in code(lines[i]):
                if ch == "(":
                    parens += 1
                elif ch == ")":
                    parens -= 1
                elif ch in ";{}" and parens == 0:
                    end_char = ch
                    break
                stmt += ch
            stmt += " "
            i += 1
            if end_char:
                break
        st = " ".join(stmt.split())
        own = list(comment) or list(group)
        group = own
        comment = []
        if end_char == "}":
            # Closing a scope (possibly "};").
            depth -= 1
            while scopes and scopes[-1][3] > depth:
                scopes.pop()
            continue
        m_scope = re.match(
            r"^(?:template\s*<[^>]*>\s*)?(class|struct|union|enum(?: class)?|"
            r"namespace)\b\s*(?:\[\[[^\]]*\]\]\s*)?([\w:]*)", st)
        is_function = ("(" in st and not st.startswith(("using ", "typedef ",
                                                         "static_assert",
                                                         "return ", "friend ")))
        if m_scope and not is_function and end_char == "{":
            depth += 1
            scopes.append((m_scope.group(1), m_scope.group(2), own, depth))
            continue
        if end_char == "{":
            # A body (function, initializer): skip to its matching brace.
            after = code(lines[i - 1]).split("{", 1)[-1]
            body = braces(after, 1)
            while body > 0 and i < len(lines):
                body = braces(code(lines[i]), body)
                i += 1
        if not is_function or "(*" in st.replace(" ", "") or "=" in st.split("(")[0]:
            continue
        if re.search(r"=\s*(delete|default)\b", st):
            continue
        m = re.search(r"([~\w]+)\s*\(", st)
        if not m:
            continue
        name = m.group(1)
        head = st[:m.start()].split()
        if name.startswith("~") or name == "operator" or "operator" in head:
            continue
        if re.search(r"\boperator\b", st.split("(")[0]):
            continue
        cls = next((sc for sc in reversed(scopes)
                    if sc[0] in ("class", "struct", "union")), None)
        if cls and name == cls[1].split("::")[-1]:
            continue  # a constructor
        if not head and not cls:
            continue  # a macro call, not a declaration
        out.append((start + 1, name, own, cls[2] if cls else []))
    return out


def check_tags(src, docs, problems):
    headers = {}
    for rel, path in library_files(src):
        if rel.endswith(".h") and folder_of(rel) in docs.tagged_folders:
            headers[rel] = path
    for rel in sorted(set(headers) - set(docs.tags)):
        problems.append(f"tags: gtest_watchdog/{rel} has no row in "
                        f"{docs.path}'s Safety tags table")
    for rel in sorted(set(docs.tags) - set(headers)):
        problems.append(f"tags: {docs.path}'s Safety tags table lists {rel}, "
                        "which does not exist")
    for rel in sorted(set(headers) & set(docs.tags)):
        text = open(headers[rel], encoding="utf-8").read()
        seen = set()
        for line, name, own, cls in declarations(text):
            own_tags = set(TAG_RE.findall(" ".join(own)))
            cls_tags = set(TAG_RE.findall(" ".join(cls)))
            tags = own_tags or cls_tags
            where = f"gtest_watchdog/{rel}:{line}"
            if not tags:
                problems.append(f"tags: {where}: {name} has no safety tag "
                                f"(one of: {', '.join(TAGS)})")
            elif len(tags) > 1:
                problems.append(f"tags: {where}: {name} has {len(tags)} "
                                f"safety tags ({', '.join(sorted(tags))}); "
                                "one only")
            seen |= tags
        want = docs.tags[rel]
        if seen != want:
            problems.append(
                f"tags: gtest_watchdog/{rel} carries "
                f"{', '.join(sorted(seen)) or 'no tag'}, but {docs.path} says "
                f"{', '.join(sorted(want)) or 'no tag'}")


def check_doc_names(src, docs, problems):
    """The folder table names every module of its folder, and every
    `folder/name` the document mentions exists."""
    modules = {}
    for rel, _ in library_files(src):
        if "/" in rel:
            folder, name = rel.split("/", 1)
            modules.setdefault(folder, set()).add(os.path.splitext(name)[0])
    for folder, row in sorted(docs.folders.items()):
        if folder not in modules:
            problems.append(f"folders: {docs.path}'s table has {folder}/, "
                            "which holds no library file")
            continue
        for name in sorted(modules[folder]):
            if not re.search(r"`" + re.escape(name) + r"(\.h|\.cc)?`", row):
                problems.append(f"folders: {docs.path}'s row for {folder}/ "
                                f"does not name `{name}`")
    for folder in sorted(set(modules) - set(docs.folders)):
        problems.append(f"folders: {folder}/ has no row in {docs.path}'s "
                        "Folders table")
    pattern = r"`(" + "|".join(sorted(modules)) + r")/(\w+)(\.h|\.cc)?`"
    for m in re.finditer(pattern, docs.text):
        folder, name = m.group(1), m.group(2)
        if name not in modules.get(folder, ()):
            line = docs.text.count("\n", 0, m.start()) + 1
            problems.append(f"folders: {docs.path}:{line} names "
                            f"{m.group(0)}, which does not exist")


def core_sources(src, problems):
    cm = open(os.path.join(src, "gtest_watchdog", "CMakeLists.txt"),
              encoding="utf-8").read()
    m = re.search(r"add_library\(gtest_watchdog_core OBJECT([^)]*)\)", cm)
    if not m:
        problems.append("core: gtest_watchdog/CMakeLists.txt has no "
                        "add_library(gtest_watchdog_core OBJECT ...)")
        return []
    return [w for w in m.group(1).split() if w.endswith(".cc")]


def check_core(src, objects, problems):
    sources = core_sources(src, problems)
    root = os.path.join(src, "gtest_watchdog")
    for source in sources:
        todo = [(source, [source])]
        done = set()
        while todo:
            rel, chain = todo.pop()
            if rel in done:
                continue
            done.add(rel)
            path = os.path.join(root, rel)
            if not os.path.exists(path):
                problems.append(f"core: {rel} (from {' -> '.join(chain)}) "
                                "does not exist")
                continue
            for inc in INCLUDE_RE.findall(open(path, encoding="utf-8").read()):
                if inc.startswith(FORBIDDEN_HEADERS):
                    problems.append(
                        f"core: gtest_watchdog/{source} includes {inc} "
                        f"(through {' -> '.join(chain)}): the signal-safe core "
                        "links no Abseil, spdlog, {fmt}, JSON or TOML library")
                elif inc.startswith("gtest_watchdog/"):
                    nxt = inc[len("gtest_watchdog/"):]
                    todo.append((nxt, chain + [nxt]))
    if objects:
        files = [l.strip() for l in open(objects, encoding="utf-8")
                 if l.strip()]
        if not files:
            problems.append(f"core: {objects} lists no object file")
        for obj in files:
            out = subprocess.run(["nm", "-C", "--undefined-only", obj],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                problems.append(f"core: nm {obj} failed: {out.stderr.strip()}")
                continue
            for line in out.stdout.splitlines():
                if any(s in line for s in FORBIDDEN_SYMBOLS):
                    problems.append(f"core: {os.path.basename(obj)} needs "
                                    f"{line.split(None, 1)[-1].strip()}")
    return sources


def check(src, objects=None):
    problems = []
    docs = Docs(os.path.join(src, "docs", "architecture.md"), problems)
    check_layers(src, docs, problems)
    check_sizes(src, docs, problems)
    check_tags(src, docs, problems)
    check_doc_names(src, docs, problems)
    check_core(src, objects, problems)
    return problems


# --- self-test: a tiny tree per check, broken on purpose --------------------

GOOD_DOC = """# Architecture
## Layers
```text
process under test: base < stall < init
```
## Folders
| folder | side | what lives there |
|---|---|---|
| `base/` | both | a writer (`w`) |
| `stall/` | stall | the sequence (`s.h`), see `base/w` |
## Files over 600 lines
| File | Why |
|---|---|
## Safety tags
| Tag | Means |
|---|---|
| Signal-safe | no malloc |

| Header | Tags |
|---|---|
| `base/w.h` | Signal-safe |
| `stall/s.h` | Signal-safe, Start-up only |
"""
GOOD_FILES = {
    "gtest_watchdog/CMakeLists.txt":
        "add_library(gtest_watchdog_core OBJECT\n  base/w.cc\n)\n",
    "gtest_watchdog/base/w.h": """// File: gtest_watchdog/base/w.h
#pragma once
namespace n {
// Writes. Signal-safe.
void Write(int fd);
void Write(int fd, int n);
// A writer. Signal-safe: no allocation, no lock.
class W {
 public:
  W() = default;
  explicit W(int fd) : fd_(fd) {}
  int fd() const { return fd_; }
  void (*hook)(int) = nullptr;
 private:
  // Signal-safe.
  void Flush();
  int fd_ = 0;
};
}  // namespace n
""",
    "gtest_watchdog/base/w.cc": '#include "gtest_watchdog/base/w.h"\n',
    "gtest_watchdog/stall/s.h": """// File: gtest_watchdog/stall/s.h
#pragma once
#include "gtest_watchdog/base/w.h"
namespace n {
// Prepares. Start-up only.
bool Prepare(const char* a,
             int b);
// Reports. Signal-safe.
[[noreturn]] void Report();
}  // namespace n
""",
    "gtest_watchdog/init.cc": '#include "gtest_watchdog/stall/s.h"\n',
}
BROKEN = [
    # (what, file, new content or None to delete, expected problem)
    ("an include up the layers", "gtest_watchdog/base/w.cc",
     '#include "gtest_watchdog/stall/s.h"\n', "layers: base includes stall"),
    ("a folder in no layer line", "gtest_watchdog/extra/e.cc",
     '#include "gtest_watchdog/base/w.h"\n', "folder 'extra' is in no line"),
    ("a module the folder table leaves out", "gtest_watchdog/base/x.cc",
     "// x\n", "row for base/ does not name `x`"),
    ("a long file", "gtest_watchdog/base/long.cc", "// x\n" * 601,
     "base/long.cc has 601 lines"),
    ("an untagged function", "gtest_watchdog/stall/s.h",
     GOOD_FILES["gtest_watchdog/stall/s.h"].replace(
         "// Reports. Signal-safe.\n", "// Reports.\n"),
     "Report has no safety tag"),
    ("two tags", "gtest_watchdog/base/w.h",
     GOOD_FILES["gtest_watchdog/base/w.h"].replace(
         "// Writes. Signal-safe.", "// Writes. Signal-safe. Start-up only."),
     "Write has 2 safety tags"),
    ("a member without its class's tag", "gtest_watchdog/base/w.h",
     GOOD_FILES["gtest_watchdog/base/w.h"].replace(
         "// A writer. Signal-safe: no allocation, no lock.", "// A writer."),
     "fd has no safety tag"),
    ("a header with no row", "gtest_watchdog/stall/t.h",
     "// File: gtest_watchdog/stall/t.h\n#pragma once\n",
     "stall/t.h has no row"),
    ("a row's tags differ", "gtest_watchdog/stall/s.h",
     GOOD_FILES["gtest_watchdog/stall/s.h"].replace("Start-up only.",
                                                    "Signal-safe."),
     "carries Signal-safe, but"),
    ("a tag that says no", "gtest_watchdog/base/w.h",
     GOOD_FILES["gtest_watchdog/base/w.h"].replace(
         "// Writes. Signal-safe.", "// Writes. Signal-safe: no."),
     "Write has no safety tag"),
    ("a tag inside a sentence", "gtest_watchdog/base/w.h",
     GOOD_FILES["gtest_watchdog/base/w.h"].replace(
         "// Writes. Signal-safe.", "// Writes. Not Signal-safe in a way."),
     "Write has no safety tag"),
    ("Abseil in the core", "gtest_watchdog/base/w.h",
     GOOD_FILES["gtest_watchdog/base/w.h"].replace(
         "#pragma once\n", '#pragma once\n#include "absl/strings/str_cat.h"\n'),
     "core: gtest_watchdog/base/w.cc includes absl/strings/str_cat.h"),
]


def write_tree(root, files, doc):
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w", encoding="utf-8").write(content)
    os.makedirs(os.path.join(root, "docs"), exist_ok=True)
    open(os.path.join(root, "docs", "architecture.md"), "w",
         encoding="utf-8").write(doc)


def self_test():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "good")
        write_tree(good, GOOD_FILES, GOOD_DOC)
        problems = check(good)
        if problems:
            failures.append("the good tree fails: " + "; ".join(problems))
        for what, rel, content, expected in BROKEN:
            root = os.path.join(tmp, re.sub(r"\W+", "_", what))
            files = dict(GOOD_FILES)
            files[rel] = content
            write_tree(root, files, GOOD_DOC)
            problems = check(root)
            if not any(expected in p for p in problems):
                failures.append(f"{what}: expected a problem containing "
                                f"'{expected}', got {problems}")
        # The document names a module that does not exist.
        root = os.path.join(tmp, "stale_name")
        write_tree(root, GOOD_FILES, GOOD_DOC.replace("see `base/w`",
                                                      "see `base/gone`"))
        if not any("names `base/gone`, which does not exist" in p
                   for p in check(root)):
            failures.append("a stale module name in the document passes")
        # A stale entry in the list of long files.
        root = os.path.join(tmp, "stale_large")
        write_tree(root, GOOD_FILES, GOOD_DOC.replace(
            "| File | Why |\n|---|---|\n",
            "| File | Why |\n|---|---|\n| `gtest_watchdog/base/w.h` | was long |\n"))
        if not any("no longer over" in p for p in check(root)):
            failures.append("a stale long-file entry is not reported")
        # nm: an object needing an Abseil symbol. Needs a compiler.
        cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
        if cxx and shutil.which("nm"):
            obj = os.path.join(tmp, "uses_absl.o")
            code = os.path.join(tmp, "uses_absl.cc")
            open(code, "w").write(
                "namespace absl { void StrCat(int); }\n"
                "void f() { absl::StrCat(1); }\n")
            subprocess.run([cxx, "-c", code, "-o", obj], check=True)
            listing = os.path.join(tmp, "objects.txt")
            open(listing, "w").write(obj + "\n")
            problems = check(good, listing)
            if not any("needs absl::StrCat" in p for p in problems):
                failures.append(f"an object needing absl:: passes: {problems}")
    for f in failures:
        print("self-test: " + f)
    if not failures:
        print(f"self-test: all {len(BROKEN) + 4} checks fail on broken input "
              "and pass on the good tree")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", help="the source tree")
    ap.add_argument("--objects", help="file listing gtest_watchdog_core's objects")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--graph", action="store_true",
                    help="print the includes between folders, counted")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.source:
        ap.error("--source DIR is required")
    if args.graph:
        problems = []
        docs = Docs(os.path.join(args.source, "docs", "architecture.md"),
                    problems)
        for (a, b), where in sorted(check_layers(args.source, docs, []).items()):
            print(f"{a:>12} -> {b:<12} {len(where)}")
        return 0
    problems = check(args.source, args.objects)
    for p in problems:
        print(p)
    if not problems:
        print("layout: layers, file sizes, safety tags and the core's "
              "dependencies match docs/architecture.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

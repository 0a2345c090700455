#!/usr/bin/env python3
"""Validates a gtest_watchdog JSON stall report against its JSON Schema.

    python3 validate_json_report.py SCHEMA REPORT [--expect KEY=VALUE ...]

KEY is a dotted path into the report: object keys, list indices and `*`
(any element of a list), e.g. `kind`, `threads.0.role`, `threads.*.role`,
`deadlocks.0.locks.*.held_by`. VALUE is read as JSON when it parses
(`1`, `null`, `true`, `"x"`), and otherwise compared as a plain string, so
`test=Suite.Name` works unquoted. With `*`, one matching element suffices.

Exit status: 0 valid and every expectation met; 1 the report is invalid or
an expectation failed; 2 bad usage or an unreadable/malformed file (schema
or report); 3 the jsonschema module is not installed. Messages go to stderr.
"""

import argparse
import json
import sys


def fail(status, message):
    print(f"validate_json_report: {message}", file=sys.stderr)
    sys.exit(status)


def load_json(path, what):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(2, f"cannot read the {what} {path}: {e.strerror}")
    try:
        # Strict UTF-8: the report promises valid UTF-8, so do not paper over.
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        fail(1 if what == "report" else 2, f"the {what} {path} is not valid UTF-8: {e}")
    except json.JSONDecodeError as e:
        fail(1 if what == "report" else 2,
             f"the {what} {path} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")


def json_path(parts):
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def lookup(value, keys, prefix=()):
    """Yields (path, value) for every match of the dotted `keys`."""
    if not keys:
        yield prefix, value
        return
    key, rest = keys[0], keys[1:]
    if isinstance(value, list):
        if key == "*":
            for i, item in enumerate(value):
                yield from lookup(item, rest, prefix + (i,))
        elif key.lstrip("-").isdigit() and -len(value) <= int(key) < len(value):
            yield from lookup(value[int(key)], rest, prefix + (int(key),))
    elif isinstance(value, dict) and key in value:
        yield from lookup(value[key], rest, prefix + (key,))


def matches(actual, raw, parsed, parsed_ok):
    if parsed_ok and actual == parsed and type(actual) is type(parsed):
        return True
    # int vs float: 1 == 1.0 is fine for numbers, but never bool vs int.
    if parsed_ok and isinstance(actual, (int, float)) and isinstance(parsed, (int, float)) \
            and not isinstance(actual, bool) and not isinstance(parsed, bool):
        return actual == parsed
    return isinstance(actual, str) and actual == raw


def describe(error):
    """The error's message; for oneOf/anyOf, also why the non-null branch failed."""
    # "x is not of type 'null'" only says the value is not null: noise.
    reasons = [e.message for e in error.context
               if not (e.validator == "type" and e.validator_value == "null")]
    if reasons:
        shown = "; ".join(dict.fromkeys(reasons[:3]))
        return f"{error.message} ({shown})"
    return error.message


def check_expectation(report, spec):
    if "=" not in spec:
        fail(2, f"--expect {spec!r}: want KEY=VALUE")
    key, raw = spec.split("=", 1)
    if not key:
        fail(2, f"--expect {spec!r}: empty KEY")
    try:
        parsed, parsed_ok = json.loads(raw), True
    except json.JSONDecodeError:
        parsed, parsed_ok = None, False
    found = list(lookup(report, key.split(".")))
    if any(matches(v, raw, parsed, parsed_ok) for _, v in found):
        return None
    if not found:
        return f"expected {key} = {raw}, but the report has no {key}"
    shown = ", ".join(f"{json_path(p)} = {json.dumps(v)}" for p, v in found[:10])
    more = f" (and {len(found) - 10} more)" if len(found) > 10 else ""
    return f"expected {key} = {raw}, found {shown}{more}"


def main():
    parser = argparse.ArgumentParser(
        description="Validate a gtest_watchdog JSON report against its schema.")
    parser.add_argument("schema", help="docs/report.schema.json")
    parser.add_argument("report", help="the file --gtest_watchdog_report wrote")
    parser.add_argument("--expect", action="append", default=[], metavar="KEY=VALUE",
                        help="also require a field's value (repeatable)")
    args = parser.parse_args()

    try:
        import jsonschema
    except ImportError:
        fail(3, "the Python module jsonschema is not installed "
                "(Debian: apt-get install python3-jsonschema)")

    schema = load_json(args.schema, "schema")
    # Any JSON object is a valid schema (unknown keywords are ignored), so a
    # report passed as SCHEMA would accept everything: refuse it.
    if not isinstance(schema, dict) or "draft-07" not in str(schema.get("$schema", "")):
        fail(2, f"{args.schema} is not a draft-07 JSON Schema (no \"$schema\" naming draft-07);"
                " arguments in the wrong order?")
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        fail(2, f"the schema {args.schema} is not a valid draft-07 schema: {e.message}")
    report = load_json(args.report, "report")

    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{json_path(e.absolute_path)}: {describe(e)}" for e in errors]
    problems += [m for m in (check_expectation(report, s) for s in args.expect) if m]
    if problems:
        print(f"validate_json_report: {args.report}: {len(problems)} problem"
              f"{'s' if len(problems) != 1 else ''} (schema {args.schema}):",
              file=sys.stderr)
        for p in problems[:50]:
            print(f"  {p}", file=sys.stderr)
        if len(problems) > 50:
            print(f"  ... and {len(problems) - 50} more", file=sys.stderr)
        sys.exit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The bot docs against the sandbox, both ways.

docs/BOT_API.md lists what bots may write (the "allowed" table) and what is
refused with what to write instead (the "refused" table). Every snippet
becomes a small bot; each must do what the table says:

  allowed snippet, "instead" snippet  bot check passes, and it runs (in the
                                      real worker, next to an honest bot)
                                      with no error
  refused "check"                     bot check names its line, and loading
                                      it is refused at that line
  refused "run"                       bot check passes, and running it fails
                                      at that line

Then every fenced python block of the doc is a whole bot: it passes bot
check and drives a short race with no error, timeout or dropped drawing.

The bots in VALID_DIR (whole files, "# expect: ok") join the sweep.

usage: run_docs.py DOC CODERALLY TEST_SANDBOX VALID_DIR
"""

import json
import os
import re
import subprocess
import sys
import tempfile

CLASS_LINE = 9  # where a method ("def name(self" or "(cls") goes: the class body
BODY_LINE = 13  # where any other snippet goes (on_tick body)

TEMPLATE = """# expect: {expect}
# line: {line}
import math
import random
import coderally


class Bot:
    {class_part}

    def on_tick(self, state):
        d, lst, k, x = {{"a": 1}}, [1, 2, 3], "a", 1.0
        {body_part}
        return {{}}
"""


def table(doc, name):
    """Rows of the table between <!-- NAME:begin --> and <!-- NAME:end -->,
    each a list of cells; the header and separator rows dropped."""
    m = re.search(r"<!-- %s:begin -->\n(.*?)<!-- %s:end -->" % (name, name), doc, re.S)
    if not m:
        sys.exit("no %s table in the doc" % name)
    rows = []
    for line in m.group(1).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append(cells)
    return rows


def code(cell):
    """The first `code span` of a table cell."""
    m = re.search(r"`([^`]+)`", cell)
    return m.group(1) if m else None


def bot(snippet, expect):
    at_class = re.match(r"def \w+\((self|cls)\b", snippet) is not None
    line = CLASS_LINE if at_class else BODY_LINE
    src = TEMPLATE.format(expect=expect, line=line if expect != "ok" else 0,
                          class_part=snippet if at_class else "n = 0",
                          body_part="pass" if at_class else snippet)
    return src, line


def main():
    doc_path, coderally, test_sandbox, valid = sys.argv[1:5]
    with open(doc_path, encoding="utf-8") as f:
        doc = f.read()
    failures = []
    cases = []  # (file name, snippet, expect, line)
    with tempfile.TemporaryDirectory(prefix="crdocs-") as tmp:
        sweep = os.path.join(tmp, "sweep")
        os.mkdir(sweep)

        def add(snippet, expect):
            src, line = bot(snippet, expect)
            name = "%03d_%s.py" % (len(cases), expect)
            with open(os.path.join(sweep, name), "w", encoding="utf-8") as f:
                f.write(src)
            cases.append((name, snippet, expect, line))

        allowed = table(doc, "allowed")
        for row in allowed:
            add(code(row[1]), "ok")
        refused = table(doc, "refused")
        for row in refused:
            when = row[1]
            if when not in ("check", "run"):
                failures.append("refused row with when = %r: %s" % (when, row))
                continue
            add(code(row[0]), "compile" if when == "check" else "error")
            add(code(row[2]), "ok")
        for name in sorted(os.listdir(valid)):
            if name.endswith(".py"):
                with open(os.path.join(valid, name), encoding="utf-8") as f:
                    src = f.read()
                with open(os.path.join(sweep, "v_" + name), "w", encoding="utf-8") as f:
                    f.write(src)
                cases.append(("v_" + name, name, "ok", 0))
        if len(allowed) < 20 or len(refused) < 20:
            failures.append("tables too short: %d allowed, %d refused"
                            % (len(allowed), len(refused)))

        # 1. bot check, all files through one sandbox host.
        files = [os.path.join(sweep, c[0]) for c in cases]
        out = subprocess.run([coderally, "bot", "check"] + files, capture_output=True,
                             text=True).stdout
        for name, snippet, expect, line in cases:
            path = os.path.join(sweep, name)
            mine = [ln for ln in out.splitlines() if ln.startswith(path + ":")]
            if expect == "compile":
                if not any(ln.startswith("%s:%d:" % (path, line)) for ln in mine):
                    failures.append("bot check did not refuse `%s` at its line: %s"
                                    % (snippet, mine))
            elif mine != [path + ": ok"]:
                failures.append("bot check refused `%s`: %s" % (snippet, mine))

        # 2. the runtime: the hostile runner loads and ticks every file.
        r = subprocess.run([test_sandbox, "hostile", sweep], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append("runtime sweep failed:\n" + "\n".join(
                ln for ln in r.stdout.splitlines() if not ln.startswith("ok")))
        ran = sum(1 for ln in r.stdout.splitlines() if ln.startswith("ok   hostile"))
        print("sweep: %d snippets (%d allowed, %d refused rows); %d ran as documented"
              % (len(cases), len(allowed), len(refused), ran))

        # 3. every python example in the doc: check, then a short race.
        blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
        if len(blocks) < 2:
            failures.append("expected python examples in the doc, found %d" % len(blocks))
        for i, block in enumerate(blocks):
            path = os.path.join(tmp, "example_%d.py" % i)
            with open(path, "w", encoding="utf-8") as f:
                f.write(block)
            c = subprocess.run([coderally, "bot", "check", path], capture_output=True,
                               text=True)
            if c.returncode != 0:
                failures.append("example %d fails bot check: %s" % (i, c.stdout + c.stderr))
                continue
            logs = os.path.join(tmp, "logs_%d" % i)
            race = subprocess.run([coderally, "race", "--generator", "forest", "--seed", "1",
                                   "--bot", path, "--bot-log", logs, "--json"],
                                  capture_output=True, text=True)
            if race.returncode != 0:
                failures.append("example %d: race failed: %s" % (i, race.stderr))
                continue
            stats = json.loads(race.stdout)["results"][0]["bot"]
            with open(os.path.join(logs, "car1-example_%d.log" % i), encoding="utf-8") as f:
                log = f.read()
            if stats["errors"] or stats["timeouts"] or stats["restarts"] or "dropped" in log:
                failures.append("example %d did not run clean: %s\n%s"
                                % (i, stats, log[:600]))
        print("examples: %d python blocks checked and raced" % len(blocks))

    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

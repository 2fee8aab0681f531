#!/usr/bin/env python3
"""Docs are tests: the shell blocks of README.md and docs/*.md, as scripts.

Every fenced block must name its language. A block whose language is sh,
bash or shell is run, unless its info string also says `illustrative`
(e.g. a synopsis with placeholders, or `make check` itself). Blocks of one
file run in order as one script, as a reader types them; README.md runs
first and docs/*.md after it, in the same directory, as a reader who
followed README.md would.

    extract.py SRC OUTDIR   writes OUTDIR/NN-<file>.sh, one per file with
                            runnable blocks, and prints what it found;
                            exit 1 naming every unlabeled block.
"""
import os
import re
import sys

SHELLS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def blocks(path):
    """(line, info, body) of every fenced block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(2), m.group(3).strip()
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*" + re.escape(fence[0]) + "{%d,}\\s*$" % len(fence), lines[j]):
            j += 1
        yield i + 1, info, lines[i + 1:j]
        i = j + 1


def main():
    src, out = sys.argv[1], sys.argv[2]
    docs = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
    bad, n_run, n_skip = [], 0, 0
    for k, rel in enumerate(docs):
        parts = []
        for line, info, body in blocks(os.path.join(src, rel)):
            words = info.split()
            if not words:
                bad.append("%s:%d: a fenced block without a language (say sh, json, c, text...)" % (rel, line))
                continue
            if words[0] not in SHELLS:
                continue
            if "illustrative" in words[1:]:
                n_skip += 1
                continue
            n_run += 1
            parts.append('echo "## %s:%d" >&2\n%s\n' % (rel, line, "\n".join(body)))
        if parts:
            name = "%02d-%s.sh" % (k, rel.replace("/", "_").replace(".md", ""))
            with open(os.path.join(out, name), "w") as f:
                f.write("# The shell blocks of %s, in order.\n" % rel)
                f.write("".join(parts))
    for b in bad:
        print(b, file=sys.stderr)
    print("docs: %d shell blocks to run, %d illustrative" % (n_run, n_skip))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

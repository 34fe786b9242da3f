#!/usr/bin/env python3
"""Checks that the glossary has every term the chapters define, each linked to its definition.

A chapter defines a term where it first explains it, by marking the word as a
definition: `[poller]{.dfn}`, or `[parks]{.dfn term="park"}` when the words
on the page are not the term itself. The book's filter (scripts/book/dfn.lua)
shows it in italics with the anchor `#dfn-poller` (the term, lower case, with
each run of other characters than letters and digits made one '-').

chapters/glossary.md is a Pandoc definition list. An entry's head names one
term or several ("SQ, SQE"); an entry whose text is only "See *other*." is a
cross-reference to the entry `other`. The check fails when:

  - a chapter defines a term that no glossary entry names;
  - a term is defined twice (the glossary links to one place);
  - a glossary entry names a term no chapter defines;
  - an entry's first link is not the anchor of its first definition in book
    order (of whichever of its terms the book defines first);
  - a cross-reference names no entry, or two entries name the same term.

Output follows the project's test format: "[OK] case" or "[FAIL] case: reason".

usage: check_glossary.py [--root DIR] [--glossary FILE] [CHAPTER.md ...]
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import report  # noqa: E402
DFN_RE = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\{((?:[^}]*\s)?\.dfn(?:\s[^}]*)?)\}")
TERM_ATTR_RE = re.compile(r"""(?:^|\s)term\s*=\s*(?:"([^"]*)"|'([^']*)')""")
ID_ATTR_RE = re.compile(r"(?:^|\s)#([\w\-.:]+)")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LINK_RE = re.compile(r"\]\(#([^)\s]+)\)")
SEE_RE = re.compile(r"^See \*([^*]+)\*\.?$")


def anchor(term):
    """The id the book's filter gives a definition of `term` (scripts/book/dfn.lua does the same)."""
    return "dfn-" + re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")


def norm(term):
    return " ".join(term.lower().split())


def plain(md):
    """A term's words without the Markdown around them (`code`, *emphasis*, escapes)."""
    return " ".join(re.sub(r"[`*\\]", "", md).split())


def definitions(path, rel):
    """Yields (line, term, id) for every [words]{.dfn} of a chapter, outside code blocks."""
    fence = None
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            m = FENCE_RE.match(line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and \
                        not line.strip().strip(fence[0]):
                    fence = None
                continue
            if fence:
                continue
            for d in DFN_RE.finditer(line):
                t = TERM_ATTR_RE.search(d.group(2))
                term = next(g for g in t.groups() if g is not None) if t else plain(d.group(1))
                ident = ID_ATTR_RE.search(d.group(2))
                yield i, term, ident.group(1) if ident else anchor(term)


def glossary_entries(path):
    """Returns a list of dict(line, head, terms, body, links, see) from the definition list."""
    entries, cur = [], None
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for i, line in enumerate(lines, 1):
        if line.startswith(":   ") or line.startswith(":\t"):
            if cur is None:
                # the head is the last non-blank line above
                k = i - 2
                while k >= 0 and not lines[k].strip():
                    k -= 1
                head = lines[k].strip()
                cur = {"line": k + 1, "head": head, "terms": [t.strip() for t in head.split(",") if t.strip()],
                       "body": []}
                entries.append(cur)
            cur["body"].append(line[4:].strip())
        elif line.startswith("    ") and cur is not None:
            cur["body"].append(line.strip())
        elif not line.strip():
            continue
        else:
            cur = None
    for e in entries:
        body = " ".join(e["body"])
        e["links"] = LINK_RE.findall(body)
        see = SEE_RE.match(body.strip())
        e["see"] = see.group(1) if see else None
    return entries


def chapter_files(root):
    chdir = os.path.join(root, "chapters")
    return [os.path.join("chapters", f) for f in sorted(os.listdir(chdir))
            if f.endswith(".md") and f != "glossary.md"]


def check(root, chapters=None, glossary=None, out=sys.stdout):
    """Runs the check; prints one [OK]/[FAIL] line (and the problems); returns 0 or 1."""
    chapters = chapters or chapter_files(root)
    glossary = glossary or os.path.join("chapters", "glossary.md")
    problems = []

    defined = {}  # norm(term) -> (order, chapter, line, term, id)
    order = 0
    for ch in chapters:
        for line, term, ident in definitions(os.path.join(root, ch), ch):
            order += 1
            key = norm(term)
            if key in defined:
                _, c0, l0, _, _ = defined[key]
                problems.append("%s:%d: '%s' is defined again (first at %s:%d); mark one definition"
                                % (ch, line, term, c0, l0))
                continue
            defined[key] = (order, ch, line, term, ident)

    entries = glossary_entries(os.path.join(root, glossary))
    named = {}  # norm(term) -> entry head
    for e in entries:
        if e["see"]:
            continue
        for t in e["terms"]:
            if norm(t) in named:
                problems.append("%s:%d: '%s' has two entries ('%s' and '%s')"
                                % (glossary, e["line"], t, named[norm(t)], e["head"]))
            named[norm(t)] = e["head"]
    heads = {norm(e["head"]) for e in entries if not e["see"]}

    for key, (_, ch, line, term, ident) in sorted(defined.items(), key=lambda kv: kv[1][0]):
        if key not in named and not any(e["see"] and norm(e["head"]) == key for e in entries):
            problems.append("%s:%d: defines '%s', but %s has no entry for it" % (ch, line, term, glossary))

    for e in entries:
        where = "%s:%d: entry '%s'" % (glossary, e["line"], e["head"])
        if e["see"]:
            if norm(e["see"]) not in heads and norm(e["see"]) not in named:
                problems.append("%s refers to '%s', which has no entry" % (where, e["see"]))
            continue
        found = [defined[norm(t)] for t in e["terms"] if norm(t) in defined]
        missing = [t for t in e["terms"] if norm(t) not in defined]
        if missing:
            problems.append("%s: no chapter defines %s (mark its first use [%s]{.dfn})"
                            % (where, ", ".join("'%s'" % t for t in missing), missing[0]))
        if not found:
            continue
        _, ch, line, term, ident = min(found)
        if not e["links"]:
            problems.append("%s has no link; it should link to #%s (%s:%d)" % (where, ident, ch, line))
        elif e["links"][0] != ident:
            problems.append("%s links first to #%s, not to its definition #%s (%s:%d)"
                            % (where, e["links"][0], ident, ch, line))

    case = "the glossary has every term the chapters define, linked to its definition (%d terms, %d entries)" % (
        len(defined), len(entries))
    return report(case, problems, "problem", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    ap.add_argument("--glossary", help="the glossary, relative to --root (default: chapters/glossary.md)")
    ap.add_argument("chapters", nargs="*", help="chapter files, relative to --root (default: chapters/*.md)")
    a = ap.parse_args()
    return check(a.root, a.chapters or None, a.glossary)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""pages.py: renders the book as one HTML page per chapter, with contents and previous/next links.

Writes OUT/index.html (title and the contents of every page) and one page per
chapters/*.md, named after it (01-syscalls.md -> 01-syscalls.html). Each page
has its own contents, a link to the book's contents and links to the previous
and next pages. A link to a section of another chapter (`[...](#id)`) is
rewritten to point at the page that holds it; a link to an id that no page
holds fails the build. Pandoc 2.17 has no chunked HTML writer, so each chapter
is rendered on its own with the same filter as the single page.

usage: pages.py --out DIR [--pandoc pandoc] [--css FILE] [--filter FILE] [--resources DIRS]
                [--edition TEXT] CHAPTER.md...

--resources is pandoc's resource path (where figures/NAME.svg is found;
default: OUT's parent, then . and chapters). --edition puts a line atop every
page and the contents, e.g. what a lab edition of the book shows differently.
"""
import argparse
import html
import os
import re
import subprocess
import sys

HEADING_RE = re.compile(r"^#\s+(.*?)\s*(\{[^}]*\})?\s*$")


def title_of(path):
    fence = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"^(`{3,}|~{3,})", line)
            if m:
                fence = None if fence and line.strip() == fence else (fence or m.group(1))
                continue
            if not fence:
                h = HEADING_RE.match(line)
                if h:
                    return h.group(1)
    return os.path.basename(path)


def nav(pages, i):
    prev_link = (f'<a rel="prev" href="{pages[i - 1][0]}">&larr; {html.escape(pages[i - 1][1])}</a>'
                 if i > 0 else "<span></span>")
    next_link = (f'<a rel="next" href="{pages[i + 1][0]}">{html.escape(pages[i + 1][1])} &rarr;</a>'
                 if i + 1 < len(pages) else "<span></span>")
    return (f'<nav class="book-nav">{prev_link}<a class="book-contents" href="index.html">Contents</a>'
            f"{next_link}</nav>\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--pandoc", default="pandoc")
    ap.add_argument("--css", default="scripts/book/book.css")
    ap.add_argument("--filter", default="scripts/book/snippets.lua")
    ap.add_argument("--meta", default="chapters/_book/metadata.yaml")
    ap.add_argument("--resources", help="pandoc --resource-path (default: OUT's parent, . and chapters)")
    ap.add_argument("--edition", help="a line shown atop every page and the contents")
    ap.add_argument("chapters", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, ".parts")
    os.makedirs(tmp, exist_ok=True)

    meta = {}
    if os.path.isfile(a.meta):
        for line in open(a.meta, encoding="utf-8"):
            m = re.match(r'^(\w[\w-]*):\s*"?(.*?)"?\s*$', line)
            if m:
                meta[m.group(1)] = m.group(2)
    book = meta.get("title", "the book")
    pages = [(os.path.splitext(os.path.basename(c))[0] + ".html", title_of(c), c) for c in a.chapters]

    resources = a.resources or f"{os.path.dirname(os.path.abspath(a.out))}:.:chapters"
    edition = f'<p class="book-edition">{html.escape(a.edition)}</p>\n' if a.edition else ""
    texts = {}
    for i, (name, title, src) in enumerate(pages):
        before = os.path.join(tmp, name + ".before")
        after = os.path.join(tmp, name + ".after")
        with open(before, "w", encoding="utf-8") as fh:
            fh.write(edition + nav(pages, i))
        with open(after, "w", encoding="utf-8") as fh:
            fh.write(nav(pages, i).replace('class="book-nav"', 'class="book-nav book-nav-bottom"'))
        cmd = [a.pandoc, "--from=markdown", f"--lua-filter={a.filter}", "--to=html5", "--standalone",
               "--self-contained", "--toc", "--toc-depth=2", "--highlight-style=tango",
               f"--resource-path={resources}", f"--css={a.css}", "-M", f"lang={meta.get('lang', 'en')}",
               "-M", f"pagetitle={title}", "-M", f"title-prefix={book}", "-M", "toc-title=In this chapter",
               f"--include-before-body={before}", f"--include-after-body={after}", "-o", "-", src]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            print(f"book: pages: pandoc failed on {src}", file=sys.stderr)
            return 1
        texts[name] = r.stdout

    # Where each id lives, to send cross-chapter links to the right page.
    owner = {}
    for name, text in texts.items():
        for ident in re.findall(r'\sid="([^"]+)"', text):
            owner.setdefault(ident, name)
    bad = []
    for name, text in texts.items():
        mine = set(re.findall(r'\sid="([^"]+)"', text))

        def fix(m, mine=mine, name=name):
            ident = html.unescape(m.group(1))
            if ident in mine:
                return m.group(0)
            if ident in owner:
                return f'href="{owner[ident]}#{m.group(1)}"'
            bad.append(f"{name}: link to #{ident}, which no page holds")
            return m.group(0)

        texts[name] = re.sub(r'href="#([^"]+)"', fix, text)
    if bad:
        for b in bad:
            print(f"book: pages: {b}", file=sys.stderr)
        return 1
    for name, text in texts.items():
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as fh:
            fh.write(text)

    # The contents page: every page with its own sections.
    items = []
    for name, title, _ in pages:
        toc = re.search(r'<nav id="TOC"[^>]*>(.*?)</nav>', texts[name], re.S)
        sub = ""
        if toc:
            body = re.sub(r"<h2[^>]*>.*?</h2>", "", toc.group(1), flags=re.S)
            body = re.sub(r'href="#', f'href="{name}#', body)
            # The chapter's own h1 is the page link; show its sections below it.
            inner = re.search(r"<ul>\s*<li>.*?<ul>(.*)</ul>\s*</li>\s*</ul>", body, re.S)
            sub = f"<ul>{inner.group(1)}</ul>" if inner else ""
        items.append(f'<li><a href="{name}">{html.escape(title)}</a>{sub}</li>')
    index_md = os.path.join(tmp, "index.html.body")
    with open(index_md, "w", encoding="utf-8") as fh:
        fh.write(edition + '<nav id="TOC" class="book-index"><h2>Contents</h2><ul>\n' + "\n".join(items) +
                 "\n</ul></nav>\n" + nav([("index.html", "Contents")] + pages, 0))
    empty = os.path.join(tmp, "empty.md")
    open(empty, "w").close()
    cmd = [a.pandoc, "--from=markdown", "--to=html5", "--standalone", "--self-contained", f"--css={a.css}",
           f"--metadata-file={a.meta}", f"--include-after-body={index_md}", "-o",
           os.path.join(a.out, "index.html"), empty]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    print(f"book: {a.out}/index.html and {len(pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

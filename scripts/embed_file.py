#!/usr/bin/env python3
"""embed_file.py: writes a C file defining a byte array with a file's contents.

usage: embed_file.py INPUT SYMBOL OUTPUT.c
Defines `const unsigned char SYMBOL[]` and `const unsigned long SYMBOL_len`, so
the server serves the file from memory with no file I/O and no libc.
"""
import sys

src, symbol, out = sys.argv[1:4]
data = open(src, "rb").read()
lines = [f"// {out.rsplit('/', 1)[-1]}: generated from {src} by scripts/embed_file.py; do not edit.",
         f"const unsigned long {symbol}_len = {len(data)};",
         f"const unsigned char {symbol}[{len(data) + 1}] __attribute__((aligned(16))) = {{"]
for i in range(0, len(data), 16):
    lines.append("    " + ", ".join(str(b) for b in data[i:i + 16]) + ",")
lines.append("    0};")
open(out, "w").write("\n".join(lines) + "\n")

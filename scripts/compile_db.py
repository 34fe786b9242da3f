#!/usr/bin/env python3
"""compile_db.py: prints a compile_commands.json for the given sources and compile command."""
import json, os, shlex, sys

command, sources = sys.argv[1], sys.argv[2:]
root = os.getcwd()
print(json.dumps([{"directory": root, "file": s,
                   "arguments": shlex.split(command) + ["-c", s]} for s in sources], indent=1))

#!/usr/bin/env python3
"""Carries one "## <heading>" section of an old RESULTS.md into a new one (run.sh rewrites the file).

  carry.py HEADING OLD_MD NEW_MD    append OLD_MD's section HEADING (up to the next "## ") to NEW_MD
"""
import os
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    heading, old_md, new_md = sys.argv[1:]
    if not os.path.exists(old_md):
        return
    with open(old_md, encoding="utf-8") as f:
        text = f.read()
    start = text.find("\n" + heading + "\n")
    if start < 0:
        return
    start += 1
    end = text.find("\n## ", start + len(heading))
    section = text[start:] if end < 0 else text[start:end + 1]
    with open(new_md, encoding="utf-8") as f:
        new = f.read()
    with open(new_md, "w", encoding="utf-8") as f:
        f.write(new.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Carries one "## <heading>" section of an old RESULTS.md into a new one (run.sh rewrites the file).

  carry.py HEADING OLD_MD NEW_MD    append OLD_MD's section HEADING (up to the next "## ") to NEW_MD
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import section_of  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    heading, old_md, new_md = sys.argv[1:]
    if not os.path.exists(old_md):
        return
    with open(old_md, encoding="utf-8") as f:
        text = f.read()
    _, section, _ = section_of(text, heading)
    if not section:
        return
    with open(new_md, encoding="utf-8") as f:
        new = f.read()
    with open(new_md, "w", encoding="utf-8") as f:
        f.write(new.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The scale budget's yardstick: a whole process that only pulls the libyaml events of the inputs.

Usage: python benchmarks/floor.py FILE... [--count]

It imports PyYAML's C parser and pulls every event of each file into Python, building nothing
from them: the least any process reading those files with PyYAML can do. run.py times it as a
whole process beside `conngen render` of the same config and catalog, interleaved, so the
ratio says how much conngen spends beyond reading its input, whatever the machine's load.
`--count` prints how many events were pulled (for the test that checks it reads every one).
"""

from __future__ import annotations

import sys

from yaml._yaml import CParser


def pull_events(paths: list[str]) -> int:
    """Every libyaml event of the files, pulled into Python and dropped; returns how many."""
    count = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            parser = CParser(fh.read())
        while parser.get_event() is not None:
            count += 1
            if not parser.check_event():
                break
    return count


def main(argv: list[str]) -> int:
    paths = [arg for arg in argv[1:] if arg != "--count"]
    count = pull_events(paths)
    if "--count" in argv:
        print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

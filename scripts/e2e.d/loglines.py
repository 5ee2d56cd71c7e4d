#!/usr/bin/env python3
"""Writes access-log lines (combined format) for the end-to-end tests, to stdout.

    loglines.py COUNT [--now SECONDS] [--start EPOCH] [--tag TAG]

--now SECONDS   spreads the lines over the last SECONDS seconds of the wall clock, a burst of
                live traffic that the default alert rule (over 10 hits/s on 120 s) sees
--start EPOCH   one line per second from EPOCH on, historical traffic (default 2015-05-17)
--tag TAG       goes into each path, so a batch can be told apart
Standard library only.
"""

import argparse
import sys
import time
from datetime import datetime, timezone

SECTIONS = ["/api", "/blog", "/images", "/shop", "/docs"]
STATUSES = [200, 200, 200, 200, 301, 404, 500]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("--now", type=float)
    parser.add_argument("--start", type=int, default=1431820800)
    parser.add_argument("--tag", default="e2e")
    args = parser.parse_args()
    now = time.time()
    out = sys.stdout
    for i in range(args.count):
        if args.now is not None:
            at = now - args.now + args.now * i / max(args.count, 1)
        else:
            at = args.start + i
        stamp = datetime.fromtimestamp(at, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
        section = SECTIONS[i % len(SECTIONS)]
        out.write(
            f'10.0.{i // 250 % 250}.{i % 250} - - [{stamp}] '
            f'"GET {section}/{args.tag}/{i} HTTP/1.1" {STATUSES[i % len(STATUSES)]} {100 + i % 900} '
            f'"-" "httpmon-e2e/1.0"\n'
        )


if __name__ == "__main__":
    main()

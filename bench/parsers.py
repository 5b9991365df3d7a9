"""Log parser speed: loghub's 1000 real sshd lines, repeated, through parse_line.

Beside it, in the same run, two baselines that no parser can beat by much: one
`re.match` of a syslog envelope regex per line, and that match plus building the
ten-key event dict from its groups. Their ratio to the parser is what to compare
across machines; lines per second alone depend on the CPU. Single process, one core.

    .venv/bin/python bench/parsers.py [--repeat 200] [--rounds 5] [--profile]
"""

import argparse
import cProfile
import pstats
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from secalerts.logparsers import UNPARSED, parse_lines

LOG = (
    Path(__file__).resolve().parent.parent.parent
    / "shared/datasets/loghub_openssh/OpenSSH_2k_lines0001-1000.log"
)
NOW = datetime(2017, 12, 31, tzinfo=UTC)
ENVELOPE = re.compile(
    r"([A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d) +(\S+) ([^\s\[\]:]+)(?:\[(\d*)\])?: ?(.*)"
)


def regex_only(lines: list[str]) -> None:
    match = ENVELOPE.match
    for line in lines:
        match(line)


def regex_and_dict(lines: list[str]) -> None:
    match = ENVELOPE.match
    events = []
    for line in lines:
        m = match(line)
        if m is not None:
            stamp, host, program, pid, message = m.groups()
            events.append(
                {
                    "timestamp": stamp,
                    "event_type": UNPARSED,
                    "severity": "info",
                    "source": host,
                    "source_ip": None,
                    "destination_ip": None,
                    "destination_port": None,
                    "username": None,
                    "message": message,
                    "data": {"program": program, "pid": pid, "raw": line},
                }
            )


def parsers(lines: list[str]) -> None:
    parse_lines(lines, now=NOW)


def lines_per_second(run: Callable[[list[str]], None], lines: list[str], rounds: int) -> float:
    """Best of `rounds`: the least disturbed measurement of the same work."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run(lines)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one parser round")
    args = parser.parse_args()
    if not LOG.is_file():
        sys.exit(f"{LOG} is absent (the shared datasets sit beside the checkout)")
    lines = LOG.read_text().splitlines() * args.repeat

    print(f"{len(lines)} lines ({args.repeat} x loghub OpenSSH 1-1000), best of {args.rounds}")
    floor = lines_per_second(regex_only, lines, args.rounds)
    built = lines_per_second(regex_and_dict, lines, args.rounds)
    parsed = lines_per_second(parsers, lines, args.rounds)
    print(f"  envelope regex only         {floor:>12,.0f} lines/s")
    print(f"  envelope regex + event dict {built:>12,.0f} lines/s")
    print(f"  parse_lines                 {parsed:>12,.0f} lines/s")
    print(f"  parse_lines / (regex + dict) {parsed / built:>12.2f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(parsers, lines)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()

"""Stand-ins for `.venv/bin/python` and `.venv/bin/daphne` while the doc examples run.

A command that would not return (a server), wait for a person (a password prompt),
take minutes (a benchmark) or change the machine (pip, collectstatic) is not run: it is
written to the file named by DOC_EXAMPLE_CHECKS, whose options the test then checks
against the real command's. Everything else runs with the real interpreter.

    doc_example_stubs.py python ARGS...   in place of `.venv/bin/python ARGS...`
    doc_example_stubs.py daphne ARGS...   in place of `.venv/bin/daphne ARGS...`
"""

import json
import os
import sys

NOT_RUN = {
    "serve",
    "syslog",
    "notify_worker",
    "createsuperuser",
    "changepassword",
    "collectstatic",
}


def main(program: str, args: list[str]) -> int:
    if program == "daphne":
        return defer("daphne", args)
    if args[:2] == ["-m", "pip"]:
        return 0  # installs packages: shown, not run
    if args and args[0].startswith("bench/"):
        return defer("bench", args)
    if args and args[0] == "manage.py" and len(args) > 1:
        name, rest = args[1], args[2:]
        interactive = name == "create_user" and "--password-stdin" not in rest
        forever = name == "scheduler" and "--once" not in rest
        if name in NOT_RUN or interactive or forever:
            return defer("manage.py", args[1:])
    os.execv(sys.executable, [sys.executable, *args])  # noqa: S606 - the docs' own arguments
    return 1  # not reached


def defer(kind: str, args: list[str]) -> int:
    with open(os.environ["DOC_EXAMPLE_CHECKS"], "a") as checks:
        checks.write(json.dumps([kind, args]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))

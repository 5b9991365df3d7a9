"""A stock log shipper (Debian's syslog-ng with its http() destination) tails a log file
and posts it, with an API key, to the intake endpoint of a real Daphne.

Fluent Bit and Vector install from none of the registries this project may use;
syslog-ng does, and its http() destination is the same kind of client.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from secalerts.accounts.api_keys import create_key
from secalerts.events.models import Event
from tests.waiting import wait_until

SYSLOG_NG = shutil.which("syslog-ng")
pytestmark = pytest.mark.skipif(SYSLOG_NG is None, reason="syslog-ng is not installed")

CONFIG = """@version: 3.38
source s_file {{ file("{log}" follow-freq(0.1) flags(no-parse)); }};
destination d_intake {{
  http(url("{url}/api/intake/syslog/") method("POST")
       headers("X-API-Key: {key}", "Content-Type: text/plain")
       body("${{MESSAGE}}") batch-lines(100) batch-timeout(200));
}};
log {{ source(s_file); destination(d_intake); }};
"""


def test_syslog_ng_ships_a_tailed_file_to_the_intake(start_daphne, dataset_dir, tmp_path: Path):
    lines = (dataset_dir / "loghub_openssh" / "OpenSSH_2k_lines0001-1000.log").read_text()
    first = lines.splitlines()[:200]
    key = create_key(name="syslog-ng on LabSZ", scopes=["ingest"], created_by=None)[1]
    base = start_daphne()
    log = tmp_path / "auth.log"
    log.write_text("\n".join(first) + "\n")  # a new file is read from its start
    config = tmp_path / "syslog-ng.conf"
    config.write_text(CONFIG.format(log=log, url=base, key=key))
    assert SYSLOG_NG is not None  # the test is skipped without it
    shipper = subprocess.Popen(
        [SYSLOG_NG, "-F", "-f", str(config), "-R", str(tmp_path / "persist"),
         "-p", str(tmp_path / "pid"), "-c", str(tmp_path / "ctl"), "--no-caps"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: Event.objects.count() >= len(first), 30, "the tailed lines stored")
    finally:
        shipper.terminate()
        shipper.wait(timeout=10)

    assert Event.objects.count() == len(first)
    assert not Event.objects.filter(event_type="log.line").exists()
    assert set(Event.objects.values_list("source", flat=True)) == {"LabSZ"}
    assert Event.objects.filter(event_type="ssh.auth.failed_password").count() == sum(
        "Failed password for" in line and "message repeated" not in line for line in first
    )
    assert {tuple((e.received_by or {}).items()) for e in Event.objects.all()} == {
        (("kind", "api_key"), ("name", "syslog-ng on LabSZ"))
    }

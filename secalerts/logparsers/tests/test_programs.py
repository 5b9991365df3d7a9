"""Table tests: real-looking lines of each daemon, written from the formats they document."""

from datetime import UTC, datetime

import pytest

from secalerts.logparsers import UNPARSED, parse_line

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
ENV = "Jun 30 11:59:01 gw01 "


def parse(line: str) -> dict:
    return parse_line(line, now=NOW)


@pytest.mark.parametrize(
    ("line", "event_type", "severity", "source_ip", "username", "data"),
    [
        # sshd beyond loghub's vocabulary
        (
            ENV + "sshd[811]: Accepted publickey for deploy from 2001:db8::7 port 50122 ssh2: "
            "ED25519 SHA256:abc",
            "ssh.auth.accepted",
            "info",
            "2001:db8::7",
            "deploy",
            {"auth_method": "publickey", "port": 50122},
        ),
        (
            ENV + "sshd[811]: Failed publickey for root from 203.0.113.9 port 4242 ssh2",
            "ssh.auth.failed_publickey",
            "low",
            "203.0.113.9",
            "root",
            {"port": 4242},
        ),
        (
            ENV + "sshd[811]: Invalid user admin from 203.0.113.9 port 4242",
            "ssh.auth.invalid_user",
            "low",
            "203.0.113.9",
            "admin",
            {"port": 4242},
        ),
        (
            ENV + "sshd[811]: Connection closed by authenticating user root 203.0.113.9 "
            "port 4242 [preauth]",
            "ssh.connection.closed",
            "info",
            "203.0.113.9",
            "root",
            {"port": 4242},
        ),
        (
            ENV + "sshd[811]: Disconnecting authenticating user root 203.0.113.9 port 4242: "
            "Too many authentication failures [preauth]",
            "ssh.auth.too_many_failures",
            "medium",
            "203.0.113.9",
            "root",
            {},
        ),
        (
            ENV + "sshd-session[811]: Failed password for alice from ::ffff:198.51.100.4 "
            "port 22 ssh2",
            "ssh.auth.failed_password",
            "low",
            "198.51.100.4",
            "alice",
            {"program": "sshd-session"},
        ),
        (
            ENV + "sshd[811]: message repeated 3 times: [ Failed password for root from "
            "203.0.113.9 port 4242 ssh2]",
            "ssh.auth.failed_password_repeated",
            "low",
            "203.0.113.9",
            "root",
            {"repeat_count": 3, "port": 4242},
        ),
        # pam_unix, alone and inside other daemons
        (
            ENV + "sshd[811]: pam_unix(sshd:auth): authentication failure; logname= uid=0 "
            "euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
            "pam.auth.failure",
            "low",
            "203.0.113.9",
            "root",
            {"rhost": "203.0.113.9", "service": "sshd"},
        ),
        (
            ENV + "su[912]: pam_unix(su:session): session opened for user root(uid=0) by "
            "alice(uid=1000)",
            "pam.session.opened",
            "info",
            None,
            "root",
            {"by_user": "alice"},
        ),
        (
            ENV + "sudo[913]: pam_unix(sudo:auth): authentication failure; logname=alice "
            "uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
            "pam.auth.failure",
            "low",
            None,
            "alice",
            {"ruser": "alice", "service": "sudo"},
        ),
        # sudo
        (
            ENV + "sudo[913]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
            "COMMAND=/bin/ls -la /root",
            "sudo.command",
            "info",
            None,
            "alice",
            {
                "tty": "pts/0",
                "pwd": "/home/alice",
                "target_user": "root",
                "command": "/bin/ls -la /root",
            },
        ),
        (
            ENV + "sudo[913]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; "
            "PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
            "sudo.auth.failure",
            "low",
            None,
            "alice",
            {"reason": "3 incorrect password attempts", "command": "/usr/bin/id"},
        ),
        (
            ENV + "sudo[913]:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; "
            "USER=root ; COMMAND=/bin/sh",
            "sudo.not_allowed",
            "medium",
            None,
            "bob",
            {"reason": "user NOT in sudoers", "command": "/bin/sh"},
        ),
        # su
        (
            ENV + "su[914]: FAILED SU (to root) alice on pts/0",
            "su.auth.failure",
            "low",
            None,
            "alice",
            {"target_user": "root", "tty": "pts/0"},
        ),
        (
            ENV + "su[914]: (to root) alice on pts/0",
            "su.session.opened",
            "info",
            None,
            "alice",
            {"target_user": "root"},
        ),
        # dropbear
        (
            ENV + "dropbear[77]: Bad password attempt for 'root' from 203.0.113.9:52311",
            "ssh.auth.failed_password",
            "low",
            "203.0.113.9",
            "root",
            {"port": 52311},
        ),
        (
            ENV + "dropbear[77]: Login attempt for nonexistent user from 203.0.113.9:52311",
            "ssh.auth.invalid_user",
            "low",
            "203.0.113.9",
            None,
            {"port": 52311},
        ),
        (
            ENV + "dropbear[77]: Password auth succeeded for 'root' from [2001:db8::2]:40000",
            "ssh.auth.accepted",
            "info",
            "2001:db8::2",
            "root",
            {"port": 40000},
        ),
        (
            ENV + "dropbear[77]: Exit before auth (user 'root', 10 fails): Max auth tries "
            "reached - user 'root'",
            "ssh.auth.too_many_failures",
            "medium",
            None,
            "root",
            {},
        ),
        # vsftpd through syslog, and proftpd
        (
            ENV + 'vsftpd[3001]: [alice] FAIL LOGIN: Client "203.0.113.9"',
            "ftp.auth.failed",
            "low",
            "203.0.113.9",
            "alice",
            {},
        ),
        (
            ENV + 'vsftpd[3001]: [alice] OK LOGIN: Client "::ffff:203.0.113.9"',
            "ftp.auth.accepted",
            "info",
            "203.0.113.9",
            "alice",
            {},
        ),
        (
            ENV + 'vsftpd[3001]: [alice] OK UPLOAD: Client "203.0.113.9", "/srv/x.bin", '
            "1024 bytes, 9.8Kbyte/sec",
            "ftp.command",
            "info",
            "203.0.113.9",
            "alice",
            {"command": "upload", "ok": True},
        ),
        (
            ENV + "proftpd[4001]: ftp.example.com (dsl.example.net[203.0.113.9]) - USER bob "
            "(Login failed): Incorrect password",
            "ftp.auth.failed",
            "low",
            "203.0.113.9",
            "bob",
            {"rhost": "dsl.example.net", "reason": "Incorrect password"},
        ),
        (
            ENV + "proftpd[4001]: ftp.example.com (203.0.113.9[203.0.113.9]) - USER mallory: "
            "no such user found from 203.0.113.9 [203.0.113.9] to 10.0.0.1:21",
            "ftp.auth.invalid_user",
            "low",
            "203.0.113.9",
            "mallory",
            {},
        ),
        (
            ENV + "proftpd[4001]: ftp.example.com (203.0.113.9[203.0.113.9]) - USER bob: "
            "Login successful.",
            "ftp.auth.accepted",
            "info",
            "203.0.113.9",
            "bob",
            {},
        ),
        (
            ENV + "proftpd[4001]: ftp.example.com (203.0.113.9[203.0.113.9]) - Maximum login "
            "attempts (3) exceeded, connection refused",
            "ftp.auth.too_many_failures",
            "medium",
            "203.0.113.9",
            None,
            {"max_attempts": 3},
        ),
        # dovecot
        (
            ENV + "dovecot: auth: pam_unix(dovecot:auth): authentication failure; logname= "
            "uid=0 euid=0 tty=dovecot ruser=alice rhost=203.0.113.9  user=alice",
            "pam.auth.failure",
            "low",
            "203.0.113.9",
            "alice",
            {"service": "dovecot"},
        ),
        (
            ENV + "dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): "
            "user=<alice>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1, TLS, "
            "session=<abc>",
            "mail.auth.failed",
            "low",
            "203.0.113.9",
            "alice",
            {"attempts": 1, "auth_method": "PLAIN", "service": "imap-login"},
        ),
        (
            ENV + "dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=203.0.113.9, "
            "lip=192.0.2.1, mpid=4242, TLS, session=<abc>",
            "mail.auth.accepted",
            "info",
            "203.0.113.9",
            "alice",
            {"auth_method": "PLAIN"},
        ),
        (
            ENV + "dovecot: auth: passwd-file(mallory,203.0.113.9): unknown user",
            "mail.auth.failed",
            "low",
            "203.0.113.9",
            "mallory",
            {"reason": "unknown user"},
        ),
        # postfix
        (
            ENV + "postfix/smtpd[5001]: warning: unknown[203.0.113.9]: SASL LOGIN "
            "authentication failed: UGFzc3dvcmQ6",
            "mail.auth.failed",
            "low",
            "203.0.113.9",
            None,
            {"mechanism": "LOGIN", "client_host": "unknown", "reason": "UGFzc3dvcmQ6"},
        ),
        (
            ENV + "postfix/smtpd[5001]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 "
            "5.7.1 <x@example.org>: Relay access denied; from=<a@example.net> "
            "to=<x@example.org> proto=ESMTP helo=<spam>",
            "mail.rejected",
            "low",
            "203.0.113.9",
            None,
            {"code": 554, "from": "a@example.net", "to": "x@example.org"},
        ),
        (
            ENV + "postfix/submission/smtpd[5002]: 4BX2: client=mail.example.net[198.51.100.7]"
            ", sasl_method=PLAIN, sasl_username=alice@example.org",
            "mail.auth.accepted",
            "info",
            "198.51.100.7",
            "alice@example.org",
            {"mechanism": "PLAIN"},
        ),
    ],
)
def test_program_line(line, event_type, severity, source_ip, username, data):
    event = parse(line)

    assert (event["event_type"], event["severity"]) == (event_type, severity)
    assert (event["source_ip"], event["username"]) == (source_ip, username)
    assert {key: event["data"].get(key) for key in data} == data
    assert event["source"] == "gw01"
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, tzinfo=UTC)


def test_nginx_combined_access_line():
    line = (
        '203.0.113.9 - alice [30/Jun/2024:13:59:01 +0200] "POST /login?next=%2F HTTP/1.1" '
        '401 512 "https://example.com/" "curl/8.5.0"'
    )

    event = parse_line(line, now=NOW, default_host="web01")

    assert event["event_type"] == "web.access"
    assert event["severity"] == "low"
    assert (event["source"], event["source_ip"], event["username"]) == (
        "web01",
        "203.0.113.9",
        "alice",
    )
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, tzinfo=UTC)
    assert {k: event["data"][k] for k in ("method", "path", "status", "bytes", "user_agent")} == {
        "method": "POST",
        "path": "/login?next=%2F",
        "status": 401,
        "bytes": 512,
        "user_agent": "curl/8.5.0",
    }
    assert event["data"]["referer"] == "https://example.com/"


@pytest.mark.parametrize(
    ("status", "severity"),
    [(200, "info"), (304, "info"), (404, "info"), (403, "low"), (401, "low"), (500, "medium")],
)
def test_access_severity_follows_status(status, severity):
    line = f'198.51.100.7 - - [30/Jun/2024:11:00:00 +0000] "GET / HTTP/1.1" {status} -'

    event = parse(line)

    assert (event["severity"], event["data"]["status"], event["data"]["bytes"]) == (
        severity,
        status,
        0,
    )
    assert event["source"] == "unknown"


def test_apache_error_line_with_client_and_port():
    line = (
        "[Sun Jun 30 11:59:01.123456 2024] [authz_core:error] [pid 4242:tid 1401] "
        "[client 203.0.113.9:51234] AH01630: client denied by server configuration: /srv/x"
    )

    event = parse(line)

    assert (event["event_type"], event["severity"], event["source_ip"]) == (
        "web.error",
        "low",
        "203.0.113.9",
    )
    assert event["data"]["module"] == "authz_core"
    assert event["data"]["pid"] == 4242
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, tzinfo=UTC)


def test_nginx_error_line():
    line = (
        '2024/06/30 11:59:01 [error] 811#811: *5 open() "/usr/share/nginx/html/x.php" failed '
        "(2: No such file or directory), client: 203.0.113.9, server: example.com, request: "
        '"GET /x.php HTTP/1.1", host: "example.com"'
    )

    event = parse(line)

    assert (event["event_type"], event["source_ip"]) == ("web.error", "203.0.113.9")
    assert event["data"]["request"] == "GET /x.php HTTP/1.1"
    assert event["data"]["program"] == "nginx"
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, tzinfo=UTC)


def test_vsftpd_own_log_format():
    line = 'Sun Jun 30 11:59:01 2024 [pid 3001] [alice] FAIL LOGIN: Client "203.0.113.9"'

    event = parse(line)

    assert (event["event_type"], event["source_ip"], event["username"]) == (
        "ftp.auth.failed",
        "203.0.113.9",
        "alice",
    )
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, tzinfo=UTC)


def test_unknown_program_line_is_kept_whole():
    line = ENV + "cron[42]: (root) CMD (run-parts /etc/cron.hourly)"

    event = parse(line)

    assert event["event_type"] == UNPARSED
    assert event["message"] == line
    assert event["data"]["program"] == "cron"
    assert event["data"]["pid"] == 42
    assert event["data"]["raw"] == line
    assert event["source"] == "gw01"


def test_known_program_with_unknown_message_is_unparsed_but_enveloped():
    event = parse(ENV + "sshd[1]: Server listening on 0.0.0.0 port 22.")

    assert event["event_type"] == UNPARSED
    assert event["data"]["program"] == "sshd"
    assert event["timestamp"] is not None


def test_default_host_fills_a_missing_host_only():
    without = parse_line(
        "<86>Jun 30 11:59:01 su: (to root) alice on pts/0", now=NOW, default_host="relay"
    )
    with_host = parse_line(ENV + "su: (to root) alice on pts/0", now=NOW, default_host="relay")

    assert (without["source"], with_host["source"]) == ("relay", "gw01")


@pytest.mark.parametrize(
    ("line", "event_type"),
    [
        # Free text that repeats a pattern's own delimiters must not make a regex
        # backtrack over the whole line (this one once did, for minutes).
        (
            ENV
            + "postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 554 "
            + "; from=<" * 20_000,
            "mail.rejected",
        ),
        (ENV + "sshd[1]: Failed password for " + " from x" * 20_000, UNPARSED),
        (ENV + "sshd[1]: Connection closed by " + "user a " * 20_000, "ssh.connection.closed"),
        ("<1>1 - - - - - " + '[a b="\\' * 20_000, UNPARSED),
        ('192.0.2.1 - - [30/Jun/2024:11:00:00 +0000] "' + '\\"' * 20_000, UNPARSED),
    ],
)
def test_hostile_lines_parse(line, event_type):
    event = parse(line)

    assert event["event_type"] == event_type
    assert "parse_error" not in event["data"]


def test_iis_line_reports_client_and_server():
    line = (
        "2015-03-11 21:59:09 192.0.2.10 GET /admin/login.aspx user=x 443 - 203.0.113.9 "
        "Mozilla/5.0 - 500 0 0 15"
    )

    event = parse(line)

    assert (event["event_type"], event["severity"]) == ("web.access", "medium")
    assert (event["source_ip"], event["destination_ip"], event["destination_port"]) == (
        "203.0.113.9",
        "192.0.2.10",
        443,
    )
    assert event["data"]["path"] == "/admin/login.aspx?user=x"
    assert event["data"]["status"] == 500

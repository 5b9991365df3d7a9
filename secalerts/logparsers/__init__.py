"""Log parsers: raw log lines in, event dicts in the project's event shape out.

Standard library only: no Django, no ORM, no I/O, no clock (callers pass `now`).
Public surface:

    parse_line(line, *, now, default_host=None) -> dict
    parse_lines(lines, *, now, default_host=None) -> list[dict]
    UNPARSED == "log.line"     the event_type of a line no parser recognised

Every line gives exactly one event with the keys timestamp (aware UTC datetime or None),
event_type, severity, source, source_ip, destination_ip, destination_port, username,
message and data; nothing raises. A line counts as parsed iff its event_type is not
UNPARSED. data always holds `program` (None without an envelope), `raw` (the line, cut
at 4096 characters) and `pid` when the line has one; PRI gives data.facility and
data.syslog_severity.

Envelopes: RFC 5424 (structured data in data.structured_data), RFC 3164 and bare
/var/log lines with a BSD or ISO 8601 time. A year-less time takes `now`'s year, or the
year before if that would be more than a day ahead of `now`; times without a zone are
UTC. `source` is the line's host, else `default_host`, else "unknown".

Programs and event types (severity in brackets):
- sshd: ssh.auth.failed_password / failed_none / failed_publickey /
  failed_keyboard_interactive / failed (low), ssh.auth.failed_password_repeated (low,
  data.repeat_count), ssh.auth.invalid_user (low), ssh.auth.invalid_user_request (info),
  ssh.auth.user_not_allowed (low), ssh.auth.refused (low), ssh.auth.postponed (info),
  ssh.auth.accepted (info), ssh.auth.too_many_failures (medium),
  ssh.reverse_mapping_failed (medium), ssh.no_identification (low),
  ssh.negotiation_failed (low), ssh.protocol_error (low), ssh.subsystem.failed (low),
  ssh.connection.closed / ssh.connection.reset / ssh.disconnect / ssh.debug (info),
  ssh.error (low: any other "error:"/"fatal:" line). Client port in data.port.
- pam_unix (alone, as su(pam_unix), or inside sshd/su/sudo/dovecot lines):
  pam.auth.failure (low), pam.auth.user_unknown (info), pam.auth.more_failures and
  pam.auth.max_retries (medium), pam.session.opened / closed (info),
  pam.session.failed (low).
- dropbear: the ssh.* types above (connections also ssh.connection.opened).
- su: su.auth.failure (low), su.session.opened (info).
- sudo: sudo.command (info), sudo.auth.failure (low), sudo.not_allowed (medium),
  sudo.error (low).
- vsftpd, proftpd: ftp.auth.failed / ftp.auth.invalid_user (low), ftp.auth.accepted
  (info), ftp.auth.too_many_failures (medium), ftp.connection.opened,
  ftp.session.opened / closed, ftp.command (info; low when refused).
- dovecot, postfix: mail.auth.failed (low), mail.auth.accepted (info), mail.rejected
  (low), mail.connection.opened / closed / lost (info).
- nginx/apache access logs (common, combined, vhost_combined; IIS W3C too):
  web.access with data.method/path/status/bytes/referer/user_agent; severity medium
  for 5xx, low for 401/403/407, else info.
- nginx/apache error logs: web.error; medium for emerg/alert/crit, low for error, else
  info.
"""

from secalerts.logparsers.events import SEVERITIES, UNPARSED
from secalerts.logparsers.parser import parse_line, parse_lines

__all__ = ["SEVERITIES", "UNPARSED", "parse_line", "parse_lines"]

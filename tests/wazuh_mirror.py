"""Our mirror of the Wazuh rules that shared/datasets/wazuh_ruleset_tests exercises.

Test data, not shipped. Each entry restates one Wazuh rule (cited by id and description)
in our JSON condition language over the fields our log parsers produce: event_type,
source_ip, username, message (the text after the syslog envelope) and data.*. How the
Wazuh rule syntax maps onto ours:

- `decoded_as X` (the parent groups 5700, 5500, 5300, 30100, 31100) becomes the program
  or event type our parsers give the same lines (SSHD, PAM, SU, APACHE_ERROR, WEB_ACCESS).
- `if_sid P` (a child rule) is P's selection AND the child's own test.
- `match` is a case-insensitive substring test; `|` separates alternatives, `^` and `$`
  anchor to the start and end of the message: contains / startswith / endswith with
  ignore_case. `regex` (OS_Regex) becomes an RE2 pattern: `\\S`, `\\d` keep their
  meaning, `*`/`+` only quantify such a class, every other character is literal, so
  `[`, `]` and `+` are escaped here.
- `url` / `id` test the decoder's url and status code: data.path and data.status.
- `frequency` / `timeframe` / `same_source_ip` (with `if_matched_sid S`) become a
  threshold over S's selection: count = frequency, window = timeframe, grouped by
  source_ip when same_source_ip is set.
- Wazuh stops at the first sibling that matches, trying level-0 ("ignore") siblings
  first and the others by falling level. Our rules all run side by side, so where a
  level-0 sibling takes lines away from a rule (5711 from 5710) the rule says `not`.
- Severity comes from the Wazuh level: >=12 critical, >=10 high, >=7 medium, >=4 low,
  else info.
"""

from typing import Any

Node = dict[str, Any]


def _leaf(field: str, op: str, value: Any, *, ignore_case: bool = False) -> Node:
    leaf: Node = {"field": field, "op": op, "value": value}
    if ignore_case:
        leaf["ignore_case"] = True
    return leaf


def _one_of(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else {"any": nodes}


def has(*phrases: str, field: str = "message") -> Node:
    """Wazuh `match` without anchors: any phrase, anywhere, in any case."""
    return _one_of([_leaf(field, "contains", p, ignore_case=True) for p in phrases])


def starts(*phrases: str, field: str = "message") -> Node:
    """Wazuh `match` with `^`."""
    return _one_of([_leaf(field, "startswith", p, ignore_case=True) for p in phrases])


def ends(*phrases: str, field: str = "message") -> Node:
    """Wazuh `match` with `$`."""
    return _one_of([_leaf(field, "endswith", p, ignore_case=True) for p in phrases])


def regex(pattern: str, field: str = "message") -> Node:
    """Wazuh `regex`, already translated to RE2; OS_Regex ignores case too."""
    return _leaf(field, "regex", pattern, ignore_case=True)


def is_(field: str, value: Any) -> Node:
    return _leaf(field, "eq", value)


def all_(*nodes: Node) -> Node:
    return {"all": list(nodes)}


def any_(*nodes: Node) -> Node:
    return {"any": list(nodes)}


def not_(node: Node) -> Node:
    return {"not": node}


# --- Parent groups (Wazuh rules that only select a decoder's lines, level 0, no alert) ---

# 5700 "SSHD messages grouped": decoded_as sshd. Our sshd parser also types the PAM
# errors sshd writes (pam.auth.*), which Wazuh's sshd decoder takes too, so by program.
SSHD = is_("data.program", "sshd")
# 5500 "Grouping of the pam_unix rules": decoded_as pam; our pam.* event types, whichever
# program (su(pam_unix), sshd's pam_unix(sshd:session), vsftpd(pam_unix)) wrote them.
PAM = _leaf("event_type", "startswith", "pam.")
# 5300 "Initial grouping for su messages": decoded_as su; our su parser's events.
SU = _leaf("event_type", "startswith", "su.")
# 30100 "Apache: Messages grouped": decoded_as apache-errorlog. Our web.error covers
# nginx's error log as well, which Wazuh decodes apart.
APACHE_ERROR = all_(is_("event_type", "web.error"), not_(is_("data.program", "nginx")))
# 31100 "Access log messages grouped": category web-log.
WEB_ACCESS = is_("event_type", "web.access")

# --- Selections other rules build on ---

# 5711 (level 0) "Useless/Duplicated SSHD message without a user/ip": tried before 5710,
# so these lines never raise 5710 in Wazuh (sshd.ini log 2 and log 4 expect exactly that).
SSHD_DUPLICATES = has(
    "authentication failure; logname= uid=0 euid=0 tty=ssh",
    "input_userauth_request: invalid user",
    "PAM: User not known to the underlying authentication module for illegal user",
    "error retrieving information about user",
)
# 5710 "sshd: Attempt to login using a non-existent user".
SSHD_INVALID_USER = all_(SSHD, has("illegal user", "invalid user"), not_(SSHD_DUPLICATES))
# 5716 "sshd: authentication failed." (^Failed, ^error: PAM: Authentication).
SSHD_AUTH_FAILED = all_(SSHD, starts("Failed", "error: PAM: Authentication"))
# 5718 "sshd: Attempt to login using a denied user." (AllowUsers/DenyUsers and the like).
SSHD_DENIED_USER = all_(SSHD, has("not allowed because"))
# 5750 "sshd: could not negotiate with client." (level 0 parent of 5752/5753).
SSHD_NEGOTIATION = all_(
    SSHD, has("Unable to negotiate with ", "Unable to negotiate a key", "fatal: no matching")
)
# 5760 "sshd: authentication failed." (if_sid 5700,5716: every 5716 line is a 5700 line).
SSHD_PASSWORD_FAILED = all_(SSHD, has("Failed password", "Failed keyboard", "authentication error"))

# 5301 "User missed the password to change UID (user id)."
SU_FAILED = all_(SU, any_(has("authentication failure; ", "failed", "BAD su"), starts("-")))
# 5303 "User successfully changed UID to root." ([[:punct:]] is OS_Regex's \p).
SU_TO_ROOT = regex(
    r"session opened for user root|^'su root'|^\+ \S+ \S+[[:punct:]]root$"
    r"|^\S+ to root on|^SU \S+ \S+ \+ \S+ \S+-root$"
)
# 5304 "User successfully changed UID." (HP-UX "SU date time + tty from-to" included).
SU_CHANGED_UID = regex(r"session opened for user|succeeded for|^\+|^\S+ to |^SU \S+ \S+ \+ ")

# 30101 "Apache: Error messages grouped." / 30103 notices: Apache 2.2's "[error] ...".
# Wazuh's pre-decoder takes a leading Apache 2.2 date ("[Fri Dec 13 06:59:54 2013] ")
# off the log before `^[error] ` is tested; our message keeps it, hence the optional date.
APACHE22_ERROR = all_(APACHE_ERROR, regex(r"^(?:\[[^\]]*\] )?\[error\] "))
APACHE22_NOTICE = all_(APACHE_ERROR, regex(r"^(?:\[[^\]]*\] )?\[notice\] "))
# 30301 / 30302: Apache 2.4's "[module:error]" / "[module:warn]" (the module may be empty).
APACHE24_ERROR = all_(APACHE_ERROR, regex(r" \[\S*:error\] "))
APACHE24_WARN = all_(APACHE_ERROR, regex(r" \[\S+:warn\] "))

# 31108 "Ignored URLs (simple queries)": 2xx/3xx and is_simple_http_request, i.e. no '?'
# in the url. Wazuh's IIS decoders keep cs-uri-stem and cs-uri-query apart (a space
# between them), while our parser joins them with '?': for IIS lines only a second '?'
# (inside the query) makes the request not simple.
SIMPLE_REQUEST = any_(
    not_(has("?", field="data.path")),
    all_(is_("data.format", "iis"), not_(regex(r"\?.*\?", field="data.path"))),
)
STATUS_2XX_3XX = all_(_leaf("data.status", "gte", 200), _leaf("data.status", "lt", 400))
WEB_SIMPLE = all_(WEB_ACCESS, STATUS_2XX_3XX, SIMPLE_REQUEST)

# 31103 "SQL injection attempt." (url phrases; if_sid 31100,31108 is just WEB_ACCESS).
SQL_INJECTION_URL = has(
    "=select%20", "select+", "insert%20", "%20from%20", "%20where%20", "union%20",
    "union+", "where+", "null,null", "xp_cmdshell",
    field="data.path",
)  # fmt: skip
# 31104 "Common web attack." (traversal, encoded control characters, known exploit paths).
COMMON_ATTACK_URL = has(
    "%027", "%00", "%01", "%7f", "%2E%2E", "%0A", "%0D", "../..", "..\\..", "echo;",
    "cmd.exe", "root.exe", "_mem_bin", "msadc", "/winnt/", "/boot.ini",
    "/x90/", "default.ida", "/sumthin", "nsiislog.dll", "chmod%", "wget%", "cd%20",
    "exec%20", "../..//", "%5C../%5C", "././././", "2e%2e%5c%2e", "\\x5C\\x5C",
    field="data.path",
)  # fmt: skip
# 31105 "XSS (Cross Site Scripting) attempt." (only as a parent of 31106 here).
XSS_URL = has(
    "%3Cscript", "%3C%2Fscript", "script>", "script%3E", "SRC=javascript", "IMG%20",
    "%20ONLOAD=", "INPUT%20", "iframe%20",
    field="data.path",
)  # fmt: skip


def rule(
    description: str,
    severity: str,
    condition: Node,
    *,
    group_by: list[str] | None = None,
    threshold: dict[str, int] | None = None,
    dedup_window_seconds: int | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "description": description,
        "severity": severity,
        "condition": condition,
        "group_by": group_by or [],
        "threshold": threshold,
    }
    if dedup_window_seconds is not None:
        fields["dedup_window_seconds"] = dedup_window_seconds
    return fields


def frequency(count: int, seconds: int) -> dict[str, int]:
    return {"count": count, "window_seconds": seconds}


YEAR = 31_536_000

# Wazuh rule id -> our rule's fields (name added by `rule_fields`).
MIRROR: dict[str, dict[str, Any]] = {
    # --- syslog (0020) ---
    "2502": rule(
        "syslog: User missed the password more than one time",
        "high",  # level 10; no parent: any program's line
        has("more authentication failures;", "REPEATED login failures"),
    ),
    "5301": rule("User missed the password to change UID (user id).", "low", SU_FAILED),
    "5302": rule(
        "User missed the password to change UID to root.",
        "medium",  # level 9
        # Wazuh's `user` is the su decoder's target user ("... changing from ldap to root").
        all_(SU_FAILED, starts("root", field="data.target_user")),
    ),
    "5305": rule(
        "First time (su) is executed by user.",
        "low",
        all_(SU, any_(SU_TO_ROOT, SU_CHANGED_UID)),
        # if_fts (first time seen): later su's of the same user to the same account fold
        # into the open alert instead of raising new ones.
        group_by=["username", "data.target_user"],
        dedup_window_seconds=YEAR,
    ),
    # --- pam (0085) ---
    "5501": rule("PAM: Login session opened.", "info", all_(PAM, has("session opened for user "))),
    "5502": rule("PAM: Login session closed.", "info", all_(PAM, has("session closed for user "))),
    "5503": rule(
        "PAM: User login failed.", "low", all_(PAM, has("authentication failure; logname="))
    ),
    "5504": rule(
        "PAM: Attempt to login with an invalid user.",
        "low",
        all_(PAM, has("check pass; user unknown")),
    ),
    # --- sshd (0095) ---
    "5701": rule(
        "sshd: Possible attack on the ssh server (or version gathering).",
        "medium",  # level 8
        all_(SSHD, has("Bad protocol version identification")),
    ),
    "5702": rule(
        "sshd: Reverse lookup error (bad ISP or attack).",
        "low",
        all_(SSHD, starts("reverse mapping"), regex(r"failed - POSSIBLE BREAK")),
    ),
    "5706": rule(
        "sshd: insecure connection attempt (scan).",
        "low",
        all_(SSHD, has("Did not receive identification string from")),
    ),
    "5710": rule("sshd: Attempt to login using a non-existent user", "low", SSHD_INVALID_USER),
    "5712": rule(
        "sshd: brute force trying to get access to the system. Non existent user.",
        "high",
        SSHD_INVALID_USER,
        group_by=["source_ip"],
        threshold=frequency(8, 120),
    ),
    "5716": rule("sshd: authentication failed.", "low", SSHD_AUTH_FAILED),
    "5718": rule("sshd: Attempt to login using a denied user.", "low", SSHD_DENIED_USER),
    "5719": rule(
        "sshd: Multiple access attempts using a denied user.",
        "high",
        SSHD_DENIED_USER,  # no same_source_ip: every denied attempt counts together
        threshold=frequency(8, 120),
    ),
    "5722": rule("sshd: ssh connection closed.", "info", all_(SSHD, has("Connection closed"))),
    "5739": rule(
        "sshd: configuration error (AuthorizedKeysCommand)",
        "low",
        all_(SSHD, starts("error: Could not stat AuthorizedKeysCommand")),
    ),
    "5740": rule(
        "sshd: connection reset by peer", "low", all_(SSHD, ends("Connection reset by peer"))
    ),
    "5741": rule("sshd: connection refused", "low", all_(SSHD, ends("Connection refused"))),
    "5742": rule("sshd: connection timed out", "low", all_(SSHD, ends("Connection timed out"))),
    "5743": rule("sshd: no route to host", "low", all_(SSHD, ends("No route to host"))),
    "5744": rule("sshd: port forwarding issue", "low", all_(SSHD, ends("failure direct-tcpip"))),
    "5745": rule(
        "sshd: transport endpoint is not connected",
        "low",
        all_(SSHD, ends("Transport endpoint is not connected")),
    ),
    "5746": rule("sshd: get_remote_port failed", "low", all_(SSHD, ends("get_remote_port failed"))),
    "5747": rule(
        "sshd: bad client public DH value", "low", all_(SSHD, has("bad client public DH value"))
    ),
    "5748": rule("sshd: corrupted MAC on input", "low", all_(SSHD, has("Corrupted MAC on input."))),
    "5749": rule("sshd: bad packet length", "low", all_(SSHD, starts("Bad packet length"))),
    "5752": rule(
        "sshd: Client did not offer an acceptable key exchange method.",
        "info",
        all_(
            SSHD_NEGOTIATION,
            has(
                "no matching key exchange method found.",
                "Unable to negotiate a key exchange method",
            ),
        ),
    ),
    "5753": rule(
        "sshd: could not negotiate with client, no matching cipher.",
        "info",
        all_(SSHD_NEGOTIATION, has("no matching cipher found")),
    ),
    "5754": rule(
        "sshd: failed to create a session.", "info", all_(SSHD, has("Failed to create session: "))
    ),
    "5755": rule(
        "sshd: Authentication refused due to owner/permissions of authorized_keys.",
        "info",
        all_(SSHD, has("bad ownership or modes for file")),
    ),
    "5756": rule(
        "sshd: subsystem request failed.",
        "info",
        all_(SSHD, ends(" failed, subsystem not found")),
    ),
    "5757": rule(
        "Bad DNS mapping.",
        "info",
        all_(SSHD, ends("but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!")),
    ),
    "5758": rule(
        "Maximum authentication attempts exceeded.",
        "medium",  # level 8; if_sid 5700,5710: every 5710 line is a 5700 line
        all_(SSHD, starts("error: maximum authentication attempts exceeded ")),
    ),
    "5760": rule("sshd: authentication failed.", "low", SSHD_PASSWORD_FAILED),
    "5761": rule("sshd: ssh connection closed.", "info", all_(SSHD, has("Disconnected from user"))),
    "5762": rule("sshd: connection reset", "low", all_(SSHD, has("Connection reset"))),
    "5763": rule(
        "sshd: brute force trying to get access to the system. Authentication failed.",
        "high",
        SSHD_PASSWORD_FAILED,
        group_by=["source_ip"],
        threshold=frequency(8, 120),
    ),
    # --- web access logs (0245) ---
    "31101": rule(
        "Web server 400 error code.",
        "low",
        all_(WEB_ACCESS, _leaf("data.status", "gte", 400), _leaf("data.status", "lt", 500)),
    ),
    "31103": rule("SQL injection attempt.", "medium", all_(WEB_ACCESS, SQL_INJECTION_URL)),
    "31104": rule("Common web attack.", "low", all_(WEB_ACCESS, COMMON_ATTACK_URL)),
    "31106": rule(
        "A web attack returned code 200 (success).",
        "low",
        all_(
            WEB_ACCESS,
            any_(SQL_INJECTION_URL, COMMON_ATTACK_URL, XSS_URL),
            is_("data.status", 200),
        ),
    ),
    "31108": rule("Ignored URLs (simple queries).", "info", WEB_SIMPLE),
    "31170": rule(
        "SQL injection attempt.",
        "low",
        all_(WEB_ACCESS, has("%2csleep", "sysdate()", "nslookup%20dns.sqli", field="data.path")),
    ),
    "31171": rule(
        "SQL injection attempt.",
        "low",
        all_(WEB_ACCESS, has("select%20", "insert%20", field="data.path")),
    ),
    # --- Apache error log (0250) ---
    "30100": rule("Apache: Messages grouped.", "info", APACHE_ERROR),
    "30101": rule("Apache: Error messages grouped.", "info", APACHE22_ERROR),
    "30103": rule("Apache: Notice messages grouped.", "info", APACHE22_NOTICE),
    "30106": rule(
        "Apache: Attempt to access forbidden directory index.",
        "low",
        all_(APACHE22_ERROR, has("Directory index forbidden by rule")),
    ),
    "30107": rule(
        "Apache: Code Red attack.",
        "low",
        all_(APACHE22_ERROR, has("Client sent malformed Host header")),
    ),
    "30112": rule(
        "Apache: Attempt to access an non-existent file (those are reported on the access.log).",
        "info",
        all_(
            APACHE22_ERROR,
            has(
                "File does not exist: ",
                "failed to open stream: No such file or directory",
                "Failed opening ",
            ),
        ),
    ),
    "30301": rule("Apache: Error messages grouped.", "info", APACHE24_ERROR),
    "30302": rule("Apache: Warn messages grouped.", "info", APACHE24_WARN),
    "30305": rule(
        "Apache: Attempt to access forbidden file or directory.",
        "low",
        # Wazuh's `id` is the decoder's error code (AH01630), the head of our data.message.
        all_(APACHE24_ERROR, starts("AH01630:", field="data.message")),
    ),
    "30318": rule(
        "Apache: PHP Notice in Apache log", "low", all_(APACHE24_ERROR, has("PHP Notice:"))
    ),
}


def rule_fields(wazuh_id: str) -> dict[str, Any]:
    """Keyword arguments for secalerts.rules.services.create_rule."""
    fields = dict(MIRROR[wazuh_id])
    fields["name"] = f"Wazuh {wazuh_id} mirror: {fields['description']}"[:200]
    return fields

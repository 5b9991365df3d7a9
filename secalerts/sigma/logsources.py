"""The shipped logsource table: which events a Sigma rule of a logsource looks at.

Each entry is (product, category, service) -> targets. A target names the event types
(`event_types`, exact) or event type prefixes (`event_type_prefixes`), how Sigma field
names map to ours (`fields`), and where the other Sigma fields live (`field_prefix`:
`"data."` puts `Image` at `data.Image`; null means only the fields in `fields` exist for
this target, so a rule naming any other field does not use it). A rule with several
targets matches an event of any of them, each with its own field names.

The seeded rows of the `LogsourceMapping` model come from here (migration
0002_seed_logsources); users extend the model in the Django admin.
"""

from typing import Any

# Sysmon event IDs per Sigma category (the mapping of pySigma's Sysmon pipeline).
SYSMON_CATEGORIES: dict[str, list[int]] = {
    "process_creation": [1],
    "file_change": [2],
    "network_connection": [3],
    "sysmon_status": [4, 16],
    "process_termination": [5],
    "driver_load": [6],
    "image_load": [7],
    "create_remote_thread": [8],
    "raw_access_thread": [9],
    "process_access": [10],
    "file_event": [11],
    "registry_add": [12],
    "registry_delete": [12],
    "registry_set": [13],
    "registry_rename": [14],
    "registry_event": [12, 13, 14],
    "create_stream_hash": [15],
    "pipe_created": [17, 18],
    "wmi_event": [19, 20, 21],
    "dns_query": [22],
    "file_delete": [23, 26],
    "clipboard_capture": [24],
    "process_tampering": [25],
    "file_delete_detected": [26],
    "file_block_executable": [27],
    "file_block_shredding": [28],
    "file_executable_detected": [29],
    "sysmon_error": [255],
}

# Windows event log channel per Sigma service (pySigma's Windows pipeline). Windows
# events are `win.<service>.<EventID>`: `secalerts.sigma.evtx` names them so.
WINDOWS_CHANNELS: dict[str, str] = {
    "security": "Security",
    "system": "System",
    "application": "Application",
    "sysmon": "Microsoft-Windows-Sysmon/Operational",
    "powershell": "Microsoft-Windows-PowerShell/Operational",
    "powershell-classic": "Windows PowerShell",
    "taskscheduler": "Microsoft-Windows-TaskScheduler/Operational",
    "wmi": "Microsoft-Windows-WMI-Activity/Operational",
    "dns-server": "DNS Server",
    "dns-server-analytic": "Microsoft-Windows-DNS-Server/Analytical",
    "driver-framework": "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
    "ntlm": "Microsoft-Windows-NTLM/Operational",
    "dhcp": "Microsoft-Windows-DHCP-Server/Operational",
    "msexchange-management": "MSExchange Management",
    "applocker": "Microsoft-Windows-AppLocker/EXE and DLL",
    "printservice-admin": "Microsoft-Windows-PrintService/Admin",
    "printservice-operational": "Microsoft-Windows-PrintService/Operational",
    "smbclient-security": "Microsoft-Windows-SmbClient/Security",
    "smbclient-connectivity": "Microsoft-Windows-SmbClient/Connectivity",
    "smbserver-connectivity": "Microsoft-Windows-SMBServer/Connectivity",
    "codeintegrity-operational": "Microsoft-Windows-CodeIntegrity/Operational",
    "firewall-as": "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
    "bits-client": "Microsoft-Windows-Bits-Client/Operational",
    "windefend": "Microsoft-Windows-Windows Defender/Operational",
    "security-mitigations": "Microsoft-Windows-Security-Mitigations/KernelMode",
    "terminalservices-localsessionmanager": (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
    ),
    "openssh": "OpenSSH/Operational",
    "capi2": "Microsoft-Windows-CAPI2/Operational",
    "certificateservicesclient-lifecycle-system": (
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"
    ),
    "appxdeployment-server": "Microsoft-Windows-AppXDeploymentServer/Operational",
    "appxpackaging-om": "Microsoft-Windows-AppxPackaging/Operational",
    "appmodel-runtime": "Microsoft-Windows-AppModel-Runtime/Admin",
    "lsa-server": "Microsoft-Windows-LSA/Operational",
    "ldap": "Microsoft-Windows-LDAP-Client/Debug",
    "dns-client": "Microsoft-Windows-DNS Client Events/Operational",
    "shell-core": "Microsoft-Windows-Shell-Core/Operational",
    "diagnosis-scripted": "Microsoft-Windows-Diagnosis-Scripted/Operational",
    "microsoft-servicebus-client": "Microsoft-ServiceBus-Client",
    "iis-configuration": "Microsoft-IIS-Configuration/Operational",
    "kernel-shimengine": "Microsoft-Windows-Kernel-ShimEngine/Operational",
    "vhdmp": "Microsoft-Windows-VHDMP/Operational",
}

# Security 4688 carries a few of Sysmon 1's fields under other names, and not the rest.
SECURITY_4688_FIELDS = {
    "Image": "data.NewProcessName",
    "ParentImage": "data.ParentProcessName",
    "CommandLine": "data.CommandLine",
}

# Sigma's web server fields (W3C names) -> the web access parser's (secalerts.logparsers).
WEBSERVER_FIELDS = {
    "c-ip": "source_ip",
    "cs-method": "data.method",
    "cs-uri-query": "data.path",
    "cs-uri-stem": "data.path",
    "c-uri": "data.path",
    "cs-uri": "data.path",
    "sc-status": "data.status",
    "cs-referer": "data.referer",
    "cs-referrer": "data.referer",
    "cs-user-agent": "data.user_agent",
    "c-useragent": "data.user_agent",
    "cs-version": "data.protocol",
    "cs-host": "data.vhost",
    "cs-username": "username",
    "s-ip": "destination_ip",
    "s-port": "destination_port",
}

LINUX_FIELDS = {"pam_user": "username", "pam_rhost": "source_ip", "user": "username"}


def _sysmon_types(ids: list[int]) -> list[str]:
    return [f"win.sysmon.{event_id}" for event_id in ids]


def default_mappings() -> list[dict[str, Any]]:
    """The seeded table, one dict per (product, category, service)."""
    rows: list[dict[str, Any]] = []

    def add(product: str, category: str, service: str, targets: list[dict[str, Any]]) -> None:
        rows.append(
            {"product": product, "category": category, "service": service, "targets": targets}
        )

    for category, ids in SYSMON_CATEGORIES.items():
        targets = [{"event_types": _sysmon_types(ids), "fields": {}, "field_prefix": "data."}]
        if category == "process_creation":
            targets.append({"event_types": ["win.security.4688"], "fields": SECURITY_4688_FIELDS})
        add("windows", category, "", targets)
    powershell = {
        "ps_script": ("powershell", 4104),
        "ps_module": ("powershell", 4103),
        "ps_classic_start": ("powershell-classic", 400),
        "ps_classic_provider_start": ("powershell-classic", 600),
        "ps_classic_script": ("powershell-classic", 800),
    }
    for category, (service, event_id) in powershell.items():
        targets = [{"event_types": [f"win.{service}.{event_id}"], "field_prefix": "data."}]
        add("windows", category, "", targets)
    for service in WINDOWS_CHANNELS:
        targets = [{"event_type_prefixes": [f"win.{service}."], "field_prefix": "data."}]
        add("windows", "", service, targets)
    linux = {
        "sshd": ["ssh."],
        "auth": ["ssh.", "pam.", "su.", "sudo."],
        "sudo": ["sudo."],
        "vsftpd": ["ftp."],
    }
    for service, prefixes in linux.items():
        targets = [
            {"event_type_prefixes": prefixes, "fields": LINUX_FIELDS, "field_prefix": "data."}
        ]
        add("linux", "", service, targets)
    web = [{"event_types": ["web.access"], "fields": WEBSERVER_FIELDS}]
    add("", "webserver", "", web)
    for service in ("apache", "nginx"):
        add("", "", service, web)
    return rows

"""An OWASP ZAP baseline scan of the canary, when ZAP is installed.

ZAP's baseline scan spiders the site for a short time and reports passive findings
(missing headers, cookie flags, information leaks) without attacking it, which suits a
canary that serves real users. ZAP is large and often absent from a controller, so a
missing ZAP is a skip with a clear message, never a failure. The scan's exit code mixes
warnings and failures by ZAP's own rules; the verdict here comes from its JSON report
(``-J``) instead: alerts at or above ``min_risk`` fail.
"""

import json
import os
import shutil
import subprocess
import tempfile

from ansible.module_utils.common.text.converters import to_text

COMMANDS = ("zap-baseline.py", "zap-baseline")
RISKS = ("informational", "low", "medium", "high")
REPORT = "zap-report.json"


def prepare(options):
    """Validated settings; raises ``ValueError("<field>: why")`` naming the bad field."""
    url = options.get("url") or ""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url: {url!r} is not an http:// or https:// URL")
    min_risk = options.get("min_risk") or "medium"
    if min_risk not in RISKS:
        raise ValueError(f"min_risk: {min_risk!r} is not one of {', '.join(RISKS)}")
    minutes = options.get("spider_minutes") or 1
    if minutes < 1:
        raise ValueError(f"spider_minutes: {minutes} must be at least 1")
    return {
        "url": url,
        "min_risk": min_risk,
        "spider_minutes": minutes,
        "enabled": options.get("enabled", True) is not False,
        "timeout": options.get("timeout") or 600,
    }


def find_command():
    """The first baseline script on PATH, or None."""
    return next((path for path in map(shutil.which, COMMANDS) if path), None)


def alerts_at_or_above(report, min_risk):
    """Alerts of a ZAP JSON report whose risk is ``min_risk`` or higher, worst first.

    ZAP writes ``riskcode`` as a string 0-3 (informational to high) per alert per site.
    """
    floor = RISKS.index(min_risk)
    found = []
    for site in report.get("site") or []:
        for alert in site.get("alerts") or []:
            risk = int(alert.get("riskcode", 0))
            if risk >= floor:
                found.append(
                    {
                        "site": site.get("@name"),
                        "plugin": alert.get("pluginid"),
                        "name": alert.get("name") or alert.get("alert"),
                        "risk": RISKS[risk],
                        "count": int(alert.get("count") or len(alert.get("instances") or [])),
                    }
                )
    return sorted(found, key=lambda alert: -RISKS.index(alert["risk"]))


def judge_report(report, min_risk):
    """The result of a parsed report: its alerts at or above ``min_risk`` and the failures."""
    alerts = alerts_at_or_above(report, min_risk)
    return {
        "alerts": alerts,
        "failures": [
            f"zap.min_risk: {alert['name']} ({alert['risk']}, {alert['count']} instances "
            f"on {alert['site']}) is at or above {min_risk}"
            for alert in alerts
        ],
    }


def check_zap(settings):
    """Run the baseline scan and judge its report, or say why it was skipped."""
    result = {"url": settings["url"], "failures": []}
    if not settings["enabled"]:
        result["skipped"] = "ZAP baseline scan skipped: disabled"
        return result
    command = find_command()
    if command is None:
        result["skipped"] = "ZAP baseline scan skipped: zap-baseline.py not installed"
        return result
    with tempfile.TemporaryDirectory(prefix="canary-zap-") as workdir:
        # Outside ZAP's container the script writes its report relative to the working directory.
        arguments = ["-t", settings["url"], "-J", REPORT, "-m", str(settings["spider_minutes"])]
        try:
            run = subprocess.run(
                [command, *arguments],
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=settings["timeout"],
                check=False,
            )
            with open(os.path.join(workdir, REPORT), encoding="utf-8") as stream:
                report = json.load(stream)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            result["failures"].append(f"zap.scan: no report from {command}: {to_text(exc)}")
            return result
    result["exit_code"] = run.returncode
    result.update(judge_report(report, settings["min_risk"]))
    return result

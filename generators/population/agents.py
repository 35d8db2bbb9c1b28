"""User agents: the clients people, pipelines, instances and functions call AWS with.

Agents of the AWS CLI and the Go SDK v2 name the call: they hold `{command}` / `{service}`
placeholders that `render_user_agent()` fills per event.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date


def render_user_agent(user_agent: str, event_source: str, event_name: str) -> str:
    """Fill the per-call parts of a user agent: `{command}` (AWS CLI) and `{service}` (Go SDK v2)."""
    if "{" not in user_agent:
        return user_agent
    service = event_source.split(".", 1)[0]
    operation = re.sub(r"\d{8}(v\d+)?$", "", event_name)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", operation).lower()
    cli_service = _CLI_SERVICE_NAMES.get(service, service)
    return user_agent.replace("{command}", f"{cli_service}.{words}").replace("{service}", service)


_CLI_SERVICE_NAMES = {"s3": "s3api", "monitoring": "cloudwatch", "elasticloadbalancing": "elbv2",
                      "email": "ses", "states": "stepfunctions", "es": "opensearch"}


def boto3_agent(rng: random.Random, os_part: str, arch: str, extra: str = "") -> str:
    patch = rng.randrange(0, 160)
    py = f"3.{rng.choice((10, 11, 12))}.{rng.randrange(1, 12)}"
    return (f"Boto3/1.34.{patch} md/Botocore#1.34.{patch} ua/2.0 {os_part} md/arch#{arch} "
            f"lang/python#{py} md/pyimpl#CPython {extra}cfg/retry-mode#legacy Botocore/1.34.{patch}")


def cli_agent(rng: random.Random, os_part: str, arch: str, distrib: str | None) -> str:
    distrib_part = f" md/distrib#{distrib}" if distrib else ""
    return (f"aws-cli/2.15.{rng.randrange(0, 60)} md/awscrt#0.19.{rng.randrange(1, 20)} ua/2.0 {os_part} "
            f"md/arch#{arch} lang/python#3.11.{rng.randrange(6, 9)} md/pyimpl#CPython "
            f"cfg/retry-mode#standard md/installer#exe{distrib_part} md/prompt#off md/command#{{command}}")


def _go_v2_tail(rng: random.Random) -> str:
    return (f"aws-sdk-go-v2/1.25.{rng.randrange(0, 4)} os/linux lang/go#1.22.{rng.randrange(0, 6)} "
            f"md/GOOS#linux md/GOARCH#amd64 api/{{service}}#1.{rng.randrange(20, 160)}.{rng.randrange(0, 9)}")


def terraform_agents(rng: random.Random) -> tuple[str, str]:
    """Two agents of one Terraform run: resources on SDK v2 and on SDK v1."""
    head = (f"APN/1.0 HashiCorp/1.0 Terraform/1.7.{rng.randrange(0, 6)} (+https://www.terraform.io) "
            f"terraform-provider-aws/5.{rng.randrange(30, 50)}.0 "
            f"(+https://registry.terraform.io/providers/hashicorp/aws)")
    v1 = f"aws-sdk-go/1.51.{rng.randrange(0, 30)} (go1.22.{rng.randrange(0, 6)}; linux; amd64)"
    return f"{head} {_go_v2_tail(rng)}", f"{head} {v1}"


def java_agent(rng: random.Random) -> str:
    jdk = f"17.0.{rng.randrange(8, 13)}"
    return (f"aws-sdk-java/2.25.{rng.randrange(0, 70)} Linux/5.10.{rng.randrange(200, 240)}-"
            f"{rng.randrange(200, 230)}.{rng.randrange(800, 900)}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/"
            f"{jdk}+7-LTS Java/{jdk} vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy")


def ssm_agent(rng: random.Random) -> str:
    go = f"go1.21.{rng.randrange(1, 10)}"
    return f"aws-sdk-go/1.50.{rng.randrange(0, 40)} ({go}; linux; amd64) amazon-ssm-agent/"


def s3_console_agent(rng: random.Random) -> str:
    build = rng.randrange(362, 402)
    return (f"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.{rng.randrange(480, 700)} "
            f"Linux/5.10.{rng.randrange(180, 230)}-{rng.randrange(150, 220)}.{rng.randrange(700, 900)}"
            f".amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.{build}-b08 java/1.8.0_{build} "
            f"vendor/Oracle_Corporation cfg/retry-mode/standard]")


#: services whose console pages call the API from the browser itself, so the call carries the browser's
#: agent (sign-in, STS and the pages the reference shows with browser agents); `S3Console` is S3's own
BROWSER_SERVICES = frozenset({"signin", "sts", "notifications", "resource-explorer-2", "ce", "ram", "securityhub",
                              "servicecatalog-appregistry"})
CONSOLE_BACKEND = "AWS Internal"   # the agent of calls a console's backend makes for the signed-in user


def console_agent(agents: tuple[str, ...], service: str) -> str:
    """The agent of a console session's call to ``service``: browser, S3 console or the console backend.

    ``agents`` are the session's (browser, S3 console, backend) agents as `console_agents` makes them.
    """
    browser, s3_console, backend = agents
    if service in BROWSER_SERVICES:
        return browser
    return s3_console if service == "s3" else backend


def console_agents(rng: random.Random, browser: str) -> tuple[str, str, str]:
    """A console session's agents, in the order `console_agent` reads them."""
    return browser, s3_console_agent(rng), CONSOLE_BACKEND


def is_browser(agent: str) -> bool:
    return agent.startswith("Mozilla/5.0 ")


# Browser releases: (major version, stable release date) of some releases; four-weekly trains between them
_CHROME = ((114, date(2023, 5, 30)), (120, date(2023, 12, 5)), (126, date(2024, 6, 11)),
           (132, date(2025, 1, 14)), (138, date(2025, 6, 24)))        # Edge follows Chrome
_FIREFOX = ((115, date(2023, 7, 4)), (122, date(2024, 1, 23)), (128, date(2024, 7, 9)), (134, date(2025, 2, 4)))
_SAFARI = ((date(2022, 9, 12), "16"), (date(2023, 9, 18), "17"), (date(2024, 9, 16), "18"),
           (date(2025, 9, 15), "26"))


def _train(anchors: tuple[tuple[int, date], ...], day: date, lag: int) -> int:
    """The stable major version on ``day`` (``lag`` releases behind)."""
    major, released = anchors[0]
    following = None
    for i, (m, d) in enumerate(anchors):
        if d <= day:
            major, released = m, d
            following = anchors[i + 1][0] if i + 1 < len(anchors) else None
    current = major + max(0, (day - released).days) // 28
    if following is not None:
        current = min(current, following - 1)
    return current - lag


def render_browser(agent: str, day: date) -> str:
    """Fill a browser agent's `{chrome}` / `{firefox}` / `{safari}` version for the record's date.

    The person runs the current release or the one before (`{chrome-1}`: one behind).
    """
    if "{" not in agent:
        return agent
    lag = 1 if "-1}" in agent else 0
    agent = agent.replace("-1}", "}")
    start, safari = next(((start, v) for start, v in reversed(_SAFARI) if day >= start), _SAFARI[0])
    months = max(0, (day - start).days) // 30   # Safari's point releases: about one every six weeks
    return (agent.replace("{chrome}", f"{_train(_CHROME, day, lag)}.0.0.0")
            .replace("{firefox}", f"{_train(_FIREFOX, day, lag)}.0")
            .replace("{safari}", f"{safari}.{min(6, int(months * 0.62))}"))


@dataclass(frozen=True)
class Device:
    """One person's machine: the shapes of the clients they run; ``browser`` holds version placeholders."""
    os_part: str
    arch: str
    distrib: str | None
    browser: str

    def cli(self, rng: random.Random) -> str:
        return cli_agent(rng, self.os_part, self.arch, self.distrib)

    def boto3(self, rng: random.Random) -> str:
        return boto3_agent(rng, self.os_part, self.arch)


def draw_device(rng: random.Random) -> Device:
    """A person's machine: macOS, Linux or Windows, with a browser to match (versions filled per date)."""
    behind = "-1" if rng.random() < 0.3 else ""
    chrome, firefox, safari = f"{{chrome{behind}}}", f"{{firefox{behind}}}", "{safari}"
    kind = rng.choices(("mac", "linux", "windows"), weights=(5, 3, 2))[0]
    if kind == "mac":
        browser = rng.choice((
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome} Safari/537.36",
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/{safari} Safari/605.1.15"))
        return Device(f"os/macos#23.{rng.randrange(0, 5)}.0", rng.choice(("arm64", "x86_64")), None, browser)
    if kind == "linux":
        browser = rng.choice((
            f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{firefox}) Gecko/20100101 Firefox/{firefox}",
            f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome} "
            f"Safari/537.36"))
        kernel = f"6.5.0-{rng.randrange(14, 40)}-generic"
        return Device(f"os/linux#{kernel}", "x86_64", "ubuntu.22", browser)
    browser = rng.choice((
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{chrome} Safari/537.36 Edg/{chrome}",
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{chrome} Safari/537.36"))
    return Device("os/windows#10", "amd64", None, browser)


#: calls AWS makes with the caller's credentials for it (SSM Parameter Store's SecureString, Secrets
#: Manager and S3 encryption call KMS; the S3 console's Storage Lens dashboard): sourceIPAddress, userAgent
#: and userIdentity.invokedBy read "AWS Internal". (eventSource, eventName) -> share of such calls. In the
#: reference files 241 of 242 KMS Encrypt/Decrypt calls by people were made so.
ON_BEHALF: dict[tuple[str, str], float] = {
    ("kms.amazonaws.com", "Decrypt"): 0.9, ("kms.amazonaws.com", "Encrypt"): 0.9,
    ("kms.amazonaws.com", "GenerateDataKey"): 0.9,
    ("s3.amazonaws.com", "GetStorageLensConfiguration"): 0.5,
    ("s3.amazonaws.com", "GetStorageLensDashboardDataInternal"): 1.0,
}


def on_behalf(event_source: str, event_name: str) -> tuple[str | None, float]:
    """Who may make this call with a principal's credentials, and the share of its calls so made.

    (The Health console's calls that `health.amazonaws.com` logs again are twins: `activity/twins.py`.)
    """
    share = ON_BEHALF.get((event_source, event_name), 0.0)
    return (CONSOLE_BACKEND, share) if share else (None, 0.0)


def client_agent(template: str, event_source: str, event_name: str) -> str:
    """A client's agent for one call: the CLI command / Go API named, S3's brackets; browsers left as they are.

    A `{...}` left in the result is a browser version, filled per date by `render_browser`.
    """
    if is_browser(template) or template == CONSOLE_BACKEND:
        return template
    agent = render_user_agent(template, event_source, event_name)
    if event_source == "s3.amazonaws.com" and "/" in agent and agent[0] != "[":
        agent = f"[{agent}]"
    return agent

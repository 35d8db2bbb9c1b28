"""User agents: the clients people, pipelines, instances and functions call AWS with.

Agents of the AWS CLI and the Go SDK v2 name the call: they hold `{command}` / `{service}`
placeholders that `render_user_agent()` fills per event.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Device:
    """One person's machine: the shapes of the clients they run."""
    os_part: str
    arch: str
    distrib: str | None
    browser: str

    def cli(self, rng: random.Random) -> str:
        return cli_agent(rng, self.os_part, self.arch, self.distrib)

    def boto3(self, rng: random.Random) -> str:
        return boto3_agent(rng, self.os_part, self.arch)


def draw_device(rng: random.Random) -> Device:
    """A person's machine: macOS, Linux or Windows, with a browser to match."""
    chrome = f"{rng.randrange(118, 125)}.0.0.0"
    kind = rng.choices(("mac", "linux", "windows"), weights=(5, 3, 2))[0]
    if kind == "mac":
        browser = rng.choice((
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome} Safari/537.36",
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/17.{rng.randrange(0, 5)} Safari/605.1.15"))
        return Device(f"os/macos#23.{rng.randrange(0, 5)}.0", rng.choice(("arm64", "x86_64")), None, browser)
    if kind == "linux":
        ff = rng.randrange(115, 124)
        browser = f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{ff}.0) Gecko/20100101 Firefox/{ff}.0"
        kernel = f"6.5.0-{rng.randrange(14, 40)}-generic"
        return Device(f"os/linux#{kernel}", "x86_64", "ubuntu.22", browser)
    browser = (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               f"Chrome/{chrome} Safari/537.36 Edg/{chrome}")
    return Device("os/windows#10", "amd64", None, browser)

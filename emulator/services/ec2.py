"""Amazon EC2, as far as the tools around CloudTrail need it: `DescribeRegions`.

The emulator serves every commercial AWS region (botocore's endpoint data: `generators.timeline.
known_regions`), all enabled for every account: each answers with `OptInStatus`
`opt-in-not-required`, so `AllRegions` does not change the list. `RegionNames` and `Filters`
(`endpoint`, `opt-in-status`, `region-name`; values with `*`/`?` wildcards, `\\` escapes; values of a
filter OR-ed, filters AND-ed) narrow it as EC2 does. Recorded under ec2.amazonaws.com with
CloudTrail's EC2 request parameters (`regionSet`, `filterSet`, `allRegions`).
"""
from __future__ import annotations

import re

from flask import Request, Response

from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.ec2 import Ec2Service
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model
from cloudtrail_emulator.generators.timeline import known_regions

OPT_IN_NOT_REQUIRED = "opt-in-not-required"
#: DescribeRegions' filter names -> the Region member each one matches
FILTERS = {"endpoint": "Endpoint", "opt-in-status": "OptInStatus", "region-name": "RegionName"}


def served_regions() -> list[dict]:
    """Every region the emulator serves, as EC2's `Region` structure, by name."""
    return [{"RegionName": name, "Endpoint": f"ec2.{name}.amazonaws.com", "OptInStatus": OPT_IN_NOT_REQUIRED}
            for name in sorted(known_regions())]


def wildcard(value: str) -> re.Pattern:
    """EC2's filter value syntax: `*` any run, `?` one character, `\\` escapes the next one."""
    parts, escaped = [], False
    for char in value:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    if escaped:
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.DOTALL)


def _recorded(p: dict) -> dict:
    """The request parameters as CloudTrail writes them for DescribeRegions."""
    names = p.get("RegionNames") or []
    out: dict = {"regionSet": {"items": [{"regionName": n} for n in names]} if names else {}}
    if p.get("Filters"):
        out["filterSet"] = {"items": [
            {"name": f.get("Name"), "valueSet": {"items": [{"value": v} for v in f.get("Values") or []]}}
            for f in p["Filters"]]}
    out["allRegions"] = bool(p.get("AllRegions"))
    return out


class Ec2Responses:
    """The EC2 endpoint: DescribeRegions."""

    def __init__(self) -> None:
        self.service = Ec2Service(load_service_model("ec2"), {"DescribeRegions": self.DescribeRegions})

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        return self.service.handle(request, ctx)

    def DescribeRegions(self, ctx: RequestContext, p: dict) -> dict:
        ctx.request_parameters = _recorded(p)
        if p.get("DryRun"):
            raise AwsError("Request would have succeeded, but DryRun flag is set.", code="DryRunOperation",
                           status=412)
        regions = served_regions()
        names = p.get("RegionNames")
        if names:
            known = {r["RegionName"] for r in regions}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise AwsError(f"Invalid region: {unknown[0]}", code="InvalidParameterValue")
            regions = [r for r in regions if r["RegionName"] in names]
        for f in p.get("Filters") or []:
            member = FILTERS.get(f.get("Name", ""))
            if member is None:
                raise AwsError(f"The filter '{f.get('Name', '')}' is invalid", code="InvalidParameterValue")
            patterns = [wildcard(v) for v in f.get("Values") or []]
            regions = [r for r in regions if any(pt.fullmatch(r[member]) for pt in patterns)]
        return {"Regions": regions}

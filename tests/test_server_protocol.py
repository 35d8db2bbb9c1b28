"""Raw HTTP against the emulator: every malformed or unexpected request gets an AWS-shaped 4xx."""
from __future__ import annotations

import ast
import base64
import hashlib
import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import botocore.session
import pytest

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0000")


def send(server, method: str, path: str = "/", body: bytes = b"", headers: dict | None = None):
    """(status, headers, body) of one raw request."""
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def call(server, operation: str, body: bytes | str = b"{}", target: str | None = None, **extra):
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": target if target is not None else TARGET + operation,
               "Authorization": AUTH.format(region="us-east-1", service="cloudtrail")}
    headers.update(extra)
    return send(server, "POST", "/", body.encode() if isinstance(body, str) else body, headers)


def assert_json_error(result, status: int, code: str) -> dict:
    got_status, headers, body = result
    assert got_status == status, body
    assert headers["content-type"] == "application/x-amz-json-1.1"
    payload = json.loads(body)
    assert payload["__type"] == code and payload["message"]
    assert headers["x-amzn-errortype"] == code and headers["x-amzn-requestid"]
    return payload


def test_health(emulator_server):
    status, headers, body = send(emulator_server, "GET", "/_emulator/health")
    payload = json.loads(body)
    assert status == 200 and payload["status"] == "ok" and payload["version"]
    assert "CreateTrail" in payload["services"]["cloudtrail"]


def test_malformed_json(emulator_server):
    assert_json_error(call(emulator_server, "DescribeTrails", b"{not json"), 400, "SerializationException")
    assert_json_error(call(emulator_server, "DescribeTrails", b"[1, 2]"), 400, "SerializationException")
    assert_json_error(call(emulator_server, "DescribeTrails", b"\xff\xfe"), 400, "SerializationException")


@pytest.mark.parametrize("operation, body, code", [
    ("LookupEvents", {"MaxResults": "ten"}, "SerializationException"),
    ("LookupEvents", {"MaxResults": 51}, "InvalidMaxResultsException"),
    ("LookupEvents", {"EventCategory": "everything"}, "InvalidEventCategoryException"),
    ("DescribeTrails", {"trailNameList": "not-a-list"}, "SerializationException"),
    ("DescribeTrails", {"includeShadowTrails": "yes"}, "SerializationException"),
    ("GetTrail", {}, "InvalidParameterException"),
    ("GetTrail", {"Name": 5}, "SerializationException"),
    ("AddTags", {"ResourceId": "x", "TagsList": [{"Key": "k" * 129}]}, "InvalidTagParameterException"),
    ("ListPublicKeys", {"StartTime": "yesterday"}, "SerializationException"),
])
def test_wrong_types_and_constraints(emulator_server, operation, body, code):
    assert_json_error(call(emulator_server, operation, json.dumps(body)), 400, code)


def test_unknown_or_missing_target(emulator_server):
    payload = assert_json_error(call(emulator_server, "", target=TARGET + "MakeCoffee"), 400,
                                "UnknownOperationException")
    assert "MakeCoffee" in payload["message"]
    assert_json_error(call(emulator_server, "", target="Elsewhere_20200101.DoThing"), 400,
                      "UnknownOperationException")
    status, headers, body = send(emulator_server, "POST", "/", b"{}", {
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": AUTH.format(region="us-east-1", service="cloudtrail")})
    assert_json_error((status, headers, body), 400, "UnknownOperationException")


def test_every_modelled_operation_answers_json(emulator_server):
    model = botocore.session.get_session().get_service_model("cloudtrail")
    implemented = set(json.loads(send(emulator_server, "GET", "/_emulator/health")[2])["services"]["cloudtrail"])
    for operation in model.operation_names:
        status, headers, body = call(emulator_server, operation, b"{}")
        assert status in (200, 400), (operation, status, body)
        payload = json.loads(body)
        assert headers["content-type"] == "application/x-amz-json-1.1"
        if operation not in implemented and status == 400 and payload["__type"] == "UnsupportedOperationException":
            assert "not supported" in payload["message"]


def test_oversized_body(emulator_server):
    big = b'{"trailNameList": ["' + b"a" * (2 * 1024 * 1024) + b'"]}'
    assert_json_error(call(emulator_server, "DescribeTrails", big), 413, "RequestEntityTooLargeException")


def test_wrong_method_and_unknown_control_path(emulator_server):
    status, headers, body = send(emulator_server, "GET", "/", headers={"X-Amz-Target": TARGET + "ListTrails"})
    assert status == 405 and json.loads(body)["__type"]
    status, headers, body = send(emulator_server, "DELETE", "/_emulator/health")
    assert status == 405 and json.loads(body)["__type"] == "MethodNotAllowed"
    status, headers, body = send(emulator_server, "GET", "/_emulator/nothing-here")
    assert status == 404 and json.loads(body)["__type"] == "NotFound"


def test_region_and_account_from_credentials(emulator_server):
    headers = {"Authorization": AUTH.format(region="ap-south-1", service="cloudtrail").replace(
        "AKIDEXAMPLE", "444455556666")}
    # GetTrailStatus names an unknown trail by the ARN it would have (GetTrail names it as given)
    status, _, body = call(emulator_server, "GetTrailStatus", json.dumps({"Name": "nowhere"}), **headers)
    assert status == 400
    assert "arn:aws:cloudtrail:ap-south-1:444455556666:trail/nowhere" in json.loads(body)["message"]


def test_organizations_target(emulator_server):
    signed = {"Authorization": AUTH.format(region="us-east-1", service="organizations")}
    status, headers, body = call(emulator_server, "", target="AWSOrganizationsV20161128.DescribeOrganization",
                                 **signed)
    assert status == 200 and json.loads(body)["Organization"]["Id"].startswith("o-")
    assert_json_error(call(emulator_server, "", target="AWSOrganizationsV20161128.ListRoots", **signed), 400,
                      "UnsupportedOperationException")


def test_public_keys_are_base64_and_epoch_seconds_on_the_wire(emulator_server):
    status, _, body = call(emulator_server, "ListPublicKeys")
    key = json.loads(body)["PublicKeyList"][0]
    der = base64.b64decode(key["Value"], validate=True)        # the DER, base64 once on the wire
    assert der[0] == 0x30 and hashlib.md5(der).hexdigest() == key["Fingerprint"]
    assert isinstance(key["ValidityStartTime"], (int, float)) and key["ValidityEndTime"] > key["ValidityStartTime"]


def test_non_json_requests_get_xml_errors(emulator_server):
    status, headers, body = send(emulator_server, "POST", "/", b"Action=NoSuchAction&Version=2010-03-31", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": AUTH.format(region="us-east-1", service="sns")})
    assert 400 <= status < 500 and b"<ErrorResponse" in body
    status, headers, body = send(emulator_server, "GET", "/some-bucket/some/key")
    assert status != 500 and headers["content-type"].startswith("application/xml") and b"<Error>" in body


def _module_imports(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of `package` (at `root`) -> the modules of that package it imports at module level."""
    found: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        name = ".".join([package, *path.relative_to(root).with_suffix("").parts]).removesuffix(".__init__")
        targets: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package):
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name.startswith(package))
        found[name] = targets
    return {name: {t for t in targets if t in found and t != name} for name, targets in found.items()}


def test_emulator_modules_import_without_cycles():
    """No module of the emulator imports, directly or not, a module that imports it back."""
    import cloudtrail_emulator.emulator as emulator
    graph = _module_imports(Path(emulator.__path__[0]), "cloudtrail_emulator.emulator")
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        for target in sorted(graph[name]):
            assert target not in trail, " -> ".join(trail[trail.index(target):] + [target])
            if target not in done:
                visit(target, trail + [target])
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert len(graph) > 30

"""Builds generators/data/catalog.json.gz: hand-tuned entries first, then botocore's models for breadth.

Run by a developer (``.venv/bin/python tools/build_catalog.py``); the output is committed, so nothing
loads botocore models at run time. Each model operation becomes an entry: eventName = operation name,
eventSource = endpointPrefix + ".amazonaws.com", requestParameters from the input shape's members in
lowerCamelCase (EC2 in its ``xxxSet: {items: [...]}`` style), readOnly from the verb, errors from the
operation's modelled NotFound errors plus the protocol's AccessDenied and throttling errors. Where
the logged shape of a pair is known (``tail_shapes``), its requestParameters/responseElements replace
the model's guess.
"""
from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import botocore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cloudtrail_emulator.generators.catalog import DATA, READ_ONLY  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog_templates import (ACCESS_DENIED_MSG, SERVICES, THROTTLE,  # noqa: E402
                               hand_entries, tail_shapes)

MODELS = Path(botocore.__file__).resolve().parent / "data"
OUT = Path(__file__).resolve().parents[1] / "generators" / "data" / "catalog.json.gz"

READ_VERBS = ("Describe", "Get", "List", "Lookup", "Search", "Scan", "Query", "BatchGet", "Head", "Check",
              "Validate", "Estimate", "Preview", "View", "Select", "Simulate", "Detect", "Test", "Verify")
SKIP_PREFIXES = {"s3", "s3-control", "signin"}   # hand-tuned completely (CloudTrail names differ from the model)
SOURCE_OVERRIDES = {"email": "ses", "api.ecr": "ecr", "api.sagemaker": "sagemaker", "streams.dynamodb": "dynamodb",
                    "runtime.sagemaker": "sagemaker", "api.pricing": "pricing", "data.iot": "iot",
                    "runtime.lex": "lex", "models.lex": "lex", "api.tunneling.iot": "iot"}
DATA_EVENTS = {
    "dynamodb": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
                 "TransactGetItems", "TransactWriteItems"},
    "lambda": {"Invoke", "InvokeWithResponseStream", "InvokeAsync"},
    "sqs": {"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
            "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"},
    "sns": {"Publish", "PublishBatch"},
    "kinesis": {"PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "SubscribeToShard"},
}
LAMBDA_NAMES = {"CreateFunction": "CreateFunction20150331", "DeleteFunction": "DeleteFunction20150331",
                "ListFunctions": "ListFunctions20150331", "GetFunction": "GetFunction20150331v2",
                "UpdateFunctionCode": "UpdateFunctionCode20150331v2", "AddPermission": "AddPermission20150331v2",
                "UpdateFunctionConfiguration": "UpdateFunctionConfiguration20150331v2",
                "GetFunctionConfiguration": "GetFunctionConfiguration20150331v2", "GetPolicy": "GetPolicy20150331v2",
                "RemovePermission": "RemovePermission20150331v2", "PublishVersion": "PublishVersion20150331",
                "ListVersionsByFunction": "ListVersionsByFunction20150331", "CreateAlias": "CreateAlias20150331",
                "ListAliases": "ListAliases20150331", "CreateEventSourceMapping": "CreateEventSourceMapping20150331",
                "ListEventSourceMappings": "ListEventSourceMappings20150331", "ListTags": "ListTags20170331",
                "TagResource": "TagResource20170331v2", "UntagResource": "UntagResource20170331v2",
                "ListLayers": "ListLayers20181031", "GetLayerVersion": "GetLayerVersion20181031",
                "PublishLayerVersion": "PublishLayerVersion20181031"}
#: member name -> placeholder value, for the names that recur across services
NAMED = {
    "RoleName": "{{role}}", "UserName": "{{user}}", "PolicyName": "{{policy}}", "GroupName": "{{word}}",
    "InstanceProfileName": "{{profile}}", "PolicyArn": "arn:aws:iam::{{account}}:policy/{{policy}}",
    "RoleArn": "arn:aws:iam::{{account}}:role/{{role}}", "Bucket": "{{bucket}}", "BucketName": "{{bucket}}",
    "S3Bucket": "{{bucket}}", "S3BucketName": "{{bucket}}", "InstanceId": "{{instance}}", "VpcId": "{{vpc}}",
    "SubnetId": "{{subnet}}", "GroupId": "{{sg}}", "SecurityGroupId": "{{sg}}", "RouteTableId": "{{rtb}}",
    "VolumeId": "{{vol}}", "SnapshotId": "{{snap}}", "ImageId": "{{ami}}", "NetworkInterfaceId": "{{eni}}",
    "AllocationId": "{{eipalloc}}", "NatGatewayId": "{{nat}}", "InternetGatewayId": "{{igw}}",
    "NetworkAclId": "{{acl}}", "LaunchTemplateId": "{{lt}}", "VpcEndpointId": "{{vpce}}", "KeyName": "{{keypair}}",
    "KeyId": "arn:aws:kms:{{region}}:{{account}}:key/{{kmskey}}", "FunctionName": "{{function}}",
    "SecretId": "arn:aws:secretsmanager:{{region}}:{{account}}:secret:{{secret}}-{{mixed:6}}",
    "LogGroupName": "{{loggroup}}", "LogStreamName": "{{hex:32}}", "TableName": "{{table}}",
    "QueueUrl": "https://sqs.{{region}}.amazonaws.com/{{account}}/{{queue}}", "QueueName": "{{queue}}",
    "TopicArn": "arn:aws:sns:{{region}}:{{account}}:{{topic}}", "ClusterName": "{{cluster}}", "Cluster": "{{cluster}}",
    "DBInstanceIdentifier": "{{db}}", "DBClusterIdentifier": "{{cluster}}", "StackName": "{{stack}}",
    "HostedZoneId": "{{zone}}", "TrailName": "{{trail}}", "DetectorId": "{{detector}}",
    "RepositoryName": "{{repo}}", "AccountId": "{{account}}", "Region": "{{region}}", "RegionName": "{{region}}",
    "ClientToken": "{{uuid}}", "ClientRequestToken": "{{uuid}}", "IdempotencyToken": "{{uuid}}",
    "ResourceArn": "arn:aws:{{service}}:{{region}}:{{account}}:{{word}}", "AvailabilityZone": "{{az}}",
}
SKIP_MEMBERS = {"NextToken", "Marker", "DryRun", "StartingToken", "PaginationToken", "ContinuationToken",
                "ExpectedBucketOwner"}
MAX_MEMBERS = 6


def lower_camel(name: str) -> str:
    """AWS's lowerCamelCase for a member name as CloudTrail writes it: DBInstanceIdentifier -> dBInstanceIdentifier."""
    return name[0].lower() + name[1:] if name else name


def _latest(service_dir: Path) -> Path | None:
    versions = sorted(p for p in service_dir.iterdir() if (p / "service-2.json.gz").exists() or
                      (p / "service-2.json").exists())
    if not versions:
        return None
    path = versions[-1] / "service-2.json.gz"
    return path if path.exists() else versions[-1] / "service-2.json"


def _load(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


class ShapeWriter:
    """Turns model shapes into template values."""

    def __init__(self, model: dict, service: str, ec2: bool):
        self.shapes = model["shapes"]
        self.service = service
        self.ec2 = ec2

    def members(self, shape_name: str | None, required_only: bool = False) -> dict | None:
        if not shape_name:
            return None
        shape = self.shapes[shape_name]
        members = shape.get("members", {})
        required = set(shape.get("required", ()))
        chosen = [m for m in members if m in required and m not in SKIP_MEMBERS]
        if not required_only:
            chosen += [m for m in members if m not in required and m not in SKIP_MEMBERS and m in NAMED]
        out: dict = {}
        for name in chosen[:MAX_MEMBERS]:
            ref = members[name]
            if ref.get("location") in ("header", "headers", "statusCode"):
                continue
            key, value = self.member(name, ref, depth=0)
            out[key] = value
        return out or None

    def member(self, name: str, ref: dict, depth: int) -> tuple[str, object]:
        shape = self.shapes[ref["shape"]]
        kind = shape["type"]
        key = lower_camel(name)
        if kind == "list" and self.ec2:
            item_name = ref.get("locationName") or name.rstrip("s")
            singular = lower_camel(item_name)
            _, item = self.member(item_name, shape["member"], depth + 1)
            return singular + "Set", {"items": [item if isinstance(item, dict) else {singular: item}]}
        return key, self.value(name, ref["shape"], depth)

    def value(self, name: str, shape_name: str, depth: int):
        if name in NAMED:
            return NAMED[name].replace("{{service}}", self.service)
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "string":
            if shape.get("enum"):
                return shape["enum"][0]
            if name.endswith("Arn"):
                return f"arn:aws:{self.service}:{{{{region}}}}:{{{{account}}}}:{lower_camel(name[:-3]) or 'resource'}/{{{{word}}}}"
            if name.endswith("Id") or name.endswith("Ids"):
                return "{{hex:17}}"
            return "{{word}}"
        if kind in ("integer", "long"):
            return "{{int:1:100}}"
        if kind == "boolean":
            return False
        if kind in ("float", "double"):
            return 1.0
        if kind == "timestamp":
            return "{{ctime}}"
        if kind == "blob":
            return "HIDDEN_DUE_TO_SECURITY_REASONS"
        if kind == "list":
            return [] if depth >= 2 else [self.value(name.rstrip("s"), shape["member"]["shape"], depth + 1)]
        if kind == "map":
            return {}
        if kind == "structure":
            if depth >= 2:
                return {}
            members = shape.get("members", {})
            req = [m for m in shape.get("required", ()) if m in members][:4] or list(members)[:2]
            return dict(self.member(m, members[m], depth + 1) for m in req)
        return None


def model_entries(known: set[tuple[str, str]], services: dict[str, dict],
                  shapes: dict[tuple[str, str], dict] | None = None) -> dict[str, list[list]]:
    """Long-tail rows from every botocore model by eventSource (skipping pairs in ``known``).

    A row is ``[eventName, flags, requestParameters, responseElements, notFoundErrorCode]``; the
    protocol's AccessDenied and throttling errors go to ``services``; ``shapes`` gives the logged
    ``req``/``resp`` of some pairs (every one must be a model pair).
    """
    shapes = dict(shapes or {})
    tail: dict[str, list[list]] = {}
    for service_dir in sorted(MODELS.iterdir()):
        if not service_dir.is_dir():
            continue
        path = _latest(service_dir)
        if path is None:
            continue
        model = _load(path)
        meta = model["metadata"]
        prefix = meta.get("endpointPrefix", service_dir.name)
        if prefix in SKIP_PREFIXES:
            continue
        short = SOURCE_OVERRIDES.get(prefix, prefix)
        source = f"{short}.amazonaws.com"
        ec2 = meta.get("protocol") == "ec2"
        writer = ShapeWriter(model, meta.get("signingName", short), ec2)
        query_style = meta.get("protocol") in ("query", "ec2")
        for op_name, op in sorted(model["operations"].items()):
            name = LAMBDA_NAMES.get(op_name, op_name) if short == "lambda" else op_name
            if (source, name) in known:
                continue
            known.add((source, name))
            read_only = op_name.startswith(READ_VERBS)
            data_event = op_name in DATA_EVENTS.get(short, ())
            request = writer.members(op.get("input", {}).get("shape"), required_only=False)
            response = None
            if not read_only:
                response = ({"requestId": "{{requestId}}", "_return": True} if ec2 else
                            writer.members(op.get("output", {}).get("shape"), required_only=True))
            shape = shapes.pop((source, name), {})
            request = shape.get("req", request)
            response = shape.get("resp", response)
            not_found = next((e["shape"] for e in op.get("errors", []) if "NotFound" in e["shape"]), None)
            flags = (READ_ONLY if read_only else 0) | (DATA if data_event else 0)
            tail.setdefault(source, []).append([name, flags, request, response, not_found])
            if source not in services and not ec2:
                services[source] = {"errors": [["AccessDenied" if query_style else "AccessDeniedException",
                                                ACCESS_DENIED_MSG, 2],
                                               ["Throttling" if query_style else THROTTLE[0], "Rate exceeded", 1]]}
    if shapes:
        raise SystemExit(f"tail shapes for pairs no model has (or hand-tuned ones): {sorted(shapes)}")
    return tail


def build() -> dict:
    hand = hand_entries()
    known = {(e["s"], e["n"]) for e in hand}
    services = {source: dict(settings) for source, settings in SERVICES.items()}
    tail = model_entries(set(known), services, tail_shapes())
    return {"format": 1, "services": services, "entries": hand, "tail": tail}


def main() -> None:
    document = build()
    raw = json.dumps(document, separators=(",", ":")).encode()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0, compresslevel=9) as fh:
        fh.write(raw)
    pairs = {(e["s"], e["n"]) for e in document["entries"]}
    pairs |= {(source, row[0]) for source, rows in document["tail"].items() for row in rows}
    print(f"{len(document['entries'])} hand-tuned entries, {len(pairs)} pairs, {len({s for s, _ in pairs})} services, "
          f"{len(raw)} bytes raw, {OUT.stat().st_size} bytes gzip -> {OUT}")


if __name__ == "__main__":
    main()

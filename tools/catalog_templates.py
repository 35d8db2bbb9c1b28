"""Hand-tuned catalog entries and service settings: the events that dominate real trails.

Written from the structure of real CloudTrail records (AWS documentation examples and the
reference trails); values are placeholders filled per record (vocabulary in generators/records/placeholders.py).
``tools/build_catalog.py`` puts these first and fills the long tail from botocore's models.
"""
from __future__ import annotations

ACCESS_DENIED_MSG = ("User: {{callerArn}} is not authorized to perform: {{action}} on resource: {{resourceArn}} "
                     "because no identity-based policy allows the {{action}} action")
THROTTLE = ["ThrottlingException", "Rate exceeded", 1]
EC2_UNAUTHORIZED = ["Client.UnauthorizedOperation",
                    "You are not authorized to perform this operation. Encoded authorization failure message: "
                    "{{b64url:240}}", 3]

#: per eventSource defaults: host header template, requestID style, global, apiVersion, errors, ...
SERVICES: dict[str, dict] = {
    "ec2.amazonaws.com": {"errors": [EC2_UNAUTHORIZED, ["Client.RequestLimitExceeded", "Request limit exceeded.", 1]],
                          "er": 0.07},
    "s3.amazonaws.com": {"rid": "s3", "host": "{{bucket}}.s3.{{region}}.amazonaws.com", "vpce": 0.15,
                         "errors": [["AccessDenied", "Access Denied", 2],
                                    ["NoSuchBucket", "The specified bucket does not exist", 0.5]], "er": 0.03},
    "iam.amazonaws.com": {"global": True, "host": "iam.amazonaws.com", "arn": "arn:aws:iam::{{account}}:role/{{role}}",
                          "errors": [["AccessDenied", ACCESS_DENIED_MSG, 2],
                                     ["NoSuchEntityException", "The role with name {{role}} cannot be found.", 1]]},
    "sts.amazonaws.com": {"global": True, "host": "sts.amazonaws.com", "vpce": 0.05,
                          "errors": [["AccessDenied", ACCESS_DENIED_MSG, 1]]},
    "signin.amazonaws.com": {"global": True, "rid": "none", "host": "signin.aws.amazon.com"},
    "organizations.amazonaws.com": {"global": True, "host": "organizations.us-east-1.amazonaws.com"},
    "route53.amazonaws.com": {"global": True, "host": "route53.amazonaws.com", "api": "2013-04-01"},
    "cloudfront.amazonaws.com": {"global": True, "host": "cloudfront.amazonaws.com"},
    "account.amazonaws.com": {"global": True, "host": "account.us-east-1.amazonaws.com"},
    "ce.amazonaws.com": {"global": True, "host": "ce.us-east-1.amazonaws.com"},
    "health.amazonaws.com": {"global": True, "host": "health.us-east-1.amazonaws.com"},
    "notifications.amazonaws.com": {"global": True, "host": "notifications.us-east-1.amazonaws.com"},
    "logs.amazonaws.com": {"api": "20140328"},
    "elasticloadbalancing.amazonaws.com": {"api": "2012-06-01"},
    "kms.amazonaws.com": {"vpce": 0.2, "arn": "arn:aws:kms:{{region}}:{{account}}:key/{{kmskey}}",
                          "errors": [["AccessDeniedException", ACCESS_DENIED_MSG, 2], THROTTLE]},
    "ssm.amazonaws.com": {"errors": [["AccessDeniedException", ACCESS_DENIED_MSG, 1], [*THROTTLE[:2], 3]], "er": 0.05},
    "cloudtrail.amazonaws.com": {"arn": "arn:aws:cloudtrail:{{region}}:{{account}}:trail/{{trail}}",
                                 "errors": [["AccessDeniedException", ACCESS_DENIED_MSG, 1],
                                            ["TrailNotFoundException", "Unknown trail: arn:aws:cloudtrail:{{region}}:"
                                             "{{account}}:trail/{{trail}} for the user: {{account}}", 1]]},
    "lambda.amazonaws.com": {"iam": "lambda", "arn": "arn:aws:lambda:{{region}}:{{account}}:function:{{function}}"},
    "secretsmanager.amazonaws.com": {"arn": "arn:aws:secretsmanager:{{region}}:{{account}}:secret:{{secret}}-{{mixed:6}}"},
    "monitoring.amazonaws.com": {"iam": "cloudwatch"},
    "elasticloadbalancing.amazonaws.com#iam": {},
}
SERVICES.pop("elasticloadbalancing.amazonaws.com#iam")

S3_ADD = {"SignatureVersion": "SigV4", "CipherSuite": "{{cipher}}", "bytesTransferredIn": 0,
          "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "{{b64:55}}", "bytesTransferredOut": "{{int:150:6500}}"}
S3_ADD_IN = dict(S3_ADD, bytesTransferredIn="{{int:200:2000}}", bytesTransferredOut=0)
S3_BUCKET_RES = [{"accountId": "{{account}}", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::{{bucket}}"}]
S3_OBJECT_RES = [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::{{bucket}}/{{object}}"},
                 {"accountId": "{{account}}", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::{{bucket}}"}]
S3_HOST = "{{bucket}}.s3.{{region}}.amazonaws.com"
S3_BY = ["cloudtrail.amazonaws.com", "config.amazonaws.com", "elasticloadbalancing.amazonaws.com",
         "logs.amazonaws.com", "cloudformation.amazonaws.com"]


#: where CloudTrail writes a bucket sub-resource key among bucketName and Host (the rest: after Host)
_SUB_FIRST = {"lifecycle", "accelerate", "logging", "publicAccessBlock", "replication", "tagging"}
_SUB_MIDDLE = {"location", "object-lock", "website"}
#: request keys in CloudTrail's order for bucket writes with a body (the real records' order)
_S3_ORDER = {"PutBucketLifecycle": ("lifecycle", "bucketName", "LifecycleConfiguration", "Host"),
             "PutBucketTagging": ("Tagging", "tagging", "bucketName", "Host"),
             "PutBucketPolicy": ("bucketPolicy", "bucketName", "Host", "policy")}


def _s3_request(name: str, sub: str | None, extra: dict | None) -> dict:
    """requestParameters of a bucket call: bucketName, Host and the sub-resource key where S3 puts it."""
    if sub in _SUB_FIRST:
        req = {sub: "", "bucketName": "{{bucket}}", **(extra or {}), "Host": S3_HOST}
    elif sub in _SUB_MIDDLE:
        req = {"bucketName": "{{bucket}}", sub: "", "Host": S3_HOST, **(extra or {})}
    else:
        req = {"bucketName": "{{bucket}}", "Host": S3_HOST, **({sub: ""} if sub else {}), **(extra or {})}
    order = _S3_ORDER.get(name)
    return {key: req[key] for key in order} if order else req


def _s3_bucket(name: str, sub: str | None, ro: bool, w: float, errors=(), req_extra=None, add=None, by=()) -> dict:
    req = _s3_request(name, sub, req_extra)
    entry = {"s": "s3.amazonaws.com", "n": name, "ro": ro, "w": w, "req": req, "resp": None,
             "add": add or (S3_ADD if ro else S3_ADD_IN), "res": S3_BUCKET_RES}
    if errors:
        entry["e"] = [list(e) for e in errors]
        entry["er"] = 0.25
    if by:
        entry["by"] = list(by)
    return entry


_NOT_FOUND = {
    "policy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "policyStatus": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "publicAccessBlock": ("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
    "lifecycle": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "cors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "encryption": ("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"),
    "object-lock": ("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"),
    "replication": ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    "tagging": ("NoSuchTagSet", "The TagSet does not exist"),
    "website": ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    "ownershipControls": ("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"),
}
_S3_GETS = [("GetBucketAcl", "acl", 3.0), ("GetBucketPolicy", "policy", 1.0), ("GetBucketPolicyStatus", "policyStatus", 0.8),
            ("GetBucketPublicAccessBlock", "publicAccessBlock", 0.8), ("GetBucketLifecycle", "lifecycle", 0.5),
            ("GetBucketCors", "cors", 0.5), ("GetBucketEncryption", "encryption", 0.6), ("GetBucketLogging", "logging", 0.8),
            ("GetBucketObjectLockConfiguration", "object-lock", 0.5), ("GetBucketReplication", "replication", 0.4),
            ("GetBucketRequestPayment", "requestPayment", 0.4), ("GetBucketTagging", "tagging", 0.7),
            ("GetBucketVersioning", "versioning", 0.7), ("GetBucketWebsite", "website", 0.4),
            ("GetAccelerateConfiguration", "accelerate", 0.4), ("GetBucketLocation", "location", 1.2),
            ("GetBucketNotification", "notification", 0.3), ("GetBucketOwnershipControls", "ownershipControls", 0.4)]
_S3_WRITES = [("PutBucketTagging", "tagging", {"Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                                          "TagSet": {"Tag": [{"Key": "env", "Value": "prod"}]}}}),
              ("PutBucketLifecycle", "lifecycle", {"LifecycleConfiguration": {
                  "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": {
                      "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 30}, "ID": "expire-tmp"}}}),
              ("DeleteBucketLifecycle", "lifecycle", None),
              ("DeleteBucketPolicy", "policy", None), ("PutBucketVersioning", "versioning",
                                                      {"VersioningConfiguration": {"Status": "Enabled"}}),
              ("PutBucketEncryption", "encryption", None), ("PutBucketPublicAccessBlock", "publicAccessBlock",
                                                            {"PublicAccessBlockConfiguration": {
                                                                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                                "BlockPublicPolicy": True, "RestrictPublicBuckets": True}}),
              ("PutBucketAcl", "acl", None), ("PutBucketLogging", "logging", None), ("PutBucketCors", "cors", None),
              ("DeleteBucketCors", "cors", None), ("PutBucketOwnershipControls", "ownershipControls", None)]

S3_POLICY = {"Version": "2012-10-17", "Statement": [   # statement keys as clients that sort them send them
    {"Action": "s3:GetBucketAcl", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Resource": "arn:aws:s3:::{{bucket}}", "Sid": "AWSCloudTrailAclCheck"},
    {"Action": "s3:PutObject", "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
     "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Resource": "arn:aws:s3:::{{bucket}}/AWSLogs/{{account}}/*", "Sid": "AWSCloudTrailWrite"}]}


def s3_entries() -> list[dict]:
    out = [_s3_bucket(n, sub, True, w, [_NOT_FOUND[sub] + (1,)] if sub in _NOT_FOUND else (),
                      by=S3_BY if n in ("GetBucketAcl", "GetBucketLocation") else ()) for n, sub, w in _S3_GETS]
    out += [_s3_bucket(n, sub, False, 0.08, req_extra=extra) for n, sub, extra in _S3_WRITES]
    out.append(_s3_bucket("PutBucketPolicy", "policy", False, 0.08, req_extra={"bucketPolicy": S3_POLICY}))
    create = _s3_bucket("CreateBucket", None, False, 0.08, req_extra={"x-amz-acl": "private"})
    create["req"]["Host"] = "{{bucket}}.s3.amazonaws.com"
    create.pop("res")
    out.append(create)
    out.append(_s3_bucket("DeleteBucket", None, False, 0.05,
                          errors=[("BucketNotEmpty", "The bucket you tried to delete is not empty", 1)]))
    out.append(_s3_bucket("HeadBucket", None, True, 0.6))
    out.append({"s": "s3.amazonaws.com", "n": "ListBuckets", "ro": True, "w": 1.5, "req": {"Host": "s3.amazonaws.com"},
                "resp": None, "add": S3_ADD, "host": "s3.amazonaws.com"})
    control_host = "{{account}}.s3-control.{{region}}.amazonaws.com"
    control_requests = {   # the console's calls; the dashboard's internal one names its configuration only
        "ListAccessPoints": {"bucket": "{{bucket}}", "Host": control_host, "maxResults": "1000"},
        "GetStorageLensDashboardDataInternal": {
            "configurationARN": "arn:aws:s3:{{region}}:{{account}}:storage-lens/default-account-dashboard"}}
    for name, w in (("GetAccountPublicAccessBlock", 0.2), ("ListAccessPoints", 0.4),
                    ("GetStorageLensConfiguration", 0.1), ("GetStorageLensDashboardDataInternal", 0.1)):
        req = control_requests.get(name, {"Host": control_host})
        out.append({"s": "s3.amazonaws.com", "n": name, "ro": True, "w": w, "req": req, "resp": None,
                    "add": S3_ADD, "host": control_host, "rid": "uuid",
                    "act": f"s3:{name.replace('Internal', '')}"})
    for name, ro, add in (("GetObject", True, S3_ADD), ("HeadObject", True, S3_ADD), ("PutObject", False, S3_ADD_IN),
                          ("DeleteObject", False, S3_ADD), ("CopyObject", False, S3_ADD),
                          ("GetObjectAcl", True, S3_ADD), ("GetObjectTagging", True, S3_ADD)):
        req = {"bucketName": "{{bucket}}", "Host": S3_HOST, "key": "{{object}}"}
        out.append({"s": "s3.amazonaws.com", "n": name, "ro": ro, "w": 4.0 if ro else 1.5, "data": True, "req": req,
                    "resp": None if name != "PutObject" else {"x-amz-server-side-encryption": "AES256"},
                    "add": add, "res": S3_OBJECT_RES, "by": ["cloudtrail.amazonaws.com"] if name == "PutObject" else [],
                    "e": [["NoSuchKey", "The specified key does not exist.", 1]] if ro else []})
    out.append({"s": "s3.amazonaws.com", "n": "ListObjects", "ro": True, "w": 3.0, "data": True,
                "req": {"list-type": "2", "bucketName": "{{bucket}}", "encoding-type": "url", "prefix": "",
                        "Host": S3_HOST}, "resp": None, "add": S3_ADD, "res": S3_BUCKET_RES})
    return out


def _tag_spec(resource_type: str) -> dict:
    """EC2's tagSpecificationSet as CloudTrail writes it."""
    return {"items": [{"resourceType": resource_type, "tags": [{"key": "Name", "value": "{{word}}"}]}]}


def _wrapped(name: str, **members) -> dict:
    """The request of EC2's newer APIs: one ``<Operation>Request`` object with the model's member names."""
    return {f"{name}Request": members}


def _tagged(content: str) -> dict:
    """A list member of a wrapped EC2 request as CloudTrail writes it (``tag`` is the 1-based index)."""
    return {"tag": 1, "content": content}


_TAGS = [{"key": "Name", "value": "{{word}}"}]
_EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
def _ec2(name: str, ro: bool, w: float, req, resp=None, errors=None, **extra) -> dict:
    entry = {"s": "ec2.amazonaws.com", "n": name, "ro": ro, "w": w, "req": req, "resp": resp}
    if errors:
        entry["e"] = errors
    entry.update(extra)
    return entry


def _items(key: str, value: str) -> dict:
    return {"items": [{key: value}]}


def _filters(name: str, value: str) -> dict:
    return {"items": [{"name": name, "valueSet": {"items": [{"value": value}]}}]}


def _ok() -> dict:
    return {"requestId": "{{requestId}}", "_return": True}


def _not_found(code: str, what: str, ph: str) -> list:
    return [f"Client.Invalid{code}.NotFound", f"The {what} '{{{{{ph}}}}}' does not exist", 1]


def ec2_entries() -> list[dict]:
    by_scan = ["config.amazonaws.com", "autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com",
               "cloudformation.amazonaws.com"]
    instance_item = {"instanceId": "{{instance}}", "imageId": "{{ami}}", "currentInstanceBootMode": "legacy-bios",
                     "instanceState": {"code": 0, "name": "pending"}, "privateDnsName": "ip-10-0-{{int:0:255}}-{{int:1:254}}.ec2.internal",
                     "amiLaunchIndex": 0, "productCodes": {}, "instanceType": "t3.micro", "launchTime": "{{epochms}}",
                     "placement": {"availabilityZone": "{{az}}", "tenancy": "default"}, "monitoring": {"state": "disabled"},
                     "subnetId": "{{subnet}}", "vpcId": "{{vpc}}", "privateIpAddress": "{{ip}}",
                     "stateReason": {"code": "pending", "message": "pending"}, "architecture": "x86_64",
                     "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda", "blockDeviceMapping": {},
                     "virtualizationType": "hvm", "hypervisor": "xen", "clientToken": "{{UUID}}",
                     "groupSet": {"items": [{"groupId": "{{sg}}", "groupName": "default"}]}, "sourceDestCheck": True,
                     "networkInterfaceSet": {}, "ebsOptimized": False, "enaSupport": True,
                     "cpuOptions": {"coreCount": 1, "threadsPerCore": 2}, "capacityReservationSpecification":
                         {"capacityReservationPreference": "open"}, "enclaveOptions": {"enabled": False},
                     "metadataOptions": {"state": "pending", "httpTokens": "required", "httpPutResponseHopLimit": 2,
                                         "httpEndpoint": "enabled", "httpProtocolIpv6": "disabled",
                                         "instanceMetadataTags": "disabled"},
                     "maintenanceOptions": {"autoRecovery": "default"},
                     "privateDnsNameOptions": {"hostnameType": "ip-name", "enableResourceNameDnsARecord": False,
                                               "enableResourceNameDnsAAAARecord": False}}
    return [
        _ec2("DescribeInstances", True, 3.0, {"instancesSet": _items("instanceId", "{{instance}}"),
                                               "filterSet": _filters("instance-state-name", "running")}, by=by_scan),
        _ec2("DescribeRouteTables", True, 2.5, {"routeTableIdSet": {}, "filterSet": _filters("vpc-id", "{{vpc}}")},
             errors=[_not_found("RouteTableID", "routeTable ID", "rtb")]),
        _ec2("DescribeVpcs", True, 2.0, {"vpcSet": _items("vpcId", "{{vpc}}"), "filterSet": {}},
             errors=[_not_found("VpcID", "vpc ID", "vpc")], by=by_scan),
        _ec2("DescribeSubnets", True, 2.0, {"subnetSet": _items("subnetId", "{{subnet}}"), "filterSet": {}},
             errors=[_not_found("SubnetID", "subnet ID", "subnet")], by=by_scan),
        _ec2("DescribeSecurityGroups", True, 2.0, {"securityGroupSet": {}, "securityGroupIdSet":
                                                     _items("groupId", "{{sg}}"), "filterSet": {}},
             errors=[_not_found("Group", "security group", "sg")], by=by_scan),
        _ec2("DescribeNatGateways", True, 1.0, _wrapped("DescribeNatGateways", NatGatewayId=_tagged("{{nat}}"))),
        _ec2("DescribeAccountAttributes", True, 1.5, {"accountAttributeNameSet": _items("attributeName", "supported-platforms"),
                                                       "filterSet": {}}),
        _ec2("DescribeAvailabilityZones", True, 1.5, {"availabilityZoneSet": {}, "availabilityZoneIdSet": {},
                                                       "filterSet": _filters("region-name", "{{region}}")}),
        _ec2("DescribeNetworkAcls", True, 1.0, {"networkAclIdSet": {}, "filterSet": _filters("vpc-id", "{{vpc}}")}),
        _ec2("DescribeInternetGateways", True, 1.0, {"internetGatewayIdSet": _items("internetGatewayId", "{{igw}}"),
                                                      "filterSet": {}},
             errors=[_not_found("InternetGatewayID", "internetGateway ID", "igw")]),
        _ec2("DescribeVpcAttribute", True, 1.2, {"vpcId": "{{vpc}}"}),
        _ec2("DescribeInstanceAttribute", True, 1.0, {"instanceId": "{{instance}}", "attribute": "disableApiTermination"}),
        _ec2("DescribeImages", True, 1.0, {"executableBySet": {}, "imagesSet": _items("imageId", "{{ami}}"),
                                            "ownersSet": {}, "filterSet": {}, "includeDeprecated": False}),
        _ec2("DescribeAddresses", True, 0.8, {"publicIpsSet": {}, "filterSet": {},
                                               "allocationIdsSet": _items("allocationId", "{{eipalloc}}")},
             errors=[_not_found("AllocationID", "allocation ID", "eipalloc")]),
        _ec2("DescribeVolumes", True, 1.0, {"volumeSet": _items("volumeId", "{{vol}}"), "filterSet": {}},
             errors=[["Client.InvalidVolume.NotFound", "The volume '{{vol}}' does not exist.", 1]], by=by_scan),
        _ec2("DescribeNetworkInterfaces", True, 1.0, {"networkInterfaceIdSet": _items("networkInterfaceId", "{{eni}}"),
                                                       "filterSet": {}}, by=by_scan),
        _ec2("DescribeSnapshots", True, 0.6, {"snapshotSet": _items("snapshotId", "{{snap}}"), "ownersSet": {},
                                               "sharedUsersSet": {}, "filterSet": {}}),
        _ec2("DescribeVpcClassicLink", True, 0.4, {"vpcSet": _items("vpcId", "{{vpc}}"), "filterSet": {}}),
        _ec2("DescribeVpcClassicLinkDnsSupport", True, 0.4, _wrapped("DescribeVpcClassicLinkDnsSupport", VpcIds=_tagged("{{vpc}}"))),
        _ec2("DescribeRegions", True, 0.8, {"regionSet": {}, "allRegions": False}),
        _ec2("DescribeTags", True, 0.5, {"filterSet": _filters("resource-id", "{{instance}}")}),
        _ec2("DescribeKeyPairs", True, 0.3, {"keySet": {}, "filterSet": {}, "keyPairIdSet": {}, "includePublicKey": False}),
        _ec2("DescribeInstanceStatus", True, 0.8, {"instancesSet": _items("instanceId", "{{instance}}"),
                                                    "filterSet": {}, "includeAllInstances": False}),
        _ec2("DescribeLaunchTemplates", True, 0.3, {"DescribeLaunchTemplatesRequest": {"LaunchTemplateId":
                                                    {"content": "{{lt}}", "tag": 1}}}),
        _ec2("GetPasswordData", True, 0.1, {"instanceId": "{{instance}}"}),
        _ec2("RunInstances", False, 0.2, {
            "instancesSet": {"items": [{"imageId": "{{ami}}", "minCount": 1, "maxCount": 1}]},
            "instanceType": "t3.micro", "blockDeviceMapping": {}, "monitoring": {"enabled": False},
            "subnetId": "{{subnet}}", "disableApiTermination": False, "disableApiStop": False,
            "clientToken": "{{UUID}}", "ebsOptimized": False, "creditSpecification": {"cpuCredits": "unlimited"}},
            {"requestId": "{{requestId}}", "reservationId": "r-{{hex:17}}", "ownerId": "{{account}}", "groupSet": {},
             "instancesSet": {"items": [instance_item]}, "requesterId": None},
            errors=[["Client.VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of "
                     "{{int:0:64}} allows for the instance bucket that the specified instance type belongs to. Please "
                     "visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.", 1]],
            by=["autoscaling.amazonaws.com"]),
        _ec2("TerminateInstances", False, 0.15, {"instancesSet": _items("instanceId", "{{instance}}")},
             {"requestId": "{{requestId}}", "instancesSet": {"items": [{
                 "instanceId": "{{instance}}", "currentState": {"code": 32, "name": "shutting-down"},
                 "previousState": {"code": 16, "name": "running"}}]}}, by=["autoscaling.amazonaws.com"]),
        _ec2("StartInstances", False, 0.1, {"instancesSet": _items("instanceId", "{{instance}}")},
             {"requestId": "{{requestId}}", "instancesSet": {"items": [{
                 "instanceId": "{{instance}}", "currentState": {"code": 0, "name": "pending"},
                 "previousState": {"code": 80, "name": "stopped"}}]}}),
        _ec2("StopInstances", False, 0.1, {"instancesSet": _items("instanceId", "{{instance}}"), "force": False},
             {"requestId": "{{requestId}}", "instancesSet": {"items": [{
                 "instanceId": "{{instance}}", "currentState": {"code": 64, "name": "stopping"},
                 "previousState": {"code": 16, "name": "running"}}]}}),
        _ec2("CreateVpc", False, 0.03, {"cidrBlock": "10.0.0.0/16", "instanceTenancy": "default",
                                        "amazonProvidedIpv6CidrBlock": False, "tagSpecificationSet": _tag_spec("vpc")},
             {"requestId": "{{requestId}}", "vpc": {"vpcId": "{{vpc}}", "state": "pending", "ownerId": "{{account}}",
                                                    "cidrBlock": "10.0.0.0/16", "cidrBlockAssociationSet": {"items": [
                                                        {"cidrBlock": "10.0.0.0/16", "associationId": "vpc-cidr-assoc-{{hex:17}}",
                                                         "cidrBlockState": {"state": "associated"}}]},
                                                    "ipv6CidrBlockAssociationSet": {}, "dhcpOptionsId": "{{dopt}}",
                                                    "instanceTenancy": "default", "tagSet": {"items": _TAGS},
                                                    "isDefault": False}},
             errors=[["Client.VpcLimitExceeded", "The maximum number of VPCs has been reached.", 1]]),
        _ec2("CreateSubnet", False, 0.03, {"vpcId": "{{vpc}}", "cidrBlock": "10.0.{{int:0:255}}.0/24",
                                           "availabilityZone": "{{az}}", "tagSpecificationSet": _tag_spec("subnet")},
             {"requestId": "{{requestId}}", "subnet": {
                 "subnetId": "{{subnet}}", "subnetArn": "arn:aws:ec2:{{region}}:{{account}}:subnet/{{subnet}}",
                 "state": "available", "vpcId": "{{vpc}}", "cidrBlock": "10.0.{{int:0:255}}.0/24",
                 "ipv6CidrBlockAssociationSet": {}, "availableIpAddressCount": 251, "availabilityZone": "{{az}}",
                 "availabilityZoneId": "use1-az{{int:1:6}}", "ownerId": "{{account}}", "defaultForAz": False,
                 "mapPublicIpOnLaunch": False, "assignIpv6AddressOnCreation": False, "tagSet": {"items": _TAGS},
                 "privateDnsNameOptionsOnLaunch": {"hostnameType": "ip-name", "enableResourceNameDnsARecord": False,
                                                   "enableResourceNameDnsAAAARecord": False},
                 "ipv6Native": False, "enableDns64": False}}),
        _ec2("CreateSecurityGroup", False, 0.05, {"groupName": "{{word}}-sg", "groupDescription": "Managed by Terraform",
                                                  "vpcId": "{{vpc}}", "tagSpecificationSet": _tag_spec("security-group")},
             {"requestId": "{{requestId}}", "_return": True, "groupId": "{{sg}}", "tagSet": {"items": _TAGS}}),
        _ec2("DeleteSecurityGroup", False, 0.03, {"groupId": "{{sg}}"}, _ok()),
        _ec2("AuthorizeSecurityGroupIngress", False, 0.06, {"groupId": "{{sg}}", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "groups": {},
             "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}},
             {"requestId": "{{requestId}}", "_return": True, "securityGroupRuleSet": {"items": [
                 {"groupOwnerId": "{{account}}", "groupId": "{{sg}}", "securityGroupRuleId": "{{sgr}}", "isEgress": False,
                  "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}]}}),
        _ec2("CreateTags", False, 0.15, {"resourcesSet": _items("resourceId", "{{instance}}"),
                                         "tagSet": {"items": [{"key": "Name", "value": "{{word}}"}]}}, _ok(),
             by=["autoscaling.amazonaws.com", "cloudformation.amazonaws.com"]),
        _ec2("CreateSnapshot", False, 0.05, {"volumeId": "{{vol}}", "tagSpecificationSet": _tag_spec("snapshot")},
             {"requestId": "{{requestId}}", "snapshotId": "{{snap}}", "volumeId": "{{vol}}", "status": "pending",
              "startTime": "{{epochms}}", "ownerId": "{{account}}", "volumeSize": "8",
              "encrypted": False, "tagSet": {"items": _TAGS}}),
        _ec2("ModifySnapshotAttribute", False, 0.02, {"snapshotId": "{{snap}}", "createVolumePermission": {
            "add": _items("userId", "{{digits:12}}")}, "attributeType": "CREATE_VOLUME_PERMISSION"}, _ok()),
        _ec2("ModifyInstanceAttribute", False, 0.03, {"instanceId": "{{instance}}", "disableApiTermination":
                                                      {"value": False}}, _ok()),
        _ec2("CreateNetworkInterface", False, 0.05, {"subnetId": "{{subnet}}", "groupSet": _items("groupId", "{{sg}}"),
                                                     "privateIpAddressesSet": {"items": [{"privateIpAddress": "{{ip}}",
                                                                                          "primary": True}]},
                                                     "clientToken": "{{uuid}}"},
             {"requestId": "{{requestId}}", "networkInterface": {"networkInterfaceId": "{{eni}}", "subnetId": "{{subnet}}",
                                                                 "vpcId": "{{vpc}}", "availabilityZone": "{{az}}",
                                                                 "ownerId": "{{account}}", "status": "pending",
                                                                 "privateIpAddress": "{{ip}}", "sourceDestCheck": True,
                                                                 "interfaceType": "interface"}},
             by=["elasticloadbalancing.amazonaws.com", "lambda.amazonaws.com"]),
        _ec2("SharedSnapshotVolumeCreated", False, 0.01, None, None, t="AwsServiceEvent", id="service:ec2.amazonaws.com",
             rid="none", shared=True, det={"snapshotId": "{{snap}}"}, se=False),
    ]


def _entry(source: str, name: str, ro: bool, w: float, req, resp=None, **extra) -> dict:
    entry = {"s": source, "n": name, "ro": ro, "w": w, "req": req, "resp": resp}
    entry.update(extra)
    return entry


ROLE_ARN = "arn:aws:iam::{{account}}:role/{{role}}"
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},'
         '"Action":"sts:AssumeRole"}]}')


def iam_entries() -> list[dict]:
    s = "iam.amazonaws.com"
    role = {"path": "/", "roleName": "{{role}}", "roleId": "AROA{{ALNUM:17}}", "arn": ROLE_ARN, "createDate": "{{ctime}}",
            "assumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"}
    return [
        _entry(s, "GetUser", True, 2.5, None, act="iam:GetUser"),
        _entry(s, "GetRole", True, 1.5, {"roleName": "{{role}}"}),
        _entry(s, "ListRolePolicies", True, 1.0, {"roleName": "{{role}}"}),
        _entry(s, "ListAttachedRolePolicies", True, 1.0, {"roleName": "{{role}}"}),
        _entry(s, "GetRolePolicy", True, 0.5, {"roleName": "{{role}}", "policyName": "{{policy}}"}),
        _entry(s, "GetPolicy", True, 0.5, {"policyArn": "arn:aws:iam::{{account}}:policy/{{policy}}"}),
        _entry(s, "GetPolicyVersion", True, 0.3, {"policyArn": "arn:aws:iam::{{account}}:policy/{{policy}}",
                                                  "versionId": "v{{int:1:5}}"}),
        _entry(s, "ListUsers", True, 0.5, None), _entry(s, "ListRoles", True, 0.6, None),
        _entry(s, "ListPolicies", True, 0.4, {"scope": "Local", "onlyAttached": False}),
        _entry(s, "ListAccessKeys", True, 0.4, {"userName": "{{user}}"}),
        _entry(s, "ListMFADevices", True, 0.3, {"userName": "{{user}}"}),
        _entry(s, "ListGroupsForUser", True, 0.3, {"userName": "{{user}}"}),
        _entry(s, "GetAccountSummary", True, 0.2, None), _entry(s, "GetAccountAuthorizationDetails", True, 0.05, None),
        _entry(s, "GetInstanceProfile", True, 0.3, {"instanceProfileName": "{{profile}}"},
               e=[["NoSuchEntityException", "Instance Profile {{profile}} cannot be found.", 1]]),
        _entry(s, "ListInstanceProfilesForRole", True, 0.4, {"roleName": "{{role}}"}),
        _entry(s, "CreateRole", False, 0.05, {"path": "/", "roleName": "{{role}}", "assumeRolePolicyDocument": TRUST,
                                              "maxSessionDuration": 3600}, {"role": role}),
        _entry(s, "DeleteRole", False, 0.04, {"roleName": "{{role}}"}),
        _entry(s, "CreateUser", False, 0.02, {"userName": "{{user}}"},
               {"user": {"path": "/", "userName": "{{user}}", "userId": "AIDA{{ALNUM:17}}",
                         "arn": "arn:aws:iam::{{account}}:user/{{user}}", "createDate": "{{ctime}}"}}),
        _entry(s, "DeleteUser", False, 0.01, {"userName": "{{user}}"}),
        _entry(s, "CreateAccessKey", False, 0.02, {"userName": "{{user}}"},
               {"accessKey": {"accessKeyId": "{{akid}}", "status": "Active", "userName": "{{user}}",
                              "createDate": "{{ctime}}"}}),
        _entry(s, "DeleteAccessKey", False, 0.02, {"userName": "{{user}}", "accessKeyId": "{{akid}}"}),
        _entry(s, "CreateLoginProfile", False, 0.01, {"userName": "{{user}}", "passwordResetRequired": True},
               {"loginProfile": {"userName": "{{user}}", "createDate": "{{ctime}}", "passwordResetRequired": True}}),
        _entry(s, "AttachRolePolicy", False, 0.05, {"roleName": "{{role}}",
                                                   "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        _entry(s, "DetachRolePolicy", False, 0.03, {"roleName": "{{role}}",
                                                   "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        _entry(s, "AttachUserPolicy", False, 0.02, {"userName": "{{user}}",
                                                   "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        _entry(s, "PutRolePolicy", False, 0.04, {"roleName": "{{role}}", "policyDocument":
               '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
                                                 "policyName": "{{policy}}"}),
        _entry(s, "CreatePolicy", False, 0.02, {"policyName": "{{policy}}", "path": "/", "policyDocument":
               '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}',
                                                "description": "", "tags": [{"key": "team", "value": "{{word}}"}]},
               {"policy": {"policyName": "{{policy}}", "policyId": "ANPA{{ALNUM:17}}",
                           "arn": "arn:aws:iam::{{account}}:policy/{{policy}}", "path": "/", "defaultVersionId": "v1",
                           "attachmentCount": 0, "permissionsBoundaryUsageCount": 0, "isAttachable": True,
                           "createDate": "{{ctime}}", "updateDate": "{{ctime}}",
                           "tags": [{"key": "team", "value": "{{word}}"}]}}),
    ]


def sts_entries() -> list[dict]:
    s = "sts.amazonaws.com"
    role_res = [{"accountId": "{{account}}", "type": "AWS::IAM::Role", "ARN": ROLE_ARN}]
    return [
        _entry(s, "GetCallerIdentity", True, 2.0, None, se=False),
        _entry(s, "AssumeRole", True, 2.0, {"roleArn": ROLE_ARN, "roleSessionName": "{{hex:32}}",
                                            "durationSeconds": 3600},
               {"credentials": {"accessKeyId": "{{asia}}", "sessionToken": "{{b64:96}}", "expiration": "{{expiry:3600}}"},
                "assumedRoleUser": {"assumedRoleId": "AROA{{ALNUM:17}}:{{hex:32}}",
                                    "arn": "arn:aws:sts::{{account}}:assumed-role/{{role}}/{{hex:32}}"}},
               res=role_res, arn=ROLE_ARN, er=0.03, by=["*"]),
        _entry(s, "GetSessionToken", True, 0.1, {"durationSeconds": 43200},
               {"credentials": {"accessKeyId": "{{asia}}", "sessionToken": "{{b64:96}}", "expiration": "{{expiry:43200}}"}}),
        _entry(s, "AssumeRoleWithWebIdentity", True, 0.2, {"roleArn": ROLE_ARN, "roleSessionName": "{{word}}",
                                                           "durationSeconds": 3600},
               {"credentials": {"accessKeyId": "{{asia}}", "sessionToken": "{{b64:96}}", "expiration": "{{expiry:3600}}"},
                "subjectFromWebIdentityToken": "repo:{{word}}/{{word.2}}:ref:refs/heads/main",
                "assumedRoleUser": {"assumedRoleId": "AROA{{ALNUM:17}}:{{word}}",
                                    "arn": "arn:aws:sts::{{account}}:assumed-role/{{role}}/{{word}}"},
                "provider": "arn:aws:iam::{{account}}:oidc-provider/token.actions.githubusercontent.com",
                "audience": "sts.amazonaws.com"}, res=role_res),
        _entry(s, "GetAccessKeyInfo", True, 0.02, {"accessKeyId": "{{akid}}"}),
    ]


def kms_entries() -> list[dict]:
    s = "kms.amazonaws.com"
    res = [{"accountId": "{{account}}", "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:{{region}}:{{account}}:key/{{kmskey}}"}]
    by = ["*"]
    return [
        _entry(s, "Decrypt", True, 4.0, {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext":
                                         {"aws:lambda:FunctionArn": "arn:aws:lambda:{{region}}:{{account}}:function:{{function}}"}},
               res=res, by=by),
        _entry(s, "Encrypt", True, 1.0, {"keyId": "alias/aws/ssm", "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                         "encryptionContext": {"PARAMETER_ARN":
                                                               "arn:aws:ssm:{{region}}:{{account}}:parameter{{param}}"}},
               res=res, by=by),
        _entry(s, "GenerateDataKey", True, 1.5, {"keyId": "alias/aws/s3", "keySpec": "AES_256", "encryptionContext":
                                                 {"aws:s3:arn": "arn:aws:s3:::{{bucket}}"}}, res=res, by=by),
        _entry(s, "DescribeKey", True, 0.6, {"keyId": "{{kmskey}}"}, res=res),
        _entry(s, "ListAliases", True, 0.3, None),
        _entry(s, "ListKeys", True, 0.2, {"limit": 1000}),
        _entry(s, "CreateKey", False, 0.01, {"keyUsage": "ENCRYPT_DECRYPT", "keySpec": "SYMMETRIC_DEFAULT",
                                             "description": "{{word}} key", "origin": "AWS_KMS", "multiRegion": False},
               {"keyMetadata": {"aWSAccountId": "{{account}}", "keyId": "{{kmskey}}",
                                "arn": "arn:aws:kms:{{region}}:{{account}}:key/{{kmskey}}", "creationDate": "{{ctime}}",
                                "enabled": True, "description": "{{word}} key", "keyUsage": "ENCRYPT_DECRYPT",
                                "keyState": "Enabled", "origin": "AWS_KMS", "keyManager": "CUSTOMER",
                                "keySpec": "SYMMETRIC_DEFAULT", "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                                "multiRegion": False}}, res=res),
        _entry(s, "ScheduleKeyDeletion", False, 0.005, {"keyId": "{{kmskey}}", "pendingWindowInDays": 7},
               {"keyId": "arn:aws:kms:{{region}}:{{account}}:key/{{kmskey}}", "keyState": "PendingDeletion",
                "pendingWindowInDays": 7}, res=res),
    ]


SSM_SUMMARY = "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "


def ssm_entries() -> list[dict]:
    s = "ssm.amazonaws.com"
    res = [{"accountId": "{{account}}", "ARN": "arn:aws:ssm:{{region}}:{{account}}:parameter{{param}}"}]
    agent = ["ssm.amazonaws.com"]
    return [
        _entry(s, "GetParameter", True, 3.0, {"name": "{{param}}", "withDecryption": True}, res=res),
        _entry(s, "GetParameters", True, 1.0, {"names": ["{{param}}"], "withDecryption": True}),
        _entry(s, "GetParametersByPath", True, 0.6, {"path": "/{{word}}", "recursive": True, "withDecryption": True}),
        _entry(s, "DescribeParameters", True, 1.5, {"parameterFilters": [{"key": "Name", "option": "Equals",
                                                                          "values": ["{{param}}"]}], "shared": False}),
        _entry(s, "ListTagsForResource", True, 0.8, {"resourceType": "Parameter", "resourceId": "{{param}}"}, res=res),
        _entry(s, "PutParameter", False, 0.2, {"name": "{{param}}", "value": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                               "type": "SecureString", "overwrite": False, "allowedPattern": "",
                                               "tags": [{"key": "team", "value": "{{word}}"}], "tier": "Standard"},
               {"version": "{{int:1:20}}", "tier": "Standard"}, res=res),
        _entry(s, "DeleteParameter", False, 0.05, {"name": "{{param}}"}, res=res),
        _entry(s, "DescribeInstanceInformation", True, 0.8, {"filters": [{"key": "InstanceIds",
                                                                          "values": ["{{instance}}"]}]}, by=agent),
        _entry(s, "UpdateInstanceInformation", False, 1.0, {"instanceId": "{{instance}}", "agentVersion": "3.3.131.0",
                                                            "agentStatus": "Active", "platformType": "Linux",
                                                            "platformName": "Amazon Linux", "platformVersion": "2023",
                                                            "iPAddress": "{{ip}}", "computerName": "ip-{{int:0:255}}.ec2.internal",
                                                            "agentName": "amazon-ssm-agent", "availabilityZone": "{{az}}",
                                                            "availabilityZoneId": "use1-az{{int:1:6}}"}),
        _entry(s, "ListInstanceAssociations", True, 0.6, {"instanceId": "{{instance}}", "maxResults": 20}),
        _entry(s, "UpdateInstanceAssociationStatus", False, 0.3, {"associationId": "{{uuid}}", "instanceId": "{{instance}}",
                                                                  "executionResult": {"executionDate": "{{expiry:0}}",
                                                                                      "status": "Success",
                                                                                      "executionSummary": SSM_SUMMARY,
                                                                                      "errorCode": ""}}),
        _entry(s, "PutInventory", False, 0.2, {"instanceId": "{{instance}}", "items": [{"typeName": "AWS:InstanceInformation",
                                                                                      "schemaVersion": "1.0",
                                                                                      "captureTime": "{{time}}"}]}),
        _entry(s, "PutComplianceItems", False, 0.1, {"resourceId": "{{instance}}", "resourceType": "ManagedInstance",
                                                     "complianceType": "Association",
                                                     "executionSummary": {"executionTime": "{{expiry:0}}", "executionId": "",
                                                                          "executionType": ""},
                                                     "items": [{"id": "{{uuid}}", "title": "", "severity": "UNSPECIFIED",
                                                                "status": "COMPLIANT", "details": {
                                                                    "DocumentVersion": "1",
                                                                    "DocumentName": "AWS-GatherSoftwareInventory"}}],
                                                     "itemContentHash": "{{b64:16}}"}),
        _entry(s, "GetDocument", True, 0.2, {"name": "AWS-RunShellScript", "documentVersion": "1"}),
        _entry(s, "SendCommand", False, 0.05, {"instanceIds": ["{{instance}}"], "documentName": "AWS-RunShellScript",
                                               "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": False},
               {"command": {"commandId": "{{uuid}}", "documentName": "AWS-RunShellScript", "documentVersion": "$DEFAULT",
                            "comment": "", "expiresAfter": "{{ctime}}", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
                            "instanceIds": ["{{instance}}"], "targets": [], "requestedDateTime": "{{ctime}}",
                            "status": "Pending", "statusDetails": "Pending", "outputS3Region": "{{region}}",
                            "outputS3BucketName": "", "outputS3KeyPrefix": "", "maxConcurrency": "50", "maxErrors": "0",
                            "targetCount": 1, "completedCount": 0, "errorCount": 0, "deliveryTimedOutCount": 0,
                            "serviceRole": "", "notificationConfig": {"notificationArn": "", "notificationEvents": [],
                                                                      "notificationType": ""},
                            "cloudWatchOutputConfig": {"cloudWatchLogGroupName": "", "cloudWatchOutputEnabled": False},
                            "interactive": False, "timeoutSeconds": 3600, "clientName": "", "clientSourceId": "",
                            "alarmConfiguration": {"ignorePollAlarmFailure": False, "alarms": []},
                            "triggeredAlarms": []}}),
        _entry(s, "GetCommandInvocation", True, 0.1, {"commandId": "{{uuid}}", "instanceId": "{{instance}}"},
               e=[["InvocationDoesNotExist", None, 1]]),
        _entry(s, "StartSession", False, 0.03, {"target": "{{instance}}"},
               {"sessionId": "{{callerName}}-{{hex:17}}", "tokenValue": "Value hidden due to security reasons.",
                "streamUrl": "wss://ssmmessages.{{region}}.amazonaws.com/v1/data-channel/{{callerName}}-{{hex:17}}"}),
    ]


def secrets_entries() -> list[dict]:
    s = "secretsmanager.amazonaws.com"
    arn = "arn:aws:secretsmanager:{{region}}:{{account}}:secret:{{secret}}-{{mixed:6}}"
    deletion = {"ARN": arn, "Name": "{{secret}}"}
    return [
        _entry(s, "GetSecretValue", True, 2.5, {"secretId": arn}),
        _entry(s, "DescribeSecret", True, 1.0, {"secretId": arn}),
        _entry(s, "GetResourcePolicy", True, 0.6, {"secretId": arn}),
        _entry(s, "ListSecrets", True, 0.5, {"maxResults": 100, "filters": [{"key": "tag-key", "values": ["team"]}]}),
        _entry(s, "CreateSecret", False, 0.03, {"name": "{{secret}}", "clientRequestToken": "{{UUID}}", "description": "",
                                                "forceOverwriteReplicaSecret": False}, {"arn": arn}),
        _entry(s, "PutSecretValue", False, 0.05, {"secretId": arn, "clientRequestToken": "{{uuid}}"},
               {"aRN": arn, "name": "{{secret}}", "versionId": "{{uuid}}", "versionStages": ["AWSCURRENT"]}),
        _entry(s, "DeleteSecret", False, 0.02, {"secretId": arn, "forceDeleteWithoutRecovery": False},
               {"aRN": arn, "name": "{{secret}}", "deletionDate": "{{ctime}}"}),
        _entry(s, "RotateSecret", False, 0.02, {"secretId": arn}, {"aRN": arn, "name": "{{secret}}", "versionId": "{{uuid}}"}),
        _entry(s, "StartSecretVersionDelete", False, 0.01, None, t="AwsServiceEvent",
               id="service:secretsmanager.amazonaws.com", add=deletion, se=False,
               rid="uuid"),
        _entry(s, "EndSecretVersionDelete", False, 0.01, None, t="AwsServiceEvent",
               id="service:secretsmanager.amazonaws.com", add=deletion, se=False, rid="uuid"),
    ]


def lambda_entries() -> list[dict]:
    s = "lambda.amazonaws.com"
    fn_arn = "arn:aws:lambda:{{region}}:{{account}}:function:{{function}}"
    config = {"functionName": "{{function}}", "functionArn": fn_arn, "runtime": "python3.12",
              "role": ROLE_ARN, "handler": "app.handler", "codeSize": "{{int:300:5000000}}", "description": "",
              "timeout": 30, "memorySize": 256, "lastModified": "{{isoms}}", "codeSha256": "{{b64:32}}",
              "version": "$LATEST", "tracingConfig": {"mode": "PassThrough"}, "revisionId": "{{uuid}}",
              "state": "Pending", "stateReason": "The function is being created.", "stateReasonCode": "Creating",
              "packageType": "Zip", "architectures": ["x86_64"], "ephemeralStorage": {"size": 512}}
    return [
        _entry(s, "ListFunctions20150331", True, 0.5, None, op="ListFunctions"),
        _entry(s, "GetFunction20150331v2", True, 0.8, {"functionName": "{{function}}"}, op="GetFunction"),
        _entry(s, "GetFunctionConfiguration20150331v2", True, 0.5, {"functionName": "{{function}}"},
               op="GetFunctionConfiguration"),
        _entry(s, "ListVersionsByFunction20150331", True, 0.3, {"functionName": fn_arn, "maxItems": 10000},
               op="ListVersionsByFunction"),
        _entry(s, "GetFunctionCodeSigningConfig", True, 0.3, {"functionName": "{{function}}"}),
        _entry(s, "GetPolicy20150331v2", True, 0.2, {"functionName": "{{function}}"}, op="GetPolicy"),
        _entry(s, "ListEventSourceMappings20150331", True, 0.2, {"functionName": "{{function}}"},
               op="ListEventSourceMappings"),
        _entry(s, "CreateFunction20150331", False, 0.03, {"functionName": "{{function}}", "runtime": "python3.12",
                                                          "role": ROLE_ARN, "handler": "app.handler",
                                                          "code": {"s3Bucket": "{{bucket}}", "s3Key": "{{function}}.zip"},
                                                          "description": "", "timeout": 30, "memorySize": 256,
                                                          "publish": False, "packageType": "Zip", "environment": {},
                                                          "tags": {"team": "{{word}}"}}, config,
               op="CreateFunction", e=[["InvalidParameterValueException",
                                        "The role defined for the function cannot be assumed by Lambda.", 1]]),
        _entry(s, "DeleteFunction20150331", False, 0.02, {"functionName": "{{function}}"}, op="DeleteFunction"),
        _entry(s, "UpdateFunctionCode20150331v2", False, 0.1, {
            "fullyQualifiedArn": {"arnPrefix": {"partition": "aws", "region": "{{region}}", "account": "{{account}}"},
                                  "relativeId": {"functionName": "{{function}}"}, "functionQualifier": {}},
            "functionName": fn_arn, "publish": False, "s3Key": "{{function}}.zip", "s3Bucket": "{{bucket}}",
            "dryRun": False},
               dict(config, state="Active", stateReason=None, stateReasonCode=None, lastUpdateStatus="InProgress"),
               op="UpdateFunctionCode"),
        _entry(s, "UpdateFunctionConfiguration20150331v2", False, 0.05, {"functionName": "{{function}}", "timeout": 60},
               dict(config, timeout=60, state="Active"), op="UpdateFunctionConfiguration"),
        _entry(s, "AddPermission20150331v2", False, 0.02, {"functionName": "{{function}}", "statementId": "{{uuid}}",
                                                           "action": "lambda:InvokeFunction",
                                                           "principal": "events.amazonaws.com"},
               {"statement": '{"Sid":"{{uuid}}","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},'
                             '"Action":"lambda:InvokeFunction","Resource":"' + fn_arn + '"}'}, op="AddPermission"),
        _entry(s, "RemovePermission20150331v2", False, 0.01, {"functionName": "{{function}}", "statementId": "{{uuid}}"},
               op="RemovePermission"),
        _entry(s, "Invoke", False, 5.0, {"functionName": fn_arn, "invocationType": "RequestResponse"}, data=True,
               add={"functionVersion": fn_arn + ":$LATEST"},
               res=[{"accountId": "{{account}}", "type": "AWS::Lambda::Function", "ARN": fn_arn}], se=False),
    ]


def misc_entries() -> list[dict]:
    console = "https://console.aws.amazon.com/console/home"
    ct = "cloudtrail.amazonaws.com"
    trail_arn = "arn:aws:cloudtrail:{{region}}:{{account}}:trail/{{trail}}"
    trail = {"name": "{{trail}}", "s3BucketName": "{{bucket}}", "includeGlobalServiceEvents": True,
             "isMultiRegionTrail": True, "trailARN": trail_arn, "logFileValidationEnabled": True,
             "isOrganizationTrail": False}
    return [
        _entry("signin.amazonaws.com", "ConsoleLogin", False, 0.3, None, {"ConsoleLogin": "Success"}, t="AwsConsoleSignIn",
               id="console", add={"LoginTo": console, "MobileVersion": "No", "MFAUsed": "Yes"}, se=False),
        _entry("signin.amazonaws.com", "CheckMfa", False, 0.1, None, {"CheckMfa": "Success"}, t="AwsConsoleSignIn",
               id="console", add={"MfaType": "Virtual MFA"}, host="us-east-1.signin.aws.amazon.com", se=False),
        _entry("signin.amazonaws.com", "GetSigninToken", False, 0.05, None, {"GetSigninToken": "Success"},
               t="AwsConsoleSignIn", id="console", se=False),
        _entry(ct, "DescribeTrails", True, 0.6, {"trailNameList": ["{{trail}}"]}),
        _entry(ct, "GetTrailStatus", True, 0.4, {"name": trail_arn}),
        _entry(ct, "GetEventSelectors", True, 0.3, {"trailName": "{{trail}}"}),
        _entry(ct, "ListTags", True, 0.2, {"resourceIdList": [trail_arn]}),
        _entry(ct, "ListTrails", True, 0.3, None),
        _entry(ct, "LookupEvents", True, 0.5, {"maxResults": 50}),
        _entry(ct, "CreateTrail", False, 0.01, {"name": "{{trail}}", "s3BucketName": "{{bucket}}",
                                                "includeGlobalServiceEvents": True,
                                                "tagsList": [{"key": "team", "value": "{{word}}"}]},
               dict(trail, isMultiRegionTrail=False, logFileValidationEnabled=False)),
        _entry(ct, "StartLogging", False, 0.01, {"name": "{{trail}}"}, None, res=None),
        _entry(ct, "StopLogging", False, 0.005, {"name": "{{trail}}"}),
        _entry(ct, "DeleteTrail", False, 0.005, {"name": "{{trail}}"}),
        _entry(ct, "PutEventSelectors", False, 0.01, {"trailName": "{{trail}}", "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": True, "dataResources": [], "excludeManagementEventSources": []}]},
            {"trailARN": trail_arn, "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True,
                                                        "dataResources": [], "excludeManagementEventSources": []}]}),
        _entry("health.amazonaws.com", "DescribeEventAggregates", True, 0.8, {
            "filter": {"startTimes": [{"from": "{{expiry:-604800}}"}], "eventTypeCategories": ["issue"],
                       "eventStatusCodes": ["open"]}, "aggregateField": "eventTypeCategory"}),
        _entry("logs.amazonaws.com", "DescribeLogGroups", True, 0.8, {"logGroupNamePrefix": "{{loggroup}}"}),
        _entry("logs.amazonaws.com", "CreateLogGroup", False, 0.05, {"logGroupName": "{{loggroup}}",
                                                                   "tags": {"team": "{{word}}"}}),
        _entry("logs.amazonaws.com", "CreateLogStream", False, 0.5, {"logGroupName": "{{loggroup}}",
                                                                    "logStreamName": "{{hex:32}}"},
               by=["lambda.amazonaws.com"]),
        _entry("logs.amazonaws.com", "DeleteLogGroup", False, 0.02, {"logGroupName": "{{loggroup}}"}),
        _entry("elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", True, 0.6, {"pageSize": 200}),
        _entry("route53.amazonaws.com", "ListHostedZones", True, 0.3, None),
        _entry("rds.amazonaws.com", "DescribeDBInstances", True, 1.0, {"dBInstanceIdentifier": "{{db}}"}, by=[
            "config.amazonaws.com"]),
        _entry("rds.amazonaws.com", "DescribeDBEngineVersions", True, 0.4, {"engine": "postgres", "defaultOnly": True}),
        _entry("rds.amazonaws.com", "DescribeOrderableDBInstanceOptions", True, 0.3, {"engine": "postgres",
                                                                                      "engineVersion": "16.3"}),
        _entry("rds.amazonaws.com", "DescribeDBSnapshots", True, 0.4, {"dBSnapshotIdentifier": "{{db}}-{{hex:8}}",
                                                                        "includeShared": False, "includePublic": False}),
        # the RDS console's recommendation calls (no public API model, so not in the long tail)
        _entry("rds.amazonaws.com", "DescribeRecommendations", True, 0.05, {"filters": [
            {"name": "recommendation-status", "values": ["ACTIVE"]},
            {"name": "recommendation-code", "values": ["AUTOMATED_BACKUPS"]}]}),
        _entry("rds.amazonaws.com", "DescribeRecommendationGroups", True, 0.03, {"filters": [
            {"name": "recommendation-status", "values": ["ACTIVE"]},
            {"name": "recommendation-api-version", "values": ["v2"]}]}),
        _entry("organizations.amazonaws.com", "DescribeOrganization", True, 0.3, None),
        _entry("monitoring.amazonaws.com", "DescribeAlarms", True, 0.8, {"maxRecords": 100}),
        _entry("monitoring.amazonaws.com", "GetMetricData", True, 1.0, {"startTime": "{{time}}", "endTime": "{{time}}"}),
        _entry("account.amazonaws.com", "GetRegionOptStatus", True, 0.1, {"RegionName": "{{region}}"}),
        _entry("ce.amazonaws.com", "GetCostAndUsage", True, 0.1, {   # Cost Explorer logs the model's UpperCamel names
            "Filter": {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
            "Granularity": "MONTHLY", "GroupBy": [{"Key": "SERVICE", "Type": "DIMENSION"}], "Metrics": ["UnblendedCost"],
            "TimePeriod": {"End": "{{time}}", "Start": "{{time}}"}}),
        _entry("notifications.amazonaws.com", "ListNotificationHubs", True, 0.2, None),
        _entry("guardduty.amazonaws.com", "ListDetectors", True, 0.3, None),
        _entry("guardduty.amazonaws.com", "GetDetector", True, 0.2, {"detectorId": "{{detector}}"}),
        _entry("guardduty.amazonaws.com", "ListFindings", True, 0.2, {"detectorId": "{{detector}}", "findingCriteria": {
            "criterion": {"updatedAt": {"greaterThanOrEqual": "{{epochms}}"}}}}),
        _entry("dynamodb.amazonaws.com", "DescribeTable", True, 1.0, {"tableName": "{{table}}"},
               res=[{"accountId": "{{account}}", "type": "AWS::DynamoDB::Table",
                     "ARN": "arn:aws:dynamodb:{{region}}:{{account}}:table/{{table}}"}]),
        _entry("dynamodb.amazonaws.com", "ListTables", True, 0.4, None),
        _entry("dynamodb.amazonaws.com", "GetItem", True, 5.0, {"tableName": "{{table}}", "key": {"id": {"S": "{{uuid}}"}}},
               data=True, res=[{"accountId": "{{account}}", "type": "AWS::DynamoDB::Table",
                                "ARN": "arn:aws:dynamodb:{{region}}:{{account}}:table/{{table}}"}]),
        _entry("dynamodb.amazonaws.com", "PutItem", False, 2.0, {"tableName": "{{table}}",
                                                                "key": {"id": {"S": "{{uuid}}"}}},
               data=True, res=[{"accountId": "{{account}}", "type": "AWS::DynamoDB::Table",
                                "ARN": "arn:aws:dynamodb:{{region}}:{{account}}:table/{{table}}"}]),
        _entry("sqs.amazonaws.com", "SendMessage", False, 2.0, {"queueUrl":
               "https://sqs.{{region}}.amazonaws.com/{{account}}/{{queue}}", "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"},
               {"mD5OfMessageBody": "{{hex:32}}", "messageId": "{{uuid}}"}, data=True,
               res=[{"accountId": "{{account}}", "type": "AWS::SQS::Queue",
                     "ARN": "arn:aws:sqs:{{region}}:{{account}}:{{queue}}"}]),
    ]


def hand_entries() -> list[dict]:
    """Every hand-tuned entry."""
    return (s3_entries() + ec2_entries() + iam_entries() + sts_entries() + kms_entries() + ssm_entries()
            + secrets_entries() + lambda_entries() + misc_entries())


_TRUST_ANCHOR = {"createdAt": "{{isoms}}", "enabled": True, "name": "{{word}}", "notificationSettings": [
    {"channel": "ALL", "configuredBy": "rolesanywhere.amazonaws.com", "enabled": True, "event": "CA_CERTIFICATE_EXPIRY",
     "threshold": 45}], "source": {"sourceData": {"x509CertificateData": "{{b64:48}}"}, "sourceType": "CERTIFICATE_BUNDLE"},
    "trustAnchorArn": "arn:aws:rolesanywhere:{{region}}:{{account}}:trust-anchor/{{uuid}}", "trustAnchorId": "{{uuid}}",
    "updatedAt": "{{isoms}}"}


def tail_shapes() -> dict[tuple[str, str], dict]:
    """requestParameters (``req``) and responseElements (``resp``) of long-tail pairs as CloudTrail writes them.

    The botocore-derived rows guess a request from the model's required members; for these pairs the
    logged shape is known (which optional members clients send, EC2's wrapped ``<Op>Request`` style,
    the model's UpperCamel names some services keep), so it replaces the guess.
    """
    ec2 = "ec2.amazonaws.com"
    rds = "rds.amazonaws.com"
    ra = "rolesanywhere.amazonaws.com"
    ok = {"requestId": "{{requestId}}", "_return": True}
    return {
        ("autoscaling.amazonaws.com", "DescribeAutoScalingGroups"): {"req": {"maxRecords": 100}},
        ("ce.amazonaws.com", "GetCostForecast"): {"req": {
            "Filter": {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
            "Granularity": "MONTHLY", "Metric": "NET_UNBLENDED_COST", "TimePeriod": {"End": "{{time}}", "Start": "{{time}}"}}},
        ("devops-guru.amazonaws.com", "GetResourceCollection"): {"req": {"ResourceCollectionType": "AWS_TAGS"}},
        ("devops-guru.amazonaws.com", "SearchInsights"): {"req": {
            "StartTimeRange": {"FromTime": "{{epochms}}", "ToTime": "{{epochms}}"}, "Type": "REACTIVE",
            "Filters": {"Statuses": ["ONGOING"]}, "MaxResults": 100}},
        (ec2, "AllocateAddress"): {"req": {"domain": "vpc", "tagSpecificationSet": _tag_spec("elastic-ip")},
                                   "resp": {"requestId": "{{requestId}}", "publicIp": "{{pubip}}", "domain": "vpc",
                                            "allocationId": "{{eipalloc}}", "publicIpv4Pool": "amazon",
                                            "networkBorderGroup": "{{region}}"}},
        (ec2, "AuthorizeSecurityGroupEgress"): {"req": {"groupId": "{{sg}}", "ipPermissions": {"items": [
            {"ipProtocol": "-1", "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {},
             "prefixListIds": {}}]}}, "resp": {"requestId": "{{requestId}}", "_return": True, "securityGroupRuleSet": {
                 "items": [{"groupOwnerId": "{{account}}", "groupId": "{{sg}}", "securityGroupRuleId": "{{sgr}}",
                            "isEgress": True, "ipProtocol": "-1", "fromPort": -1, "toPort": -1,
                            "cidrIpv4": "0.0.0.0/0"}]}}},
        (ec2, "CreateFlowLogs"): {"req": _wrapped(
            "CreateFlowLogs", ResourceId=_tagged("{{vpc}}"), MaxAggregationInterval=600, ResourceType="VPC",
            LogDestination="arn:aws:logs:{{region}}:{{account}}:log-group:{{loggroup}}",
            DeliverLogsPermissionArn="arn:aws:iam::{{account}}:role/{{role}}", LogDestinationType="cloud-watch-logs",
            TrafficType="ALL"),
            "resp": {"CreateFlowLogsResponse": {"xmlns": _EC2_NS, "requestId": "{{requestId}}", "clientToken": "{{b64:32}}",
                                                "unsuccessful": "", "flowLogIdSet": {"item": "fl-{{hex:17}}"}}}},
        (ec2, "CreateInternetGateway"): {"req": {"tagSpecificationSet": _tag_spec("internet-gateway")},
                                         "resp": {"requestId": "{{requestId}}", "internetGateway": {
                                             "internetGatewayId": "{{igw}}", "ownerId": "{{account}}",
                                             "attachmentSet": {}, "tagSet": {"items": _TAGS}}}},
        (ec2, "CreateNatGateway"): {"req": _wrapped(
            "CreateNatGateway", ConnectivityType="public", AllocationId="{{eipalloc}}", SubnetId="{{subnet}}",
            ClientToken="{{uuid}}"),
            "resp": {"CreateNatGatewayResponse": {"xmlns": _EC2_NS, "natGateway": {
                "connectivityType": "public", "subnetId": "{{subnet}}", "natGatewayAddressSet": {"item": {
                    "isPrimary": True, "allocationId": "{{eipalloc}}", "status": "associating"}},
                "createTime": "{{isoms}}", "vpcId": "{{vpc}}", "natGatewayId": "{{nat}}", "state": "pending"},
                "requestId": "{{requestId}}", "clientToken": "{{uuid}}"}}},
        (ec2, "CreateRoute"): {"req": {"routeTableId": "{{rtb}}", "destinationCidrBlock": "0.0.0.0/0",
                                       "gatewayId": "{{igw}}"}, "resp": ok},
        (ec2, "CreateRouteTable"): {"req": {"vpcId": "{{vpc}}", "tagSpecificationSet": _tag_spec("route-table")},
                                    "resp": {"requestId": "{{requestId}}", "routeTable": {
                                        "routeTableId": "{{rtb}}", "vpcId": "{{vpc}}", "ownerId": "{{account}}",
                                        "routeSet": {"items": [{"destinationCidrBlock": "10.0.0.0/16",
                                                                "gatewayId": "local", "state": "active",
                                                                "origin": "CreateRouteTable"}]},
                                        "associationSet": {}, "propagatingVgwSet": {}, "tagSet": {"items": _TAGS}}}},
        (ec2, "CreateVolume"): {"req": {"size": "{{int:8:100}}", "zone": "{{az}}", "tagSpecificationSet": _tag_spec("volume"),
                                        "clientToken": "{{uuid}}"},
                                "resp": {"requestId": "{{requestId}}", "volumeId": "{{vol}}", "size": "{{int:8:100}}",
                                         "zone": "{{az}}", "status": "creating", "createTime": "{{epochms}}",
                                         "volumeType": "gp3", "iops": 3000, "encrypted": False,
                                         "tagSet": {"items": _TAGS}, "multiAttachEnabled": False}},
        (ec2, "DeleteFlowLogs"): {"req": _wrapped("DeleteFlowLogs", FlowLogId=_tagged("fl-{{hex:17}}")),
                                  "resp": {"DeleteFlowLogsResponse": {"xmlns": _EC2_NS, "requestId": "{{requestId}}",
                                                                      "unsuccessful": ""}}},
        (ec2, "DeleteNatGateway"): {"req": _wrapped("DeleteNatGateway", NatGatewayId="{{nat}}"),
                                    "resp": {"DeleteNatGatewayResponse": {"xmlns": _EC2_NS, "requestId": "{{requestId}}",
                                                                          "natGatewayId": "{{nat}}"}}},
        (ec2, "DeleteRoute"): {"req": {"routeTableId": "{{rtb}}", "destinationCidrBlock": "0.0.0.0/0"}, "resp": ok},
        (ec2, "DeleteSnapshot"): {"req": {"snapshotId": "{{snap}}", "force": False}, "resp": ok},
        (ec2, "DeleteVolume"): {"req": {"volumeId": "{{vol}}", "reportVolumeFailure": False}, "resp": ok},
        (ec2, "DescribeAddressTransfers"): {"req": _wrapped("DescribeAddressTransfers", MaxResults=10)},
        (ec2, "DescribeAddressesAttribute"): {"req": _wrapped("DescribeAddressesAttribute", Attribute="domain-name",
                                                              MaxResults=100)},
        (ec2, "DescribeCustomerGateways"): {"req": {"customerGatewaySet": {}, "filterSet": {}}},
        (ec2, "DescribeDhcpOptions"): {"req": {"maxResults": 1000, "dhcpOptionsSet": {}, "filterSet": {}}},
        (ec2, "DescribeEgressOnlyInternetGateways"): {"req": _wrapped("DescribeEgressOnlyInternetGateways",
                                                                      MaxResults=255)},
        (ec2, "DescribeFlowLogs"): {"req": _wrapped("DescribeFlowLogs", FlowLogId=_tagged("fl-{{hex:17}}"))},
        (ec2, "DescribeHosts"): {"req": _wrapped("DescribeHosts", MaxResults=500)},
        (ec2, "DescribeInstanceCreditSpecifications"): {"req": _wrapped("DescribeInstanceCreditSpecifications",
                                                                        InstanceId=_tagged("{{instance}}"))},
        (ec2, "DescribePlacementGroups"): {"req": {"placementGroupSet": {}, "placementGroupIdSet": {}, "filterSet": {}}},
        (ec2, "DescribeVolumeStatus"): {"req": {"volumeSet": {}, "filterSet": {}, "maxResults": 1000}},
        (ec2, "DescribeVpcEndpointServiceConfigurations"): {"req": _wrapped("DescribeVpcEndpointServiceConfigurations",
                                                                            MaxResults=1000)},
        (ec2, "DescribeVpcEndpoints"): {"req": _wrapped("DescribeVpcEndpoints", Filter={
            "Value": _tagged("{{vpc}}"), "tag": 1, "Name": "vpc-id"})},
        (ec2, "DescribeVpcPeeringConnections"): {"req": {"maxResults": 1000, "vpcPeeringConnectionIdSet": {},
                                                         "filterSet": {}}},
        (ec2, "DescribeVpnConnections"): {"req": {"vpnConnectionSet": {}, "filterSet": {}}},
        (ec2, "DescribeVpnGateways"): {"req": {"vpnGatewaySet": {}, "filterSet": {}}},
        (ec2, "DetachNetworkInterface"): {"req": {"attachmentId": "eni-attach-{{hex:17}}", "force": False}, "resp": ok},
        (ec2, "ModifyImageAttribute"): {"req": {"imageId": "{{ami}}", "launchPermission": {"add": _items(
            "userId", "{{digits:12}}")}, "attributeType": "launchPermission"}, "resp": ok},
        (ec2, "RegisterImage"): {"req": {"name": "{{word}}-{{int:1:99}}", "architecture": "x86_64",
                                         "rootDeviceName": "/dev/xvda", "blockDeviceMapping": {"items": [{
                                             "deviceName": "/dev/xvda", "ebs": {"snapshotId": "{{snap}}", "volumeSize": 8,
                                                                                "deleteOnTermination": True,
                                                                                "volumeType": "gp3"}}]},
                                         "sriovNetSupport": "simple", "enaSupport": True},
                                 "resp": {"requestId": "{{requestId}}", "imageId": "{{ami}}"}},
        (ec2, "ReleaseAddress"): {"req": {"allocationId": "{{eipalloc}}", "networkBorderGroup": "{{region}}"}, "resp": ok},
        (ec2, "RevokeSecurityGroupEgress"): {"req": {"groupId": "{{sg}}", "ipPermissions": {"items": [
            {"ipProtocol": "-1", "fromPort": 0, "toPort": 0, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
             "ipv6Ranges": {}, "prefixListIds": {}}]}}, "resp": ok},
        (ec2, "RevokeSecurityGroupIngress"): {"req": {"groupId": "{{sg}}", "ipPermissions": {}, "ipProtocol": "tcp",
                                                      "fromPort": 22, "toPort": 22, "cidrIp": "0.0.0.0/0"}, "resp": ok},
        ("guardduty.amazonaws.com", "GetFindings"): {"req": {"findingIds": ["{{hex:32}}"], "detectorId": "{{detector}}"}},
        ("iam.amazonaws.com", "CreateInstanceProfile"): {
            "req": {"instanceProfileName": "{{profile}}", "path": "/", "tags": _TAGS},
            "resp": {"instanceProfile": {"path": "/", "instanceProfileName": "{{profile}}",
                                         "instanceProfileId": "AIPA{{ALNUM:17}}",
                                         "arn": "arn:aws:iam::{{account}}:instance-profile/{{profile}}",
                                         "createDate": "{{ctime}}", "roles": [], "tags": _TAGS}}},
        ("iam.amazonaws.com", "DetachUserPolicy"): {"req": {"policyArn": "arn:aws:iam::{{account}}:policy/{{policy}}",
                                                            "userName": "{{user}}"}},
        ("iam.amazonaws.com", "ListVirtualMFADevices"): {"req": {"assignmentStatus": "Assigned"}},
        ("iam.amazonaws.com", "RemoveRoleFromInstanceProfile"): {"req": {"roleName": "{{role}}",
                                                                         "instanceProfileName": "{{profile}}"}},
        ("organizations.amazonaws.com", "ListDelegatedAdministrators"): {"req": {
            "servicePrincipal": "cloudtrail.amazonaws.com"}},
        ("ram.amazonaws.com", "ListResources"): {"req": {"maxResults": 100, "resourceOwner": "SELF",
                                                         "resourceType": "ec2:Subnet"}},
        (rds, "CreateDBInstance"): {"req": {
            "dBInstanceIdentifier": "{{db}}", "deletionProtection": False, "dBSubnetGroupName": "{{word}}",
            "engine": "postgres", "publiclyAccessible": False, "masterUsername": "postgres", "allocatedStorage": 20,
            "backupRetentionPeriod": 7, "dBName": "{{word}}", "copyTagsToSnapshot": True, "storageEncrypted": True,
            "engineVersion": "16.3", "tags": [{"value": "{{word}}", "key": "Name"}], "dBInstanceClass": "db.t3.micro",
            "masterUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS", "autoMinorVersionUpgrade": True}},
        (rds, "CreateDBSnapshot"): {"req": {"dBInstanceIdentifier": "{{db}}", "tags": [{"value": "{{word}}", "key": "Name"}],
                                            "dBSnapshotIdentifier": "{{db}}-{{hex:8}}"}},
        (rds, "CreateDBSubnetGroup"): {"req": {"dBSubnetGroupName": "{{word}}", "dBSubnetGroupDescription": "{{word}}",
                                               "subnetIds": ["{{subnet}}", "{{subnet.2}}"], "tags": _TAGS}},
        (rds, "DeleteDBInstance"): {"req": {"dBInstanceIdentifier": "{{db}}", "skipFinalSnapshot": True,
                                            "deleteAutomatedBackups": True}},
        (rds, "DescribeDBClusterSnapshots"): {"req": {"includePublic": False, "includeShared": False}},
        (rds, "DescribeDBClusters"): {"req": {"includeShared": False}},
        (rds, "DescribeDBSubnetGroups"): {"req": {"dBSubnetGroupName": "{{word}}"}},
        (rds, "DescribeEvents"): {"req": {"duration": 1440}},
        ("resource-explorer-2.amazonaws.com", "ListIndexes"): {"req": {"Type": "AGGREGATOR"}},
        (ra, "CreateProfile"): {"req": {"durationSeconds": 3600, "enabled": True, "name": "{{word}}",
                                        "roleArns": [ROLE_ARN], "tags": [{"key": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                                                          "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]},
                                "resp": {"profile": {"createdAt": "{{isoms}}", "createdBy": "{{callerArn}}",
                                                     "durationSeconds": 3600, "enabled": True, "name": "{{word}}",
                                                     "profileArn": "arn:aws:rolesanywhere:{{region}}:{{account}}:profile/{{uuid}}",
                                                     "profileId": "{{uuid}}", "roleArns": [ROLE_ARN],
                                                     "updatedAt": "{{isoms}}"}}},
        (ra, "CreateTrustAnchor"): {"req": {"enabled": True, "name": "{{word}}", "source": _TRUST_ANCHOR["source"],
                                            "tags": [{"key": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                                      "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]},
                                    "resp": {"trustAnchor": _TRUST_ANCHOR}},
        (ra, "DeleteTrustAnchor"): {"req": {"trustAnchorId": "{{uuid}}"}, "resp": {"trustAnchor": _TRUST_ANCHOR}},
        (ra, "ListProfiles"): {"req": {"pageSize": 500}},
        (ra, "ListTrustAnchors"): {"req": {"pageSize": 500}},
        ("route53resolver.amazonaws.com", "ListFirewallRuleGroupAssociations"): {"req": {"vpcId": "{{vpc}}",
                                                                                         "maxResults": 100}},
        ("servicecatalog-appregistry.amazonaws.com", "ListApplications"): {"req": {"maxResults": "100"}},
    }

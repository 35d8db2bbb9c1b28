"""Defence evasion: CloudTrail, GuardDuty, VPC flow logs, AWS Config and Security Hub switched off or blinded."""
from cloudtrail_emulator.generators.scenarios.base import IAM_CAPABLE, Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import (DISABLE_CLOUD_LOGS, DISABLE_TOOLS, RESOURCE_HIJACKING,
                                                                 UNUSED_REGIONS)

CLOUDTRAIL = "cloudtrail.amazonaws.com"
GUARDDUTY = "guardduty.amazonaws.com"
CONFIG = "config.amazonaws.com"
#: regions an account must enable before use (an attacker's quiet place for mining)
OPT_IN_REGIONS = ("af-south-1", "ap-east-1", "me-south-1", "ap-southeast-3", "eu-south-1", "il-central-1")


def _trail(attack: Attack) -> tuple[str, str]:
    name = attack.pick("trail")
    return name, f"arn:aws:cloudtrail:{attack.region}:{attack.account}:trail/{name}"


@scenario("stop-cloudtrail-logging",
          "The trails are listed and checked, then logging of one is stopped.", DISABLE_CLOUD_LOGS,
          stratus="aws.defense-evasion.cloudtrail-stop")
def stop_cloudtrail_logging(attack: Attack) -> None:
    name, arn = _trail(attack)
    attack.call(CLOUDTRAIL, "DescribeTrails", request={"includeShadowTrails": True})
    attack.wait(2, 15)
    attack.call(CLOUDTRAIL, "GetTrailStatus", request={"name": arn})
    attack.wait(2, 15)
    attack.call(CLOUDTRAIL, "StopLogging", request={"name": arn}, response=None)


@scenario("delete-cloudtrail-trail",
          "A first DeleteTrail by the short name fails, the second by ARN deletes the trail.",
          DISABLE_CLOUD_LOGS, stratus="aws.defense-evasion.cloudtrail-delete")
def delete_cloudtrail_trail(attack: Attack) -> None:
    name, arn = _trail(attack)
    attack.call(CLOUDTRAIL, "DeleteTrail", request={"name": name[:-1]},
                error=("TrailNotFoundException",
                       f"Unknown trail: arn:aws:cloudtrail:{attack.region}:{attack.account}:trail/{name[:-1]} "
                       f"for the user: {attack.account}"))
    attack.wait(5, 30)
    attack.call(CLOUDTRAIL, "DeleteTrail", request={"name": arn}, response=None)


@scenario("cloudtrail-selector-tampering",
          "Event selectors are narrowed to read-only events without management events of IAM and KMS, "
          "and the trail is made single-region.",
          DISABLE_CLOUD_LOGS, stratus="aws.defense-evasion.cloudtrail-event-selectors")
def cloudtrail_selector_tampering(attack: Attack) -> None:
    name, arn = _trail(attack)
    attack.call(CLOUDTRAIL, "GetEventSelectors", request={"trailName": arn})
    attack.wait(3, 20)
    selectors = [{"readWriteType": "ReadOnly", "includeManagementEvents": True, "dataResources": [],
                  "excludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]
    attack.call(CLOUDTRAIL, "PutEventSelectors", request={"trailName": arn, "eventSelectors": selectors},
                response={"trailARN": arn, "eventSelectors": selectors})
    attack.wait(3, 20)
    attack.call(CLOUDTRAIL, "UpdateTrail", request={"name": arn, "isMultiRegionTrail": False},
                response={"name": name, "s3BucketName": attack.pick("bucket"), "includeGlobalServiceEvents": True,
                          "isMultiRegionTrail": False, "trailARN": arn, "logFileValidationEnabled": True,
                          "isOrganizationTrail": False})


@scenario("cloudtrail-lifecycle-rule",
          "A lifecycle rule expiring every object after one day is put on the trail's bucket, so logs vanish "
          "before anyone reads them.", DISABLE_CLOUD_LOGS, stratus="aws.defense-evasion.cloudtrail-lifecycle-rule")
def cloudtrail_lifecycle_rule(attack: Attack) -> None:
    name, arn = _trail(attack)
    bucket = attack.pick("bucket")
    attack.call(CLOUDTRAIL, "DescribeTrails", request={"trailNameList": [arn]})
    attack.wait(3, 20)
    rule = {"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    attack.call("s3.amazonaws.com", "PutBucketLifecycle",
                request={"lifecycle": "", "bucketName": bucket, "LifecycleConfiguration": {
                    "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": rule},
                    "Host": f"{bucket}.s3.{attack.region}.amazonaws.com"},
                resources=[{"accountId": attack.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}])


@scenario("disable-guardduty",
          "GuardDuty's detector is disabled, then deleted.", DISABLE_TOOLS)
def disable_guardduty(attack: Attack) -> None:
    detector = attack.pick("detector")
    attack.call(GUARDDUTY, "ListDetectors", request=None, response=None)
    attack.wait(2, 15)
    attack.call(GUARDDUTY, "UpdateDetector", request={"detectorId": detector, "enable": False}, response=None)
    attack.wait(10, 60)
    attack.call(GUARDDUTY, "DeleteDetector", request={"detectorId": detector}, response=None)


@scenario("guardduty-trusted-ipset",
          "The attacker's addresses are added to a GuardDuty trusted IP list, so no finding names them.",
          DISABLE_TOOLS)
def guardduty_trusted_ipset(attack: Attack) -> None:
    detector = attack.pick("detector")
    bucket = attack.pick("bucket")
    attack.call(GUARDDUTY, "CreateIPSet", like=(GUARDDUTY, "UpdateDetector"),
                request={"detectorId": detector, "name": "corp-vpn", "format": "TXT",
                         "location": f"https://s3.amazonaws.com/{bucket}/ips.txt", "activate": True,
                         "clientToken": attack.uuid()},   # botocore fills the idempotency token
                response={"ipSetId": attack.hex(32)})


@scenario("delete-vpc-flow-logs",
          "The VPC flow logs are listed and deleted.", DISABLE_CLOUD_LOGS,
          stratus="aws.defense-evasion.vpc-remove-flow-logs")
def delete_vpc_flow_logs(attack: Attack) -> None:
    flow_logs = [f"fl-{attack.hex(17)}" for _ in range(attack.rng.randint(1, 3))]
    attack.call("ec2.amazonaws.com", "DescribeFlowLogs", request={})
    attack.wait(3, 20)
    attack.call("ec2.amazonaws.com", "DeleteFlowLogs",
                request={"DeleteFlowLogsRequest": {"FlowLogId": {"content": flow_logs[0], "tag": 1}}}
                if len(flow_logs) == 1 else
                {"DeleteFlowLogsRequest": {"FlowLogId": [{"content": f, "tag": i + 1}
                                                          for i, f in enumerate(flow_logs)]}},
                response={"DeleteFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
                                                     "requestId": attack.uuid(), "unsuccessful": ""}})


@scenario("disable-aws-config",
          "AWS Config recording is stopped, its delivery channel and a compliance rule deleted.", DISABLE_TOOLS)
def disable_aws_config(attack: Attack) -> None:
    attack.call(CONFIG, "DescribeConfigurationRecorders", request={})
    attack.wait(2, 15)
    attack.call(CONFIG, "StopConfigurationRecorder", request={"configurationRecorderName": "default"}, response=None)
    attack.wait(2, 15)
    attack.call(CONFIG, "DeleteDeliveryChannel", request={"deliveryChannelName": "default"}, response=None)
    attack.wait(2, 15)
    attack.call(CONFIG, "DeleteConfigRule", request={"configRuleName": "cloudtrail-enabled"}, response=None)


@scenario("securityhub-suppress-findings",
          "Security Hub findings about the intrusion are marked SUPPRESSED.", DISABLE_TOOLS)
def securityhub_suppress_findings(attack: Attack) -> None:
    arn = (f"arn:aws:securityhub:{attack.region}:{attack.account}:subscription/aws-foundational-security-"
           f"best-practices/v/1.0.0/GuardDuty.1/finding/{attack.uuid()}")
    attack.call("securityhub.amazonaws.com", "BatchUpdateFindings",
                like=("securityhub.amazonaws.com", "GetFindings"),
                request={"FindingIdentifiers": [{"Id": arn, "ProductArn": f"arn:aws:securityhub:{attack.region}::"
                                                 "product/aws/securityhub"}],
                         "Workflow": {"Status": "SUPPRESSED"}},
                response={"ProcessedFindings": [{"Id": arn, "ProductArn": f"arn:aws:securityhub:{attack.region}::"
                                                 "product/aws/securityhub"}], "UnprocessedFindings": []},
                read_only=False)


@scenario("enable-opt-in-region",
          "An opt-in region nobody watches is enabled, polled until ready, and GPU instances launched there.",
          UNUSED_REGIONS, RESOURCE_HIJACKING, actors=IAM_CAPABLE)
def enable_opt_in_region(attack: Attack) -> None:
    region = attack.rng.choice(OPT_IN_REGIONS)
    attack.call("account.amazonaws.com", "EnableRegion", request={"regionName": region}, response=None)
    for _ in range(attack.rng.randint(2, 5)):
        attack.wait(60, 300)
        attack.call("account.amazonaws.com", "GetRegionOptStatus", request={"RegionName": region})
    attack.wait(30, 120)
    attack.uses(RESOURCE_HIJACKING)
    count = attack.rng.randint(2, 10)
    attack.call("ec2.amazonaws.com", "RunInstances", region=region, request={
        "instancesSet": {"items": [{"imageId": f"ami-{attack.hex(17)}", "minCount": count, "maxCount": count}]},
        "instanceType": attack.rng.choice(("g4dn.xlarge", "g5.2xlarge", "c5.9xlarge")), "blockDeviceMapping": {},
        "monitoring": {"enabled": False}, "disableApiTermination": False, "disableApiStop": False,
        "clientToken": attack.uuid()})

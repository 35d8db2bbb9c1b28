"""Defence evasion: CloudTrail, GuardDuty, VPC flow logs, AWS Config and Security Hub switched off or blinded."""
from cloudtrail_emulator.generators.scenarios.base import Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import DISABLE_CLOUD_LOGS, DISABLE_TOOLS

CLOUDTRAIL = "cloudtrail.amazonaws.com"
GUARDDUTY = "guardduty.amazonaws.com"
CONFIG = "config.amazonaws.com"


def _trail(attack: Attack) -> tuple[str, str]:
    name = attack.pick("trail")
    return name, f"arn:aws:cloudtrail:{attack.region}:{attack.account}:trail/{name}"


@scenario("stop-cloudtrail-logging",
          "The trails are listed and checked, then logging of one is stopped.", DISABLE_CLOUD_LOGS)
def stop_cloudtrail_logging(attack: Attack) -> None:
    name, arn = _trail(attack)
    attack.call(CLOUDTRAIL, "DescribeTrails", request={"includeShadowTrails": True})
    attack.wait(2, 15)
    attack.call(CLOUDTRAIL, "GetTrailStatus", request={"name": arn})
    attack.wait(2, 15)
    attack.call(CLOUDTRAIL, "StopLogging", request={"name": arn}, response=None)


@scenario("delete-cloudtrail-trail",
          "A first DeleteTrail by the short name fails, the second by ARN deletes the trail.",
          DISABLE_CLOUD_LOGS)
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
          DISABLE_CLOUD_LOGS)
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
                         "location": f"https://s3.amazonaws.com/{bucket}/ips.txt", "activate": True},
                response={"ipSetId": attack.hex(32)})


@scenario("delete-vpc-flow-logs",
          "The VPC flow logs are listed and deleted.", DISABLE_CLOUD_LOGS)
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

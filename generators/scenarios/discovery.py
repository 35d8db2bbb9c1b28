"""Discovery: bursts of List/Describe/Get calls, some of them denied."""
from cloudtrail_emulator.generators.scenarios.base import IAM_CAPABLE, Attack, access_denied, scenario
from cloudtrail_emulator.generators.scenarios.techniques import (CLOUD_ACCOUNT_DISCOVERY, CLOUD_GROUPS, CLOUD_INFRA_DISCOVERY,
                                             CLOUD_STORAGE_DISCOVERY)

EC2_DENIED = ("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")

#: (eventSource, eventName, technique, how it fails when denied)
BURST = (
    ("sts.amazonaws.com", "GetCallerIdentity", CLOUD_ACCOUNT_DISCOVERY, None),
    ("iam.amazonaws.com", "ListUsers", CLOUD_ACCOUNT_DISCOVERY, "iam"),
    ("iam.amazonaws.com", "ListRoles", CLOUD_ACCOUNT_DISCOVERY, "iam"),
    ("iam.amazonaws.com", "ListGroups", CLOUD_GROUPS, "iam"),
    ("iam.amazonaws.com", "ListPolicies", CLOUD_GROUPS, "iam"),
    ("iam.amazonaws.com", "GetAccountAuthorizationDetails", CLOUD_ACCOUNT_DISCOVERY, "iam"),
    ("s3.amazonaws.com", "ListBuckets", CLOUD_STORAGE_DISCOVERY, None),
    ("ec2.amazonaws.com", "DescribeInstances", CLOUD_INFRA_DISCOVERY, "ec2"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", CLOUD_INFRA_DISCOVERY, "ec2"),
    ("ec2.amazonaws.com", "DescribeVpcs", CLOUD_INFRA_DISCOVERY, "ec2"),
    ("ec2.amazonaws.com", "DescribeSnapshots", CLOUD_INFRA_DISCOVERY, "ec2"),
    ("ec2.amazonaws.com", "DescribeRegions", CLOUD_INFRA_DISCOVERY, None),
    ("lambda.amazonaws.com", "ListFunctions20150331", CLOUD_INFRA_DISCOVERY, "other"),
    ("rds.amazonaws.com", "DescribeDBInstances", CLOUD_INFRA_DISCOVERY, "other"),
    ("secretsmanager.amazonaws.com", "ListSecrets", CLOUD_INFRA_DISCOVERY, "other"),
    ("ssm.amazonaws.com", "DescribeParameters", CLOUD_INFRA_DISCOVERY, "other"),
    ("kms.amazonaws.com", "ListKeys", CLOUD_INFRA_DISCOVERY, "other"),
    ("cloudtrail.amazonaws.com", "DescribeTrails", CLOUD_INFRA_DISCOVERY, "other"),
    ("guardduty.amazonaws.com", "ListDetectors", CLOUD_INFRA_DISCOVERY, "other"),
    ("organizations.amazonaws.com", "DescribeOrganization", CLOUD_ACCOUNT_DISCOVERY, "other"),
)


def _denial(attack: Attack, source: str, name: str, style: str) -> tuple[str, str]:
    if style == "ec2":
        return EC2_DENIED
    return access_denied(attack, f"{source.split('.')[0]}:{name.rstrip('0123456789')}", "*")


@scenario("discovery-burst",
          "Dozens of List/Describe/Get calls across services within minutes from one key; the denied "
          "ones are retried once.",
          CLOUD_INFRA_DISCOVERY, CLOUD_ACCOUNT_DISCOVERY, CLOUD_STORAGE_DISCOVERY, CLOUD_GROUPS, actors=IAM_CAPABLE)
def discovery_burst(attack: Attack) -> None:
    denied = {i for i, step in enumerate(BURST) if step[3] and attack.rng.random() < 0.35}
    for i, (source, name, technique, style) in enumerate(BURST):
        attack.uses(technique)
        tries = 2 if i in denied else 1
        for _ in range(tries):
            error = _denial(attack, source, name, style) if i in denied else None
            attack.call(source, name, error=error, read_only=True)
            attack.wait(0.5, 4)


@scenario("iam-permission-enumeration",
          "Brute-force enumeration of the key's own permissions: its policies, groups, then probing calls "
          "that are mostly denied.",
          CLOUD_GROUPS, CLOUD_ACCOUNT_DISCOVERY, actors=IAM_CAPABLE)
def iam_permission_enumeration(attack: Attack) -> None:
    identity = attack.principal.user_identity
    if identity["type"] == "IAMUser":
        own = [(name, {"userName": identity["userName"]})
               for name in ("ListAttachedUserPolicies", "ListUserPolicies", "ListGroupsForUser")]
    else:   # a role session reads its role's policies
        role = {"roleName": identity["sessionContext"]["sessionIssuer"]["userName"]}
        own = [(name, role) for name in ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies")]
    for name, request in own:
        attack.call("iam.amazonaws.com", name, request=request)
        attack.wait(0.3, 2)
    attack.uses(CLOUD_ACCOUNT_DISCOVERY)
    probes = [(s, n, style) for s, n, _, style in BURST if style]
    attack.rng.shuffle(probes)
    for source, name, style in probes:
        allowed = attack.rng.random() < 0.2
        attack.call(source, name, error=None if allowed else _denial(attack, source, name, style),
                    read_only=True)
        attack.wait(0.2, 1.5)

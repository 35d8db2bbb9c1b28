"""Attacks that CloudTrail Insights catches: one API called (or failing) far above its baseline.

Insights (``generators.insights``) starts an event on a minute with at least 10 write calls of one
API (call rate) or 10 errors of one API and error code (error rate) at 10 times the API's baseline.
These scenarios make such minutes as real intrusions do; played after at least an hour of baseline
in their account and region, each yields its Insights event.
"""
from cloudtrail_emulator.generators.scenarios.base import Attack, Technique, scenario
from cloudtrail_emulator.generators.scenarios.techniques import CLOUD_SECRETS, CREATE_CLOUD_INSTANCE

COMPUTE_HIJACKING = Technique("T1496.001", "Resource Hijacking: Compute Hijacking", "impact")
EC2 = "ec2.amazonaws.com"
#: instance types a miner asks for: GPUs first, then large compute
MINER_TYPES = ("p3.16xlarge", "p3.8xlarge", "g4dn.12xlarge", "g5.12xlarge", "p2.16xlarge", "c5.24xlarge",
               "c6i.32xlarge", "c5.18xlarge")
VCPU_LIMIT = ("Client.VcpuLimitExceeded",
              "You have requested more vCPU capacity than your current vCPU limit of {limit} allows for the "
              "instance bucket that the specified instance type belongs to. Please visit "
              "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.")
NO_CAPACITY = ("Server.InsufficientInstanceCapacity",
               "We currently do not have sufficient {type} capacity in the Availability Zone you requested "
               "({zone}). Our system will be working on provisioning additional capacity. You can currently get "
               "{type} capacity by not specifying an Availability Zone in your request or choosing {others}.")


@scenario("ec2-miner-launch-flood",
          "Hijacked credentials launch as many GPU and large compute instances as the quotas allow: dozens "
          "of RunInstances calls within minutes, most refused for the vCPU limit or capacity (an "
          "ApiCallRateInsight on RunInstances).",
          COMPUTE_HIJACKING, CREATE_CLOUD_INSTANCE)
def ec2_miner_launch_flood(attack: Attack) -> None:
    rng = attack.rng
    limit = rng.choice((32, 64, 128))
    image, group = attack.pick("ami"), attack.pick("sg")
    for _ in range(rng.randint(35, 60)):
        kind = MINER_TYPES[min(len(MINER_TYPES) - 1, int(rng.expovariate(0.4)))]
        zone = f"{attack.region}{rng.choice('abc')}"
        request = {"instancesSet": {"items": [{"imageId": image, "minCount": 1, "maxCount": rng.choice((1, 2, 4))}]},
                   "groupSet": {"items": [{"groupId": group}]}, "instanceType": kind, "blockDeviceMapping": {},
                   "placement": {"availabilityZone": zone}, "monitoring": {"enabled": False},
                   "disableApiTermination": False, "disableApiStop": False, "clientToken": attack.uuid()}
        draw = rng.random()
        if draw < 0.6:
            error = (VCPU_LIMIT[0], VCPU_LIMIT[1].format(limit=limit))
        elif draw < 0.8:
            others = ", ".join(f"{attack.region}{z}" for z in "abcdf" if f"{attack.region}{z}" != zone)
            error = (NO_CAPACITY[0], NO_CAPACITY[1].format(type=kind, zone=zone, others=others))
        else:
            error = None
        if error is None:
            attack.call(EC2, "RunInstances", request=request)
        else:
            attack.call(EC2, "RunInstances", request=request, response=None, error=error)
        attack.wait(0.8, 4)


@scenario("secrets-denied-storm",
          "Stolen credentials try to read every secret name they can guess or find, in a tight loop: most "
          "reads are denied (an ApiErrorRateInsight on GetSecretValue with AccessDeniedException).",
          CLOUD_SECRETS)
def secrets_denied_storm(attack: Attack) -> None:
    rng = attack.rng
    source = "secretsmanager.amazonaws.com"
    arn = attack.principal.user_identity.get("arn", f"arn:aws:iam::{attack.account}:root")
    names = list(attack.pool("secret"))
    guesses = names + [f"{prefix}/{suffix}" for prefix in ("prod", "staging", "app", "rds", "ci")
                       for suffix in ("db-password", "api-key", "credentials", "token", "github", "datadog")]
    rng.shuffle(guesses)
    for name in guesses[:rng.randint(30, len(guesses))]:
        if rng.random() < 0.08:
            attack.call(source, "GetSecretValue", request={"secretId": name}, response=None)
        else:
            action = "secretsmanager:GetSecretValue"
            attack.call(source, "GetSecretValue", request={"secretId": name}, response=None, error=(
                "AccessDeniedException", f"User: {arn} is not authorized to perform: {action} on resource: "
                f"{name} because no identity-based policy allows the {action} action"))
        attack.wait(0.3, 2.5)

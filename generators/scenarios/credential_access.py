"""Credential access: Secrets Manager and SSM SecureString harvesting, EC2 Windows passwords.

Harvests read what an enumeration finds (dozens of secrets or parameters, more than the few the
baseline's workloads use) with the requests the tools send: the AWS CLI and boto3 page with
``nextToken`` only, the Go SDK (Stratus Red Team) also sends its page size.
"""
from cloudtrail_emulator.generators.scenarios.base import Attack, access_denied, scenario
from cloudtrail_emulator.generators.scenarios.techniques import CLOUD_INFRA_DISCOVERY, CLOUD_SECRETS, UNSECURED_CREDENTIALS

SECRETS = "secretsmanager.amazonaws.com"
SSM = "ssm.amazonaws.com"
#: the regions enabled in every account (opt-in regions excluded), as a region sweep walks them
DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
                   "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
                   "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1")


def _page(attack: Attack, page: int, size: int, **request) -> dict | None:
    """A paginated call's requestParameters: the tool's page size (Go SDK only) and the token after page 1."""
    if attack.agent.startswith("aws-sdk-go"):
        request["maxResults"] = size
    if page:
        request["nextToken"] = attack.next_token()
    return request or None


def _sweep(attack: Attack) -> list[str]:
    """The regions a sweep visits: the run's first, then the other default regions in the tool's order."""
    return [attack.region] + [r for r in DEFAULT_REGIONS if r != attack.region]


@scenario("secrets-manager-harvest",
          "Every secret is listed and read one by one in quick succession; some reads are denied.", CLOUD_SECRETS,
          stratus="aws.credential-access.secretsmanager-retrieve-secrets")
def secrets_manager_harvest(attack: Attack) -> None:
    secrets = attack.inventory("secret", 25, 70)
    attack.call(SECRETS, "ListSecrets", request=None)
    for secret in secrets:
        attack.wait(0.2, 1.5)
        arn = f"arn:aws:secretsmanager:{attack.region}:{attack.account}:secret:{secret}-{attack.hex(6)}"
        denied = attack.rng.random() < 0.1
        attack.call(SECRETS, "GetSecretValue", request={"secretId": arn}, response=None,
                    error=access_denied(attack, "secretsmanager:GetSecretValue", arn) if denied else None)


@scenario("secrets-manager-batch-harvest",
          "BatchGetSecretValue with a catch-all filter pulls every secret 20 at a time, in every default "
          "region within minutes.", CLOUD_SECRETS,
          stratus="aws.credential-access.secretsmanager-batch-retrieve-secrets")
def secrets_manager_batch_harvest(attack: Attack) -> None:
    secrets = len(attack.inventory("secret", 25, 70))
    catch_all = [{"key": "tag-key", "values": ["!tagKeyThatWillNeverExist"]}]
    for n, region in enumerate(_sweep(attack)):
        pages = -(-secrets // 20) if n == 0 else 1     # the other regions hold none: one empty page
        for page in range(pages):
            request = {"filters": catch_all}
            if page:
                request["nextToken"] = attack.next_token()
            attack.call(SECRETS, "BatchGetSecretValue", request=request, response=None, region=region)
            attack.wait(0.3, 1.2)
        attack.wait(0.5, 3)


@scenario("ssm-parameter-harvest",
          "All SSM parameters are described page by page and read back decrypted (WithDecryption), "
          "10 names per GetParameters call.",
          UNSECURED_CREDENTIALS, stratus="aws.credential-access.ssm-retrieve-securestring-parameters")
def ssm_parameter_harvest(attack: Attack) -> None:
    names = list(attack.inventory("param", 40, 150))
    pages = -(-len(names) // 10)
    for page in range(pages):
        attack.call(SSM, "DescribeParameters", request=_page(attack, page, 10), response=None)
        attack.wait(0.2, 1)
    for i in range(0, len(names), 10):
        attack.wait(0.2, 1.5)
        attack.call(SSM, "GetParameters", request={"names": names[i:i + 10], "withDecryption": True},
                    response=None)


@scenario("ssm-parameters-by-path-decrypt",
          "GetParametersByPath from the root, recursive and decrypted, page after page in every default "
          "region (aws ssm get-parameters-by-path --path / --recursive --with-decryption).",
          UNSECURED_CREDENTIALS, CLOUD_INFRA_DISCOVERY)
def ssm_parameters_by_path_decrypt(attack: Attack) -> None:
    attack.uses(CLOUD_INFRA_DISCOVERY)
    attack.call("ec2.amazonaws.com", "DescribeRegions", request={"regionSet": {}}, read_only=True)
    attack.uses(UNSECURED_CREDENTIALS)
    names = len(attack.inventory("param", 40, 150))
    for n, region in enumerate(_sweep(attack)):
        attack.wait(0.5, 2)
        for page in range(-(-names // 10) if n == 0 else 1):
            request = {"path": "/", "recursive": True, "withDecryption": True}
            if page:
                request["nextToken"] = attack.next_token()
            attack.call(SSM, "GetParametersByPath", request=request, response=None, region=region)
            attack.wait(0.1, 0.6)


@scenario("ec2-get-password-data",
          "The Windows administrator password of every instance is requested (GetPasswordData).",
          UNSECURED_CREDENTIALS, stratus="aws.credential-access.ec2-get-password-data")
def ec2_get_password_data(attack: Attack) -> None:
    attack.call("ec2.amazonaws.com", "DescribeInstances", request={"instancesSet": {}, "filterSet": {}})
    for instance in attack.inventory("instance", 20, 60):
        attack.wait(0.2, 2)
        attack.call("ec2.amazonaws.com", "GetPasswordData", request={"instanceId": instance})


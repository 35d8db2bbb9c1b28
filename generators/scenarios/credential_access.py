"""Credential access: Secrets Manager and SSM SecureString harvesting, EC2 Windows passwords."""
from cloudtrail_emulator.generators.scenarios.base import Attack, access_denied, scenario
from cloudtrail_emulator.generators.scenarios.techniques import CLOUD_SECRETS, UNSECURED_CREDENTIALS


@scenario("secrets-manager-harvest",
          "Every secret is listed and read in quick succession; some reads are denied.", CLOUD_SECRETS)
def secrets_manager_harvest(attack: Attack) -> None:
    source = "secretsmanager.amazonaws.com"
    attack.call(source, "ListSecrets", request=None)
    for secret in attack.pool("secret"):
        attack.wait(0.3, 3)
        arn = f"arn:aws:secretsmanager:{attack.region}:{attack.account}:secret:{secret}-{attack.hex(6)}"
        denied = attack.rng.random() < 0.25
        attack.call(source, "GetSecretValue", request={"secretId": arn}, response=None,
                    error=access_denied(attack, "secretsmanager:GetSecretValue", arn) if denied else None)


@scenario("ssm-parameter-harvest",
          "All SSM parameters are described and read back decrypted (WithDecryption) in batches.",
          UNSECURED_CREDENTIALS)
def ssm_parameter_harvest(attack: Attack) -> None:
    source = "ssm.amazonaws.com"
    names = list(attack.pool("param"))
    attack.call(source, "DescribeParameters", request=None)
    for i in range(0, len(names), 10):
        attack.wait(0.5, 3)
        attack.call(source, "GetParameters", request={"names": names[i:i + 10], "withDecryption": True})
    attack.wait(1, 5)
    attack.call(source, "GetParameter", request={"name": names[0], "withDecryption": True})


@scenario("ec2-get-password-data",
          "The Windows administrator password of every instance is requested (GetPasswordData).",
          UNSECURED_CREDENTIALS)
def ec2_get_password_data(attack: Attack) -> None:
    attack.call("ec2.amazonaws.com", "DescribeInstances", request={"instancesSet": {}, "filterSet": {}})
    for instance in attack.pool("instance"):
        attack.wait(0.2, 2)
        attack.call("ec2.amazonaws.com", "GetPasswordData", request={"instanceId": instance})

"""Persistence: backdoor users and roles, Lambda functions open to the world, EC2 user data and instances."""
import base64
import json

from cloudtrail_emulator.generators.scenarios.actors import federate
from cloudtrail_emulator.generators.scenarios.base import IAM_CAPABLE, S3_BROWSER_AGENT, Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import (ADDITIONAL_CLOUD_CREDENTIALS, ADDITIONAL_CLOUD_ROLES,
                                             CREATE_CLOUD_ACCOUNT, CREATE_CLOUD_INSTANCE, SERVERLESS_EXECUTION,
                                             UNIX_SHELL, VALID_CLOUD_ACCOUNTS)

IAM = "iam.amazonaws.com"
EC2 = "ec2.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
#: instance types cryptomining intrusions launch (GPU)
#: names attackers give a layer that carries an extension
LAYER_NAMES = ("aws-otel-collector", "datadog-extension", "lambda-insights", "log-shipper")
GPU_TYPES = ("p3.2xlarge", "p3.8xlarge", "g4dn.12xlarge", "g5.12xlarge", "p2.xlarge")


def _create_user(attack: Attack, name: str) -> None:
    attack.call(IAM, "CreateUser", request={"userName": name},
                response={"user": {"path": "/", "userName": name, "userId": "AIDA" + attack.hex(17).upper(),
                                   "arn": f"arn:aws:iam::{attack.account}:user/{name}",
                                   "createDate": attack.ctime()}})


def _create_key(attack: Attack, name: str) -> None:
    attack.call(IAM, "CreateAccessKey", request={"userName": name},
                response={"accessKey": {"accessKeyId": "AKIA" + attack.hex(16).upper(), "status": "Active",
                                        "userName": name, "createDate": attack.ctime()}})


def _trust(principal: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


@scenario("backdoor-iam-user",
          "A new IAM user with an access key and AdministratorAccess, named like a service account.",
          CREATE_CLOUD_ACCOUNT, ADDITIONAL_CLOUD_CREDENTIALS, actors=IAM_CAPABLE,
          stratus="aws.persistence.iam-create-admin-user")
def backdoor_iam_user(attack: Attack) -> None:
    name = attack.rng.choice(("svc-backup", "support-sync", "aws-config-reader", "ops-monitor"))
    _create_user(attack, name)
    attack.wait(2, 10)
    attack.call(IAM, "AttachUserPolicy", request={"userName": name, "policyArn": ADMIN}, response=None)
    attack.wait(2, 10)
    attack.uses(ADDITIONAL_CLOUD_CREDENTIALS)
    _create_key(attack, name)


@scenario("s3-browser-iam-backdoor",
          "The S3 Browser client creates a user, a console password and an access key (a pattern seen "
          "after leaked keys).",
          CREATE_CLOUD_ACCOUNT, ADDITIONAL_CLOUD_CREDENTIALS, VALID_CLOUD_ACCOUNTS, actors=("user",))
def s3_browser_iam_backdoor(attack: Attack) -> None:
    attack.agent = S3_BROWSER_AGENT
    name = attack.rng.choice(("s3-backup", "ses-smtp-user", "cloud-admin"))
    _create_user(attack, name)
    attack.wait(1, 5)
    attack.uses(ADDITIONAL_CLOUD_CREDENTIALS)
    attack.call(IAM, "CreateLoginProfile", request={"userName": name, "passwordResetRequired": False},
                response={"loginProfile": {"userName": name, "createDate": attack.ctime(),
                                           "passwordResetRequired": False}})
    attack.wait(1, 5)
    _create_key(attack, name)


@scenario("backdoor-role-external-trust",
          "A role trusting an outside account is created and given AdministratorAccess.",
          ADDITIONAL_CLOUD_ROLES, actors=IAM_CAPABLE, stratus="aws.persistence.iam-create-backdoor-role")
def backdoor_role_external_trust(attack: Attack) -> None:
    name = attack.rng.choice(("OrganizationAuditRole", "SupportAccessRole", "BackupCrossAccount"))
    trust = _trust({"AWS": f"arn:aws:iam::{attack.foreign_account()}:root"})
    attack.call(IAM, "CreateRole", request={"path": "/", "roleName": name, "assumeRolePolicyDocument": trust},
                response={"role": {"path": "/", "roleName": name, "roleId": "AROA" + attack.hex(17).upper(),
                                   "arn": f"arn:aws:iam::{attack.account}:role/{name}",
                                   "createDate": attack.ctime(), "assumeRolePolicyDocument": trust}})
    attack.wait(2, 10)
    attack.call(IAM, "AttachRolePolicy", request={"roleName": name, "policyArn": ADMIN}, response=None)


@scenario("update-assume-role-policy",
          "An existing role's trust policy is rewritten to also trust an outside account.",
          ADDITIONAL_CLOUD_ROLES, actors=IAM_CAPABLE, stratus="aws.persistence.iam-backdoor-role")
def update_assume_role_policy(attack: Attack) -> None:
    role = attack.pick("role")
    attack.call(IAM, "GetRole", request={"roleName": role})
    attack.wait(5, 30)
    trust = _trust({"AWS": f"arn:aws:iam::{attack.foreign_account()}:root", "Service": "ec2.amazonaws.com"})
    attack.call(IAM, "UpdateAssumeRolePolicy", request={"roleName": role, "policyDocument": trust}, response=None)


@scenario("lambda-backdoor-function",
          "A Lambda function running with a privileged role is created, opened to any principal and "
          "given a public function URL.",
          SERVERLESS_EXECUTION, ADDITIONAL_CLOUD_ROLES, stratus="aws.persistence.lambda-backdoor-function")
def lambda_backdoor_function(attack: Attack) -> None:
    name = f"log-rotate-{attack.hex(6)}"
    arn = f"arn:aws:lambda:{attack.region}:{attack.account}:function:{name}"
    role = f"arn:aws:iam::{attack.account}:role/{attack.pick('role')}"
    attack.call(LAMBDA, "CreateFunction20150331",
                request={"functionName": name, "runtime": "python3.12", "role": role,
                         "handler": "index.handler", "code": {}, "timeout": 30, "publish": True},
                response={"functionName": name, "functionArn": arn, "runtime": "python3.12", "role": role,
                          "handler": "index.handler", "codeSize": attack.rng.randint(600, 2400),
                          "description": "", "timeout": 30, "memorySize": 128,
                          "lastModified": attack.now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                          "codeSha256": base64.b64encode(attack.rng.randbytes(32)).decode(),
                          "version": "1", "state": "Pending", "stateReason": "The function is being created.",
                          "stateReasonCode": "Creating", "packageType": "Zip", "architectures": ["x86_64"]})
    attack.wait(3, 15)
    attack.uses(ADDITIONAL_CLOUD_ROLES)
    sid = f"public-{attack.hex(6)}"
    statement = json.dumps({"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
                            "Resource": arn})
    attack.call(LAMBDA, "AddPermission20150331v2",
                request={"functionName": name, "statementId": sid, "action": "lambda:InvokeFunction",
                         "principal": "*"},
                response={"statement": statement})
    attack.wait(2, 10)
    attack.call(LAMBDA, "CreateFunctionUrlConfig", like=(LAMBDA, "CreateFunction20150331"),
                request={"functionName": name, "authType": "NONE"},
                response={"functionUrl": f"https://{attack.hex(32)}.lambda-url.{attack.region}.on.aws/",
                          "functionArn": arn, "authType": "NONE",
                          "creationTime": attack.now.strftime("%Y-%m-%dT%H:%M:%S.000000Z")})


@scenario("ec2-userdata-backdoor",
          "An instance is stopped, its user data replaced by a reverse-shell script, and started again.",
          UNIX_SHELL, stratus="aws.execution.ec2-user-data")
def ec2_userdata_backdoor(attack: Attack) -> None:
    instance = attack.pick("instance")
    items = {"items": [{"instanceId": instance}]}
    attack.call(EC2, "StopInstances", request={"instancesSet": items, "force": False})
    attack.wait(60, 180)
    # the CLI's --attribute userData --value form, or the SDKs' UserData={"Value": ...}
    request = ({"instanceId": instance, "attribute": "userData", "value": "<sensitiveDataRemoved>"} if attack.cli
               else {"instanceId": instance, "userData": "<sensitiveDataRemoved>"})
    attack.call(EC2, "ModifyInstanceAttribute", request=request,
                response={"requestId": attack.uuid(), "_return": True})
    attack.wait(5, 30)
    attack.call(EC2, "StartInstances", request={"instancesSet": items})


@scenario("ec2-attacker-instance",
          "The attacker imports an SSH key, opens SSH to the world and launches GPU instances (mining) "
          "with an instance profile.",
          CREATE_CLOUD_INSTANCE, stratus="aws.execution.ec2-launch-unusual-instances")
def ec2_attacker_instance(attack: Attack) -> None:
    key = f"kp-{attack.hex(8)}"
    attack.call(EC2, "ImportKeyPair", request={"keyName": key, "publicKeyMaterial": "<sensitiveDataRemoved>"},
                response={"requestId": attack.uuid(), "keyName": key, "keyPairId": "key-" + attack.hex(17),
                          "keyFingerprint": ":".join(attack.hex(2) for _ in range(16))})
    attack.wait(5, 30)
    group = attack.pick("sg")
    attack.call(EC2, "AuthorizeSecurityGroupIngress",
                request={"groupId": group, "ipPermissions": {"items": [
                    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
                     "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}},
                response={"requestId": attack.uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                    {"groupOwnerId": attack.account, "groupId": group, "securityGroupRuleId": "sgr-" + attack.hex(17),
                     "isEgress": False, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                     "cidrIpv4": "0.0.0.0/0"}]}})
    attack.wait(5, 30)
    count = attack.rng.randint(1, 8)
    attack.call(EC2, "RunInstances", request={
        "instancesSet": {"items": [{"imageId": attack.pick("ami"), "minCount": count, "maxCount": count,
                                   "keyName": key}]},
        "groupSet": {"items": [{"groupId": group}]}, "instanceType": attack.rng.choice(GPU_TYPES),
        "blockDeviceMapping": {},
        "monitoring": {"enabled": False}, "disableApiTermination": False, "disableApiStop": False,
        "clientToken": attack.uuid(),
        "iamInstanceProfile": {"name": attack.pick("profile")}})


@scenario("lambda-layer-extension",
          "A layer from the attacker's account (a Lambda extension that sees every invocation) is added to a "
          "function: aws lambda update-function-configuration --layers.",
          SERVERLESS_EXECUTION, stratus="aws.persistence.lambda-layer-extension")
def lambda_layer_extension(attack: Attack) -> None:
    name = attack.pick("function")
    arn = f"arn:aws:lambda:{attack.region}:{attack.account}:function:{name}"
    role = f"arn:aws:iam::{attack.account}:role/{attack.pick('role')}"
    attack.call(LAMBDA, "ListFunctions20150331", request=None)
    attack.wait(5, 40)
    attack.call(LAMBDA, "GetFunction20150331v2", request={"functionName": name})
    attack.wait(10, 90)
    layer = f"arn:aws:lambda:{attack.region}:{attack.foreign_account()}:layer:{attack.rng.choice(LAYER_NAMES)}:" \
            f"{attack.rng.randint(1, 9)}"
    size = attack.rng.randint(900, 40000)
    attack.call(LAMBDA, "UpdateFunctionConfiguration20150331v2", request={"functionName": name, "layers": [layer]},
                response={"functionName": name, "functionArn": arn, "runtime": "python3.12", "role": role,
                          "handler": "app.handler", "codeSize": size, "description": "",
                          "timeout": 30, "memorySize": 256,
                          "lastModified": attack.now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                          "codeSha256": base64.b64encode(attack.rng.randbytes(32)).decode(), "version": "$LATEST",
                          "layers": [{"arn": layer, "codeSize": attack.rng.randint(1500, 9000)}],
                          "state": "Active", "lastUpdateStatus": "InProgress",
                          "lastUpdateStatusReason": "The function is being created.",
                          "lastUpdateStatusReasonCode": "Creating", "revisionId": attack.uuid(),
                          "packageType": "Zip", "architectures": ["x86_64"]})


@scenario("sts-federation-token",
          "The stolen user key gets a federation token with an allow-all policy, credentials that outlive the "
          "key's deactivation, and checks them.",
          ADDITIONAL_CLOUD_CREDENTIALS, actors=("user",), stratus="aws.persistence.sts-federation-token")
def sts_federation_token(attack: Attack) -> None:
    federate(attack, attack.rng.choice(("admin", "backup", attack.principal.username or "user")))
    attack.wait(1, 5)
    attack.call("sts.amazonaws.com", "GetCallerIdentity", request=None)

"""Privilege escalation through IAM: admin policies, keys and passwords for other users, inline policies."""
import json

from cloudtrail_emulator.generators.scenarios.base import IAM_CAPABLE, Attack, access_denied, scenario
from cloudtrail_emulator.generators.scenarios.techniques import ADDITIONAL_CLOUD_CREDENTIALS, ADDITIONAL_CLOUD_ROLES

IAM = "iam.amazonaws.com"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@scenario("attach-admin-policy-to-user",
          "After a denied try on a group, the key attaches AdministratorAccess to its own IAM user.",
          ADDITIONAL_CLOUD_ROLES, actors=("user", "role"))
def attach_admin_policy_to_user(attack: Attack) -> None:
    user = attack.own_user() or attack.other_user()
    group = "admins"
    attack.call(IAM, "AttachGroupPolicy", request={"groupName": group, "policyArn": ADMIN},
                error=access_denied(attack, "iam:AttachGroupPolicy",
                                    f"arn:aws:iam::{attack.account}:group/{group}"))
    attack.wait(5, 40)
    attack.call(IAM, "AttachUserPolicy", request={"userName": user, "policyArn": ADMIN})
    attack.wait(20, 90)
    attack.call(IAM, "ListAttachedUserPolicies", request={"userName": user})


@scenario("attach-admin-policy-to-role",
          "AdministratorAccess is attached to an existing role, which the attacker then assumes.",
          ADDITIONAL_CLOUD_ROLES, actors=IAM_CAPABLE)
def attach_admin_policy_to_role(attack: Attack) -> None:
    role = attack.pick("role")
    attack.call(IAM, "AttachRolePolicy", request={"roleName": role, "policyArn": ADMIN})
    attack.wait(10, 60)
    attack.call("sts.amazonaws.com", "AssumeRole",
                request={"roleArn": f"arn:aws:iam::{attack.account}:role/{role}",
                         "roleSessionName": f"session-{attack.hex(8)}"})


@scenario("create-access-key-for-other-user",
          "The attacker lists another user's keys and creates a new access key for that user.",
          ADDITIONAL_CLOUD_CREDENTIALS, actors=IAM_CAPABLE, stratus="aws.persistence.iam-backdoor-user")
def create_access_key_for_other_user(attack: Attack) -> None:
    victim = attack.other_user()
    attack.call(IAM, "ListAccessKeys", request={"userName": victim})
    attack.wait(3, 30)
    attack.call(IAM, "CreateAccessKey", request={"userName": victim},
                response={"accessKey": {"accessKeyId": "AKIA" + attack.hex(16).upper(), "status": "Active",
                                        "userName": victim, "createDate": attack.ctime()}})


@scenario("create-login-profile-for-other-user",
          "A console password is created for a user who had none, then used to sign in without MFA.",
          ADDITIONAL_CLOUD_CREDENTIALS, actors=IAM_CAPABLE, stratus="aws.persistence.iam-create-user-login-profile")
def create_login_profile_for_other_user(attack: Attack) -> None:
    victim = attack.other_user()
    attack.call(IAM, "GetLoginProfile", request={"userName": victim},
                error=("NoSuchEntityException", f"Login Profile for User {victim} cannot be found."))
    attack.wait(3, 20)
    attack.call(IAM, "CreateLoginProfile", request={"userName": victim, "passwordResetRequired": False},
                response={"loginProfile": {"userName": victim, "createDate": attack.ctime(),
                                           "passwordResetRequired": False}})


@scenario("update-login-profile-for-other-user",
          "Another user's console password is reset by the attacker (UpdateLoginProfile on someone else).",
          ADDITIONAL_CLOUD_CREDENTIALS, actors=IAM_CAPABLE,
          stratus="aws.privilege-escalation.iam-update-user-login-profile")
def update_login_profile_for_other_user(attack: Attack) -> None:
    victim = attack.other_user()
    attack.call(IAM, "GetLoginProfile", request={"userName": victim},
                response={"loginProfile": {"userName": victim, "createDate": attack.ctime(),
                                           "passwordResetRequired": False}})
    attack.wait(3, 20)
    attack.call(IAM, "UpdateLoginProfile", request={"userName": victim, "passwordResetRequired": False},
                response=None)


@scenario("put-user-inline-admin-policy",
          "An inline policy allowing every action on every resource is put on the attacker's user.",
          ADDITIONAL_CLOUD_ROLES, actors=("user", "role"))
def put_user_inline_admin_policy(attack: Attack) -> None:
    user = attack.own_user() or attack.other_user()
    document = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    attack.call(IAM, "PutUserPolicy", request={"userName": user, "policyName": f"sync-{attack.hex(6)}",
                                               "policyDocument": document}, response=None)

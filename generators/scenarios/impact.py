"""Impact: KMS key destruction and ransomware, S3 wiping and ransomware, compute and database destruction."""
from cloudtrail_emulator.generators.scenarios.base import DROP, Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import (CLOUD_ADMIN_COMMAND, CLOUD_STORAGE_DISCOVERY, DATA_DESTRUCTION,
                                             DATA_ENCRYPTED, INHIBIT_RECOVERY)

S3 = "s3.amazonaws.com"
KMS = "kms.amazonaws.com"
EC2 = "ec2.amazonaws.com"


def _s3(attack: Attack, bucket: str, **extra) -> dict:
    return {"bucketName": bucket, "Host": f"{bucket}.s3.{attack.region}.amazonaws.com", **extra}


def _object_resources(attack: Attack, bucket: str, key: str) -> list[dict]:
    return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": attack.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def _suspend_versioning(attack: Attack, bucket: str) -> None:
    attack.uses(INHIBIT_RECOVERY)
    attack.call(S3, "PutBucketVersioning",
                request=_s3(attack, bucket, versioning="", VersioningConfiguration={
                    "Status": "Suspended", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}),
                resources=[{"accountId": attack.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}])


@scenario("kms-key-deletion",
          "Customer managed KMS keys are disabled and scheduled for deletion after the minimum 7 days.",
          DATA_DESTRUCTION)
def kms_key_deletion(attack: Attack) -> None:
    for key in attack.pool("kmskey")[:3]:
        arn = f"arn:aws:kms:{attack.region}:{attack.account}:key/{key}"
        attack.call(KMS, "DisableKey", request={"keyId": key}, response=None,
                    resources=[{"accountId": attack.account, "type": "AWS::KMS::Key", "ARN": arn}])
        attack.wait(1, 8)
        attack.call(KMS, "ScheduleKeyDeletion", request={"keyId": key, "pendingWindowInDays": 7},
                    response={"keyId": arn, "deletionDate": f"{attack.now:%b} {attack.now.day + 0}, "
                              f"{attack.now.year} 12:00:00 AM", "keyState": "PendingDeletion",
                              "pendingWindowInDays": 7},
                    resources=[{"accountId": attack.account, "type": "AWS::KMS::Key", "ARN": arn}])
        attack.wait(1, 8)


@scenario("kms-imported-key-ransomware",
          "A KMS key with imported (attacker-held) key material encrypts data, then the material is deleted.",
          DATA_ENCRYPTED)
def kms_imported_key_ransomware(attack: Attack) -> None:
    key = attack.uuid()
    arn = f"arn:aws:kms:{attack.region}:{attack.account}:key/{key}"
    resources = [{"accountId": attack.account, "type": "AWS::KMS::Key", "ARN": arn}]
    attack.call(KMS, "CreateKey", request={"origin": "EXTERNAL", "keySpec": "SYMMETRIC_DEFAULT",
                                           "keyUsage": "ENCRYPT_DECRYPT"},
                response={"keyMetadata": {"aWSAccountId": attack.account, "keyId": key, "arn": arn,
                                          "creationDate": f"{attack.now:%b} {attack.now.day}, {attack.now.year}, "
                                                          f"{attack.now.hour % 12 or 12}:{attack.now:%M:%S} "
                                                          f"{'AM' if attack.now.hour < 12 else 'PM'}",
                                          "enabled": False, "keyUsage": "ENCRYPT_DECRYPT",
                                          "keyState": "PendingImport", "origin": "EXTERNAL",
                                          "keyManager": "CUSTOMER", "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
                                          "keySpec": "SYMMETRIC_DEFAULT",
                                          "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "multiRegion": False}},
                resources=resources)
    attack.wait(5, 30)
    attack.call(KMS, "GetParametersForImport", request={"keyId": key, "wrappingAlgorithm": "RSAES_OAEP_SHA_256",
                                                        "wrappingKeySpec": "RSA_4096"}, response=None,
                resources=resources)
    attack.wait(5, 30)
    attack.call(KMS, "ImportKeyMaterial", request={"keyId": key, "importToken": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                                   "encryptedKeyMaterial": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                                   "expirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"},
                response=None, resources=resources)
    attack.wait(600, 1800)
    attack.call(KMS, "DeleteImportedKeyMaterial", request={"keyId": key}, response=None, resources=resources)


@scenario("s3-ransomware-foreign-kms",
          "Versioning is suspended, each object is rewritten in place with SSE-KMS under the attacker's "
          "own key (another account), the plaintext copies deleted and a ransom note left.",
          DATA_ENCRYPTED, INHIBIT_RECOVERY, CLOUD_STORAGE_DISCOVERY)
def s3_ransomware_foreign_kms(attack: Attack) -> None:
    bucket = attack.pick("bucket")
    foreign_key = f"arn:aws:kms:{attack.region}:{attack.foreign_account()}:key/{attack.uuid()}"
    attack.uses(CLOUD_STORAGE_DISCOVERY)
    attack.call(S3, "ListObjects", like=(S3, "GetObject"), request=_s3(attack, bucket, prefix="", **{"list-type": "2"}),
                read_only=True, resources=[{"accountId": attack.account, "type": "AWS::S3::Bucket",
                                            "ARN": f"arn:aws:s3:::{bucket}"}])
    attack.wait(2, 10)
    _suspend_versioning(attack, bucket)
    attack.uses(DATA_ENCRYPTED)
    for key in attack.pool("object")[:12]:
        attack.wait(0.2, 2)
        attack.call(S3, "CopyObject",
                    request=_s3(attack, bucket, key=key, **{"x-amz-copy-source": f"{bucket}/{key}",
                                "x-amz-server-side-encryption": "aws:kms",
                                "x-amz-server-side-encryption-aws-kms-key-id": foreign_key,
                                "x-amz-metadata-directive": "REPLACE"}),
                    response={"x-amz-server-side-encryption-aws-kms-key-id": foreign_key,
                              "x-amz-server-side-encryption": "aws:kms"},
                    resources=_object_resources(attack, bucket, key))
    attack.wait(1, 5)
    note = "README-RECOVER-FILES.txt"
    attack.call(S3, "PutObject", like=(S3, "GetObject"), request=_s3(attack, bucket, key=note), read_only=False,
                resources=_object_resources(attack, bucket, note))


@scenario("s3-mass-deletion",
          "Versioning is suspended, a bucket's objects are deleted in DeleteObjects batches, then the bucket.",
          DATA_DESTRUCTION, INHIBIT_RECOVERY, stratus="aws.impact.s3-ransomware-batch-deletion")
def s3_mass_deletion(attack: Attack) -> None:
    bucket = attack.pick("bucket")
    _suspend_versioning(attack, bucket)
    attack.uses(DATA_DESTRUCTION)
    for _ in range(attack.rng.randint(3, 6)):
        attack.wait(0.5, 3)
        attack.call(S3, "DeleteObjects", like=(S3, "DeleteObject"), request=_s3(attack, bucket, delete=""),
                    resources=[{"accountId": attack.account, "type": "AWS::S3::Bucket",
                                "ARN": f"arn:aws:s3:::{bucket}"}])
    attack.wait(2, 10)
    attack.call(S3, "DeleteBucket", request=_s3(attack, bucket),
                resources=[{"accountId": attack.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}])


@scenario("destroy-compute-and-databases",
          "Instances are terminated, a database deleted without a final snapshot, and an EFS file system "
          "removed with its mount target.",
          DATA_DESTRUCTION)
def destroy_compute_and_databases(attack: Attack) -> None:
    instances = list(attack.pool("instance")[:4])
    attack.call(EC2, "TerminateInstances",
                request={"instancesSet": {"items": [{"instanceId": i} for i in instances]}},
                response={"requestId": attack.uuid(), "instancesSet": {"items": [
                    {"instanceId": i, "currentState": {"code": 32, "name": "shutting-down"},
                     "previousState": {"code": 16, "name": "running"}} for i in instances]}})
    attack.wait(5, 30)
    db = attack.pick("db")
    attack.call("rds.amazonaws.com", "DeleteDBInstance",
                request={"dBInstanceIdentifier": db, "skipFinalSnapshot": True, "deleteAutomatedBackups": True})
    attack.wait(5, 30)
    file_system = f"fs-{attack.hex(17)}"
    attack.call("elasticfilesystem.amazonaws.com", "DeleteMountTarget",
                like=("elasticfilesystem.amazonaws.com", "DeleteFileSystem"),
                request={"mountTargetId": f"fsmt-{attack.hex(17)}"}, response=None, additional=DROP)
    attack.wait(30, 120)
    attack.call("elasticfilesystem.amazonaws.com", "DeleteFileSystem", request={"fileSystemId": file_system},
                response=None)


@scenario("ssm-send-command",
          "Run Command executes a shell script on several instances through SSM SendCommand.",
          CLOUD_ADMIN_COMMAND, stratus="aws.execution.ssm-send-command")
def ssm_send_command(attack: Attack) -> None:
    instances = list(attack.pool("instance")[:3])
    attack.call("ssm.amazonaws.com", "DescribeInstanceInformation", request={})
    attack.wait(3, 20)
    attack.call("ssm.amazonaws.com", "SendCommand",
                request={"instanceIds": instances, "documentName": "AWS-RunShellScript", "interactive": False,
                         "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"})

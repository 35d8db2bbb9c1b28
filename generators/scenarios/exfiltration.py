"""Exfiltration: buckets, EBS snapshots, AMIs and RDS snapshots shared with an outside account."""
from cloudtrail_emulator.generators.scenarios.base import Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import TRANSFER_TO_CLOUD_ACCOUNT

S3 = "s3.amazonaws.com"
EC2 = "ec2.amazonaws.com"


def _s3(attack: Attack, bucket: str, **extra) -> dict:
    return {"bucketName": bucket, "Host": f"{bucket}.s3.{attack.region}.amazonaws.com", **extra}


@scenario("s3-bucket-exposed",
          "A bucket's public access block is removed, then its policy and ACL grant reads to everyone and "
          "to the attacker's account.",
          TRANSFER_TO_CLOUD_ACCOUNT, stratus="aws.exfiltration.s3-backdoor-bucket-policy")
def s3_bucket_exposed(attack: Attack) -> None:
    bucket = attack.pick("bucket")
    resources = [{"accountId": attack.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    attack.call(S3, "DeleteBucketPublicAccessBlock", like=(S3, "PutBucketPublicAccessBlock"),
                request=_s3(attack, bucket, publicAccessBlock=""), resources=resources)
    attack.wait(2, 10)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{attack.foreign_account()}:root"},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"]},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    attack.call(S3, "PutBucketPolicy", request={"bucketPolicy": policy, **_s3(attack, bucket, policy="")},
                resources=resources)
    attack.wait(2, 10)
    owner = attack.hex(64)
    acl = {"AccessControlPolicy": {"AccessControlList": {"Grant": [
        {"Grantee": {"xsi:type": "CanonicalUser", "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                     "ID": owner}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"xsi:type": "Group", "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                     "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]},
        "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Owner": {"ID": owner}}}
    attack.call(S3, "PutBucketAcl", request=_s3(attack, bucket, acl="", **acl), resources=resources)


@scenario("ebs-snapshot-shared-externally",
          "A volume is snapshotted and the snapshot's createVolumePermission given to an outside account.",
          TRANSFER_TO_CLOUD_ACCOUNT, stratus="aws.exfiltration.ec2-share-ebs-snapshot")
def ebs_snapshot_shared_externally(attack: Attack) -> None:
    snapshot = f"snap-{attack.hex(17)}"
    volume = attack.pick("vol")
    attack.call(EC2, "CreateSnapshot", request={"volumeId": volume, "description": "backup"},
                response={"requestId": attack.uuid(), "snapshotId": snapshot, "volumeId": volume,
                          "status": "pending", "startTime": int(attack.now.timestamp() * 1000),
                          "progress": "", "ownerId": attack.account, "volumeSize": 100,
                          "description": "backup", "encrypted": False})
    attack.wait(120, 600)
    attack.call(EC2, "ModifySnapshotAttribute",
                request={"snapshotId": snapshot, "createVolumePermission": {"add": {"items": [
                    {"userId": attack.foreign_account()}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"},
                response={"requestId": attack.uuid(), "_return": True})


@scenario("ami-shared-externally",
          "An image of a running instance is created and its launch permission given to an outside account.",
          TRANSFER_TO_CLOUD_ACCOUNT, stratus="aws.exfiltration.ec2-share-ami")
def ami_shared_externally(attack: Attack) -> None:
    image = f"ami-{attack.hex(17)}"
    attack.call(EC2, "CreateImage", request={"instanceId": attack.pick("instance"), "name": f"img-{attack.hex(6)}",
                                             "noReboot": True},
                response={"requestId": attack.uuid(), "imageId": image})
    attack.wait(300, 900)
    attack.call(EC2, "ModifyImageAttribute",
                request={"imageId": image, "launchPermission": {"add": {"items": [
                    {"userId": attack.foreign_account()}]}}, "attributeType": "launchPermission"},
                response={"requestId": attack.uuid(), "_return": True})


@scenario("rds-snapshot-shared-externally",
          "A manual DB snapshot is taken and its restore attribute opened to an outside account.",
          TRANSFER_TO_CLOUD_ACCOUNT, stratus="aws.exfiltration.rds-share-snapshot")
def rds_snapshot_shared_externally(attack: Attack) -> None:
    db = attack.pick("db")
    snapshot = f"{db}-export-{attack.hex(4)}"
    attack.call("rds.amazonaws.com", "CreateDBSnapshot",
                request={"dBSnapshotIdentifier": snapshot, "dBInstanceIdentifier": db})
    attack.wait(300, 1200)
    foreign = attack.foreign_account()
    attack.call("rds.amazonaws.com", "ModifyDBSnapshotAttribute",
                request={"dBSnapshotIdentifier": snapshot, "attributeName": "restore", "valuesToAdd": [foreign]},
                response={"dBSnapshotIdentifier": snapshot, "dBSnapshotAttributes": [
                    {"attributeName": "restore", "attributeValues": [foreign]}]})

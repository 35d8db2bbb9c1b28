"""Object stores: a directory of plain files (LocalStore) and any S3 endpoint (S3Store).

`base` holds the ObjectStore interface, StoredObject and the errors; `names` S3's naming rules;
`local` and `s3` the two stores; `targets` open_target and BucketRouter. Import from here.
"""
from cloudtrail_emulator.generators.stores.base import (BucketNotEmpty, InvalidBucketName, NoSuchBucket, NoSuchKey,
                                                        ObjectStore, StoredObject)
from cloudtrail_emulator.generators.stores.local import LocalStore
from cloudtrail_emulator.generators.stores.names import (DEFAULT_BUCKET, INTERNAL_DIR, check_bucket_name, check_key,
                                                         clean_metadata, sidecar_dir)
from cloudtrail_emulator.generators.stores.s3 import Credentials, S3Store
from cloudtrail_emulator.generators.stores.targets import (BucketRouter, local_directory, open_source, open_target,
                                                          target_location)

__all__ = [
    "BucketNotEmpty", "BucketRouter", "Credentials", "DEFAULT_BUCKET", "INTERNAL_DIR", "InvalidBucketName",
    "LocalStore", "NoSuchBucket", "NoSuchKey", "ObjectStore", "S3Store", "StoredObject", "check_bucket_name",
    "check_key", "clean_metadata", "local_directory", "open_source", "open_target", "sidecar_dir",
    "target_location",
]

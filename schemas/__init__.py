"""JSON Schemas of a CloudTrail record, log file and digest file."""

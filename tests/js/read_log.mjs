// Read delivered CloudTrail log files through @aws-sdk/client-s3: list, GetObject, gunzip, parse.
// node read_log.mjs <endpoint> <bucket>
import { gunzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { args, emit, s3 } from "./common.mjs";

const [bucket] = args;
const keys = [];
let token;
do {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "AWSLogs/", ContinuationToken: token }));
  keys.push(...(page.Contents ?? []).map((o) => o.Key));
  token = page.NextContinuationToken;
} while (token);
const logs = [];
for (const key of keys.filter((k) => k.includes("/CloudTrail/") && k.endsWith(".json.gz"))) {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = gunzipSync(Buffer.from(await object.Body.transformToByteArray()));
  logs.push({ key, contentType: object.ContentType, records: JSON.parse(body.toString("utf-8")).Records });
}
emit({ keys, logs });

// Clients of the AWS SDK for JavaScript v3 pointed at the emulator: `node <script> <endpoint> ...`.
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { S3Client } from "@aws-sdk/client-s3";

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node <script>.mjs <endpoint-url> [args...]");
  process.exit(2);
}
const options = {
  endpoint,
  region: "us-east-1",
  maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "testing", secretAccessKey: "testing" },
};

export const args = process.argv.slice(3);
export const cloudtrail = new CloudTrailClient(options);
export const s3 = new S3Client({ ...options, forcePathStyle: true });

/** Print `value` as one JSON document (dates as ISO strings, the SDK's $metadata dropped). */
export function emit(value) {
  const clean = JSON.stringify(value, (key, v) => (key === "$metadata" ? undefined : v));
  process.stdout.write(clean + "\n");
}

/** The error's name and message, for a call expected to fail. */
export async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return { name: error.name, message: error.message, status: error.$metadata?.httpStatusCode };
  }
}

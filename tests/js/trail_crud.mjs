// Trail CRUD, logging, selectors and public keys through @aws-sdk/client-cloudtrail.
// node trail_crud.mjs <endpoint> <trail-name> <bucket>
import {
  CreateTrailCommand, DeleteTrailCommand, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailCommand,
  GetTrailStatusCommand, ListPublicKeysCommand, ListTrailsCommand, PutEventSelectorsCommand, StartLoggingCommand,
  StopLoggingCommand, UpdateTrailCommand,
} from "@aws-sdk/client-cloudtrail";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { args, cloudtrail, emit, failure, s3 } from "./common.mjs";

const [name, bucket] = args;
const out = {};
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
out.created = await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket }));
out.described = await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: [name] }));
out.got = await cloudtrail.send(new GetTrailCommand({ Name: name }));
out.listed = await cloudtrail.send(new ListTrailsCommand({}));
out.updated = await cloudtrail.send(new UpdateTrailCommand({
  Name: name, EnableLogFileValidation: true, IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true,
}));
await cloudtrail.send(new StartLoggingCommand({ Name: name }));
out.statusLogging = await cloudtrail.send(new GetTrailStatusCommand({ Name: name }));
out.putSelectors = await cloudtrail.send(new PutEventSelectorsCommand({
  TrailName: name,
  EventSelectors: [{
    ReadWriteType: "WriteOnly", IncludeManagementEvents: true,
    DataResources: [{ Type: "AWS::S3::Object", Values: [`arn:aws:s3:::${bucket}/`] }],
  }],
}));
out.selectors = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: name }));
out.putAdvanced = await cloudtrail.send(new PutEventSelectorsCommand({
  TrailName: name,
  AdvancedEventSelectors: [
    { Name: "management writes", FieldSelectors: [
      { Field: "eventCategory", Equals: ["Management"] }, { Field: "readOnly", Equals: ["false"] }] },
    { Name: "s3 objects", FieldSelectors: [
      { Field: "eventCategory", Equals: ["Data"] }, { Field: "resources.type", Equals: ["AWS::S3::Object"] }] },
  ],
}));
out.advanced = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: name }));
await cloudtrail.send(new StopLoggingCommand({ Name: name }));
out.statusStopped = await cloudtrail.send(new GetTrailStatusCommand({ Name: name }));
const now = new Date();
out.publicKeys = await cloudtrail.send(new ListPublicKeysCommand({
  StartTime: new Date(now.getTime() - 3600 * 1000), EndTime: now,
}));
await cloudtrail.send(new DeleteTrailCommand({ Name: name }));
out.afterDelete = await failure(cloudtrail.send(new GetTrailCommand({ Name: name })));
emit(out);

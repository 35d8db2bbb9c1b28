// LookupEvents with a LookupAttributes filter, page by page through paginateLookupEvents.
// node lookup.mjs <endpoint> <event-name> <page-size>
import { LookupEventsCommand, paginateLookupEvents } from "@aws-sdk/client-cloudtrail";
import { args, cloudtrail, emit } from "./common.mjs";

const [eventName, pageSize] = args;
const filter = () => ({ LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: eventName }] });
const pages = [];
for await (const page of paginateLookupEvents({ client: cloudtrail, pageSize: Number(pageSize) }, filter())) {
  pages.push(page.Events.map((e) => ({
    EventId: e.EventId, EventName: e.EventName, EventSource: e.EventSource, EventTime: e.EventTime,
    Username: e.Username, record: JSON.parse(e.CloudTrailEvent),
  })));
}
const single = await cloudtrail.send(new LookupEventsCommand({ ...filter(), MaxResults: 1 }));
emit({ pages, firstIsDate: single.Events[0]?.EventTime instanceof Date, hasNextToken: Boolean(single.NextToken) });

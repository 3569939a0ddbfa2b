// Parse each .ics file given on the command line with ical.js (the parser Thunderbird uses)
// and print one JSON object per file: what ical.js understood, or why it refused.
// Run by tests/invites/test_parsers.py; installed by `make tools`.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function check(path) {
  const text = readFileSync(path, "utf8");
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(zone));
  }
  const vevent = calendar.getFirstSubcomponent("vevent");
  if (!vevent) throw new Error("no VEVENT");
  const event = new ICAL.Event(vevent);
  if (!event.uid) throw new Error("no UID");
  if (!event.startDate) throw new Error("no DTSTART");
  if (!vevent.getFirstPropertyValue("dtstamp")) throw new Error("no DTSTAMP");
  const tzid = vevent.getFirstProperty("dtstart").getParameter("tzid") || null;
  return {
    method: calendar.getFirstPropertyValue("method"),
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    tzid,
    // The wall-clock start in the event's own zone, and the absolute moment.
    local: event.startDate.toString(),
    utc: event.startDate.toJSDate().toISOString(),
    attendees: event.attendees.map((a) => a.getFirstValue()),
    organizer: vevent.getFirstPropertyValue("organizer"),
    timezones: calendar.getAllSubcomponents("vtimezone").map((z) => z.getFirstPropertyValue("tzid")),
  };
}

const results = process.argv.slice(2).map((path) => {
  try {
    return { path, ok: true, ...check(path) };
  } catch (error) {
    return { path, ok: false, error: String(error && error.message ? error.message : error) };
  }
});
process.stdout.write(JSON.stringify(results));

// Parse .ics files with Mozilla ical.js (strict design) and print what a client would see, as JSON.
// Usage: node tests/js/parse.mjs FILE...   Exit status 1, naming the file, on any error.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const MAX_OCCURRENCES = 1000;
const out = {};
for (const file of process.argv.slice(2)) {
  try {
    const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
    if (root.name !== "vcalendar") throw new Error(`top component is ${root.name}`);
    ICAL.TimezoneService.reset();
    const zones = {};
    for (const vtz of root.getAllSubcomponents("vtimezone")) {
      const tz = new ICAL.Timezone(vtz);
      ICAL.TimezoneService.register(tz, tz.tzid);
      zones[tz.tzid] = true;
    }
    const events = [];
    for (const vevent of root.getAllSubcomponents("vevent")) {
      const ev = new ICAL.Event(vevent);
      const start = vevent.getFirstProperty("dtstart");
      const tzid = start.getParameter("tzid") || null;
      if (tzid && !zones[tzid]) throw new Error(`${ev.uid}: TZID ${tzid} has no VTIMEZONE`);
      if (tzid && ev.startDate.zone.tzid !== tzid) throw new Error(`${ev.uid}: start is not in ${tzid}`);
      const when = (t) => (t.isDate ? t.toString() : t.toJSDate().toISOString());
      const occurrences = [];
      const it = ev.iterator();
      for (let next = it.next(); next && occurrences.length < MAX_OCCURRENCES; next = it.next()) {
        occurrences.push(when(next));
      }
      events.push({
        uid: ev.uid,
        summary: ev.summary,
        description: ev.description,
        location: ev.location,
        status: vevent.getFirstPropertyValue("status"),
        sequence: ev.sequence,
        categories: vevent.getAllProperties("categories").flatMap((p) => p.getValues()),
        tzid,
        allDay: ev.startDate.isDate,
        start: when(ev.startDate),
        end: when(ev.endDate),
        recurring: ev.isRecurring(),
        occurrences,
        properties: vevent.getAllProperties().map((p) => p.name),
      });
    }
    out[file] = {
      name: root.getFirstPropertyValue("x-wr-calname"),
      timezone: root.getFirstPropertyValue("x-wr-timezone"),
      zones: Object.keys(zones),
      components: root.getAllSubcomponents().map((c) => c.name),
      events,
    };
  } catch (err) {
    process.stderr.write(`${file}: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  }
}
process.stdout.write(JSON.stringify(out));

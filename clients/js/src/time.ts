// The event time the tracker stamps: "YYYY-MM-DD hh:mm:ss.sss" in UTC, the text form a
// DateTime64(3) column reads.

/** Formats epoch milliseconds (or a Date) as "YYYY-MM-DD hh:mm:ss.sss", UTC. */
export function formatEventTime(time: number | Date): string {
  const d = typeof time === 'number' ? new Date(time) : time;
  // toISOString() is "YYYY-MM-DDThh:mm:ss.sssZ" for years 0 to 9999.
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

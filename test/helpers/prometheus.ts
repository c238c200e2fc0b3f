/** Reading Prometheus text format as a scrape would, for the tests of /metrics. */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric in Prometheus text format. */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, label = '', value = ''] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label] = value;
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the sample whose labels include `labels`; undefined when there is none. */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((candidate) => Object.entries(labels).every(([label, value]) => candidate.labels[label] === value))?.value;
}

/** The metric families a scrape declares (its `# TYPE` lines), whether or not they have samples yet. */
export function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] ?? '');
}

// `npm run report -- FILE.json`: the README's GPU tables from a results file (bench/report-tables.ts).
import { readFileSync } from 'node:fs';
import { parseResultsFile } from '../src/index.js';
import { report } from './report-tables.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npm run report -- RESULTS.json\n');
  process.exit(2);
}
const parsed = parseResultsFile(readFileSync(file, 'utf8'));
const c = parsed.context;
process.stdout.write(`Results of ${c.date} on ${c.adapter.vendor} ${c.adapter.device || c.adapter.description} (${c.runtime}; commit ${c.gitCommit ?? '?'})\n${c.notes.map((n) => `- ${n}`).join('\n')}\n\n${report(parsed.results, c.limits)}\n`);

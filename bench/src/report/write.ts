// Writes a run to `<dir>/<timestamp>.{json,md}` and `<dir>/latest.{json,md}`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toMarkdown } from './markdown.ts';
import type { BenchReport } from './types.ts';

export async function writeReport(dir: string, report: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stamp = report.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const markdown = toMarkdown(report);
  const files = [
    [join(dir, `${stamp}.json`), json],
    [join(dir, 'latest.json'), json],
    [join(dir, `${stamp}.md`), markdown],
    [join(dir, 'latest.md'), markdown],
  ] as const;
  for (const [file, text] of files) await writeFile(file, text);
  return files.map(([file]) => file);
}

// Test support: Debian's Chromium driven by playwright-core, axe-core on each page, and
// screenshots kept as artifacts under web/.test-results/screenshots/.
import assert from 'node:assert/strict';
import { access, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's `chromium` package (deploy/scripts/apt-test.txt); `TELLY_CHROMIUM` overrides. */
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
export const SCREENSHOTS_DIR = fileURLToPath(new URL('../../.test-results/screenshots/', import.meta.url));

export async function chromiumPath(): Promise<string> {
  const candidates = process.env.TELLY_CHROMIUM ? [process.env.TELLY_CHROMIUM] : CHROMIUM_PATHS;
  for (const path of candidates) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  throw new Error(
    `no Chromium at ${candidates.join(' or ')}: run deploy/scripts/setup.sh test (Debian package chromium)`,
  );
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await chromiumPath(),
    // as root (CI, containers) Chromium's sandbox cannot start
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules, and best practices) on the page as it is, and fails
 * with each violation named. It is evaluated over the DevTools protocol, which the page's CSP
 * does not govern, so the page keeps its real policy.
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(`${await axeSource}\n;void 0`);
  const violations = (await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }
    ).axe;
    const result = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
    });
    return result.violations;
  })) as AxeViolation[];
  assert.deepEqual(
    violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
    [],
    `accessibility violations on ${what}`,
  );
}

/** A full-page screenshot kept as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  const path = `${SCREENSHOTS_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true, timeout: 10_000 });
  return path;
}

/** Collects what the page reports as errors (CSP violations, uncaught exceptions). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(msg.text()))
      errors.push(msg.text());
  });
  return errors;
}

/**
 * On a thing's history page: picks `range` in the range picker and resolves with the
 * milliseconds until the first animation frame after `charts` charts drew it (each with more
 * than `minPoints` points). For the benchmark (bench/src/scenarios/dashboard-chart.ts).
 */
export function timeHistoryRange(
  page: Page,
  range: string,
  charts: number,
  minPoints: number,
): Promise<number> {
  return page.evaluate(
    async ({ range, charts, minPoints }) => {
      const select = document.querySelector<HTMLSelectElement>('[data-testid="range"]');
      if (!select) throw new Error('no range picker on the page');
      const started = performance.now();
      const startedAt = Date.now();
      select.value = range;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          const drawn = [...document.querySelectorAll<HTMLElement>('figure.chart')].filter(
            (f) => Number(f.dataset.drawnAt) >= startedAt && Number(f.dataset.drawnPoints) > minPoints,
          );
          if (drawn.length === charts) return resolve();
          if (performance.now() - started > 30_000)
            return reject(new Error(`${drawn.length} of ${charts} charts drawn`));
          requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
      return performance.now() - started;
    },
    { range, charts, minPoints },
  );
}

/** Milliseconds for one GraphQL request from the page (fetched and parsed, not drawn). */
export function timeGraphqlInPage(
  page: Page,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<number> {
  return page.evaluate(
    async ({ token, query, variables }) => {
      const started = performance.now();
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return performance.now() - started;
    },
    { token, query, variables },
  );
}

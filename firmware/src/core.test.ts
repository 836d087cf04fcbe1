// The core's unit tests: test/*.cpp with doctest (Debian's doctest-dev), built by the system g++
// with AddressSanitizer and UBSan, one node test per doctest case.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIRMWARE_DIR, make, run } from './build.ts';

interface CaseResult {
  name: string;
  ok: boolean;
  xml: string;
}

function cases(xml: string): CaseResult[] {
  const found: CaseResult[] = [];
  for (const match of xml.matchAll(/<TestCase name="([^"]*)"[\s\S]*?<\/TestCase>/g)) {
    const body = match[0];
    found.push({
      name: match[1]!
        .replaceAll('&quot;', '"')
        .replaceAll('&amp;', '&')
        .replaceAll('&lt;', '<')
        .replaceAll('&gt;', '>'),
      ok: /test_case_success="true"/.test(body),
      xml: body,
    });
  }
  return found;
}

test('the core passes its doctest unit tests', async (t) => {
  await make('unit');
  const result = await run(join(FIRMWARE_DIR, 'build/host/unit-tests'), ['--reporters=xml', '--no-colors']);
  const found = cases(result.stdout);
  assert.ok(
    found.length >= 16,
    `expected the doctest cases in the XML report, got:\n${result.stdout}\n${result.stderr}`,
  );
  for (const c of found) {
    await t.test(c.name, () => {
      assert.ok(c.ok, c.xml);
    });
  }
  // a sanitizer report or a crash ends the binary non-zero, even after the cases it printed
  assert.equal(result.code, 0, result.stderr);
});

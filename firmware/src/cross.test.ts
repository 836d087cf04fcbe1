// The core built for the ESP8266's CPU with Debian's xtensa-lx106 GCC (bare: no libstdc++): it
// compiles with the firmware's flags, its code and static RAM fit the board, and what it needs
// from the system is only libgcc's arithmetic and a few libc string functions — no heap, no
// exceptions, no stdio, no STL.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIRMWARE_DIR, make } from './build.ts';

/** The ESP8266 maps up to 1 MiB of flash for code; the core should be a small part of it. */
const CODE_BUDGET_BYTES = 32 * 1024;
/** Of the ~80 KiB of user RAM, the Arduino core and Wi-Fi take about half. */
const RAM_BUDGET_BYTES = 20 * 1024;

test('the core cross-compiles for the ESP8266 (xtensa-lx106) and fits it', async (t) => {
  await make('xtensa');
  const report = await readFile(join(FIRMWARE_DIR, 'build/xtensa/size.txt'), 'utf8');
  const totals = report.match(/^\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\S+\s+\(TOTALS\)$/m);
  assert.ok(totals, report);
  const [text, data, bss] = totals.slice(1, 4).map(Number) as [number, number, number];
  const device = report.match(/^[0-9a-f]+ ([0-9a-f]+) B telly_device_bytes$/m);
  assert.ok(device, report);
  const deviceBytes = Number.parseInt(device[1]!, 16);
  t.diagnostic(
    `xtensa-lx106 -Os: text ${text} B, data ${data} B, bss ${bss} B; sizeof(Device) ${deviceBytes} B`,
  );
  assert.ok(text > 4096, `the core's code is ${text} B: too small to be the whole core`);
  assert.ok(text <= CODE_BUDGET_BYTES, `the core's code is ${text} B, over ${CODE_BUDGET_BYTES}`);
  assert.ok(data + bss + deviceBytes <= RAM_BUDGET_BYTES, `static RAM ${data + bss + deviceBytes} B`);

  const needed = [...report.matchAll(/^\s+[Uw] (\S+)$/gm)].map((m) => m[1]!);
  assert.ok(needed.includes('memcpy'), report);
  const allowed =
    /^(__[a-z]+[sd]f[23]|__[a-z]+[sd]i3|__fix[a-z]+|__float[a-z]+|__cxa_pure_virtual|mem(cpy|set|cmp)|str(len|cmp|pbrk))$/;
  const foreign = needed.filter((name) => !allowed.test(name));
  assert.deepEqual(
    foreign,
    [],
    `the core needs more than libgcc and libc's string functions: ${foreign.join(', ')}`,
  );
});

test('the core as an Arduino library (make arduino-lib) compiles for the ESP8266 on its own', async () => {
  // what the Arduino IDE or PlatformIO compiles: library.properties, src/TellyCore.h, jsmn.h beside it
  await make('arduino-lib-check');
  const properties = await readFile(
    join(FIRMWARE_DIR, 'build/arduino/libraries/TellyCore/library.properties'),
    'utf8',
  );
  assert.match(properties, /^name=TellyCore$/m);
});

// Debian's Chromium, driven by playwright-core, for the tests of what a browser does. In CI the
// browser is part of the machine (.ci/run installs it): its absence fails the run; elsewhere the
// browser tests are skipped with a warning.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const chromiumPath = '/usr/bin/chromium';

/** Whether the browser tests can run here; in CI, throws when they cannot. */
export function haveChromium(what: string): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI)
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium)`);
  console.warn(`\nSkipping ${what}: ${chromiumPath} is missing (apt-get install -y chromium)\n`);
  return false;
}

/** Headless Chromium, with nothing of its own reaching the network (this machine has none to reach). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

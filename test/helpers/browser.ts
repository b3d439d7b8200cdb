/**
 * A real browser for tests where browsers are the user: Debian's `chromium`, driven by `playwright-core`
 * (which brings no browser of its own). `.ci/run` installs the package; `CHROMIUM_PATH` points elsewhere when
 * needed. One browser per test file is enough: each test takes a fresh context (its own cookies and cache).
 *
 *   const browser = await launchBrowser();
 *   try {
 *     const page = await browser.newPage();
 *     await page.goto(`http://127.0.0.1:${port}/`);
 *   } finally { await browser.close(); }
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const Candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser executable to drive, or `undefined` when none is installed. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return Candidates.find((p) => existsSync(p));
}

/**
 * Launches headless Chromium. Tests run as root in CI, where Chromium refuses its sandbox, hence `--no-sandbox`;
 * `/dev/shm` is small in containers, hence `--disable-dev-shm-usage`. Throws with the fix when no browser is
 * installed, so a missing package fails loudly rather than skipping the browser tests.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error(
      'no Chromium found: install the Debian package `chromium` (`.ci/run` does) or set CHROMIUM_PATH',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

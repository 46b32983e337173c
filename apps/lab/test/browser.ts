import chromium from '@sparticuz/chromium';
import { chromium as playwright } from 'playwright-core';
import type { Browser } from 'playwright-core';

/**
 * Chromium from the npm package @sparticuz/chromium (it arrives with `pnpm install`); no
 * browser download, no apt step. Fails loudly when it cannot start: browser tests never skip.
 */
export async function launchChromium(): Promise<Browser> {
  let executablePath: string;
  try {
    executablePath = await chromium.executablePath();
  } catch (e) {
    throw new Error(`cannot unpack Chromium from @sparticuz/chromium: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    return await playwright.launch({
      executablePath,
      // The package's own flags, plus: no lookups of outside hosts (the page is served on 127.0.0.1).
      args: [...chromium.args, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
      headless: true,
    });
  } catch (e) {
    throw new Error(`Chromium (${executablePath}) did not start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

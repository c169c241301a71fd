/**
 * Firefox ESR, the engine of Tor Browser, driven by puppeteer-core over WebDriver BiDi
 * (Playwright cannot drive a stock Firefox). Tor Browser's security levels are set as the
 * preferences it sets: Safer turns off WebAssembly, the JITs and native regular expressions;
 * Safest also turns off JavaScript. Used by the Firefox browser tests and by bench/, so it
 * uses no jest globals.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

const FIREFOX_CANDIDATES = [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'].filter(Boolean) as string[];
export const FIREFOX = FIREFOX_CANDIDATES.find((p) => fs.existsSync(p));

export type TorLevel = 'standard' | 'safer' | 'safest';

const SAFER_PREFS = {
  'javascript.options.wasm': false,
  'javascript.options.ion': false,
  'javascript.options.baselinejit': false,
  'javascript.options.native_regexp': false,
  'javascript.options.asmjs': false,
};

/** The preferences Tor Browser sets at each security level, as far as Awaaz is concerned. */
export const TOR_LEVEL_PREFS: Record<TorLevel, Record<string, boolean>> = {
  standard: {},
  safer: SAFER_PREFS,
  safest: { ...SAFER_PREFS, 'javascript.enabled': false },
};

/**
 * For test files: throws under CI when Firefox ESR is missing, warns loudly otherwise, and says
 * whether the Firefox tests can run (`const describeInFirefox = firefoxPresent() ? describe : describe.skip`).
 */
export function firefoxPresent(): boolean {
  if (FIREFOX) return true;
  if (process.env.CI)
    throw new Error('Firefox ESR is required for the Tor Browser tests in CI: apt-get install -y firefox-esr (or set FIREFOX_PATH)');
  console.warn(
    '\n!!! FIREFOX TESTS SKIPPED: no Firefox ESR found (apt-get install -y firefox-esr, or set FIREFOX_PATH). CI fails without it. !!!\n',
  );
  return false;
}

/** A fresh Firefox ESR profile at one of Tor Browser's security levels. */
export async function launchFirefox(level: TorLevel): Promise<Browser> {
  if (!FIREFOX) throw new Error('Firefox ESR is not installed (apt-get install -y firefox-esr, or set FIREFOX_PATH)');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir,
    extraPrefsFirefox: {
      ...TOR_LEVEL_PREFS[level],
      // Keep the closed network quiet, as the Chromium flags do.
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
  browser.once('disconnected', () => fs.rmSync(userDataDir, { recursive: true, force: true }));
  return browser;
}

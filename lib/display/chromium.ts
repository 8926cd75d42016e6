// One headless Chromium per process, shared by the plotly renderer and the PDF export.
// It starts on first use and closes itself after a short idle spell, so a CLI process or a
// tslab kernel never stays alive (or leaves a browser behind) because of a figure it drew.
import * as fs from 'fs';
import type { Browser, Page } from 'playwright-core';
import { CrossflowError } from '../errors';

/** The flags every launch uses: no GPU, no sandbox (root in containers), no network chatter. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long an unused browser stays open; short enough that a kernel shuts down cleanly. */
const IDLE_CLOSE_MS = 2000;

export function chromiumPath(): string {
  return process.env.CROSSFLOW_CHROMIUM || '/usr/bin/chromium';
}

let browser: Promise<Browser> | null = null;
let plotlyPage: Promise<Page> | null = null;
let busy = 0;
let idleTimer: NodeJS.Timeout | null = null;

function launch(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new CrossflowError(
      `Chromium not found at ${executablePath}; install it (Debian: apt-get install chromium) or set CROSSFLOW_CHROMIUM to its binary`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // launch() gives each browser a fresh temporary --user-data-dir and deletes it on close.
  // handleSIGINT is off: tslab uses SIGINT to interrupt a cell, which must not kill the browser.
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true, handleSIGINT: false });
}

/**
 * Runs `work` with the shared browser, launching it if needed. The idle-close clock only
 * runs while no work is in flight.
 */
export async function withBrowser<T>(work: (browser: Browser) => Promise<T>): Promise<T> {
  busy++;
  if (idleTimer) {
    clearTimeout(idleTimer);
    idleTimer = null;
  }
  try {
    if (!browser) {
      const launching = launch();
      browser = launching;
      launching.catch(() => {
        if (browser === launching) browser = null;
      });
    }
    return await work(await browser);
  } finally {
    busy--;
    if (busy === 0) idleTimer = setTimeout(() => void closeBrowser(), IDLE_CLOSE_MS);
  }
}

/** Runs `work` on a fresh page that is closed afterwards. */
export function withPage<T>(work: (page: Page) => Promise<T>): Promise<T> {
  return withBrowser(async (b) => {
    const page = await b.newPage();
    try {
      return await work(page);
    } finally {
      await page.close();
    }
  });
}

/**
 * Runs `work` on the page that has plotly.js loaded (from node_modules; parsing it takes
 * seconds, so the page is kept for the browser's lifetime).
 */
export function withPlotlyPage<T>(work: (page: Page) => Promise<T>): Promise<T> {
  return withBrowser(async (b) => {
    if (!plotlyPage) {
      plotlyPage = (async () => {
        const page = await b.newPage();
        await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
        await page.addScriptTag({ path: require.resolve('plotly.js-dist-min') });
        return page;
      })();
      plotlyPage.catch(() => (plotlyPage = null));
    }
    return work(await plotlyPage);
  });
}

/** Closes the shared browser now (it would close itself after IDLE_CLOSE_MS anyway). */
export async function closeBrowser(): Promise<void> {
  if (idleTimer) {
    clearTimeout(idleTimer);
    idleTimer = null;
  }
  const closing = browser;
  browser = null;
  plotlyPage = null;
  if (closing) {
    try {
      await (await closing).close();
    } catch {
      // A browser that failed to launch or already died has nothing left to close.
    }
  }
}

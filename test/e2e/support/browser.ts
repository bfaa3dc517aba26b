/**
 * @module Debian's Chromium driven by playwright-core (no browser download): launch, axe-core checks,
 * screenshots under `.tmp/screenshots/`, and locators by the labels a person reads. When /usr/bin/chromium is
 * absent, `CHROMIUM_MISSING` says so and browser suites skip (CI installs it: .ci/run).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_MISSING = existsSync(CHROMIUM_PATH)
  ? null
  : `skipped: ${CHROMIUM_PATH} is not installed (apt-get install chromium; CI installs it)`;

const root = new URL('../../../', import.meta.url).pathname;
export const SCREENSHOTS = `${root}.tmp/screenshots`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. The script is evaluated through the
 * DevTools protocol, so the page's CSP (no inline scripts) stays in force.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // A string, not a function: this file compiles without the DOM library.
  const violations = await page.evaluate<{ id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[]>(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The control labelled `label` (a required field's label ends with " *"). */
export function field(scope: Page | Locator, label: string): Locator {
  return scope.getByLabel(new RegExp(`^${escapeRegex(label)}(\\s*\\*)?$`));
}

/** Picks `option` in the Mantine Select or MultiSelect labelled `label`. */
export async function choose(page: Page, scope: Page | Locator, label: string, option: string): Promise<void> {
  const input = field(scope, label);
  // A Select that already shows the option would take the click as "deselect".
  if ((await input.inputValue()) === option) return;
  await input.click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** Signs `who` in on the console's login page at `baseUrl` and waits for the Dashboard. */
export async function signInToConsole(page: Page, baseUrl: string, who: { username: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`);
  await field(page, 'Username').fill(who.username);
  await field(page, 'Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}

/** Follows the console navigation link `label` and waits for the page's heading and its first load. */
export async function openConsolePage(page: Page, label: string, heading = label): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await page.getByLabel('Loading').first().waitFor({ state: 'detached' });
}

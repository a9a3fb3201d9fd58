// What every browser script starts with: Debian's Chromium (never a downloaded browser) and a
// page signed in to the web app.
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
}

/** Signs in on `page` from the app's sign-in page; resolves to the organization it opens. */
export async function signIn(page, base, email, password) {
  await page.goto(base);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Issues' }).waitFor();
  return new URL(page.url()).hash.split('/')[2];
}

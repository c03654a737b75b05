// The user's part of a login played by a real browser: headless Chromium (the system's, whose
// path is the `chromium` argument), driven with puppeteer-core. Run by tests/interop/browser.rs:
//
//   node browser.mjs <scenario> '<JSON arguments>'
//
// or, as a command that opens a URL, `node browser.mjs <scenario> <url>` with the arguments in
// BROWSER_MJS_ARGUMENTS.
//
// Scenarios:
// - web-login: the axum-login example (`app`, http or https) through the provider's own pages:
//   signed in, the session cookie as the browser holds it, a reload past the renewal margin, two
//   tabs starting logins at once, logout, and the back button after it.
// - attacks: pages of another site (served here on 127.0.0.1, the app being localhost) that make
//   the browser load a forged callback, post to /logout and /refresh, embed the app, and link to it.
// - mcp-login: the mcp-client example's login URL (the last argument), which the example opens
//   with this script as its `--browser`, completed here up to the example's loopback page.
//
// Each check throws on failure; then every open page is saved as a screenshot (and its URL and
// text) in `out`, so that a red run shows what the browser saw. On success the last line printed
// (and `out`/result.json) is a JSON object of what was measured. BROWSER_DEBUG=1 prints every
// response and navigation of every tab.
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

// Started by an example as its browser command, the arguments come in BROWSER_MJS_ARGUMENTS and
// the URL to open last.
const [scenario, json] = process.argv.slice(2);
const args = JSON.parse(process.env.BROWSER_MJS_ARGUMENTS ?? json ?? '{}');
const USER = 'user_01';
const EMAIL = 'user_01@example.com';

/** The SPKI hash Chromium is told to trust, for the test's own certificate only. */
function spkiHash(certificatePem) {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

async function launch() {
  const flags = ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'];
  // Chromium's sandbox refuses to run as root; containers often run tests as root.
  if (process.getuid?.() === 0) flags.push('--no-sandbox');
  if (args.certificate) {
    flags.push(`--ignore-certificate-errors-spki-list=${spkiHash(readFileSync(args.certificate))}`);
  }
  const browser = await puppeteer.launch({
    executablePath: args.chromium,
    headless: true,
    args: flags,
    protocolTimeout: 20_000,
  });
  // Fail within seconds, well before the test's one-minute limit, with time for the screenshots.
  const patient = async (target) => {
    const page = await target.page();
    page?.setDefaultTimeout(8_000);
    if (process.env.BROWSER_DEBUG) {
      page?.on('framenavigated', (frame) => console.error('navigated', frame.url()));
      page?.on('response', (r) => console.error('response', r.status(), r.url()));
    }
  };
  browser.on('targetcreated', (target) => patient(target).catch(() => {}));
  await Promise.all((await browser.pages()).map((page) => patient({ page: async () => page })));
  return browser;
}

/**
 * Where the page's document is, asked of the document itself: `page.url()` can lag behind a
 * navigation that moved the tab to another renderer process (a redirect to another site).
 */
const here = (page) => page.evaluate(() => location.href);

/** The page's visible text. */
const text = (page) => page.evaluate(() => document.body?.innerText ?? '');

/** Navigates `page` to `url`; the main response's status. */
async function go(page, url) {
  const response = await page.goto(url, { waitUntil: 'load' });
  return response?.status();
}

/** Clicks `selector` and waits for the navigation it starts. */
async function submit(page, selector) {
  // As the user does, who looks at a tab to click in it: a background tab gets no clicks.
  await page.bringToFront();
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  return response?.status();
}

/**
 * The provider's pages, as the user fills them in, from the page `page` shows: the login form
 * (unless the provider remembers the user) and the consent; the status of the page the last
 * redirect lands on.
 */
async function logInAtProvider(page) {
  const start = await here(page);
  assert.ok(start.startsWith(args.issuer), `at the provider's pages: ${start}`);
  let status;
  for (let step = 0; step < 3 && (await here(page)).startsWith(args.issuer); step += 1) {
    if (await page.$('input[name=login]')) {
      await page.type('input[name=login]', USER);
      await page.type('input[name=password]', 'any password');
    }
    status = await submit(page, 'button[type=submit]');
  }
  const end = await here(page);
  assert.ok(!end.startsWith(args.issuer), `still at the provider: ${end}`);
  return status;
}

/** The app's cookies the browser holds, from its own cookie store. */
async function appCookies(browser) {
  const host = new URL(args.app).hostname;
  return (await browser.cookies()).filter((cookie) => cookie.domain === host);
}

/** The one session cookie, checked for the attributes the README promises. */
async function sessionCookie(browser) {
  const cookies = await appCookies(browser);
  const https = args.app.startsWith('https:');
  const name = https ? '__Host-session' : 'session';
  assert.deepEqual(cookies.map((cookie) => cookie.name), [name], 'one session cookie');
  const [cookie] = cookies;
  assert.equal(cookie.httpOnly, true, 'HttpOnly');
  assert.equal(cookie.sameSite, 'Lax', 'SameSite=Lax');
  assert.equal(cookie.secure, https, 'Secure exactly on https');
  assert.equal(cookie.path, '/');
  return cookie;
}

/** The provider's count of the app's client's refresh_token grants. */
async function refreshes() {
  const answer = await fetch(`${args.issuer}/test/refreshes/${args.clientId}`);
  return (await answer.json()).granted;
}

/** The example's /me, read in `page`: claims, token fingerprint, expiry. */
async function me(page) {
  const status = await go(page, `${args.app}/me`);
  const body = await text(page);
  assert.equal(status, 200, body);
  return JSON.parse(body);
}

/** Waits until the access token of `claims` is within the app's renewal margin. */
async function pastMargin(seen) {
  const due = (seen.expires_at - args.refreshMargin) * 1000 + 500;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
}

const signedIn = new RegExp(`Signed in as ${EMAIL} \\(${USER}\\)`);

async function webLogin(browser) {
  const measured = {};
  const [tab] = await browser.pages();
  assert.equal(await go(tab, `${args.app}/`), 200);
  assert.match(await text(tab), /Log in/);

  // The login: the app's session cookie is set on its redirect to the provider (another site), and
  // comes back with the provider's redirect to the callback, a cross-site navigation.
  await submit(tab, 'a[href="/login"]');
  const pending = await sessionCookie(browser);
  assert.equal(await logInAtProvider(tab), 200);
  assert.equal(await here(tab), `${args.app}/`);
  assert.match(await text(tab), signedIn);
  const session = await sessionCookie(browser);
  assert.notEqual(session.value, pending.value, 'a new session ID at login (session fixation)');

  // Reloaded past the renewal margin: renewed once, still signed in.
  const before = await me(tab);
  assert.equal(before.claims.sub, USER);
  const granted = await refreshes();
  await pastMargin(before);
  assert.equal(await go(tab, `${args.app}/`), 200);
  assert.match(await text(tab), signedIn);
  const after = await me(tab);
  assert.notEqual(after.access_token_sha256, before.access_token_sha256, 'a renewed access token');
  assert.ok(after.expires_at > before.expires_at);
  assert.equal(await refreshes(), granted + 1, 'one refresh_token grant');
  measured.renewed = true;

  // Two tabs, each starting a login, as a user does who opened the app twice: the second login
  // replaces the first in the session (the router's documentation), so the first tab's callback is
  // refused as not this login's, and leaves the second to succeed.
  const second = await browser.newPage();
  await go(tab, `${args.app}/login`);
  await go(second, `${args.app}/login`);
  assert.equal(await logInAtProvider(tab), 400, 'the replaced login is refused');
  assert.equal(JSON.parse(await text(tab)).error, 'state_mismatch');
  assert.equal(await logInAtProvider(second), 200, 'the newer login succeeds');
  assert.match(await text(second), signedIn);
  assert.equal(await go(tab, `${args.app}/`), 200);
  assert.match(await text(tab), signedIn, 'both tabs share the session');

  // Logout in one tab ends the session in both.
  await go(tab, `${args.app}/me`);
  await go(tab, `${args.app}/`);
  assert.equal(await submit(tab, 'form[action="/logout"] button'), 200);
  assert.match(await text(tab), /Log in/);
  assert.deepEqual(await appCookies(browser), [], 'the session cookie is gone');
  await second.reload({ waitUntil: 'load' });
  assert.match(await text(second), /Log in/);

  // The back button: the signed-in pages come back from neither the page cache nor the HTTP cache.
  const seen = [];
  for (let step = 0; step < 2; step += 1) {
    await tab.goBack({ waitUntil: 'load' });
    const shown = await text(tab);
    const at = await here(tab);
    seen.push(at);
    assert.doesNotMatch(shown, new RegExp(USER), `back at ${at}: ${shown}`);
  }
  measured.back = seen;
  await second.close();
  return measured;
}

/** A site of the attacker's, on another host name than the app's: the pages `pages` names. */
async function attackerSite(pages) {
  const server = createServer((request, response) => {
    const page = pages[new URL(request.url, 'http://x').pathname];
    response.writeHead(page ? 200 : 404, { 'content-type': 'text/html' });
    response.end(page ?? 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

async function attacks(browser) {
  const app = args.app;
  // A form of the other site's own, which the user is lured into submitting.
  const form = (path) =>
    `<!doctype html><form method=post action="${app}${path}"><input type=hidden name=x value=1>` +
    '<button id=go>Win a prize</button></form>';
  const site = await attackerSite({
    '/logout': form('/logout'),
    '/refresh': form('/refresh'),
    '/forged': `<!doctype html><a id=go href="${app}/callback?code=forged&state=forged">win</a>`,
    '/stateless': `<!doctype html><a id=go href="${app}/callback?code=forged">win</a>`,
    '/embedded': `<!doctype html><img src="${app}/"><iframe src="${app}/me"></iframe>` +
      `<script>fetch("${app}/", {mode: "no-cors", credentials: "include"})` +
      '.finally(() => { document.title = "fetched"; })</script>',
    '/visit': `<!doctype html><a id=go href="${app}/">a link</a>`,
  });
  assert.notEqual(new URL(site.url).hostname, new URL(app).hostname, 'another site');
  try {
    const [tab] = await browser.pages();
    const evil = await browser.newPage();
    const measured = {};

    // A login in progress; another site makes the browser load a forged callback.
    await go(tab, `${app}/login`);
    for (const forged of ['/forged', '/stateless']) {
      await go(evil, `${site.url}${forged}`);
      assert.equal(await submit(evil, '#go'), 400, forged);
      assert.ok(JSON.parse(await text(evil)).error, 'a refusal saying why');
    }
    // The genuine callback still succeeds.
    assert.equal(await logInAtProvider(tab), 200);
    assert.match(await text(tab), signedIn);
    const session = await sessionCookie(browser);

    // Forms of another site posted to /logout and /refresh: refused, the session as it was.
    const granted = await refreshes();
    for (const path of ['/logout', '/refresh']) {
      await go(evil, `${site.url}${path}`);
      assert.equal(await submit(evil, '#go'), 403, path);
      assert.equal(await here(evil), `${app}${path}`);
      assert.equal(JSON.parse(await text(evil)).error, 'cross_site_request', path);
      assert.equal(await go(tab, `${app}/`), 200);
      assert.match(await text(tab), signedIn, `still signed in after ${path}`);
      assert.equal((await sessionCookie(browser)).value, session.value, `${path}: same session`);
    }
    assert.equal(await refreshes(), granted, 'the posted /refresh renewed nothing');

    // Past the renewal margin, another site's image, frame and fetch of the app: the SameSite=Lax
    // cookie stays home, so nothing is renewed for them.
    const seen = await me(tab);
    const left = seen.expires_at - Date.now() / 1000;
    assert.ok(left > args.refreshMargin, `the login's token, not yet renewed: ${left} s left`);
    await pastMargin(seen);
    await go(evil, `${site.url}/embedded`);
    await evil.waitForFunction(() => document.title === 'fetched');
    assert.equal(await refreshes(), granted, 'embedded requests carry no session');
    // A link followed from another site is a visit like any: it renews once, harmlessly.
    assert.equal(await go(evil, `${site.url}/visit`), 200);
    assert.equal(await submit(evil, '#go'), 200);
    assert.match(await text(evil), signedIn);
    assert.equal(await refreshes(), granted + 1, 'one renewal for the visit');
    const after = await me(tab);
    assert.notEqual(after.access_token_sha256, seen.access_token_sha256);
    assert.equal((await sessionCookie(browser)).value, session.value, 'the same session');
    measured.cookie = session.name;
    return measured;
  } finally {
    site.server.close();
  }
}

async function mcpLogin(browser) {
  const url = process.argv.at(-1);
  const redirectUri = new URL(url).searchParams.get('redirect_uri');
  assert.match(redirectUri, /^http:\/\/127\.0\.0\.1:[0-9]+\/callback$/);
  const [tab] = await browser.pages();
  assert.equal(await go(tab, url), 200);
  assert.equal(await logInAtProvider(tab), 200);
  const back = await here(tab);
  assert.ok(back.startsWith(redirectUri), `back on the loopback: ${back}`);
  const shown = await text(tab);
  assert.match(shown, /Logged in/);
  return { page: shown.trim() };
}

const scenarios = { 'web-login': webLogin, attacks, 'mcp-login': mcpLogin };

/** Every open page as a PNG, its URL and its text, in `out`. */
async function saveScreens(browser) {
  mkdirSync(args.out, { recursive: true });
  const pages = await browser.pages();
  for (const [index, page] of pages.entries()) {
    const base = join(args.out, `${scenario}-page-${index}`);
    try {
      await page.bringToFront();
      await page.screenshot({ path: `${base}.png`, fullPage: true });
      writeFileSync(`${base}.txt`, `${await here(page)}\n\n${await text(page)}\n`);
    } catch (error) {
      writeFileSync(`${base}.txt`, `${page.url()}\n\nno screenshot: ${error}\n`);
    }
  }
  return pages.length;
}

const run = scenarios[scenario];
if (!run) {
  console.error(`no scenario ${scenario}: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const browser = await launch();
let failed = false;
mkdirSync(args.out, { recursive: true });
try {
  const measured = JSON.stringify(await run(browser));
  // Also in a file, for a test that did not start this script itself.
  writeFileSync(join(args.out, 'result.json'), measured);
  console.log(measured);
} catch (error) {
  failed = true;
  console.error(error);
  writeFileSync(join(args.out, 'error.txt'), `${error?.stack ?? error}\n`);
  const saved = await saveScreens(browser).catch(() => 0);
  console.error(`${saved} screenshots of what the browser showed in ${args.out}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

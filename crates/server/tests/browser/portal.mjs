// Browser tests of the web portal: Debian's Chromium driven by playwright-core against a
// running `hotdesk serve --demo` (started by crates/server/tests/e2e/portal.rs).
//
// Environment: HOTDESK_URL (http://127.0.0.1:PORT), HOTDESK_TOKEN (super-admin token),
// HOTDESK_DOMAIN (the demo domain), HOTDESK_STAR44 (JSON {args, cwd, log}: the SIPp run of
// desk 94001 dialling *44 as Bob, started here while the board is open), SCREENSHOT_DIR
// (where screenshots go), CHROMIUM (default /usr/bin/chromium). The test that starts this
// script has a SIPp phone registered as desk 5401 that answers Activate Phone and keys
// Erin's extension, PIN and confirmation, and Grace (1007) has called Carol (1003) from
// desk 94004 (refused: nobody answers). Prints one "ok - …" line per check; exits 1 on
// the first failure, after killing any SIPp it started.
//
// Demo people used: 1001 Alice (office manager, PIN 2580), 1002 Bob (3691),
// 1004 Dave (multi-desk 3, PIN 5813), 1005 Erin (6924), 1007 Grace (8146).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = need('HOTDESK_URL');
const TOKEN = need('HOTDESK_TOKEN');
const DOMAIN = need('HOTDESK_DOMAIN');
const STAR44 = JSON.parse(need('HOTDESK_STAR44'));
const SHOTS = process.env.SCREENSHOT_DIR || 'screenshots';
const WAIT = { timeout: 20000 };
mkdirSync(SHOTS, { recursive: true });

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

let passed = 0;
async function check(name, body) {
  try {
    await body();
  } catch (err) {
    console.log(`not ok - ${name}`);
    throw err;
  }
  passed += 1;
  console.log(`ok - ${name}`);
}

/** The admin's API, from this Node process (not the browser). */
async function admin(method, path, body) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** SIPp runs started here; killed on the way out, whatever happened. */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts SIPp ({args, cwd, log}); resolves to its exit code when it ends. */
function sipp({ args, cwd, log }) {
  const out = openSync(log, 'w');
  const child = spawn('sipp', args, { cwd, stdio: ['ignore', out, out] });
  children.add(child);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal);
    });
    child.on('error', (err) => {
      children.delete(child);
      resolve(`spawn failed: ${err.message}`);
    });
  });
}

/** The end of a log file, for failure messages. */
function tail(path) {
  try {
    return readFileSync(path, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu',
    '--disable-component-update', '--no-first-run'],
});

async function newPage(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, baseURL: BASE });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the form (mouse-free but not keyboard-only). */
async function signIn(page, extension, pin) {
  await page.goto('/portal/signin');
  await page.fill('#domain', DOMAIN);
  await page.fill('#extension', extension);
  await page.fill('#pin', pin);
  await page.click('#user-form button[type=submit]');
  await page.waitForURL('**/portal/', WAIT);
  await page.waitForSelector('body[data-ready="true"]', WAIT);
}

/** Presses Tab until `selector` has focus (at most 60 times); fails otherwise. */
async function tabTo(page, selector) {
  for (let i = 0; i < 60; i += 1) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) {
      // Focus must be visible (WCAG 2.4.7): an outline is drawn.
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert(outline !== 'none', `focus on ${selector} is visible (outline ${outline})`);
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/**
 * What the page shows a screen reader or low-vision user badly: visible form controls
 * without an accessible name, and visible text under WCAG AA contrast (4.5:1; 3:1 for
 * large text) against the first opaque background behind it. Disabled controls are exempt,
 * as WCAG exempts them.
 */
function accessibilityProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const shown = (e) => {
      const r = e.getBoundingClientRect();
      const s = getComputedStyle(e);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!shown(c)) continue;
      const named = (c.labels && c.labels.length) || c.getAttribute('aria-label') || c.getAttribute('aria-labelledby');
      if (!named) problems.push(`no label: ${c.outerHTML.slice(0, 100)}`);
    }
    const rgba = (text) => (text.match(/[\d.]+/g) || []).map(Number);
    const channel = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const background = (e) => {
      for (let n = e; n; n = n.parentElement) {
        const c = rgba(getComputedStyle(n).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] >= 0.99)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    for (const e of document.querySelectorAll('body *')) {
      const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || !shown(e) || e.closest(':disabled, [aria-disabled=true]')) continue;
      const s = getComputedStyle(e);
      const fg = rgba(s.color).slice(0, 3);
      const [a, b] = [lum(fg), lum(background(e))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(s.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        problems.push(`contrast ${ratio.toFixed(2)}: "${e.textContent.trim().slice(0, 40)}" (${s.color} on ${background(e)})`);
      }
    }
    return problems;
  });
}

/** The same-origin fetch a page's script would make, with or without the CSRF token. */
function pageFetch(page, method, path, { csrf, body } = {}) {
  return page.evaluate(async ({ method, path, csrf, body }) => {
    const headers = { 'Content-Type': 'application/json' };
    if (csrf) {
      const session = await (await fetch('/portal/session')).json();
      headers['X-CSRF-Token'] = session.csrf;
    }
    const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null };
  }, { method, path, csrf, body });
}

try {
  const d = `/domains/${DOMAIN}`;

  await check('HD-SEC-4 no page and no API call works without a session', async () => {
    const { context, page } = await newPage();
    for (const path of ['/portal/', '/portal/board', '/portal/admin', '/']) {
      await page.goto(path);
      assert(page.url().endsWith('/portal/signin'), `${path} redirects to sign-in, got ${page.url()}`);
    }
    await shot(page, 'signin');
    for (const path of [`/api/v1${d}/devices`, '/api/v1/events', '/portal/session', `/api/v1${d}/associations`]) {
      const r = await pageFetch(page, 'GET', path);
      assert(r.status === 401, `${path} without a session: ${r.status}`);
    }
    const forged = await pageFetch(page, 'POST', `/api/v1${d}/devices/94001/login`, { body: { extension: '1002' } });
    assert(forged.status === 401, `POST without a session: ${forged.status}`);
    await context.close();
  });

  await check('wrong PIN shows the API error on the sign-in form', async () => {
    const { context, page } = await newPage();
    await page.goto('/portal/signin');
    await page.fill('#domain', DOMAIN);
    await page.fill('#extension', '1002');
    await page.fill('#pin', '0000');
    await page.click('#user-form button[type=submit]');
    const alert = await page.waitForSelector('#user-error [role=alert]', WAIT);
    assert((await alert.textContent()).includes('wrong_pin'), 'error code shown');
    assert(page.url().endsWith('/portal/signin'), 'still on sign-in');
    await context.close();
  });

  // Dave sits at 94003 so that the walk-through has a desk to release.
  const seated = await admin('POST', `${d}/devices/94003/login`, { extension: '1004' });
  assert(seated.status === 200, `seat Dave: ${JSON.stringify(seated.json)}`);

  await check('HD-LOGIN-9 keyboard-only walk-through: sign in, the "+" code, Activate Phone refused (not_registered), host status, release', async () => {
    const { context, page } = await newPage();
    await page.goto('/portal/signin');
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'extension', null, WAIT);
    await page.keyboard.type('1004');
    await page.keyboard.press('Tab');
    await page.keyboard.type('5813');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/portal/', WAIT);
    await page.waitForSelector('body[data-ready="true"]', WAIT);
    await page.waitForSelector('[data-release="94003"]', WAIT);
    await shot(page, 'phones');

    // The "+" shows the toggle code and "your PIN", never the PIN (HD-LOGIN-2).
    await tabTo(page, '#plus');
    await page.keyboard.press('Enter');
    const plus = await page.waitForSelector('#dial-code', WAIT);
    const text = await plus.textContent();
    assert(text.includes('980') && text.includes('your PIN') && !text.includes('5813'), `dial text: ${text}`);

    // Activate Phone: desk 94001 has no registered phone here, so the server's call-out
    // fails and the page, polling the activation, says why (HD-LOGIN-9).
    await tabTo(page, '#activate-device');
    await page.keyboard.type('94001');
    await page.keyboard.press('Enter');
    const status = await page.waitForSelector('#activate-status .alert, #activate-status .success', WAIT);
    const said = await status.textContent();
    assert(/failed/.test(said) && /not_registered/.test(said), `activate status: ${said}`);
    await shot(page, 'activate');

    // Host status for a free desk and for Dave's desk.
    await tabTo(page, '#host-device');
    await page.keyboard.type('94003');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#host-status').textContent.includes('1004'), null, WAIT);

    await tabTo(page, '[data-release="94003"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.querySelector('[data-release="94003"]'), null, WAIT);
    await page.waitForFunction(() => document.activeElement.id === 'phones-heading', null, WAIT);
    const sessions = await admin('GET', `${d}/associations`);
    assert(!sessions.json.some((a) => a.device === '94003'), 'desk released in the API');
    // My recent calls: Grace's call (placed before the browser started) is not Dave's.
    const calls = await page.textContent('#calls');
    assert(!calls.includes('1003'), `Dave sees no one else's calls: ${calls}`);
    await context.close();
  });

  await check('HD-LOGIN-9 keyboard only: sign in, Activate Phone answered by a SIPp phone that keys the log-in, each state shown to success, release', async () => {
    const { context, page } = await newPage();
    await page.goto('/portal/signin');
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'extension', null, WAIT);
    await page.keyboard.type('1005');
    await page.keyboard.press('Tab');
    await page.keyboard.type('6924');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/portal/', WAIT);
    await page.waitForSelector('body[data-ready="true"]', WAIT);
    // Every state the status region shows, in order.
    await page.evaluate(() => {
      window.activationStates = [];
      const out = document.querySelector('#activate-status');
      new MutationObserver(() => {
        const state = out.dataset.state;
        if (state && window.activationStates.at(-1) !== state) window.activationStates.push(state);
      }).observe(out, { attributes: true, attributeFilter: ['data-state'] });
    });
    await tabTo(page, '#activate-device');
    await page.keyboard.type('5401');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#activate-status[data-state="answered"]', WAIT);
    const asked = await page.textContent('#activate-status');
    assert(/extension/.test(asked) && /PIN/.test(asked), `while answered: ${asked}`);
    await page.waitForSelector('#activate-status[data-state="activated"], #activate-status[data-state="failed"]', { timeout: 40000 });
    const said = await page.textContent('#activate-status');
    const states = await page.evaluate(() => window.activationStates);
    assert(/Activated/.test(said) && said.includes('5401'), `final status: ${said} (states ${states})`);
    assert(states.includes('calling') && states.indexOf('answered') > states.indexOf('calling')
      && states.at(-1) === 'activated', `states shown live: ${states}`);
    // The page lists the desk as Erin's, and the API agrees.
    await page.waitForSelector('[data-release="5401"]', WAIT);
    const sessions = await admin('GET', `${d}/associations`);
    const erin = sessions.json.find((a) => a.device === '5401');
    assert(erin && erin.user === '1005', `API: Erin on 5401: ${JSON.stringify(erin)}`);
    await shot(page, 'activate-phone');
    await tabTo(page, '[data-release="5401"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.querySelector('[data-release="5401"]'), null, WAIT);
    const after = await admin('GET', `${d}/associations`);
    assert(!after.json.some((a) => a.device === '5401'), 'desk 5401 released in the API');
    await context.close();
  });

  await check('HD-PROV-4 my keys: a key saved for yealink-t46u shows there, not for another model, and in the phone file', async () => {
    const { context, page } = await newPage();
    await signIn(page, '1007', '8146');
    await page.selectOption('#keys-model', 'yealink-t46u');
    await page.waitForSelector('#keys-editor .empty', WAIT);
    // Keyboard: Add key puts focus on the new row's first control, labelled for its row.
    await tabTo(page, '#keys-add');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement.getAttribute('aria-label') === 'Key 1 kind', null, WAIT);
    await page.selectOption('[aria-label="Key 1 kind"]', 'speed_dial');
    await page.fill('[aria-label="Key 1 number"]', '1005');
    await page.fill('[aria-label="Key 1 label"]', 'Reception');
    await page.click('#keys-save');
    await page.waitForSelector('#keys-status .success', WAIT);
    const stored = await admin('GET', `${d}/users/1007/keys`);
    const t46 = stored.json.models['yealink-t46u'] || [];
    assert(t46.length === 1 && t46[0].value === '1005' && t46[0].label === 'Reception', `API keys: ${JSON.stringify(stored.json)}`);
    assert(!stored.json.models['yealink-t54w'], 'nothing for another model');
    // After a reload: there for yealink-t46u, not for yealink-t54w.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', WAIT);
    await page.selectOption('#keys-model', 'yealink-t54w');
    await page.waitForSelector('#keys-editor .empty', WAIT);
    assert(await page.$$eval('#keys-editor tr[data-key]', (r) => r.length) === 0, 'no keys on yealink-t54w');
    await page.selectOption('#keys-model', 'yealink-t46u');
    await page.waitForSelector('#keys-editor tr[data-key]', WAIT);
    assert(await page.inputValue('[aria-label="Key 1 number"]') === '1005', 'the saved key shows for yealink-t46u');
    await shot(page, 'my-keys');
    // At a yealink-t46u desk the phone file carries the key (preview renders it).
    assert((await admin('POST', `${d}/devices/94001/login`, { extension: '1007' })).status === 200, 'Grace at 94001');
    const file = (await admin('POST', `${d}/devices/94001/preview`, {})).json.file;
    assert(/linekey\.\d+\.value = 1005/.test(file) && file.includes('Reception'), `phone file: ${file}`);
    assert((await admin('POST', `${d}/devices/94001/logout`, {})).status === 200, 'Grace leaves 94001');
    await context.close();
  });

  await check('HD-CDR-1 my recent calls: the call Grace placed from a hot desk is listed for her', async () => {
    const { context, page } = await newPage();
    await signIn(page, '1007', '8146');
    // Placed by a SIPp phone at desk 94004 to Carol (1003, no phone) before the browser started.
    const row = await page.waitForSelector('#calls tbody tr', WAIT);
    const text = await row.textContent();
    assert(text.includes('1003') && text.includes('94004'), `Grace's recent call: ${text}`);
    await shot(page, 'my-calls');
    await context.close();
  });

  // Alice, office manager, watches the board.
  const manager = await newPage();
  await signIn(manager.page, '1001', '2580');

  await check('session cookie is HttpOnly and SameSite=Strict', async () => {
    const cookies = await manager.context.cookies();
    const session = cookies.find((c) => c.name === 'hotdesk_session');
    assert(session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(session));
    const seen = await manager.page.evaluate(() => document.cookie);
    assert(!seen.includes('hotdesk_session'), 'scripts cannot read the cookie');
  });

  await check('HD-LOGIN-1 desk board updates live when a SIPp phone logs in with *44 in another process', async () => {
    const { page } = manager;
    await page.goto('/portal/board');
    await page.waitForSelector('body[data-ready="true"]', WAIT);
    await page.waitForSelector('#live[data-state="live"]', WAIT);
    await page.evaluate(() => { window.noReload = true; });
    const free = await page.textContent('tr[data-desk="94001"] .who-cell');
    assert(free.includes('Free'), `94001 starts free: ${free}`);
    // Desk 94001's phone dials *44 and keys 1002#, 3691#, 2 (SIP INFO); the server
    // speaks its prompts, logs Bob in and hangs up.
    const dialled = sipp(STAR44);
    try {
      await page.waitForSelector('tr[data-desk="94001"][data-user="1002"]', { timeout: 40000 });
    } catch (err) {
      throw new Error(`${err.message}\nSIPp *44:\n${tail(STAR44.log)}`);
    }
    const who = await page.textContent('tr[data-desk="94001"] .who-cell');
    assert(who.includes('Bob') && who.includes('1002'), `board shows Bob: ${who}`);
    // Since when and until when, as the API has them.
    const [since, until] = await page.$$eval('tr[data-desk="94001"] td', (cells) => [cells[4].textContent, cells[5].textContent]);
    const bobSession = (await admin('GET', `${d}/devices/94001`)).json.session;
    const local = (t) => page.evaluate((x) => new Date(x).toLocaleString(), t);
    assert(/\d/.test(since) && since === await local(bobSession.since), `since ${since} vs ${bobSession.since}`);
    assert(until === (bobSession.expires_at ? await local(bobSession.expires_at) : 'no expiry'), `until ${until}`);
    // Registered or not: desk 5401 has the answering SIPp phone, 94002 none.
    const registered = await page.textContent('tr[data-desk="5401"] .badge.ok');
    assert(registered === 'Registered', `5401 registered: ${registered}`);
    assert(await page.textContent('tr[data-desk="94002"] td:nth-child(7)') === 'Not registered', '94002 not registered');
    assert(await page.evaluate(() => window.noReload === true), 'no page reload');
    const code = await dialled;
    assert(code === 0, `the *44 call ended cleanly (SIPp exit ${code}):\n${tail(STAR44.log)}`);
    const sessions = await admin('GET', `${d}/associations`);
    const bob = sessions.json.find((a) => a.device === '94001');
    assert(bob && bob.user === '1002', `API: Bob on 94001: ${JSON.stringify(bob)}`);
    await shot(page, 'board');
  });

  await check('desk board filters by site and floor', async () => {
    const { page } = manager;
    const floors = await page.$$eval('#filter-floor option', (o) => o.map((x) => x.value));
    assert(floors.includes('2'), `floors offered: ${floors}`);
    await page.selectOption('#filter-floor', '2');
    const rows = await page.$$eval('tr[data-desk]', (r) => r.length);
    assert(rows > 0, 'rows on floor 2');
    await page.fill('#filter-text', 'Desk 1');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-desk]').length === 1, null, WAIT);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-floor', '');
  });

  await check('HD-LOGOUT-4 remote log-out with confirmation, audited with who did it', async () => {
    const { page } = manager;
    await page.click('tr[data-desk="94001"] button.danger');
    const dialog = await page.waitForSelector('dialog[open]', WAIT);
    assert((await dialog.textContent()).includes('Bob'), 'dialog names the person');
    await shot(page, 'board-confirm');
    await page.click('dialog[open] button.danger');
    await page.waitForSelector('tr[data-desk="94001"][data-user=""]', WAIT);
    const audit = await admin('GET', `${d}/audit?device=94001&limit=5`);
    const forced = audit.json.find((r) => r.kind.includes('logout') || r.kind.includes('logged_out'));
    assert(forced && JSON.stringify(forced.actor).includes('1001'), `audited with Alice: ${JSON.stringify(audit.json[0])}`);
  });

  await check('HD-SEC-4 a POST without the CSRF token is refused; with it, it works', async () => {
    const { page } = manager;
    const path = `/api/v1${d}/devices/94002/login`;
    const forged = await pageFetch(page, 'POST', path, { body: { extension: '1003' } });
    assert(forged.status === 403 && forged.json.error.code === 'csrf_failed', JSON.stringify(forged));
    const sessions = await admin('GET', `${d}/associations`);
    assert(!sessions.json.some((a) => a.device === '94002'), 'nothing happened');
    const real = await pageFetch(page, 'POST', path, { csrf: true, body: { extension: '1003' } });
    assert(real.status === 200, JSON.stringify(real));
    const signOut = await pageFetch(page, 'DELETE', '/portal/session');
    assert(signOut.status === 403, `sign-out without CSRF: ${signOut.status}`);
  });

  await check('a plain user cannot open the desk board', async () => {
    const { context, page } = await newPage();
    await signIn(page, '1002', '3691');
    const response = await page.goto('/portal/board');
    assert(response.status() === 403, `board for a user: ${response.status()}`);
    const r = await pageFetch(page, 'GET', `/api/v1${d}/audit`);
    assert(r.status === 403, `audit for a user: ${r.status}`);
    await context.close();
  });

  await check('HD-SEC-1 one domain\'s manager cannot see another domain\'s desks', async () => {
    const other = 'beta.portal.test';
    assert((await admin('POST', '/domains', { name: other, settings: { seats: { standard: 1 } } })).status === 201, 'create beta');
    const made = await admin('POST', `/domains/${other}/users`, {
      extension: '2001', first_name: 'Olga', last_name: 'Other', pin: '4826', scope: 'office_manager',
    });
    assert(made.status === 201, JSON.stringify(made.json));
    const dev = await admin('POST', `/domains/${other}/devices`, { mac: '00156599aa01', model: 'yealink-t46u', extension: '94077' });
    assert(dev.status === 201, JSON.stringify(dev.json));
    const { context, page } = await newPage();
    await page.goto('/portal/signin');
    await page.fill('#domain', other);
    await page.fill('#extension', '2001');
    await page.fill('#pin', '4826');
    await page.click('#user-form button[type=submit]');
    await page.waitForURL('**/portal/', WAIT);
    await page.goto('/portal/board');
    await page.waitForSelector('tr[data-desk="94077"]', WAIT);
    const desks = await page.$$eval('tr[data-desk]', (r) => r.map((x) => x.dataset.desk));
    assert(desks.length === 1 && desks[0] === '94077', `beta sees only its desk: ${desks}`);
    for (const path of [`/api/v1${d}/devices`, `/api/v1${d}/associations`]) {
      const r = await pageFetch(page, 'GET', path);
      assert(r.status === 404 && r.json.error.code === 'unknown_domain', `${path}: ${JSON.stringify(r)}`);
    }
    const cross = await pageFetch(page, 'POST', `/api/v1${d}/devices/94002/logout`, { csrf: true });
    assert(cross.status === 404, `cross-domain log-out: ${cross.status}`);
    await context.close();
  });

  // The platform administrator signs in with the admin token.
  const root = await newPage();
  await check('administrator signs in with the admin token', async () => {
    const { page } = root;
    await page.goto('/portal/signin');
    await page.click('details summary');
    await page.fill('#token', TOKEN);
    await page.click('#admin-form button[type=submit]');
    await page.waitForURL('**/portal/', WAIT);
    await page.goto('/portal/admin#users');
    await page.waitForSelector('#user-list table', WAIT);
    await shot(page, 'admin-users');
  });

  await check('users: CSV import with one bad row reports it and imports nothing', async () => {
    const { page } = root;
    const csv = 'extension,first_name,last_name,did,pin\n3101,Ann,Able,,6011\n31x2,Ben,Bad,,6012\n3103,Cat,Cole,,6013\n';
    await page.fill('#import-csv', csv);
    await page.click('#import-form button[type=submit]');
    const report = await page.waitForSelector('#import-result table', WAIT);
    const text = await report.textContent();
    assert(text.includes('3') && text.toLowerCase().includes('extension'), `report: ${text}`);
    const alert = await page.textContent('#import-result [role=alert]');
    assert(alert.includes('1 of 3') && alert.includes('import_rejected'), `alert: ${alert}`);
    assert((await admin('GET', `${d}/users/3101`)).status === 404, 'nothing imported');
    await shot(page, 'admin-import');
    await page.fill('#import-csv', 'extension,first_name,last_name,did,pin\n3101,Ann,Able,,6011\n');
    await page.click('#import-form button[type=submit]');
    await page.waitForSelector('#import-result .success', WAIT);
    await page.waitForFunction(() => document.querySelector('#user-list').textContent.includes('3101'), null, WAIT);
  });

  await check('users: add and edit through the forms', async () => {
    const { page } = root;
    await page.fill('#add-user [name=extension]', '3201');
    await page.fill('#add-user [name=first_name]', 'Zoe');
    await page.fill('#add-user [name=last_name]', 'Zed');
    await page.fill('#add-user [name=pin]', '6021');
    await page.click('#add-user button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#user-list').textContent.includes('3201'), null, WAIT);
    await page.click('button[aria-label="Edit 3201"]');
    await page.fill('dialog[open] [name=last_name]', 'Zeta');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#user-list').textContent.includes('Zoe Zeta'), null, WAIT);
  });

  await check('HD-LOGIN-11 devices: an anchor outside the device range is refused with the reason', async () => {
    const { page } = root;
    await page.click('#tab-devices');
    await page.waitForSelector('#device-list table', WAIT);
    await page.fill('#add-device [name=extension]', '3999');
    await page.fill('#add-device [name=mac]', '001565aa0001');
    await page.click('#add-device button[type=submit]');
    const error = await page.waitForSelector('#device-error [role=alert]', WAIT);
    const text = await error.textContent();
    assert(/range/i.test(text), `range refusal shown: ${text}`);
    await page.fill('#add-device [name=extension]', '94050');
    await page.fill('#add-device [name=floor]', '3');
    await page.fill('#add-device [name=country]', 'US');
    await page.click('#add-device button[type=submit]');
    await page.waitForSelector('#device-error .success', WAIT);
    await shot(page, 'admin-devices');
  });

  await check('HD-ROUTE-7 queues: a queue with a user and a phone member in hunting order and the agent status (HD-LOGIN-10); bad members and taken numbers refused; remove and delete', async () => {
    const { page } = root;
    await page.click('#tab-queues');
    await page.waitForSelector('#queue-list .empty, #queue-list table', WAIT);
    await page.fill('#add-queue [name=extension]', '7100');
    await page.fill('#add-queue [name=name]', 'Sales line');
    await page.selectOption('#add-queue [name=strategy]', 'round_robin');
    await page.fill('#add-queue [name=ring_secs]', '20');
    await page.click('#add-queue button[type=submit]');
    await page.waitForSelector('#queue-error .success', WAIT);
    const created = (await admin('GET', `${d}/queues/7100`)).json;
    assert(created.strategy === 'round_robin' && created.ring_secs === 20, `queue stored: ${JSON.stringify(created)}`);
    const addMember = async (kind, extension) => {
      const form = 'form[data-queue="7100"]';
      await page.selectOption(`${form} [name=kind]`, kind);
      await page.fill(`${form} [name=extension]`, extension);
      await page.click(`${form} button[type=submit]`);
    };
    await addMember('user', '1002');
    await page.waitForSelector('li[data-member="7100:user:1002"]', WAIT);
    await addMember('phone', '94001');
    await page.waitForSelector('li[data-member="7100:phone:94001"]', WAIT);
    const order = await page.$$eval('li[data-member^="7100:"]', (items) => items.map((li) => li.dataset.member));
    assert(order.join() === '7100:user:1002,7100:phone:94001', `hunting order: ${order}`);
    const status = (await admin('GET', `${d}/queues/7100`)).json.members[0].queue_status;
    const shown = await page.textContent('li[data-member="7100:user:1002"]');
    assert(shown.includes(status.replace('_', ' ')), `agent status ${status} shown: ${shown}`);
    await addMember('user', '9999');
    const refused = await page.waitForSelector('#queue-result [role=alert]', WAIT);
    const reason = await refused.textContent();
    assert(reason.includes('Member not added') && reason.includes('('), `unknown member refused: ${reason}`);
    assert((await admin('GET', `${d}/queues/7100`)).json.members.length === 2, 'nothing added');
    await page.fill('#add-queue [name=extension]', '1002');
    await page.fill('#add-queue [name=name]', 'Clash');
    await page.click('#add-queue button[type=submit]');
    await page.waitForSelector('#queue-error [role=alert]', WAIT);
    await shot(page, 'admin-queues');
    await page.click('button[aria-label="Remove user 1002 from queue 7100"]');
    await page.waitForFunction(() => !document.querySelector('li[data-member="7100:user:1002"]'), null, WAIT);
    await page.click('button[aria-label="Delete queue 7100"]');
    await page.click('dialog[open] button.danger');
    await page.waitForFunction(() => !document.querySelector('#queue-list').textContent.includes('Sales line'), null, WAIT);
    assert((await admin('GET', `${d}/queues/7100`)).status === 404, 'queue deleted');
  });

  await check('HD-LOGIN-5 allocation beyond the pool is refused with the pool figures', async () => {
    const { page } = root;
    // Shrink the pool to what is in use, so one more allocation is one too many.
    const domain = await admin('GET', d);
    const used = domain.json.counts.allocations;
    const standard = Math.floor(used / 5);
    const set = await admin('PATCH', d, { settings: { seats: { standard, advanced: 0, basic: used - standard * 5 } } });
    assert(set.status === 200, JSON.stringify(set.json));
    await page.click('#tab-allocations');
    await page.waitForSelector('input[data-user="1002"]', WAIT);
    const figures = await page.textContent('#pool');
    assert(figures.includes(`${used} of ${used}`), `pool figures: ${figures}`);
    await page.fill('input[data-user="1002"]', '2');
    await page.click('button[aria-label="Save allocation for 1002"]');
    const alert = await page.waitForSelector('#allocation-result [role=alert]', WAIT);
    const text = await alert.textContent();
    assert(text.includes('pool_exceeded') && text.includes(String(used)), `refusal: ${text}`);
    await shot(page, 'admin-allocations');
  });

  await check('domain settings (HD-LOGIN-8 access number), call records (CSV link) and audit log render', async () => {
    const { page } = root;
    await page.click('#tab-settings');
    await page.waitForSelector('#settings-form', WAIT);
    await page.fill('#settings-form [name=end_of_day]', '19:30');
    await page.fill('#settings-form [name=voice_portal_number]', '+390612345678');
    await page.click('#settings-form button[type=submit]');
    await page.waitForSelector('#settings-result .success', WAIT);
    const saved = (await admin('GET', d)).json.settings;
    assert(saved.end_of_day === '19:30', 'end of day saved');
    assert(saved.voice_portal_number === '+390612345678', 'HD-LOGIN-8 access number saved');
    await page.fill('#settings-form [name=time_zone]', 'Mars/Olympus');
    await page.click('#settings-form button[type=submit]');
    await page.waitForSelector('#settings-result [role=alert]', WAIT);
    await shot(page, 'admin-settings');
    await page.click('#tab-cdrs');
    await page.waitForSelector('#cdr-results .empty, #cdr-results table', WAIT);
    const href = await page.getAttribute('#cdr-csv', 'href');
    const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    assert(csv.startsWith('domain,call_id'), `CSV export: ${csv.slice(0, 40)}`);
    await page.click('#tab-audit');
    await page.waitForSelector('#audit-results table', WAIT);
    await shot(page, 'admin-audit');
  });

  await check('HD-PROV-5 template preview: the rendered file names the user at their desk; a broken template shows line and column', async () => {
    const { page } = root;
    await page.click('#tab-templates');
    await page.waitForSelector('#template-form', WAIT);
    await page.selectOption('#template-pick', 'default');
    const label = await page.inputValue('#template-label');
    assert(label.includes('[[first_name]]'), `demo default label loaded: ${label}`);
    // Carol (1003) is on 94002 since the CSRF check.
    await page.selectOption('#preview-device', '94002');
    await tabTo(page, '#preview-button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#preview-file', WAIT);
    let file = await page.textContent('#preview-file');
    assert(file.includes('linekey.1.label = hot desk Carol Chen 1003'), `preview: ${file}`);
    assert(file.includes('account.1.password = ********'), 'password masked');
    // An edited label, not saved, shows in the preview.
    await page.fill('#template-label', 'Desk of [[first_name]] [[last_name]]');
    await page.click('#preview-button');
    await page.waitForFunction(() => (document.querySelector('#preview-file') || {}).textContent?.includes('Desk of Carol Chen'), null, WAIT);
    await shot(page, 'admin-templates');
    // A body with an unknown token: the API's line and column, and "Go to" puts the caret there.
    await page.fill('#template-body', '#!version:1.0.0.1\naccount.1.label = [[ emial ]]\n');
    await page.click('#preview-button');
    const alert = await page.waitForSelector('#preview-result [role=alert]', WAIT);
    const text = await alert.textContent();
    assert(text.includes('invalid_template') && text.includes('Line 2, column 22') && text.includes('emial'), `error: ${text}`);
    await page.click('#preview-result .where button');
    const caret = await page.evaluate(() => [document.activeElement.id, document.activeElement.selectionStart]);
    assert(caret[0] === 'template-body' && caret[1] === 18 + 21, `caret at the error: ${caret}`);
    await shot(page, 'admin-templates-error');
    // Saving it is refused the same way; the stored template is unchanged.
    await page.click('#template-form button[type=submit]');
    await page.waitForSelector('#template-result [role=alert]', WAIT);
    const stored = (await admin('GET', `${d}/templates/default`)).json;
    assert(!stored.body && stored.line_label.startsWith('hot desk'), `stored template unchanged: ${JSON.stringify(stored)}`);
  });

  await check('HD-PROV-2 templates: a saved template applied and resynced to a chosen phone; an unsaved one refused', async () => {
    const { page } = root;
    await page.selectOption('#template-pick', 'default');
    await page.waitForFunction(() => document.querySelector('#template-name').value === 'default', null, WAIT);
    await page.check('#apply-devices input[value="94002"]');
    await page.click('#apply-resync-button');
    const done = await page.waitForSelector('#apply-result .success', WAIT);
    const said = await done.textContent();
    assert(said.includes('94002') && said.includes('1 phone told') && said.includes('check-sync'), `apply result: ${said}`);
    const device = (await admin('GET', `${d}/devices/94002`)).json;
    assert(device.template === 'default', `template stored on 94002: ${JSON.stringify(device.template)}`);
    assert((await admin('GET', `${d}/devices/94001`)).json.template === null, '94001 not chosen, unchanged');
    // A cfg (Yealink) template cannot be chosen for a Polycom phone.
    assert(await page.isDisabled('#apply-devices input[value="94003"]'), 'Polycom 94003 not offered for a cfg template');
    // A name that is not saved cannot be applied.
    await page.selectOption('#template-pick', '');
    await page.fill('#template-name', 'draft');
    await page.check('#apply-devices input[value="94001"]');
    await page.click('#apply-button');
    const refused = await page.waitForSelector('#apply-result [role=alert]', WAIT);
    assert((await refused.textContent()).includes('Save the template first'), 'unsaved template refused');
    assert((await admin('GET', `${d}/devices/94001`)).json.template === null, 'still unchanged');
    await shot(page, 'admin-templates-apply');
  });

  await check('HD-PROV-3 devices: soft keys set on a phone in the portal stay with it, in its file, whoever is logged in', async () => {
    const { page } = root;
    await page.click('#tab-devices');
    await page.waitForSelector('#device-list table', WAIT);
    await page.click('button[aria-label="Edit device 94003"]');
    await page.waitForSelector('dialog[open] [data-keys] .empty', WAIT);
    await page.click('dialog[open] #soft-keys-add');
    await page.waitForFunction(() => document.activeElement.getAttribute('aria-label') === 'Soft key 1 kind', null, WAIT);
    await page.selectOption('dialog[open] [aria-label="Soft key 1 kind"]', 'speed_dial');
    await page.fill('dialog[open] [aria-label="Soft key 1 number"]', '5000');
    await page.fill('dialog[open] [aria-label="Soft key 1 label"]', 'Front desk');
    await shot(page, 'admin-device-soft-keys');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForFunction(() => !document.querySelector('dialog[open]'), null, WAIT);
    const device = (await admin('GET', `${d}/devices/94003`)).json;
    assert(JSON.stringify(device.soft_keys) === JSON.stringify([{ position: 1, kind: 'speed_dial', value: '5000', label: 'Front desk' }]),
      `soft keys stored: ${JSON.stringify(device.soft_keys)}`);
    // Grace sits there: the key is still the phone's.
    assert((await admin('POST', `${d}/devices/94003/login`, { extension: '1007' })).status === 200, 'Grace at 94003');
    const file = (await admin('POST', `${d}/devices/94003/preview`, {})).json.file;
    // 94003 is a Polycom VVX 450: its XML file carries the soft key.
    assert(/softkey\.1\.action="5000"/.test(file) && file.includes('Front desk'), `phone file: ${file}`);
    assert((await admin('GET', `${d}/users/1007/keys`)).json.models['yealink-t46u'].every((k) => k.value !== '5000'),
      'not among Grace\'s own keys');
    assert((await admin('POST', `${d}/devices/94003/logout`, {})).status === 200, 'Grace leaves 94003');
  });

  await check('accessible: every control on the main pages is labelled and all text meets WCAG AA contrast', async () => {
    const pages = [];
    const user = await newPage();
    await signIn(user.page, '1007', '8146');
    pages.push(['my phones', user.page]);
    await manager.page.goto('/portal/board');
    await manager.page.waitForSelector('tr[data-desk="94001"]', WAIT);
    pages.push(['desk board', manager.page]);
    const found = [];
    for (const [name, page] of pages) {
      for (const problem of await accessibilityProblems(page)) found.push(`${name}: ${problem}`);
    }
    const { page } = root;
    for (const tab of ['users', 'devices', 'queues', 'allocations', 'settings', 'cdrs', 'audit', 'templates']) {
      await page.click(`#tab-${tab}`);
      await page.waitForSelector(`[role=tabpanel]:not([hidden]) h2`, WAIT);
      await page.waitForLoadState('networkidle');
      for (const problem of await accessibilityProblems(page)) found.push(`admin ${tab}: ${problem}`);
    }
    const signin = await newPage();
    await signin.page.goto('/portal/signin');
    for (const problem of await accessibilityProblems(signin.page)) found.push(`sign-in: ${problem}`);
    // The scan itself finds what it looks for: a faint line and an unlabelled box, added.
    await signin.page.evaluate(() => {
      const faint = document.createElement('p');
      faint.style.cssText = 'color:#aaa;background:#fff';
      faint.textContent = 'faint grey text';
      document.body.append(faint, document.createElement('input'));
    });
    const planted = await accessibilityProblems(signin.page);
    assert(planted.some((p) => p.includes('faint grey text')) && planted.some((p) => p.startsWith('no label')),
      `the scan sees planted problems: ${planted}`);
    await signin.context.close();
    await user.context.close();
    assert(found.length === 0, `accessibility problems:\n${[...new Set(found)].join('\n')}`);
  });

  await check('responsive: the board works at phone width', async () => {
    const { context, page } = await newPage({ width: 375, height: 740 });
    await signIn(page, '1001', '2580');
    await page.goto('/portal/board');
    await page.waitForSelector('tr[data-desk="94002"]', WAIT);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(wide <= 380, `no horizontal scrolling at 375 px: ${wide}`);
    await shot(page, 'board-phone');
    await context.close();
  });

  await check('sign-out ends the session on the server', async () => {
    const { context, page } = manager;
    const before = (await context.cookies()).find((c) => c.name === 'hotdesk_session');
    await page.goto('/portal/');
    await page.waitForSelector('body[data-ready="true"]', WAIT);
    await page.click('#sign-out');
    await page.waitForURL('**/portal/signin', WAIT);
    const replay = await fetch(`${BASE}/api/v1${d}/devices`, { headers: { Cookie: `hotdesk_session=${before.value}` } });
    assert(replay.status === 401, `old cookie after sign-out: ${replay.status}`);
  });
} finally {
  for (const child of children) child.kill('SIGKILL');
  await browser.close();
}
console.log(`${passed} browser checks passed`);

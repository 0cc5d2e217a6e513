// The chat page (GET /) in headless Chromium, driven by puppeteer-core (pinned): it loads with no
// console errors, a typed message gets a streamed reply with its statistics, the conversation
// survives a reload (localStorage), the stop button ends a long reply, and it fits a phone screen.
//
// usage: node chat_page_test.js BASE_URL API_KEY LOGIT_BIAS_JSON SCREENSHOT_PREFIX
//   LOGIT_BIAS_JSON: added to the long reply's request so that it cannot end by itself.
'use strict';
const assert = require('node:assert/strict');
const puppeteer = require('puppeteer-core');

const [base, key, biasJson, shots] = process.argv.slice(2);

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1100, height: 760 });
    await page.goto(base + '/', { waitUntil: 'load' });
    assert.equal(await page.title(), 'deltallm');

    // settings persist; a short reply streams in and gets its statistics line
    await page.$eval('#api_key', (el, k) => { el.value = k; el.dispatchEvent(new Event('change')); }, key);
    await page.$eval('#max_tokens', (el) => { el.value = '24'; el.dispatchEvent(new Event('change')); });
    await page.type('#input', 'hello there');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => {
      const m = document.querySelectorAll('.msg.assistant');
      return m.length === 1 && m[0].querySelector('.stats') && !document.getElementById('send').disabled;
    }, { timeout: 60000 });
    const stats = await page.$eval('.msg.assistant .stats', (el) => el.textContent);
    assert.match(stats, /^\d+ tokens, .* tokens\/s, \d+ of \d+ prompt tokens cached$/);
    assert.equal(await page.$$eval('.msg.assistant .error', (e) => e.length), 0);
    assert.equal(await page.$eval('.msg.user .content', (el) => el.textContent), 'hello there');
    await page.screenshot({ path: shots + '-desktop.png' });

    // the conversation is kept in the browser
    await page.reload({ waitUntil: 'load' });
    assert.equal(await page.$$eval('#convs button', (b) => b.length), 1);
    assert.equal(await page.$$eval('.msg', (m) => m.length), 2);

    // stop: a reply that cannot end by itself (its end-of-generation tokens are banned)
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/chat/completions') && r.method() === 'POST') {
        const body = JSON.parse(r.postData());
        body.logit_bias = JSON.parse(biasJson);
        body.max_tokens = 100000;
        r.continue({ postData: JSON.stringify(body) });
      } else {
        r.continue();
      }
    });
    await page.type('#input', 'go on forever');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => {
      const m = document.querySelectorAll('.msg.assistant .content');
      return m.length === 2 && m[1].textContent.length > 20;
    }, { timeout: 60000 });
    await page.click('#stop');
    await page.waitForFunction(() => !document.getElementById('send').disabled, { timeout: 10000 });
    const last = await page.$$eval('.msg.assistant .stats', (s) => s[s.length - 1].textContent);
    assert.equal(last, 'stopped');

    // a phone-sized screen: the side panel folds behind the menu button
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    assert.equal(await page.$eval('#side', (el) => getComputedStyle(el).display), 'none');
    const inputBox = await page.$eval('#input', (el) => el.getBoundingClientRect().right);
    assert.ok(inputBox <= 390, 'the input fits the screen');
    await page.screenshot({ path: shots + '-phone.png' });
    await page.click('#menu');
    assert.equal(await page.$eval('#side', (el) => getComputedStyle(el).display), 'flex');
    assert.deepEqual(errors, []);
    console.log('ok chat page');
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });

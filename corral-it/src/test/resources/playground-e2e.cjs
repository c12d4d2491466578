// The playground in a real browser (Debian's Chromium driven by playwright-core) against a real `corral serve`:
// a chat answer streams into the page and can be stopped, files uploaded (chosen and dropped) are found by search, a
// trace opens as a waterfall and filters by attribute, an engine that goes down turns red; axe-core on every tab,
// nothing wider than a 390 px screen, the tabs work from the keyboard. Screenshots of each page go to SHOTS.
// Usage: node playground-e2e.cjs BASE_URL API_KEY SHOTS_DIR UPLOAD_FILE FAKE_ENGINE_PORT
// Prints one JSON line of what it saw; the Java test asserts on it.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, key, shots, uploadFile, enginePort] = process.argv.slice(2);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// A llama.cpp-style host the server probes: up until this script closes it.
function fakeEngine() {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    if (req.url.startsWith('/v1/models')) res.end(JSON.stringify({ object: 'list', data: [{ id: 'remote-model', object: 'model' }] }));
    else if (req.url.startsWith('/health')) res.end('{"status":"ok"}');
    else if (req.url.startsWith('/props')) res.end('{}');
    else { res.statusCode = 404; res.end('{}'); }
  });
  server.keepAliveTimeout = 100;
  return new Promise((resolve) => server.listen(+enginePort, '127.0.0.1', () => resolve(server)));
}

async function axe(page) {
  const r = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
}

(async () => {
  const seen = { errors: [], axe: {}, overflow: {} };
  const engine = await fakeEngine();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.addInitScript({ content: axeSource }); // as the browser's own script: the page's policy admits no other
    page.on('pageerror', (e) => seen.errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/401|Failed to load resource/.test(m.text())) seen.errors.push(m.text()); });
    await page.goto(base + '/');
    seen.title = await page.title();
    // without the key the API refuses: the page says so; with it, the models load
    await page.waitForFunction(() => document.getElementById('key-status').textContent.length > 0);
    seen.keyStatusBefore = await page.textContent('#key-status');
    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('chat-model').options.length > 0);
    seen.models = await page.$$eval('#chat-model option', (os) => os.map((o) => o.value));

    // ---- chat: an answer streams in, piece by piece ----
    await page.selectOption('#chat-model', 'stories260K');
    await page.evaluate(() => { const t = document.getElementById('chat-temperature'); t.value = '0'; t.dispatchEvent(new Event('input')); });
    await page.fill('#chat-max-tokens', '32');
    await page.fill('#chat-input', 'Once upon a time');
    await page.evaluate(() => {
      window.__texts = [];
      new MutationObserver(() => {
        const b = document.querySelector('#chat-log li.assistant:last-child .body');
        if (b && b.textContent !== window.__texts[window.__texts.length - 1]) window.__texts.push(b.textContent);
      }).observe(document.getElementById('chat-log'), { subtree: true, childList: true, characterData: true });
    });
    // the bundled model answers in a blink, and loopback would hand the browser every event in one read: a slow
    // network (Chrome's own throttling) makes the pieces arrive apart, as they would from a bigger model
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 3000, uploadThroughput: -1 });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => { const li = document.querySelector('#chat-log li.assistant'); return li && !li.hasAttribute('aria-busy'); }, null, { timeout: 60000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    seen.chatText = await page.textContent('#chat-log li.assistant .body');
    seen.chatSteps = await page.evaluate(() => window.__texts.filter((t) => t.length > 0));
    await page.screenshot({ path: path.join(shots, 'chat.png'), fullPage: true });
    // a long answer is stopped after its first words
    await page.fill('#chat-max-tokens', '400');
    await page.fill('#chat-input', 'Tell me a long story');
    await page.click('#chat-send');
    await page.waitForFunction(() => { const li = [...document.querySelectorAll('#chat-log li.assistant')].pop(); return li && li.querySelector('.body').textContent.length > 0; }, null, { timeout: 60000 });
    await page.click('#chat-stop');
    await page.waitForFunction(() => ![...document.querySelectorAll('#chat-log li.assistant')].pop().hasAttribute('aria-busy'));
    seen.stoppedEnabled = await page.isEnabled('#chat-send');
    seen.stoppedStopDisabled = await page.isDisabled('#chat-stop');
    seen.conversationsKept = await page.evaluate(() => JSON.parse(localStorage.getItem('corral.conversations'))[0].messages.length);
    // JSON-schema output: the answer is JSON of that shape, shown as a code block
    await page.click('#chat-new');
    await page.click('#chat summary >> text=JSON schema output');
    await page.fill('#chat-schema', JSON.stringify({ type: 'object', properties: { name: { type: 'string', maxLength: 12 } }, required: ['name'] }));
    await page.fill('#chat-max-tokens', '40');
    await page.fill('#chat-input', 'Name a girl');
    await page.click('#chat-send');
    await page.waitForFunction(() => { const li = [...document.querySelectorAll('#chat-log li.assistant')].pop(); return li && !li.hasAttribute('aria-busy'); }, null, { timeout: 60000 });
    seen.schemaAnswer = await page.evaluate(() => [...document.querySelectorAll('#chat-log li.assistant')].pop().querySelector('.body').textContent);
    await page.fill('#chat-schema', '');

    // ---- knowledge: a store, a file chosen and one dropped, then search ----
    await page.click('#tab-knowledge');
    await page.fill('#kb-name', 'docs');
    await page.click('#kb-create button[type=submit]');
    await page.waitForFunction(() => document.getElementById('kb-store').options.length > 0);
    await page.setInputFiles('#kb-files', uploadFile);
    const dropped = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['Zebras graze on the open savanna in large herds.'], 'zebras.txt', { type: 'text/plain' }));
      return dt;
    });
    await page.dispatchEvent('#kb-drop', 'drop', { dataTransfer: dropped });
    await page.waitForFunction(() => document.querySelectorAll('#kb-file-list [data-status="completed"]').length === 2, null, { timeout: 120000 });
    seen.files = await page.$$eval('#kb-file-list li', (ls) => ls.map((l) => l.textContent));
    await page.fill('#kb-query', 'quokka');
    await page.check('input[name="kb-mode"][value="keyword"]');
    await page.click('#kb-search button[type=submit]');
    await page.waitForSelector('#kb-results li');
    seen.search = await page.$$eval('#kb-results li', (ls) => ls.map((l) => l.textContent));
    // the three modes side by side, each with its scores and chunks
    await page.fill('#kb-query', 'zebras on the savanna');
    await page.check('input[name="kb-mode"][value="compare"]');
    await page.click('#kb-search button[type=submit]');
    await page.waitForSelector('#kb-results .compare [data-mode="hybrid"] li');
    seen.compare = await page.$$eval('#kb-results .compare ol', (os) => os.map((o) => o.dataset.mode + ': ' + (o.querySelector('strong') || { textContent: '-' }).textContent));
    await page.screenshot({ path: path.join(shots, 'knowledge.png'), fullPage: true });

    // ---- traces: the chat's trace opens as a waterfall; an attribute filters them ----
    await page.click('#tab-traces');
    await page.waitForSelector('#tr-list button');
    await page.fill('#tr-attribute', 'gen_ai.request.model=stories260K');
    await page.click('#tr-filter button[type=submit]');
    await page.waitForSelector('#tr-list button');
    seen.tracesForModel = await page.$$eval('#tr-list button', (bs) => bs.length);
    await page.click('#tr-list button');
    await page.waitForSelector('#tr-waterfall .span-row');
    seen.spans = await page.$$eval('#tr-waterfall .span-row', (rs) => rs.map((r) => r.dataset.span));
    await page.screenshot({ path: path.join(shots, 'traces.png'), fullPage: true });
    await page.fill('#tr-attribute', 'gen_ai.request.model=no-such-model');
    await page.click('#tr-filter button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#tr-list li') && !document.querySelector('#tr-list button'));
    seen.tracesForNothing = await page.textContent('#tr-list');

    // ---- engines: the fake host is up, then goes down and turns red ----
    await page.click('#tab-engines');
    const row = '#en-table tr[data-engine*="' + enginePort + '"]';
    await page.waitForSelector(row + ' [data-status="up"]', { timeout: 30000 });
    seen.engineUp = await page.textContent(row);
    await new Promise((r) => engine.close(r));
    engine.closeAllConnections && engine.closeAllConnections();
    await page.waitForSelector(row + ' [data-status="down"]', { timeout: 30000 });
    seen.engineDownColor = await page.$eval(row + ' [data-status="down"]', (e) => getComputedStyle(e).color);
    seen.engineDownRow = await page.$eval(row, (e) => e.className);
    await page.waitForSelector('#en-charts .chart', { timeout: 10000 });
    seen.charts = await page.$$eval('#en-charts figcaption', (cs) => cs.map((c) => c.textContent));
    await page.screenshot({ path: path.join(shots, 'engines.png'), fullPage: true });

    // ---- agents: a response runs, its steps shown ----
    await page.click('#tab-agents');
    await page.selectOption('#ag-model', 'stories260K');
    await page.fill('#ag-input', 'Once upon a time');
    await page.click('#ag-form button[type=submit]');
    await page.waitForSelector('#ag-steps .step-answer', { timeout: 60000 });
    seen.agentSteps = await page.$$eval('#ag-steps .kind', (ks) => ks.map((k) => k.textContent));
    // a client function the model must call: the page asks for its result, then the response goes on with it
    await page.fill('#ag-functions', JSON.stringify([{ type: 'function', name: 'lookup', description: 'Looks a word up',
      parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }]));
    await page.selectOption('#ag-tool-choice', 'required');
    // greedy: a sampled argument of the tiny model may run past the output limit and leave no whole call
    await page.fill('#ag-temperature', '0');
    await page.click('#ag-form button[type=submit]');
    await page.waitForSelector('#ag-steps .step-your-turn textarea', { timeout: 60000 });
    await page.fill('#ag-steps .step-your-turn textarea', 'forty-two');
    await page.click('#ag-steps .step-your-turn button[type=submit]');
    await page.waitForFunction(() => [...document.querySelectorAll('#ag-steps .kind')].filter((k) => k.textContent === 'model call').length === 2
      && document.querySelector('#ag-steps .step-answer'), null, { timeout: 60000 });
    seen.functionSteps = await page.$$eval('#ag-steps .kind', (ks) => ks.map((k) => k.textContent));
    seen.functionCall = await page.textContent('#ag-steps .step-tool-call code');
    await page.screenshot({ path: path.join(shots, 'agents.png'), fullPage: true });

    // ---- accessibility and narrow screens, every tab ----
    for (const tab of ['chat', 'knowledge', 'agents', 'engines', 'traces']) {
      await page.click('#tab-' + tab);
      seen.axe[tab] = await axe(page);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    for (const tab of ['chat', 'knowledge', 'agents', 'engines', 'traces']) {
      await page.click('#tab-' + tab);
      seen.overflow[tab] = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    }
    await page.click('#tab-chat');
    await page.screenshot({ path: path.join(shots, 'chat-390px.png'), fullPage: true });
    // the keyboard: arrows move between tabs and show their panels
    await page.focus('#tab-chat');
    await page.keyboard.press('ArrowRight');
    seen.keyboard = await page.evaluate(() => [document.activeElement.id, !document.getElementById('knowledge').hidden]);
    await page.keyboard.press('End');
    seen.keyboardEnd = await page.evaluate(() => document.activeElement.id);
  } finally {
    await browser.close();
    engine.close();
  }
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e); process.exit(1); });

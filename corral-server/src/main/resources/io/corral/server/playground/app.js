// Corral's playground: one page over the server's own API (OpenAI's and Llama Stack's routes), no framework.
// The API key entered once is kept in this browser and sent as a bearer token, like any client's.

const $ = (id) => document.getElementById(id);
const store = {
  get: (k, d) => { try { const v = localStorage.getItem('corral.' + k); return v === null ? d : JSON.parse(v); } catch { return d; } },
  set: (k, v) => localStorage.setItem('corral.' + k, JSON.stringify(v)),
};

// ---- the API ----

function headers(json) {
  const h = {};
  const key = store.get('key', '');
  if (key) h.Authorization = 'Bearer ' + key;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || ('HTTP ' + status));
    this.status = status;
  }
}

async function api(path, { method = 'GET', body, signal, raw } = {}) {
  const init = { method, headers: headers(body !== undefined && !(body instanceof FormData)), signal };
  if (body !== undefined) init.body = body instanceof FormData ? body : JSON.stringify(body);
  const res = await fetch(path, init);
  if (raw) {
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    return res;
  }
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// Reads a server-sent event stream: calls onEvent(name, data) for each JSON event until [DONE] or the end.
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (!data.length) continue;
      const payload = data.join('\n');
      if (payload === '[DONE]') return;
      onEvent(name, JSON.parse(payload));
    }
  }
}

// ---- small DOM helpers ----

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// Markdown as models write it: fenced code, inline code, headings, lists, bold, italics, links. Text is escaped first,
// so nothing a model writes becomes markup of its own.
function markdown(src) {
  const blocks = [];
  src = src.replace(/```([\w+-]*)\n?([\s\S]*?)(```|$)/g, (_, lang, code) => {
    blocks.push('<pre tabindex="0"><code' + (lang ? ' data-lang="' + escapeHtml(lang) + '"' : '') + '>' + escapeHtml(code) + '</code></pre>');
    return '\u0000' + (blocks.length - 1) + '\u0000';
  });
  const inline = (t) => escapeHtml(t)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>')
    .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" rel="noopener noreferrer" target="_blank">$1</a>');
  const out = [];
  let list = null;
  for (const line of src.split('\n')) {
    const block = line.match(/^\u0000(\d+)\u0000$/);
    const item = line.match(/^\s*(?:[-*]|\d+\.)\s+(.*)$/);
    const heading = line.match(/^(#{1,4})\s+(.*)$/);
    if (item) {
      if (!list) { list = []; }
      list.push('<li>' + inline(item[1]) + '</li>');
      continue;
    }
    if (list) { out.push('<ul>' + list.join('') + '</ul>'); list = null; }
    if (block) out.push(blocks[+block[1]]);
    else if (heading) out.push('<p><strong>' + inline(heading[2]) + '</strong></p>');
    else if (line.trim()) out.push('<p>' + inline(line).replace(/\u0000(\d+)\u0000/g, (_, i) => blocks[+i]) + '</p>');
  }
  if (list) out.push('<ul>' + list.join('') + '</ul>');
  return out.join('');
}

function showError(where, err) {
  where.append(el('li', { class: 'error-text', role: 'alert', text: err.message || String(err) }));
}

// ---- tabs ----

const tabs = [...document.querySelectorAll('[role="tab"]')];
const onShow = {};

function select(tab, focus) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
  }
  if (focus) tab.focus();
  const id = tab.getAttribute('aria-controls');
  if (location.hash !== '#' + id) history.replaceState(null, '', '#' + id);
  (onShow[id] || (() => {}))();
}

tabs.forEach((t, i) => {
  t.addEventListener('click', () => select(t));
  t.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step) { e.preventDefault(); select(tabs[(i + step + tabs.length) % tabs.length], true); }
    if (e.key === 'Home') { e.preventDefault(); select(tabs[0], true); }
    if (e.key === 'End') { e.preventDefault(); select(tabs[tabs.length - 1], true); }
  });
});

// ---- the key ----

$('api-key').value = store.get('key', '');
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  store.set('key', $('api-key').value.trim());
  $('key-status').textContent = 'saved';
  loadModels();
});

// ---- models ----

let models = [];
async function loadModels() {
  try {
    const list = await api('/v1/models');
    models = list.data.map((m) => m.id);
    $('key-status').textContent = '';
  } catch (err) {
    models = [];
    $('key-status').textContent = err.status === 401 ? 'key needed' : err.message;
  }
  for (const id of ['chat-model', 'ag-model']) {
    const sel = $(id);
    const was = sel.value || store.get(id, '');
    sel.replaceChildren(...models.map((m) => el('option', { value: m, text: m })));
    if (models.includes(was)) sel.value = was;
  }
}
for (const id of ['chat-model', 'ag-model']) $(id).addEventListener('change', (e) => store.set(id, e.target.value));

// ---- chat ----

let conversations = store.get('conversations', []);
let current = conversations[0] || null;
let image = null;
let running = null;

function saveConversations() {
  store.set('conversations', conversations.slice(0, 50));
}

function newConversation() {
  current = { id: 'c' + Date.now(), title: 'New conversation', messages: [] };
  conversations.unshift(current);
  saveConversations();
  renderConversations();
  renderLog();
}

function renderConversations() {
  $('chat-conversation').replaceChildren(...conversations.map((c) => el('option', { value: c.id, text: c.title })));
  if (current) $('chat-conversation').value = current.id;
}

function messageItem(m) {
  const li = el('li', { class: m.role }, el('span', { class: 'who', text: m.role }));
  const body = el('div', { class: 'body' });
  if (m.role === 'assistant') body.innerHTML = markdown(m.content || '');
  else body.textContent = m.content;
  li.append(body);
  if (m.image) li.append(el('img', { src: m.image, alt: 'attached image', width: 120 }));
  if (m.tool_calls) {
    for (const c of m.tool_calls) li.append(code(c.function.name + '(' + c.function.arguments + ')'));
  }
  return li;
}

function renderLog() {
  $('chat-log').replaceChildren(...(current ? current.messages.map(messageItem) : []));
}

function wire(m) {
  if (!m.image) return { role: m.role, content: m.content };
  return { role: m.role, content: [{ type: 'text', text: m.content }, { type: 'image_url', image_url: { url: m.image } }] };
}

function parseJsonField(id, what) {
  const text = $(id).value.trim();
  if (!text) return null;
  try { return JSON.parse(text); } catch (e) { throw new Error(what + ' is not JSON: ' + e.message); }
}

async function sendChat() {
  const text = $('chat-input').value.trim();
  if (!text || running) return;
  if (!current) newConversation();
  const model = $('chat-model').value;
  let schema; let tools;
  try {
    schema = parseJsonField('chat-schema', 'the schema');
    tools = parseJsonField('chat-tools', 'the tools');
  } catch (err) { showError($('chat-log'), err); return; }
  const user = { role: 'user', content: text, image };
  current.messages.push(user);
  if (current.title === 'New conversation') { current.title = text.slice(0, 40); renderConversations(); }
  $('chat-input').value = '';
  image = null;
  $('chat-image-name').textContent = '';
  $('chat-log').append(messageItem(user));
  const answer = { role: 'assistant', content: '' };
  const item = messageItem(answer);
  item.setAttribute('aria-busy', 'true');
  $('chat-log').append(item);
  const body = { model, stream: true, messages: [], temperature: +$('chat-temperature').value,
    top_p: +$('chat-top-p').value, max_tokens: +$('chat-max-tokens').value || undefined };
  const system = $('chat-system').value.trim();
  if (system) body.messages.push({ role: 'system', content: system });
  body.messages.push(...current.messages.map(wire));
  if (schema) body.response_format = { type: 'json_schema', json_schema: { name: 'answer', schema } };
  if (tools) body.tools = tools;
  running = new AbortController();
  $('chat-stop').disabled = false;
  $('chat-send').disabled = true;
  const calls = [];
  try {
    const res = await api('/v1/chat/completions', { method: 'POST', body, signal: running.signal, raw: true });
    await readEvents(res, (_, chunk) => {
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = (chunk.choices && chunk.choices[0] && chunk.choices[0].delta) || {};
      if (delta.content) {
        answer.content += delta.content;
        item.querySelector('.body').innerHTML = markdown(answer.content);
      }
      for (const c of delta.tool_calls || []) {
        const at = calls[c.index] || (calls[c.index] = { id: c.id, type: 'function', function: { name: '', arguments: '' } });
        if (c.function && c.function.name) at.function.name += c.function.name;
        if (c.function && c.function.arguments) at.function.arguments += c.function.arguments;
      }
    });
  } catch (err) {
    if (err.name !== 'AbortError') showError($('chat-log'), err);
  } finally {
    if (calls.length) { answer.tool_calls = calls; item.replaceWith(messageItem(answer)); }
    item.removeAttribute('aria-busy');
    current.messages.push(answer);
    saveConversations();
    running = null;
    $('chat-stop').disabled = true;
    $('chat-send').disabled = false;
  }
}

$('chat-form').addEventListener('submit', (e) => { e.preventDefault(); sendChat(); });
$('chat-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); sendChat(); }
});
$('chat-stop').addEventListener('click', () => running && running.abort());
$('chat-new').addEventListener('click', newConversation);
$('chat-conversation').addEventListener('change', (e) => {
  current = conversations.find((c) => c.id === e.target.value) || null;
  renderLog();
});
$('chat-image').addEventListener('change', (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { image = reader.result; $('chat-image-name').textContent = file.name; };
  reader.readAsDataURL(file);
});
for (const [input, out] of [['chat-temperature', 'chat-temperature-value'], ['chat-top-p', 'chat-top-p-value']]) {
  $(input).addEventListener('input', () => { $(out).textContent = $(input).value; });
}

// ---- knowledge ----

async function loadStores(select) {
  try {
    const list = await api('/v1/vector_stores?limit=100');
    $('kb-store').replaceChildren(...list.data.map((s) => el('option', { value: s.id, text: s.name || s.id })));
    if (select) $('kb-store').value = select;
    await loadFiles();
  } catch (err) {
    $('kb-file-list').replaceChildren();
    showError($('kb-file-list'), err);
  }
}

// Uploads still on their way: shown above the store's files until the store lists them done.
const pending = new Set();
let filesSeq = 0;

async function loadFiles() {
  const seq = ++filesSeq;
  const vs = $('kb-store').value;
  if (!vs) { $('kb-file-list').replaceChildren(...pending); return; }
  const list = await api('/v1/vector_stores/' + vs + '/files?limit=100');
  const names = await Promise.all(list.data.map((f) => api('/v1/files/' + f.id).then((x) => x.filename).catch(() => f.id)));
  if (seq !== filesSeq) return; // a later listing is on its way
  const shown = new Set([...pending].map((r) => r.dataset.file).filter(Boolean));
  $('kb-file-list').replaceChildren(...pending,
    ...list.data.filter((f) => !shown.has(f.id)).map((f) => fileItem(names[list.data.indexOf(f)], f.status, f.id)));
}

function fileItem(name, status, id) {
  return el('li', { 'data-file': id || '' }, el('span', { text: name }),
    el('span', { class: 'status-' + status, 'data-status': status, text: status }));
}

function setStatus(row, name, status, title) {
  row.replaceChildren(...fileItem(name, status).childNodes);
  if (title) row.title = title;
}

async function upload(files) {
  const vs = $('kb-store').value;
  if (!vs) { showError($('kb-file-list'), new Error('create or choose a store first')); return; }
  await Promise.all(files.map(async (file) => {
    const row = fileItem(file.name, 'uploading');
    pending.add(row);
    $('kb-file-list').prepend(row);
    try {
      const form = new FormData();
      form.append('purpose', 'assistants');
      form.append('file', file, file.name);
      const uploaded = await api('/v1/files', { method: 'POST', body: form });
      row.dataset.file = uploaded.id;
      let f = await api('/v1/vector_stores/' + vs + '/files', { method: 'POST', body: { file_id: uploaded.id } });
      while (f.status === 'in_progress') {
        setStatus(row, file.name, f.status);
        await new Promise((r) => setTimeout(r, 300));
        f = await api('/v1/vector_stores/' + vs + '/files/' + uploaded.id);
      }
      setStatus(row, file.name, f.status, f.last_error && f.last_error.message);
      pending.delete(row); // the store lists it now
    } catch (err) {
      setStatus(row, file.name, 'failed', err.message); // kept in view: the store never got it
    }
  }));
  await loadFiles().catch((err) => showError($('kb-file-list'), err));
}

$('kb-create').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('kb-name').value.trim();
  if (!name) return;
  try {
    const s = await api('/v1/vector_stores', { method: 'POST', body: { name } });
    $('kb-name').value = '';
    await loadStores(s.id);
  } catch (err) { showError($('kb-file-list'), err); }
});
$('kb-store').addEventListener('change', () => loadFiles().catch((err) => showError($('kb-file-list'), err)));
$('kb-files').addEventListener('change', (e) => { upload([...e.target.files]); e.target.value = ''; });
const drop = $('kb-drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); upload([...e.dataTransfer.files]); });
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('kb-files').click(); } });
drop.addEventListener('click', () => $('kb-files').click());

async function searchList(vs, query, mode) {
  const list = el('ol', { class: 'results', 'data-mode': mode, 'aria-label': mode + ' results' });
  try {
    const r = await api('/v1/vector_stores/' + vs + '/search', { method: 'POST', body: { query, search_mode: mode, max_num_results: 10 } });
    if (!r.data.length) list.append(el('li', { text: 'No result.' }));
    for (const hit of r.data) {
      const text = (hit.content || []).map((c) => c.text).join('\n');
      list.append(el('li', { class: 'hit' },
        el('strong', { text: hit.filename || hit.file_id }), ' ',
        el('span', { class: 'score', text: mode + ' score ' + Number(hit.score).toFixed(4) }),
        el('p', { class: 'chunk', text })));
    }
  } catch (err) { showError(list, err); }
  return list;
}

$('kb-search').addEventListener('submit', async (e) => {
  e.preventDefault();
  const vs = $('kb-store').value;
  const query = $('kb-query').value.trim();
  const mode = document.querySelector('input[name="kb-mode"]:checked').value;
  const out = $('kb-results');
  out.replaceChildren();
  if (!vs || !query) return;
  if (mode !== 'compare') { out.append(await searchList(vs, query, mode)); return; }
  const modes = ['vector', 'keyword', 'hybrid'];
  const lists = await Promise.all(modes.map((m) => searchList(vs, query, m)));
  out.append(el('div', { class: 'compare' }, modes.map((m, i) => el('section', {}, el('h3', { text: m }), lists[i]))));
});
onShow.knowledge = () => loadStores($('kb-store').value);

// ---- agents ----

function step(kind, ...content) {
  const li = el('li', { class: 'step step-' + kind.replace(/\W+/g, '-') }, el('span', { class: 'kind', text: kind }), ...content);
  $('ag-steps').append(li);
  return li;
}

// A code block that can scroll sideways is reachable by the keyboard (tabindex), as axe asks.
function code(text) {
  return el('pre', { tabindex: 0 }, el('code', { text }));
}

async function runAgent(input, previous) {
  const body = { model: $('ag-model').value, input, stream: true, tools: [] };
  if (previous) body.previous_response_id = previous;
  const temperature = $('ag-temperature').value.trim();
  if (temperature !== '') body.temperature = +temperature;
  const instructions = $('ag-instructions').value.trim();
  if (instructions) body.instructions = instructions;
  if ($('ag-file-search').checked && $('kb-store').value) body.tools.push({ type: 'file_search', vector_store_ids: [$('kb-store').value] });
  const mcp = $('ag-mcp').value.trim();
  if (mcp) body.tools.push({ type: 'mcp', server_label: 'mcp', server_url: mcp, require_approval: 'never' });
  let functions = [];
  try { functions = parseJsonField('ag-functions', 'the functions') || []; } catch (err) { showError($('ag-steps'), err); return; }
  body.tools.push(...functions);
  // a continuation carrying tool results lets the model answer; the first turn uses the choice made here
  if (body.tools.length) body.tool_choice = previous ? 'auto' : $('ag-tool-choice').value;
  if (!body.tools.length) delete body.tools;
  let text = null;
  let response = null;
  const asked = [];
  try {
    const res = await api('/v1/responses', { method: 'POST', body, raw: true });
    step('model call', el('span', { text: body.model + (previous ? ' (continuing)' : '') }));
    await readEvents(res, (name, ev) => {
      const type = ev.type || name;
      if (type === 'response.output_text.delta') {
        if (!text) text = step('answer', el('div', { class: 'body' }));
        text.dataset.text = (text.dataset.text || '') + ev.delta;
        text.querySelector('.body').innerHTML = markdown(text.dataset.text);
      } else if (type === 'response.output_item.done') {
        const it = ev.item;
        if (it.type === 'function_call') { step('tool call', code(it.name + '(' + it.arguments + ')')); asked.push(it); }
        else if (it.type === 'file_search_call') {
          step('tool call', code('file_search ' + JSON.stringify(it.queries || [])));
          step('tool result', code((it.results || []).map((r) => (r.filename || r.file_id) + '  ' + Number(r.score).toFixed(3)).join('\n') || 'no result'));
        } else if (it.type === 'mcp_call') {
          step('tool call', code(it.server_label + '.' + it.name + '(' + it.arguments + ')'));
          step('tool result', code(it.error ? 'error: ' + it.error : String(it.output)));
        } else if (it.type === 'mcp_list_tools') {
          step('tools listed', code((it.tools || []).map((t) => t.name).join(', ')));
        } else if (it.type === 'web_search_call') {
          step('tool call', code('web_search ' + JSON.stringify(it.action || {})));
        } else if (it.type === 'message') {
          for (const part of it.content || []) if (part.type === 'refusal') step('shield verdict', el('p', { text: part.refusal }));
        }
      } else if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
        response = ev.response;
      } else if (type === 'error') {
        throw new Error(ev.message || (ev.error && ev.error.message) || 'error');
      }
    });
  } catch (err) { showError($('ag-steps'), err); return; }
  if (response && response.status !== 'completed') step('status', el('span', { text: response.status }));
  const local = asked.filter((c) => functions.some((f) => f.name === c.name));
  if (local.length && response) answerFunctions(local, response.id);
}

// Client functions: the page asks the person for each result, then continues the response with them.
function answerFunctions(calls, responseId) {
  const form = el('form', { class: 'composer' });
  for (const c of calls) {
    const id = 'fn-' + c.call_id;
    form.append(el('label', { for: id, text: 'Result of ' + c.name + '(' + c.arguments + ')' }), el('textarea', { id, rows: 2, 'data-call': c.call_id }));
  }
  form.append(el('div', { class: 'row' }, el('button', { type: 'submit', text: 'Send results' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const outputs = [...form.querySelectorAll('textarea')].map((t) => ({ type: 'function_call_output', call_id: t.dataset.call, output: t.value }));
    step('tool result', code(outputs.map((o) => o.output).join('\n')));
    form.closest('li').remove();
    runAgent(outputs, responseId);
  });
  step('your turn', form);
}

$('ag-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('ag-input').value.trim();
  if (!input) return;
  $('ag-steps').replaceChildren();
  runAgent(input, null);
});
onShow.agents = () => { if (!$('kb-store').options.length) loadStores(); };

// ---- engines and metrics ----

const series = {};
let lastSample = null;

function parseMetrics(text) {
  const sums = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+eE.\d]+|NaN|\+Inf)/);
    if (!m) continue;
    const labels = m[2] || '';
    let key = m[1];
    if (key === 'corral_tokens_total') key += labels.includes('"completion"') ? ':completion' : labels.includes('"prompt"') ? ':prompt' : '';
    sums[key] = (sums[key] || 0) + Number(m[3]);
  }
  return sums;
}

function sparkline(name, label, value, unit) {
  const points = (series[name] = (series[name] || []).concat(value).slice(-60));
  const max = Math.max(...points, 1e-9);
  const coords = points.map((v, i) => (points.length === 1 ? 0 : (i * 200) / (points.length - 1)) + ',' + (48 - (v / max) * 46)).join(' ');
  let chart = document.querySelector('[data-chart="' + name + '"]');
  if (!chart) {
    chart = el('figure', { class: 'chart', 'data-chart': name }, el('figcaption', { text: label }), el('div', { class: 'value' }));
    chart.append(document.createElementNS('http://www.w3.org/2000/svg', 'svg'));
    $('en-charts').append(chart);
  }
  chart.querySelector('.value').textContent = value.toFixed(2) + ' ' + unit;
  const svg = chart.querySelector('svg');
  svg.setAttribute('viewBox', '0 0 200 50');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label + ' over the last samples');
  svg.innerHTML = '<polyline points="' + coords + '"></polyline>';
}

async function refreshEngines() {
  try {
    const list = await api('/v1/engines');
    $('en-table').tBodies[0].replaceChildren(...list.data.map((e) => el('tr', { class: e.status, 'data-engine': e.id },
      el('td', { text: e.id }), el('td', { text: e.provider }),
      el('td', { class: 'nowrap' }, el('span', { class: 'status-' + e.status, 'data-status': e.status, text: e.status })),
      el('td', { class: 'nowrap', text: e.latency_ms >= 0 ? e.latency_ms + ' ms' : '-' }),
      el('td', { text: (e.models || []).map((m) => m.id + (m.device ? ' on ' + m.device : '')).join(', ') }),
      el('td', { text: e.last_error || '' }))));
  } catch (err) {
    $('en-table').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'error-text', text: err.message })));
  }
  try {
    const res = await fetch('/metrics', { headers: headers(false) });
    if (!res.ok) return;
    const now = performance.now();
    const m = parseMetrics(await res.text());
    if (lastSample) {
      const secs = Math.max(1e-3, (now - lastSample.at) / 1000);
      const rate = (k) => Math.max(0, ((m[k] || 0) - (lastSample.m[k] || 0)) / secs);
      sparkline('requests', 'Requests per second', rate('corral_http_requests_total'), 'req/s');
      sparkline('tokens', 'Generated tokens per second', rate('corral_tokens_total:completion'), 'tok/s');
      const n = (m.corral_time_to_first_token_seconds_count || 0) - (lastSample.m.corral_time_to_first_token_seconds_count || 0);
      const s = (m.corral_time_to_first_token_seconds_sum || 0) - (lastSample.m.corral_time_to_first_token_seconds_sum || 0);
      sparkline('ttft', 'Time to first token (mean, last interval)', n > 0 ? (s / n) * 1000 : 0, 'ms');
    }
    lastSample = { at: now, m };
  } catch { /* metrics are a nicety */ }
}

let engineTimer = null;
onShow.engines = () => {
  refreshEngines();
  clearInterval(engineTimer);
  engineTimer = setInterval(() => { if (!$('engines').hidden) refreshEngines(); }, 2000);
};

// ---- traces ----

function filters() {
  const f = $('tr-attribute').value.trim();
  if (!f) return undefined;
  const at = f.indexOf('=');
  if (at < 1) throw new Error('filter as key=value');
  return [{ key: f.slice(0, at).trim(), op: 'eq', value: f.slice(at + 1).trim() }];
}

async function loadTraces() {
  const list = $('tr-list');
  list.replaceChildren();
  try {
    const r = await api('/v1/telemetry/traces', { method: 'POST', body: { limit: 50, order_by: ['-start_time'], attribute_filters: filters() } });
    if (!r.data.length) list.append(el('li', { text: 'No trace.' }));
    for (const t of r.data) {
      const ms = (Date.parse(t.end_time) - Date.parse(t.start_time)) || 0;
      const b = el('button', { type: 'button', 'aria-pressed': 'false', 'data-trace': t.trace_id,
        text: new Date(t.start_time).toLocaleTimeString() + ' · ' + ms + ' ms · ' + t.trace_id.slice(0, 8) });
      b.addEventListener('click', () => {
        list.querySelectorAll('button').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
        openTrace(t);
      });
      list.append(el('li', {}, b));
    }
  } catch (err) { showError(list, err); }
}

async function openTrace(t) {
  const out = $('tr-waterfall');
  out.replaceChildren();
  try {
    const tree = await api('/v1/telemetry/spans/' + t.root_span_id + '/tree', { method: 'POST', body: {} });
    const spans = Object.values(tree.data);
    const start = Math.min(...spans.map((s) => Date.parse(s.start_time)));
    const end = Math.max(...spans.map((s) => Date.parse(s.end_time)));
    const total = Math.max(1, end - start);
    const children = {};
    for (const s of spans) (children[s.parent_span_id || ''] = children[s.parent_span_id || ''] || []).push(s);
    const rows = [];
    const walk = (s, depth) => {
      rows.push([s, depth]);
      (children[s.span_id] || []).sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time)).forEach((c) => walk(c, depth + 1));
    };
    spans.filter((s) => !spans.some((p) => p.span_id === s.parent_span_id)).forEach((s) => walk(s, 0));
    out.append(el('h3', { text: 'Trace ' + t.trace_id }));
    for (const [s, depth] of rows) {
      const from = Date.parse(s.start_time) - start;
      const ms = Date.parse(s.end_time) - Date.parse(s.start_time);
      const bar = el('div', { class: 'bar' });
      bar.style.left = (100 * from / total) + '%';
      bar.style.width = (100 * ms / total) + '%';
      const attrs = Object.entries(s.attributes || {}).map(([k, v]) => k + '=' + v).join('  ');
      const label = el('span', { class: 'label', text: '\u00a0'.repeat(depth * 2) + s.name + ' · ' + ms + ' ms' });
      out.append(el('div', { class: 'span-row' + (s.status === 'error' ? ' error' : ''), 'data-span': s.name },
        label, el('div', { class: 'track', role: 'presentation' }, bar), el('div', { class: 'span-attrs', text: attrs })));
    }
  } catch (err) { out.append(el('p', { class: 'error-text', role: 'alert', text: err.message })); }
}

$('tr-filter').addEventListener('submit', (e) => { e.preventDefault(); loadTraces(); });
$('tr-refresh').addEventListener('click', loadTraces);
onShow.traces = loadTraces;

// ---- start ----

renderConversations();
renderLog();
loadModels();
const first = tabs.find((t) => '#' + t.getAttribute('aria-controls') === location.hash) || tabs[0];
select(first);

// The explorer's pages. Each URL of /ui/ is one view: this script asks the
// same URL for its JSON and renders it. Everything from the server is put
// into the page as text (textContent, attributes), never as markup.
'use strict';

const UI = (() => {
  // ---- DOM ----------------------------------------------------------------
  const SVGNS = 'http://www.w3.org/2000/svg';
  function h(tag, attrs, ...kids) {
    const svg = tag.startsWith('svg:');
    const el = svg ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else el.setAttribute(k, String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const link = (href, text, attrs) => h('a', Object.assign({ href }, attrs || {}), text);
  const short = (hex, n) => (hex ? `${hex.slice(0, n || 16)}…` : '—');
  const main = () => document.getElementById('main');
  function when(ms) {
    if (!ms) return '—';
    const d = new Date(ms);
    return `${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
  }
  function ago(ms) {
    if (ms === null || ms === undefined) return '—';
    const s = Math.round(ms / 1000);
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} days ago`;
  }
  const dur = (ms) => (ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  function table(head, rows, attrs) {
    return h('table', attrs || {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', { text: x })))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => (c instanceof Node ? h('td', {}, c) : h('td', { text: c ?? '—' })))))));
  }
  function badge(state) {
    const cls = ['ok', 'spent'].includes(state) ? 'ok' : ['running', 'no-plan', 'charged', 'started'].includes(state) ? 'warn'
      : ['refunded', 'not-reached'].includes(state) ? 'plain' : 'bad';
    return h('span', { class: `badge ${cls}`, text: state });
  }
  const section = (title, ...kids) => h('section', {}, h('h2', { text: title }), kids);
  const dl = (pairs) => h('dl', {}, pairs.filter(Boolean).map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v instanceof Node ? v : String(v ?? '—'))]));

  // ---- data ---------------------------------------------------------------
  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    let body = null;
    try { body = PXC.json(await r.text(), url); } catch (e) { body = { error: `unreadable answer (${r.status})` }; }
    return { status: r.status, body };
  }
  class Refused extends Error {
    constructor(status, msg) { super(msg); this.status = status; }
  }
  async function data(url) {
    const r = await getJSON(url);
    if (r.status !== 200) throw new Refused(r.status, (r.body && r.body.error) || `HTTP ${r.status}`);
    return r.body;
  }
  const here = () => location.pathname + location.search;

  // ---- the log's inclusion proofs, checked here --------------------------
  // A checkpoint note as served, its signature checked under the log key
  // the membership names; then any entry's inclusion against its root.
  async function checkedCheckpoint(noteText, logKeyText) {
    const n = PXC.note(noteText, 'checkpoint');
    await PXC.noteSigned(n, await PXC.verifier(logKeyText, 'log key'), 'checkpoint');
    return PXC.checkpoint(n, 'checkpoint');
  }
  const rawCache = new Map();
  async function entryBytes(index) {
    if (!rawCache.has(index)) rawCache.set(index, data(`/ui/entry/${index}`).then((e) => PXC.b64(e.raw, `entry ${index}`)));
    return rawCache.get(index);
  }
  async function included(inc, cp) {
    if (!inc || !cp || inc.size !== cp.size) return 'not checked';
    const leaf = await PXC.leafHash(await entryBytes(inc.index));
    const why = await PXC.inclusion(inc.index, inc.size, leaf, inc.proof.map((p, k) => PXC.b64(p, `proof ${k}`, 32)), cp.root);
    return why || 'ok';
  }
  async function logKey() {
    const v = await data('/ui/verify');
    const log = v.membership.nodes.find((n) => n.roles.includes('log'));
    return log ? log.signing_key : null;
  }

  // ---- views --------------------------------------------------------------
  async function overview() {
    const o = await data(here());
    const kids = [h('h1', { text: `Node ${o.node}` }), dl([['roles', o.roles.join(', ')], ['members of the network', o.members]])];
    if (o.log) {
      kids.push(dl([['log entries', o.size], ['tasks in the log', o.tasks]]));
      kids.push(h('p', {}, link('/ui/log', 'The log'), ' · ', link('/ui/tasks', 'Tasks'), ' · ', link('/ui/verify', 'Verify a receipt')));
    } else if (o.log_explorer) {
      kids.push(h('p', {}, 'This node is not the log. The network\'s log and its tasks are at ', link(`${o.log_explorer}/ui/`, `${o.log_explorer}/ui/`), '.'));
    }
    if (o.pod) kids.push(h('p', {}, 'This node is a POD: ', link('/ui/pod', 'its owner\'s views'), ' (sign-in needed).'));
    return kids;
  }

  function appendsChart(a) {
    const W = 720, H = 160, n = a.counts.length, max = Math.max(1, ...a.counts);
    const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H + 30}`, class: 'chart', id: 'appends', role: 'img', 'aria-label': 'appends over time' });
    const bw = n ? (W - 40) / n : 0;
    a.counts.forEach((c, k) => {
      const bh = (c / max) * H;
      svg.append(h('svg:rect', { x: 40 + k * bw + 1, y: H - bh, width: Math.max(1, bw - 2), height: bh, class: 'bar' },
        h('svg:title', { text: `${c} entries from ${when(a.from + k * a.bucket_ms)}` })));
    });
    svg.append(h('svg:line', { x1: 40, y1: H, x2: W, y2: H, class: 'axis' }));
    svg.append(h('svg:text', { x: 36, y: 12, class: 'label', 'text-anchor': 'end', text: max }));
    svg.append(h('svg:text', { x: 36, y: H, class: 'label', 'text-anchor': 'end', text: 0 }));
    if (n) {
      svg.append(h('svg:text', { x: 40, y: H + 20, class: 'label', text: when(a.from) }));
      svg.append(h('svg:text', { x: W, y: H + 20, class: 'label', 'text-anchor': 'end', text: when(a.from + n * a.bucket_ms) }));
    }
    return svg;
  }

  async function logView() {
    const o = await data(here());
    let cpNote = 'not checked';
    try { if (o.log_key) { await checkedCheckpoint(o.note, o.log_key); cpNote = 'signature checked in this browser'; } } catch (e) { cpNote = `does not verify: ${e.message}`; }
    return [
      h('h1', { text: `The log of ${o.node}` }),
      dl([['origin', o.origin], ['tree size', o.size], ['root (SHA-256, base64)', h('code', { text: o.root })], ['log key', h('code', { text: o.log_key })],
        ['checkpoint', h('span', { id: 'checkpoint-check', text: cpNote })], ['tasks', link('/ui/tasks', String(o.tasks))]]),
      section('Latest checkpoint (C2SP signed note)', h('pre', { id: 'checkpoint', text: o.note })),
      section('Witnesses', table(['witness', `cosigned the checkpoint of ${o.cosigned_size ?? '—'} entries`, 'at', 'age'], o.witnesses.map((w) => [
        link(`/ui/node/${encodeURIComponent(w.node)}`, w.node), w.cosigned ? 'yes' : `no${w.why ? ` (${w.why})` : ''}`, when(w.time), ago(w.age_ms)]), { id: 'witnesses' }),
      h('p', { class: 'muted', text: 'The log asks its witnesses to cosign its checkpoint when this page is shown, at most every 30 s. Receipts carry the cosignatures their consumer asked for.' })),
      section('Appends over time', o.appends.counts.length ? appendsChart(o.appends) : h('p', { text: 'No entry states a time yet.' }),
        h('p', { class: 'muted', text: `Each entry counted at the time its statement states; ${o.appends.untimed} entries state none.` })),
    ];
  }

  async function tasksView() {
    const o = await data(here());
    const rows = o.tasks.map((t) => [
      link(`/ui/task/${t.task}`, short(t.task), { class: 'mono' }), t.name || '—',
      t.consumer ? link(`/ui/node/${encodeURIComponent(t.consumer)}`, t.consumer) : '—', (t.stages || []).join(' → '),
      t.executors ? t.executors.length : '—', badge(t.verdict === 'ok' ? 'ok' : t.status), t.epsilon ?? '—', dur(t.duration_ms), when(t.created)]);
    const pages = Math.ceil(o.total / o.per_page);
    return [h('h1', { text: `Tasks (${o.total})` }),
      o.total ? table(['task', 'name', 'consumer', 'stages', 'instances', 'status', 'ε spent', 'duration', 'created'], rows, { id: 'tasks' })
        : h('p', { text: 'No task in the log yet.' }),
      pages > 1 ? h('p', {}, o.page > 0 ? link(`/ui/tasks?page=${o.page - 1}`, '← newer') : '', ' ', o.page + 1 < pages ? link(`/ui/tasks?page=${o.page + 1}`, 'older →') : '') : null];
  }

  async function entryView() {
    const o = await data(here());
    let inc = 'not checked';
    try {
      const lk = await logKey();
      const ck = await data('/ui/log');
      const cp = await checkedCheckpoint(ck.note, lk);
      const leaf = await PXC.leafHash(PXC.b64(o.raw, 'entry'));
      inc = (await PXC.inclusion(o.entry, o.inclusion.size, leaf, o.inclusion.proof.map((p, k) => PXC.b64(p, `proof ${k}`, 32)), cp.root)) || 'ok';
      if (inc === 'ok' && cp.size !== o.inclusion.size) inc = 'not checked (the log grew meanwhile)';
    } catch (e) { inc = `fails: ${e.message}`; }
    return [h('h1', { text: `Log entry ${o.entry}` }),
      dl([['kind', o.kind], ['id (SHA-256 of the entry)', h('code', { text: o.id })], ['bytes', o.bytes],
        o.task ? ['task', link(`/ui/task/${o.task}`, o.task, { class: 'mono' })] : null,
        o.predicate_type ? ['predicate type', o.predicate_type] : null, ['payload type', o.payload_type],
        ['signatures (keyid hints)', (o.signatures || []).map((s) => s.keyid || '(none)').join(', ')],
        ['inclusion in the tree of ' + o.inclusion.size, h('span', { id: 'inclusion', 'data-inclusion': inc === 'ok' ? 'ok' : 'fail', text: inc === 'ok' ? 'proof checked in this browser against the signed checkpoint' : inc })]]),
      o.subject ? section('Subject', h('ul', {}, o.subject.map((s) => h('li', {}, `${s.name}: `, link(`/ui/digest/${s.sha256}`, s.sha256, { class: 'mono' }))))) : null,
      o.predicate ? section('Predicate', h('pre', { text: JSON.stringify(o.predicate, null, 2) })) : null,
      o.why ? h('p', { class: 'bad', text: o.why }) : null,
      section('Inclusion proof', h('pre', { class: 'mono', text: o.inclusion.proof.join('\n') || '(none: a tree of one entry)' }))];
  }

  async function searchView() {
    const q = new URLSearchParams(location.search).get('q') || '';
    document.getElementById('q').value = q;
    const o = await data(here());
    if (o.results.length === 1) {
      location.replace(o.results[0].url);
      return [h('p', { text: `Found: ${o.results[0].label}` })];
    }
    return [h('h1', { text: `Search: ${o.query}` }),
      o.results.length ? h('ul', { id: 'results' }, o.results.map((r) => h('li', {}, `${r.label}: `, link(r.url, r.id, { class: 'mono' }))))
        : h('p', { id: 'results', text: 'Nothing in the log or the membership matches. Search for a task id (or its first hex digits), a digest, an entry index or a node id.' })];
  }

  async function nodeView() {
    const o = await data(here());
    const m = o.member;
    return [h('h1', { text: `Node ${m.id}` }),
      dl([['roles', m.roles.join(', ')], ['URL', m.url], ['signing key', h('code', { text: m.signing_key })],
        m.platform_key ? ['platform key', h('code', { text: m.platform_key })] : null, m.tee ? ['TEE', `${m.tee}, level ${m.level}`] : null,
        m.box_key ? ['box key', h('code', { text: m.box_key })] : null]),
      section('Tasks it took part in (newest 200)', o.tasks.length ? table(['task', 'name', 'as', 'status'], o.tasks.map((t) => [
        link(`/ui/task/${t.summary.task}`, short(t.summary.task), { class: 'mono' }), t.summary.name || '—', t.role, badge(t.summary.verdict === 'ok' ? 'ok' : t.summary.status)]))
        : h('p', { text: 'None.' }))];
  }

  const views = [
    [/^\/ui\/$/, overview], [/^\/ui\/log$/, logView], [/^\/ui\/tasks$/, tasksView], [/^\/ui\/task\/[0-9a-f]{64}$/, () => UIT.task()],
    [/^\/ui\/entry\/\d+$/, entryView], [/^\/ui\/digest\/[0-9a-f]{64}$/, () => UIT.lineage()], [/^\/ui\/search$/, searchView],
    [/^\/ui\/node\/[A-Za-z0-9._-]+$/, nodeView], [/^\/ui\/verify$/, () => UIP.verify()], [/^\/ui\/pod$/, () => UIP.pod()],
  ];

  async function start() {
    const m = main();
    let kids;
    try {
      const v = views.find(([re]) => re.test(location.pathname));
      if (!v) throw new Refused(404, `no such view: ${location.pathname}`);
      kids = await v[1]();
    } catch (e) {
      const status = e instanceof Refused ? e.status : 0;
      kids = [h('div', { class: 'error', id: 'refused', 'data-status': status },
        h('h1', { text: status === 401 ? 'Sign-in needed' : status === 404 ? 'Not found' : 'Could not show this' }),
        h('p', { text: e.message }),
        status === 401 ? h('p', {}, 'On the node, run ', h('code', { text: 'pixiu ui login --node NODE.json' }), ' and open the link it prints.') : null)];
    }
    m.replaceChildren(...kids.flat().filter(Boolean));
    document.title = `${(m.querySelector('h1') || {}).textContent || 'PIXIU'} · PIXIU explorer`;
    document.body.dataset.ready = '1';
  }

  return { h, link, short, when, ago, dur, table, badge, section, dl, data, getJSON, here, Refused, checkedCheckpoint, included, logKey, start };
})();
globalThis.UI = UI;
document.addEventListener('DOMContentLoaded', () => { UI.start(); });

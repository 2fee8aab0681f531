// The receipt page (checked in this browser by verify.js against a trust
// root the reader can change) and a POD owner's views: datasets, releases,
// the privacy-budget ledger over time.
'use strict';

const UIP = (() => {
  const { h, link, short, when, table, badge, section, dl, data } = UI;

  // ---- verify a receipt -----------------------------------------------------
  async function check() {
    const v = document.getElementById('verdict');
    const details = document.getElementById('verdict-details');
    v.dataset.verdict = 'checking';
    v.className = 'verdict';
    v.textContent = 'Checking…';
    details.replaceChildren();
    let membership = null;
    try { membership = PXC.json(document.getElementById('trust').value, 'trust root'); } catch (e) { membership = null; }
    const builds = document.getElementById('builds').value.split(/\s+/).filter(Boolean);
    const r = membership ? await PXV.verify(document.getElementById('receipt').value.trim(), membership, builds)
      : { ok: false, reason: 'the trust root is not a membership file (JSON)' };
    v.dataset.verdict = r.ok ? 'ok' : 'fail';
    v.dataset.reason = r.reason;
    v.className = `verdict ${r.ok ? 'ok' : 'bad'}`;
    v.replaceChildren(h('strong', { text: r.ok ? 'ok' : 'fail' }), ': ', h('span', { class: 'reason', text: r.reason }));
    const d = r.details;
    if (d) {
      details.append(dl([['task', link(`/ui/task/${d.manifest}`, d.manifest, { class: 'mono' })], d.result ? ['result', link(`/ui/digest/${d.result}`, d.result, { class: 'mono' })] : null,
        ['checkpoint', `${d.treeSize} entries`], ['cosigned by', d.cosigs.map((c) => `${c.node} at ${when(c.time * 1000)}`).join(', ') || '—'],
        ['releases', d.audit.releases]]), h('pre', { text: d.audit.report.join('\n') }));
    }
    document.body.dataset.checked = String(Number(document.body.dataset.checked || 0) + 1);
  }

  async function verify() {
    const root = await data('/ui/verify');
    const receipt = h('textarea', { id: 'receipt', rows: 8, spellcheck: 'false', placeholder: 'Paste a receipt (the JSON `pixiu task submit --receipt` writes), or drop its file here' });
    const file = h('input', { type: 'file', id: 'receipt-file', accept: '.json,application/json' });
    const load = (f) => f && f.text().then((t) => { receipt.value = t; });
    file.addEventListener('change', () => load(file.files[0]));
    receipt.addEventListener('dragover', (e) => e.preventDefault());
    receipt.addEventListener('drop', (e) => { e.preventDefault(); load(e.dataTransfer.files[0]); });
    const trust = h('textarea', { id: 'trust', rows: 10, spellcheck: 'false' });
    trust.value = JSON.stringify(root.membership, null, 1);
    const builds = h('textarea', { id: 'builds', rows: 2, spellcheck: 'false' });
    builds.value = root.builds.join('\n');
    return [h('h1', { text: 'Verify a receipt' }),
      h('p', {}, 'The check runs in this browser (WebCrypto Ed25519 and SHA-256), independently of the server: the checkpoint\'s signature and the witnesses\' cosignatures, every entry\'s inclusion proof, the plan, every instance\'s evidence and measurement, every step\'s signature and the chain from the POD releases to the result. Every key the receipt names must be the one the trust root below pins: by default this node\'s membership and build; paste the network you know to check against it.'),
      h('div', { class: 'drop' }, receipt, h('label', {}, 'or a file: ', file)),
      h('details', {}, h('summary', { text: 'Trust root: membership and accepted builds' }),
        h('p', { class: 'muted', text: root.why ? `This node could not say its build: ${root.why}` : `As served by ${root.node}.` }),
        h('label', { for: 'trust', text: 'membership (urn:pixiu:membership:v1)' }), trust,
        h('label', { for: 'builds', text: 'accepted build digests (see `pixiu build`), one per line' }), builds),
      h('p', {}, h('button', { id: 'check', type: 'button', on: { click: check } }, 'Check the receipt')),
      h('div', { id: 'verdict', class: 'verdict', role: 'status', 'aria-live': 'polite' }),
      h('div', { id: 'verdict-details' })];
  }

  // ---- a POD's own views ------------------------------------------------------
  const num = (s) => Number(s);
  // ε in use over time: each charge from its creation, a refund takes it back.
  function ledgerPlot(b) {
    const ev = [];
    for (const c of b.charges) {
      ev.push([c.created, num(c.epsilon)]);
      if (c.state === 'refunded') ev.push([c.updated, -num(c.epsilon)]);
    }
    ev.sort((x, y) => x[0] - y[0]);
    const W = 720, H = 160, L = 50, limit = num(b.epsilon_limit);
    const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H + 34}`, class: 'chart budget-plot', 'data-dataset': b.dataset, role: 'img', 'aria-label': `ε in use for ${b.dataset}` });
    if (!ev.length) return h('p', { class: 'muted', text: 'No charge yet.' });
    const t0 = ev[0][0], t1 = Math.max(ev[ev.length - 1][0], t0 + 1000);
    let y = 0, maxY = limit;
    const pts = ev.map(([t, d]) => { y += d; maxY = Math.max(maxY, y); return [t, y]; });
    const X = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - 10), Y = (v) => H - (v / (maxY || 1)) * (H - 24);
    let d = `M${X(t0)},${Y(0)}`, prev = 0;
    for (const [t, v] of pts) { d += ` L${X(t)},${Y(prev)} L${X(t)},${Y(v)}`; prev = v; }
    d += ` L${W - 10},${Y(prev)}`;
    svg.append(h('svg:line', { x1: L, y1: Y(limit), x2: W - 10, y2: Y(limit), class: 'limit' }),
      h('svg:text', { x: W - 10, y: Y(limit) - 4, 'text-anchor': 'end', class: 'label', text: `limit ε ${b.epsilon_limit}` }),
      h('svg:path', { d, class: 'line' }), h('svg:line', { x1: L, y1: H, x2: W - 10, y2: H, class: 'axis' }),
      h('svg:text', { x: L - 4, y: H, 'text-anchor': 'end', class: 'label', text: '0' }),
      h('svg:text', { x: L - 4, y: Y(prev) + 4, 'text-anchor': 'end', class: 'label', text: String(+prev.toFixed(6)) }),
      h('svg:text', { x: L, y: H + 20, class: 'label', text: when(t0) }),
      h('svg:text', { x: W - 10, y: H + 20, 'text-anchor': 'end', class: 'label', text: when(t1) }));
    return svg;
  }

  async function pod() {
    const o = await data('/ui/pod');
    return [h('h1', { text: `POD ${o.pod}` }), h('p', { class: 'muted', text: 'Your own data, shown only to you: you signed in with a link signed by this node\'s key.' }),
      section('Datasets', table(['dataset', 'records', 'signed by their source', 'created'], o.datasets.map((d) => [d.name, d.records, d.signed, when(d.created)]), { id: 'datasets' })),
      section('Privacy budget', o.budget.map((b) => h('div', { class: 'budget' },
        h('h3', { text: `${b.dataset}: ε ${b.epsilon_spent} of ${b.epsilon_limit}, δ ${b.delta_spent} of ${b.delta_limit}` }), ledgerPlot(b),
        table(['charge', 'task', 'consumer', 'ε', 'δ', 'state', 'when', 'why'], b.charges.map((c) => [c.id, link(`/ui/task/${c.manifest}`, short(c.manifest), { class: 'mono' }),
          c.consumer, c.epsilon, c.delta, badge(c.state), when(c.updated), c.reason || '']), { class: 'charges' })))),
      section('Releases', table(['task', 'dataset', 'records', 'ε', 'released', 'release id'], o.releases.map((r) => [link(`/ui/task/${r.manifest}`, short(r.manifest), { class: 'mono' }),
        r.dataset, `${r.records} (${r.signed} signed)`, r.epsilon, when(r.released), h('code', { text: short(r.id, 12) })]), { id: 'pod-releases' })),
      section('Inbox', h('p', { class: 'muted', text: o.inbox ? `${o.inbox.length} messages` : 'This node keeps no inbox.' }))];
  }

  return { verify, pod };
})();
globalThis.UIP = UIP;

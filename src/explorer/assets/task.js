// A task's page (its chain of proofs, in order, each linked to its log
// entry with its inclusion proof checked here; failures in the audit's own
// words) and a digest's lineage drawn as SVG: the graph of `pixiu trace
// --dot`, digests as ellipses and steps as boxes, laid out here.
'use strict';

const UIT = (() => {
  const { h, link, short, when, dur, table, badge, section, dl, data, here } = UI;

  // ---- lineage --------------------------------------------------------------
  function stepLabel(s) {
    if (s.kind === 'execution') return [`stage ${s.stage} (${s.stage_kind}) p${s.partition}: ${s.status}`, `entry ${s.entry}${s.verified ? '' : ' · UNVERIFIED'}`];
    return [`released by ${s.pod}: ${s.dataset}`, `${s.records} records · entry ${s.entry}${s.verified ? '' : ' · UNVERIFIED'}`];
  }
  // The trace JSON of `pixiu trace --json` as a graph: node i of the JSON is
  // digest d<i>; each producer step is one box; edges input → step → output.
  function graph(tr) {
    const steps = new Map(), edges = [];
    tr.nodes.forEach((n, i) => {
      for (const s of n.producers) {
        if (!steps.has(s.id)) steps.set(s.id, { key: `s${steps.size}`, s, out: [] });
        const st = steps.get(s.id);
        st.out.push(i);
        edges.push([st.key, `d${i}`]);
        if (s.verified) for (const x of s.inputs) if (x.node !== null && x.node !== undefined) edges.push([`d${x.node}`, st.key]);
      }
    });
    const uniq = [...new Set(edges.map((e) => e.join('>')))].map((e) => e.split('>'));
    return { steps, edges: uniq };
  }
  function lineageSVG(tr) {
    const { steps, edges } = graph(tr);
    // Ranks from the root (top) down: longest path, so inputs sit below.
    const rank = new Map([['d0', 0]]);
    for (let pass = 0; pass < tr.nodes.length + steps.size + 1; pass++) {
      let moved = false;
      for (const [from, to] of edges) {
        if (!rank.has(to)) continue;
        const want = rank.get(to) + 1;
        if (!rank.has(from) || rank.get(from) < want) { rank.set(from, want); moved = true; }
      }
      if (!moved) break;
    }
    tr.nodes.forEach((_, i) => { if (!rank.has(`d${i}`)) rank.set(`d${i}`, 0); });
    for (const st of steps.values()) if (!rank.has(st.key)) rank.set(st.key, 1);
    const rows = [];
    for (const [k, r] of rank) (rows[r] = rows[r] || []).push(k);
    const colW = 190, rowH = 84, widest = Math.max(...rows.map((r) => (r ? r.length : 0)));
    const W = Math.max(760, widest * colW + 40), H = rows.length * rowH + 20;
    const pos = new Map();
    rows.forEach((r, ri) => (r || []).forEach((k, ci) => pos.set(k, [((ci + 0.5) * W) / r.length, 30 + ri * rowH])));
    const svg = h('svg:svg', { id: 'lineage', class: 'lineage', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': `lineage of ${tr.root}`, 'data-digests': tr.nodes.length, 'data-steps': steps.size });
    svg.append(h('svg:defs', {}, h('svg:marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      h('svg:path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))));
    for (const [from, to] of edges) {
      const [x1, y1] = pos.get(from), [x2, y2] = pos.get(to);
      svg.append(h('svg:line', { x1, y1: y1 - 17, x2, y2: y2 + 17, class: 'edge', 'marker-end': 'url(#arrow)' }));
    }
    tr.nodes.forEach((n, i) => {
      const [x, y] = pos.get(`d${i}`);
      svg.append(h('svg:a', { href: `/ui/digest/${n.digest}`, class: `lnode digest${n.producers.length ? '' : ' open'}`, 'data-digest': n.digest },
        h('svg:title', { text: `${n.digest}${n.note ? ` (${n.note})` : ''}` }),
        h('svg:ellipse', { cx: x, cy: y, rx: 78, ry: 17 }),
        h('svg:text', { x, y: y + 4, 'text-anchor': 'middle', class: 'mono', text: `${n.digest.slice(0, 16)}…` })));
    });
    for (const st of steps.values()) {
      const [x, y] = pos.get(st.key), [l1, l2] = stepLabel(st.s);
      svg.append(h('svg:a', { href: `/ui/entry/${st.s.entry}`, class: `lnode step ${st.s.kind}${st.s.verified ? '' : ' unverified'}`, 'data-entry': st.s.entry },
        h('svg:title', { text: st.s.verified ? `${l1}, ${l2}` : `${l1}: ${st.s.why}` }),
        h('svg:rect', { x: x - 88, y: y - 19, width: 176, height: 38, rx: 4 }),
        h('svg:text', { x, y: y - 3, 'text-anchor': 'middle', text: l1 }),
        h('svg:text', { x, y: y + 12, 'text-anchor': 'middle', class: 'small', text: l2 })));
    }
    return h('div', { class: 'scroll' }, svg);
  }

  async function lineage() {
    const tr = await data(here());
    const root = tr.nodes[0];
    return [h('h1', { text: 'Lineage' }), dl([['digest', h('code', { text: tr.root })],
      ['steps shown', `${graph(tr).steps.size}${tr.unverified ? `, ${tr.unverified} UNVERIFIED (not followed)` : ', every one verified'}`],
      tr.left_out ? ['left out', `${tr.left_out} failed step(s) or step(s) of other tasks with this digest`] : null,
      root.note ? ['note', root.note] : null]),
    h('p', { class: 'muted' }, 'Each step is checked against its signer (the attested instance of its task\'s plan, or the POD\'s key) by the node, as ',
      h('code', { text: 'pixiu trace' }), ' does; the same graph as ', link(`${location.pathname}?format=dot`, 'pixiu trace --dot'), ', data as ', link(`${location.pathname}?format=json`, 'JSON'), '.'),
    lineageSVG(tr)];
  }

  // ---- a task ---------------------------------------------------------------
  function verdictBox(a) {
    const text = a.verdict === 'ok' ? `ok: every stage proven; result ${a.result} from ${a.releases} releases`
      : `${a.verdict} (${a.status}) at stage ${a.stage} partition ${a.partition}${a.node ? ` on ${a.node}` : ''}: ${a.why}; blamed: ${a.blamed || 'nobody (the log proves no party at fault)'}`;
    return h('div', { id: 'task-verdict', class: `verdict ${a.verdict === 'ok' ? 'ok' : 'bad'}`, 'data-verdict': a.verdict, 'data-status': a.status }, h('strong', { text: 'Audit: ' }), text);
  }

  async function inclusionNote(inc, cp) {
    let r;
    try { r = await UI.included(inc, cp); } catch (e) { r = `fails: ${e.message}`; }
    return h('span', { class: `inc ${r === 'ok' ? 'ok' : 'bad'}`, 'data-inclusion': r === 'ok' ? 'ok' : 'fail',
      title: 'inclusion proof checked in this browser against the signed checkpoint', text: r === 'ok' ? '✓ included' : `inclusion ${r}` });
  }

  async function stepItem(s, cp) {
    const p = s.proof;
    const items = [
      h('div', { class: 'step-head' }, h('strong', { text: `Stage ${s.stage} · ${s.kind}` }), ` · partition ${s.partition} · on `,
        link(`/ui/node/${encodeURIComponent(s.node)}`, s.node), ' ', badge(s.state)),
      s.accepted ? h('div', {}, 'accepted its input: ', link(`/ui/entry/${s.accepted.entry}`, `entry ${s.accepted.entry}`, { class: 'entry-link' }), ' ', await inclusionNote(s.accepted.inclusion, cp))
        : h('div', { class: 'muted', text: 'no accepted-input statement in the log' }),
      p ? h('div', {}, `proof (${p.status}): `, link(`/ui/entry/${p.entry}`, `entry ${p.entry}`, { class: 'entry-link proof-link' }), ' ', await inclusionNote(p.inclusion, cp),
        p.started && p.finished ? ` · ran ${dur(p.finished - p.started)}` : '') : h('div', { class: 'muted', text: 'no proof in the log' }),
    ];
    if (p && p.counts) items.push(h('div', { text: `records ${p.counts.records} (${p.counts.authenticated} authenticated, ${p.counts.alleged} alleged)${p.counts.users !== undefined ? `, users ${p.counts.users}` : ''}` }));
    if (p && p.dp) items.push(h('div', { text: `differential privacy: ${p.dp.mechanism}, ε ${p.dp.epsilon}, δ ${p.dp.delta}` }));
    if (p && p.reason) items.push(h('div', { class: 'bad', text: `reason: ${p.reason}` }));
    if (p) {
      items.push(h('div', { class: 'io' }, 'in: ', p.inputs.map((x, k) => [k ? ', ' : '', link(`/ui/digest/${x.digest}`, short(x.digest, 12), { class: 'mono' }),
        x.entry !== null ? [' from ', link(`/ui/entry/${x.entry}`, `entry ${x.entry}`)] : ''])));
      items.push(h('div', { class: 'io' }, p.status === 'ok' ? 'out: ' : 'failed on input: ', p.subject.map((d, k) => [k ? ', ' : '', link(`/ui/digest/${d}`, short(d, 12), { class: 'mono' })])));
    }
    if (s.audit) items.push(h('div', { class: 'audit-why bad', 'data-status': s.audit.status }, h('strong', { text: `pixiu audit: ${s.audit.verdict} (${s.audit.status}): ` }), s.audit.why,
      `; blamed: ${s.audit.blamed || 'nobody'}`));
    return h('li', { class: `step state-${s.state}`, 'data-stage': s.stage, 'data-partition': s.partition, 'data-state': s.state }, items);
  }

  async function task() {
    const o = await data(here());
    const s = o.summary, a = o.audit, id = location.pathname.split('/').pop();
    let cp = null, cpNote;
    try { cp = await UI.checkedCheckpoint(o.checkpoint.note, await UI.logKey()); cpNote = `checkpoint of ${cp.size} entries, signature checked in this browser`; } catch (e) { cpNote = `checkpoint does not verify: ${e.message}`; }
    const out = [h('h1', { text: `Task ${s.name || short(id)}` }), h('p', { class: 'mono small', text: id }), verdictBox(a),
      dl([['consumer', s.consumer ? link(`/ui/node/${encodeURIComponent(s.consumer)}`, s.consumer) : '—'], ['created', when(s.created)], ['deadline', when(s.deadline)],
        ['stages', (s.stages || []).join(' → ') || '—'], ['ε spent (DP stage)', s.epsilon ?? '—'], ['duration', dur(s.duration_ms)],
        ['releases', s.releases], ['log entries', `${o.entries.length} (${cpNote})`]])];
    if (!o.steps) return out.concat([h('p', { text: 'No plan for this task in the log: nothing ran under it.' })]);
    const items = [];
    for (const st of o.steps) items.push(await stepItem(st, cp));
    out.push(section('Chain of proofs', h('ol', { id: 'stages', class: 'steps' }, items)));
    if (a.verdict === 'ok' && a.result) {
      try {
        const tr = await data(`/ui/digest/${a.result}?task=${id}`);
        out.push(section('Lineage of the result', h('p', {}, link(`/ui/digest/${a.result}?task=${id}`, 'open'), ' · the same graph as ', h('code', { text: 'pixiu trace --dot' })), lineageSVG(tr)));
      } catch (e) { out.push(section('Lineage of the result', h('p', { class: 'bad', text: e.message }))); }
    }
    out.push(section('Instances and their evidence', o.plan.attested ? null : h('p', { class: 'bad', text: `evidence not accepted: ${o.plan.why}` }),
      table(['stage', 'node', 'backend', 'level', 'measurement', 'build', 'evidence'], o.plan.instances.map((i) => [
        `${i.stage} ${i.kind} p${i.partition}`, link(`/ui/node/${encodeURIComponent(i.node)}`, i.node), i.backend || '—', i.level ?? '—',
        h('code', { text: short(i.measurement, 12) }), h('code', { text: short(i.build, 12) }), h('code', { text: short(i.evidence, 12) })]))));
    const rel = [];
    for (const r of o.releases) rel.push([link(`/ui/node/${encodeURIComponent(r.pod)}`, r.pod), r.dataset, `${r.records} (${r.signed} signed, ${r.unsigned} unsigned)`,
      r.epsilon ?? '—', link(`/ui/entry/${r.entry}`, `entry ${r.entry}`), r.signed_by_pod ? 'yes' : 'NO', await inclusionNote(r.inclusion, cp)]);
    out.push(section(`Releases (${o.releases.length})`, table(['POD', 'dataset', 'records', 'ε', 'log entry', 'signed by the POD', 'inclusion'], rel, { id: 'releases' })));
    out.push(section('Audit', h('p', {}, 'As ', h('code', { text: 'pixiu audit --json' }), ' prints it: ', link(`/ui/task/${id}/audit`, 'JSON')), h('pre', { id: 'audit-report', text: a.report })));
    out.push(section('Log entries', h('p', {}, o.entries.map((e, k) => [k ? ' · ' : '', link(`/ui/entry/${e.entry}`, `${e.entry} ${e.kind}`)]))));
    return out;
  }

  return { task, lineage, lineageSVG, graph };
})();
globalThis.UIT = UIT;

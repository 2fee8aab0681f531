// PIXIU in the browser, part 2: a receipt checked the way `pixiu verify
// --membership` checks it (src/exec/receipt*.c, audit*.c, plan.c,
// wiring.c, evidence.c), against a trust root the reader chooses: every key
// the receipt names must be the one the trust root pins for that node, the
// checkpoint must be signed by the pinned log key and cosigned by every
// pinned witness, every entry must be included in it, the plan signed by
// the manifest's consumer, every instance attested by its node's platform
// key under an accepted build with the measurement recomputed, every step
// signed by its attested instance and fed only by the proofs it names, and
// the result the last stage's output. Not checked here (`pixiu verify`
// checks them): the rules between a manifest's stages, and the wording of
// a failure receipt's reason.
'use strict';

const PXV = (() => {
  const C = PXC;
  const { fail } = C;
  const P = 'urn:pixiu:predicate:';
  const KINDS = { [`${P}plan:v1`]: 'plan', [`${P}execution:v1`]: 'execution', [`${P}release:v1`]: 'release',
    [`${P}report:v1`]: 'report', [`${P}plan-part:v1`]: 'plan-part', [`${P}accepted:v1`]: 'accepted' };
  const NAME = /^[A-Za-z0-9._-]{1,64}$/;
  const u64 = (o, k, w) => { const v = C.int(o, k, w); return v >= 0 ? v : fail(`${w}: field "${k}" is negative`); };

  // ---- log entries as PIXIU statements (src/exec/entry.c) -----------------
  function stageOf(p, w) {
    const s = C.obj(p, 'stage', w);
    const index = C.int(s, 'index', w), partition = 'partition' in s ? C.int(s, 'partition', w) : 0;
    if (index < 0 || index >= 16 || partition < 0 || partition >= 256) fail(`${w}: stage index or partition out of range`);
    return { index, partition, kind: s.kind };
  }
  function inputsOf(p, w) {
    return C.arr(p, 'inputs', w).map((x, k) => ({
      digest: C.toHex(C.hex(C.obj(x, 'digest', w).sha256, 32, `${w}: input ${k}`)),
      proof: C.toHex(C.hex(x.proof, 32, `${w}: input ${k} proof`)),
    }));
  }
  async function entry(index, bytes) {
    const w = `log entry ${index}`;
    const e = { index, bytes, id: C.toHex(await C.sha256(bytes)), env: C.dsse(bytes, w), kind: 'other' };
    const st = C.statement(e.env, w);
    if (!st || !KINDS[st.type]) return e;
    e.st = st;
    const p = st.predicate;
    e.manifest = C.toHex(C.hex(p.manifest, 32, `${w}: manifest`));
    const kind = KINDS[st.type];
    if (kind === 'execution' || kind === 'accepted' || kind === 'report') {
      const s = stageOf(p, w);
      e.stage = s.index;
      e.partition = s.partition;
      if (kind !== 'report') e.stageKind = C.str(C.obj(p, 'stage', w), 'kind', w);
    }
    if (kind === 'execution') {
      e.status = C.str(p, 'status', w);
      e.reason = 'reason' in p ? C.str(p, 'reason', w) : '';
      e.inputs = inputsOf(p, w);
      const c = p.counts;
      if (c !== undefined) e.counts = { records: u64(c, 'records', w), authenticated: u64(c, 'authenticated', w), alleged: u64(c, 'alleged', w) };
    } else if (kind === 'accepted') {
      e.evidence = C.toHex(C.hex(p.evidence, 32, `${w}: evidence`));
      e.inputs = inputsOf(p, w);
      e.accepted = C.int(p, 'accepted', w);
      if (!e.inputs.length) fail(`${w}: an accepted-input statement names no input`);
    } else if (kind === 'release') {
      e.pod = C.str(p, 'pod', w);
      e.dataset = C.str(p, 'dataset', w);
      e.stageKey = C.toHex(C.hex(p.stage_key, 32, `${w}: stage_key`));
      e.records = u64(p, 'records', w);
      const d = C.toHex(C.hex(p.dataset_digest, 32, `${w}: dataset_digest`));
      if (!st.subjects.some((s) => s.sha256 === d)) fail(`${w}: release subject does not name its dataset_digest`);
    } else if (kind === 'report') {
      e.node = C.str(p, 'node', w);
      e.status = C.str(p, 'status', w);
      e.reason = 'reason' in p ? C.str(p, 'reason', w) : '';
    } else if (kind === 'plan-part') {
      C.keys(p, `${w}: plan part`, ['manifest', 'plan', 'part', 'parts', 'next', 'bytes']);
      e.partOf = C.toHex(C.hex(p.plan, 32, w));
      e.part = C.int(p, 'part', w);
      e.parts = C.int(p, 'parts', w);
      e.next = C.hex(p.next, 32, w);
      e.partBytes = C.b64(C.str(p, 'bytes', w), `${w}: bytes`);
      if (e.parts < 2 || e.parts > 8192 || e.part < 0 || e.part >= e.parts) fail(`${w}: plan part out of range`);
      if (!e.partBytes.length || e.partBytes.length > 30000) fail(`${w}: plan part size out of range`);
    }
    for (const [v, re] of [[e.stageKind, NAME], [e.status, NAME], [e.dataset, NAME], [e.pod, NAME], [e.node, NAME]])
      if (v !== undefined && v !== '' && !re.test(v)) fail(`${w}: a kind, status, dataset or node name has characters outside [A-Za-z0-9._-]`);
    e.kind = kind;
    return e;
  }

  // ---- the plan (src/exec/plan.c, planparts.c, wiring.c) ------------------
  async function manifestOf(envBytes) {
    const env = C.dsse(envBytes, 'manifest');
    if (env.type !== 'application/vnd.pixiu.manifest+json') fail('manifest: payload type is not a PIXIU manifest');
    const m = C.json(C.text(env.payload, 'manifest'), 'manifest');
    if (m.schema !== 'urn:pixiu:manifest:v1') fail('manifest: schema is not urn:pixiu:manifest:v1');
    C.keys(m, 'manifest', ['schema', 'name', 'consumer', 'nonce', 'created', 'deadline', 'datasets', 'stages', 'receivers']);
    const c = C.obj(m, 'consumer', 'manifest');
    C.keys(c, 'manifest consumer', ['id', 'key']);
    const consumer = await C.verifier(c.key, 'manifest consumer key');
    if (!(await C.dsseSigned(env, consumer.pk, consumer))) fail(`manifest: not signed by its consumer ${consumer.name}`);
    const stages = C.arr(m, 'stages', 'manifest').map((s, k) => ({
      kind: C.str(s, 'kind', `stage ${k}`),
      code: s.code === undefined ? null : C.hex(s.code, 32, `stage ${k} code`),
      minLevel: s.min_level === undefined ? 1 : C.int(s, 'min_level', `stage ${k}`),
      partitions: s.partitions === undefined ? 1 : C.int(s, 'partitions', `stage ${k}`),
    }));
    return {
      id: C.toHex(await C.sha256(envBytes)), name: m.name, consumerId: C.str(c, 'id', 'consumer'), consumer,
      created: C.int(m, 'created', 'manifest'), deadline: C.int(m, 'deadline', 'manifest'), stages,
      pods: C.arr(m, 'datasets', 'manifest').flatMap((d) => C.arr(d, 'pods', 'dataset')),
      receivers: C.arr(m, 'receivers', 'manifest').map((r) => C.toHex(C.hex(r.key, 32, 'receiver key'))),
    };
  }
  async function planOf(bytes) {
    const env = C.dsse(bytes, 'plan');
    const st = C.statement(env, 'plan');
    if (!st || st.type !== `${P}plan:v1`) fail('plan: predicate type is not the plan\'s');
    const p = st.predicate;
    C.keys(p, 'plan', ['manifest', 'envelope', 'head', 'instances']);
    const m = await manifestOf(C.b64(C.str(p, 'envelope', 'plan'), 'plan envelope'));
    if (C.toHex(C.hex(p.manifest, 32, 'plan manifest')) !== m.id) fail('plan: names a manifest id that is not the SHA-256 of its manifest');
    if (st.subjects.length !== 1 || st.subjects[0].sha256 !== m.id) fail('plan: subject must be exactly the manifest id');
    if (!(await C.dsseSigned(env, m.consumer.pk, m.consumer))) fail('plan: not signed by the manifest\'s consumer');
    const inst = C.arr(p, 'instances', 'plan').map((x, k) => {
      C.keys(x, `plan instance ${k}`, ['stage', 'partition', 'node', 'nonce', 'config', 'evidence']);
      const i = { stage: C.int(x, 'stage', 'instance'), partition: C.int(x, 'partition', 'instance'),
        node: C.str(x, 'node', 'instance'), nonce: C.hex(x.nonce, 32, 'instance nonce'),
        config: C.b64(C.str(x, 'config', 'instance'), 'instance config'),
        evidence: C.b64(C.str(x, 'evidence', 'instance'), 'instance evidence') };
      if (!NAME.test(i.node)) fail(`plan instance ${k}: invalid node id`);
      return i;
    }).sort((a, b) => a.stage - b.stage || a.partition - b.partition);
    let k = 0;
    m.stages.forEach((s, si) => {
      for (let q = 0; q < s.partitions; q++, k++)
        if (!inst[k] || inst[k].stage !== si || inst[k].partition !== q) fail(`plan: no instance for stage ${si} partition ${q}`);
    });
    if (k !== inst.length) fail('plan: an instance is not in the manifest or is listed twice');
    await headOf(C.b64(C.str(p, 'head', 'plan'), 'plan head'), m, inst);
    return { manifest: m, instances: inst };
  }
  // An instance's leaf in the plan head's tree (docs/executor.md, "The plan").
  async function leafOf(i) {
    const node = C.utf8(i.node), head = new Uint8Array(13);
    head.set(C.utf8('PXPI1'));
    new DataView(head.buffer).setUint32(5, i.stage);
    new DataView(head.buffer).setUint32(9, i.partition);
    return C.leafHash(C.concat(head, Uint8Array.of(node.length), node, i.nonce,
      await C.sha256(i.config), await C.sha256(i.evidence)));
  }
  // The plan head: signed by the manifest's consumer, for its manifest, its
  // root the Merkle tree hash of the plan's instances.
  async function headOf(bytes, m, inst) {
    const env = C.dsse(bytes, 'plan head');
    const st = C.statement(env, 'plan head');
    if (!st || st.type !== `${P}plan-head:v1`) fail('plan head: predicate type is not the plan head\'s');
    const h = st.predicate;
    C.keys(h, 'plan head', ['manifest', 'nonce', 'created', 'instances', 'root']);
    C.hex(h.nonce, 16, 'plan head nonce');
    C.int(h, 'created', 'plan head');
    if (C.toHex(C.hex(h.manifest, 32, 'plan head manifest')) !== m.id || st.subjects.length !== 1 ||
        st.subjects[0].sha256 !== m.id) fail('plan head: it is not for this manifest');
    if (C.int(h, 'instances', 'plan head') !== inst.length) fail('plan head: it counts other instances than the plan lists');
    if (!(await C.dsseSigned(env, m.consumer.pk, m.consumer))) fail('plan head: not signed by the manifest\'s consumer');
    const root = await C.treeHash(await Promise.all(inst.map(leafOf)));
    if (!C.equal(root, C.hex(h.root, 32, 'plan head root'))) fail('plan: its instances are not the ones its head\'s root commits to');
  }
  // Plans published in parts: each chain assembled from its part 0 by links.
  async function assemble(entries, mid) {
    const parts = entries.filter((e) => e.kind === 'plan-part' && e.manifest === mid)
      .sort((a, b) => (a.partOf < b.partOf ? -1 : a.partOf > b.partOf ? 1 : a.part - b.part || a.index - b.index));
    const out = [];
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].part !== 0 || (i && parts[i - 1].partOf === parts[i].partOf)) continue;
      const first = parts[i];
      let want = C.hex(first.partOf, 32, 'plan head'), at = 0, ok = true;
      const chunks = [];
      for (let k = 0; k < first.parts && ok; k++) {
        let found = null;
        for (const e of parts) {
          if (e.partOf !== first.partOf || e.part !== k || e.parts !== first.parts) continue;
          if (C.equal(await C.sha256(e.partBytes, e.next), want)) { found = e; break; }
        }
        if (!found) { ok = false; break; }
        chunks.push(found.partBytes);
        at = Math.max(at, found.index);
        want = found.next;
      }
      if (ok && want.every((b) => b === 0)) out.push({ index: at, bytes: C.concat(...chunks) });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  async function buildDigest(b) {
    const parts = [C.utf8('pixiu build v1\n')];
    const v = C.utf8(b.version);
    parts.push(Uint8Array.of(v.length), v, Uint8Array.of(b.components.length >> 8, b.components.length & 255));
    for (const c of b.components) {
      const n = C.utf8(c.name);
      parts.push(Uint8Array.of(n.length), n, C.hex(c.sha256, 32, 'component digest'));
    }
    return C.toHex(await C.sha256(...parts));
  }
  // One instance's evidence (src/exec/evidence.c, src/tee/evidence.c).
  async function attest(t, m, inst) {
    const plat = t.platforms.get(inst.node);
    if (!plat) fail(`node "${inst.node}" is not a member with a platform key`);
    const env = C.dsse(inst.evidence, 'evidence');
    if (env.type !== 'application/vnd.pixiu.evidence+json') fail('evidence: payload type is not PIXIU evidence');
    if (!(await C.dsseSigned(env, plat.pk, plat))) fail('evidence is not signed by any trusted platform key');
    const ev = C.json(C.text(env.payload, 'evidence'), 'evidence');
    C.keys(ev, 'evidence', ['type', 'backend', 'level', 'node', 'measurement', 'build', 'sign_key', 'box_key', 'nonce', 'isolation', 'issued']);
    if (ev.type !== 'urn:pixiu:evidence:v2') fail('evidence: type is not urn:pixiu:evidence:v2');
    if (ev.backend !== 'process') fail(`evidence backend "${ev.backend}" cannot be verified here`);
    if (ev.level !== 1) fail(`evidence claims level ${ev.level} for backend "process", which provides level 1`);
    const b = C.obj(ev, 'build', 'evidence');
    C.keys(b, 'evidence build', ['version', 'components']);
    const build = await buildDigest({ version: C.str(b, 'version', 'build'), components: C.arr(b, 'components', 'build') });
    if (!t.builds.has(build)) fail(`build not accepted: build ${build.slice(0, 16)}... is none of the ${t.builds.size} accepted builds`);
    if (!C.equal(C.hex(ev.nonce, 32, 'evidence nonce'), inst.nonce)) fail('evidence nonce does not match the recruiter\'s nonce');
    if (ev.node !== inst.node) fail(`evidence is for node "${ev.node}", expected "${inst.node}"`);
    const spec = m.stages[inst.stage];
    const kind = C.utf8(spec.kind);
    const want = await C.sha256(C.utf8('pixiu measurement v2\n'), C.hex(build, 32, 'build'), Uint8Array.of(kind.length), kind,
      spec.code || new Uint8Array(32), await C.sha256(inst.config));
    if (!C.equal(want, C.hex(ev.measurement, 32, 'measurement'))) fail(`measurement is not that of a ${spec.kind} stage with the manifest's code and this config under the build the evidence lists`);
    if (ev.level < spec.minLevel) fail(`evidence security level ${ev.level} (process) is below the manifest's minimum ${spec.minLevel}`);
    t.usedPlatforms.add(inst.node);
    t.usedBuilds.add(build);
    return { node: inst.node, signPk: C.hex(ev.sign_key, 32, 'sign_key'), boxPk: ev.box_key, evidence: C.toHex(await C.sha256(inst.evidence)), build };
  }
  // px_plan_check, judged at the manifest's creation.
  async function checkPlan(t, plan) {
    const m = plan.manifest, att = [], cfgs = [];
    for (const inst of plan.instances) {
      const where = `plan: stage ${inst.stage} (${m.stages[inst.stage].kind}) partition ${inst.partition} on ${inst.node}: `;
      try {
        const c = C.json(C.text(inst.config, 'config'), 'stage config');
        const s = C.obj(c, 'stage', 'config');
        if (c.manifest !== m.id) fail('its config names another manifest');
        if (s.index !== inst.stage || (s.partition || 0) !== inst.partition) fail(`its config is for stage ${s.index} partition ${s.partition}`);
        if (s.kind !== m.stages[inst.stage].kind) fail(`its config runs a ${s.kind} stage, the manifest says ${m.stages[inst.stage].kind}`);
        if (c.deadline !== m.deadline) fail('its config\'s deadline is not the manifest\'s: it could release after it');
        c.logKey = await C.verifier(C.str(c, 'log', 'config'), 'config log key');
        if (cfgs.length && !C.sameKey(c.logKey, cfgs[0].logKey)) fail(`its config names log ${c.logKey.name}, the first instance's names ${cfgs[0].logKey.name}`);
        att.push(await attest(t, m, inst).catch((e) => fail(`evidence: ${e.message}`)));
        cfgs.push(c);
      } catch (e) { if (e instanceof C.Fail) fail(where + e.message); throw e; }
    }
    plan.instances.forEach((inst, k) => {
      const last = inst.stage + 1 === m.stages.length;
      for (const s of C.arr(cfgs[k], 'successors', 'config')) {
        if (last ? !m.receivers.includes(s) : !plan.instances.some((x, j) => x.stage === inst.stage + 1 && att[j].boxPk === s))
          fail(`plan: stage ${inst.stage} (${m.stages[inst.stage].kind}) partition ${inst.partition} on ${inst.node}: ${last
            ? `last stage delivers to key ${s.slice(0, 16)}... which is not a receiver of the manifest`
            : `successor key ${s.slice(0, 16)}... is not an attested key of stage ${inst.stage + 1}`}`);
      }
    });
    return { att, logKey: cfgs[0].logKey };
  }

  // ---- the audit walk (src/exec/audit.c, audit_stage.c) --------------------
  async function audit(t, mid, E, at) {
    const a = { verdict: 'ok', stage: -1, partition: 0, node: '', status: 'ok', why: '', blamed: '', releases: 0, report: [] };
    const broke = (verdict, stage, partition, node, blamed, status, why) => {
      Object.assign(a, { verdict, stage, partition, node: node || '', blamed: blamed || '', status, why });
      return a;
    };
    const say = (l) => a.report.push(l);
    const mine = (e, k) => e.kind === k && e.manifest === mid;
    // The first plan in log order, whole or assembled.
    const cands = (await assemble(E, mid)).map((x) => ({ index: x.index, bytes: x.bytes, parts: true }))
      .concat(E.filter((e) => mine(e, 'plan')).map((e) => ({ index: e.index, bytes: e.bytes, parts: false })))
      .sort((x, y) => x.index - y.index || (y.parts ? 1 : 0) - (x.parts ? 1 : 0));
    let plan = null;
    for (const c of cands) {
      try { plan = await planOf(c.bytes); } catch (e) {
        if (!(e instanceof C.Fail)) throw e;
        say(`entry ${c.index}: ignored: ${e.message}`);
        continue;
      }
      if (plan.manifest.id !== mid) { say(`entry ${c.index}: ignored: plan for another manifest`); plan = null; continue; }
      say(`plan: entry ${c.index}${c.parts ? ' (last of its parts)' : ''} by ${plan.manifest.consumerId}: ${plan.manifest.stages.length} stages, ${plan.instances.length} instances`);
      break;
    }
    if (!plan) return broke('no-plan', -1, 0, '', '', 'no-plan', 'no plan signed by the manifest\'s consumer in the log');
    const m = plan.manifest;
    let checked;
    try { checked = await checkPlan(t, plan); } catch (e) {
      if (!(e instanceof C.Fail)) throw e;
      return broke('failed', -1, 0, m.consumerId, m.consumerId, 'bad-plan', e.message);
    }
    a.log = checked.logKey;
    const att = checked.att;
    const stageKeyOk = (k) => plan.instances.some((x, j) => x.stage === 0 && att[j].boxPk === k);
    const releaseSigned = async (e) => {
      const pk = t.pods.get(e.pod);
      return pk && m.pods.includes(e.pod) && (await C.dsseSigned(e.env, pk));
    };
    for (const e of E) {
      if (!mine(e, 'release')) continue;
      if (!m.pods.includes(e.pod) || !t.pods.get(e.pod)) { say(`entry ${e.index}: ignored: release by ${e.pod}, not a known POD of the manifest`); continue; }
      if (!(await releaseSigned(e))) { say(`entry ${e.index}: ignored: release claims ${e.pod} but is not signed by its key`); continue; }
      t.usedPods.add(e.pod);
      if (!stageKeyOk(e.stageKey)) return broke('failed', -1, 0, e.pod, e.pod, 'bad-release', `${e.pod} released ${e.dataset} to key ${e.stageKey.slice(0, 16)}... which is not an attested key of stage 0`);
      say(`release: entry ${e.index} ${e.pod} ${e.dataset}: ${e.records} records`);
    }
    const ok = [];
    for (let k = 0; k < plan.instances.length; k++) {
      const inst = plan.instances[k], kind = m.stages[inst.stage].kind;
      const same = (e) => e.stage === inst.stage && e.partition === inst.partition;
      let first = null;
      for (const e of E) {
        if (!mine(e, 'execution') || !same(e)) continue;
        if (!(await C.dsseSigned(e.env, att[k].signPk))) { say(`entry ${e.index}: ignored: stage ${inst.stage} proof not signed by the attested instance`); continue; }
        if (e.status !== 'ok') {
          const codeFaults = ['trap', 'cpu-limit', 'memory-limit', 'forbidden-syscall', 'invalid-module'];
          const blamed = m.stages[inst.stage].code && codeFaults.includes(e.status) ? m.consumerId : '';
          return broke('failed', inst.stage, inst.partition, inst.node, blamed, e.status, `stage ${inst.stage} (${kind}) on ${inst.node} signed a failure: ${e.status}: ${e.reason}`);
        }
        if (first && (first.st.subjects.length !== e.st.subjects.length || !first.st.subjects.some((s) => s.sha256 === e.st.subjects[0].sha256)))
          return broke('failed', inst.stage, inst.partition, inst.node, inst.node, 'equivocation', `stage ${inst.stage} (${kind}) on ${inst.node} signed two different outputs (entries ${first.index} and ${e.index})`);
        if (!first) first = e;
      }
      let acc = null, rep = null;
      for (const e of E) {
        if (!acc && mine(e, 'accepted') && same(e) && (await C.dsseSigned(e.env, att[k].signPk)) && e.evidence === att[k].evidence) acc = e;
        if (!rep && mine(e, 'report') && same(e) && (await C.dsseSigned(e.env, m.consumer.pk, m.consumer))) rep = e;
      }
      if (!first) {
        const where = `stage ${inst.stage} (${kind}) partition ${inst.partition} on ${inst.node}`;
        if (acc && at > m.deadline) return broke('missing', inst.stage, inst.partition, inst.node, inst.node, 'silent', `${where} accepted its input (entry ${acc.index}) and logged no proof by the manifest's deadline: ${inst.node} is silent`);
        if (acc) return broke('missing', inst.stage, inst.partition, inst.node, '', 'running', `${where} accepted its input (entry ${acc.index}) and has logged no proof yet`);
        return broke('missing', inst.stage, inst.partition, inst.node, '', 'missing', `${where} never accepted input (no accepted-input statement in the log)${rep ? `; the consumer reports ${rep.status}: ${rep.reason}, an unproven claim` : ''}`);
      }
      const e = first;
      if (e.stageKind !== kind) return broke('failed', inst.stage, inst.partition, inst.node, inst.node, 'bad-proof', `stage ${inst.stage} proof (entry ${e.index}) says kind ${e.stageKind}, the manifest says ${kind}`);
      if (!e.inputs.length) return broke('failed', inst.stage, inst.partition, inst.node, inst.node, 'bad-proof', `stage ${inst.stage} (${kind}) proof (entry ${e.index}) names no input`);
      const sameInputs = acc && acc.inputs.length === e.inputs.length && acc.inputs.every((x, j) => x.digest === e.inputs[j].digest && x.proof === e.inputs[j].proof);
      if (!acc || acc.index > e.index || !sameInputs) return broke('failed', inst.stage, inst.partition, inst.node, inst.node, 'unaccepted', `stage ${inst.stage} (${kind}) on ${inst.node} proved output (entry ${e.index}) without an accepted-input statement for those inputs before it in the log`);
      for (const input of e.inputs) {
        let proven = false;
        if (inst.stage === 0) {
          for (const r of E) {
            if (r.id === input.proof && r.st && r.st.subjects.some((s) => s.sha256 === input.digest) && mine(r, 'release') &&
              (await releaseSigned(r)) && stageKeyOk(r.stageKey)) { a.releases++; proven = true; break; }
          }
        } else {
          proven = plan.instances.some((x, j) => x.stage === inst.stage - 1 && ok[j] && ok[j].id === input.proof && ok[j].st.subjects.some((s) => s.sha256 === input.digest));
        }
        if (!proven) return broke('failed', inst.stage, inst.partition, inst.node, '', 'unproven-input', `stage ${inst.stage} (${kind}) on ${inst.node} used input ${input.digest.slice(0, 16)}... that no ${inst.stage === 0 ? 'valid release' : 'ok proof of the previous stage'} in the log produced`);
      }
      ok[k] = e;
      say(`stage ${inst.stage} (${kind}) partition ${inst.partition} on ${inst.node}: ok, accepted entry ${acc.index}, proof entry ${e.index}${e.counts ? `, ${e.counts.records} records (${e.counts.authenticated} authenticated, ${e.counts.alleged} alleged)` : ''}`);
    }
    if (!a.releases) return broke('failed', 0, 0, plan.instances[0].node, '', 'no-release', 'the first stage consumed no valid POD release');
    a.result = ok[plan.instances.length - 1].st.subjects[0].sha256;
    a.plan = plan;
    a.ok = ok;
    return a;
  }

  // ---- the trust root -----------------------------------------------------
  // From a membership (urn:pixiu:membership:v1) and accepted build digests.
  async function trustRoot(membership, builds) {
    if (!membership || membership.schema !== 'urn:pixiu:membership:v1' || !Array.isArray(membership.nodes)) fail('the trust root is not a membership (urn:pixiu:membership:v1)');
    const t = { log: null, pods: new Map(), podKeys: new Map(), platforms: new Map(), witnesses: [], builds: new Set(builds) };
    for (const n of membership.nodes) {
      if (!n || typeof n.id !== 'string' || !Array.isArray(n.roles)) fail('a membership node has no id or roles');
      const signing = await C.verifier(n.signing_key, `signing key of ${n.id}`);
      if (n.roles.includes('log') && !t.log) t.log = signing;
      if (n.roles.includes('pod')) t.pods.set(n.id, signing);
      if (n.platform_key) t.platforms.set(n.id, await C.verifier(n.platform_key, `platform key of ${n.id}`));
      if (n.roles.includes('witness')) t.witnesses.push({ node: n.id, key: await C.cosignerOf(signing) });
    }
    if (!t.log) fail('the trust root has no log');
    if (!t.builds.size) fail('the trust root accepts no build');
    for (const b of t.builds) C.hex(b, 32, 'accepted build');
    return t;
  }

  // ---- the receipt --------------------------------------------------------
  async function receipt(textIn, root) {
    const r = C.json(textIn, 'receipt');
    C.keys(r, 'receipt', ['type', 'manifest', 'outcome?', 'result?', 'failure?', 'log', 'checkpoint', 'witnesses', 'pods', 'platforms', 'builds', 'entries']);
    if (r.type !== 'urn:pixiu:receipt:v1') fail('not a receipt: type is not urn:pixiu:receipt:v1');
    const mid = C.toHex(C.hex(r.manifest, 32, 'receipt manifest'));
    const out = { manifest: mid };
    // Every key named is the one pinned.
    const log = await C.verifier(C.str(r, 'log', 'receipt'), 'receipt log key');
    if (!C.sameKey(log, root.log)) fail(`log key ${C.keyLabel(log)} is not the pinned log key ${C.keyLabel(root.log)}`);
    const pods = new Map(), platforms = new Map();
    for (const [field, what, pins, into] of [['pods', 'POD', root.pods, pods], ['platforms', 'platform', root.platforms, platforms]]) {
      for (const [k, x] of C.arr(r, field, 'receipt').entries()) {
        C.keys(x, `${field} ${k}`, ['node', 'key']);
        if (typeof x.node !== 'string' || !NAME.test(x.node)) fail(`${field} ${k}: invalid node id`);
        const got = await C.verifier(x.key, `${field} ${k} key`);
        const want = pins.get(x.node);
        if (!want) fail(`${what} key ${C.keyLabel(got)} of node ${x.node} is not pinned by the trust root`);
        if (!C.sameKey(want, got)) fail(`${what} key ${C.keyLabel(got)} of node ${x.node} is not the pinned key ${C.keyLabel(want)}`);
        into.set(x.node, got);
      }
    }
    const builds = new Set();
    for (const b of C.arr(r, 'builds', 'receipt')) {
      const h = C.toHex(C.hex(b, 32, 'build digest'));
      if (!root.builds.has(h)) fail(`build ${h} is not pinned by the trust root`);
      builds.add(h);
    }
    const listed = [];
    for (const w of C.arr(r, 'witnesses', 'receipt')) {
      const c = await C.cosigner(w, 'receipt witness');
      if (!root.witnesses.some((x) => C.sameKey(x.key, c))) fail(`witness ${c.name} is not pinned by the trust root`);
      listed.push(c);
    }
    // The checkpoint: the log's signature, every witness's cosignature.
    const n = C.note(C.str(r, 'checkpoint', 'receipt'), 'checkpoint');
    await C.noteSigned(n, log, 'checkpoint');
    const cp = C.checkpoint(n, 'checkpoint');
    let newest = 0;
    out.cosigs = [];
    for (const w of root.witnesses) {
      const ts = await C.cosignature(n, w.key);
      if (ts === null) fail(`the checkpoint is not cosigned by pinned witness ${w.key.name}: the witness policy needs all ${root.witnesses.length}`);
      out.cosigs.push({ node: w.node, time: ts });
      newest = Math.max(newest, ts);
    }
    for (const c of listed) if ((await C.cosignature(n, c)) === null) fail(`witness ${c.name}: no valid cosignature`);
    out.treeSize = cp.size;
    // Every entry included in that checkpoint, then read.
    const raw = C.arr(r, 'entries', 'receipt');
    if (!raw.length) fail('the receipt has no entries');
    let prev = -1;
    const blobs = [];
    for (const [k, x] of raw.entries()) {
      C.keys(x, `entry ${k}`, ['index', 'entry', 'proof']);
      const index = C.int(x, 'index', `entry ${k}`);
      if (index < 0 || index >= cp.size || index <= prev) fail(`entry ${k}: index ${index} is not ascending within the checkpoint's ${cp.size} entries`);
      prev = index;
      const bytes = C.b64(C.str(x, 'entry', `entry ${k}`), `entry ${k}`);
      const proof = C.arr(x, 'proof', `entry ${k}`).map((h, j) => C.b64(h, `entry ${k}: proof hash ${j}`, 32));
      const why = await C.inclusion(index, cp.size, await C.leafHash(bytes), proof, cp.root);
      if (why) fail(`entry ${k} (log entry ${index}): inclusion: ${why}`);
      blobs.push([index, bytes]);
    }
    const E = [];
    for (const [index, bytes] of blobs) E.push(await entry(index, bytes));
    out.entries = E.length;
    // The audit over the entries, judged at the newest cosignature.
    const t = { pods: new Map([...pods].map(([k, v]) => [k, v.pk])), platforms, builds, usedPods: new Set(), usedPlatforms: new Set(), usedBuilds: new Set() };
    const a = await audit(t, mid, E, newest * 1000);
    out.audit = a;
    if (a.log && !C.sameKey(a.log, log)) fail(`the task's instances answer to log ${a.log.name}, not to the receipt's log ${log.name}`);
    const outcome = r.outcome === undefined ? 'ok' : r.outcome;
    if (outcome !== 'ok' && outcome !== 'failed') fail('outcome must be "ok" or "failed"');
    if (outcome === 'failed' ? 'result' in r : 'failure' in r) fail('a receipt has a result when it succeeded and a failure when it failed');
    if (outcome === 'failed') {
      const f = C.obj(r, 'failure', 'receipt');
      C.keys(f, 'failure', ['verdict', 'stage', 'partition', 'node', 'status', 'reason', 'blamed']);
      if (a.verdict === 'ok') fail('the receipt states a failure but the audit of its entries is ok');
      if (f.verdict !== a.verdict || f.stage !== a.stage || f.partition !== a.partition || f.node !== a.node || f.status !== a.status)
        fail(`the receipt states ${f.verdict} (${f.status}) at stage ${f.stage} on ${f.node}; the audit of its entries says ${a.verdict} (${a.status}) at stage ${a.stage} on ${a.node}`);
      if ((f.blamed || '') !== a.blamed) fail(`the receipt blames ${f.blamed || 'nobody'}; the audit of its entries blames ${a.blamed || 'nobody'}`);
    } else {
      const result = C.toHex(C.hex(r.result, 32, 'receipt result'));
      if (a.verdict !== 'ok') fail(`audit of the receipt's entries: ${a.verdict}: ${a.why}`);
      if (result !== a.result) fail('the task\'s last stage output is not the receipt\'s result');
      out.result = result;
    }
    for (const p of platforms.keys()) if (!t.usedPlatforms.has(p)) fail(`platform key of ${p} vouches for no instance of the task`);
    for (const b of builds) if (!t.usedBuilds.has(b)) fail(`build ${b.slice(0, 16)}... measures no instance of the task`);
    for (const p of pods.keys()) if (!t.usedPods.has(p)) fail(`POD key ${p} signed no release of the task`);
    out.outcome = outcome;
    return out;
  }

  // A verdict for people: {ok, reason, details}. Never throws.
  async function verify(textIn, membership, builds) {
    try {
      const root = await trustRoot(membership, builds);
      const d = await receipt(textIn, root);
      if (d.outcome === 'failed') {
        const a = d.audit;
        return { ok: false, failedTask: true, reason: `the receipt holds: task ${d.manifest.slice(0, 16)}... FAILED at stage ${a.stage} partition ${a.partition} on ${a.node}: ${a.status}: ${a.why}; blamed: ${a.blamed || 'nobody (the log proves no party at fault)'}`, details: d };
      }
      return { ok: true, reason: `receipt ok: result ${d.result} of task ${d.manifest}; ${d.entries} log entries proven in a checkpoint of ${d.treeSize} entries, cosigned by ${d.cosigs.length} of ${root.witnesses.length} pinned witness(es)`, details: d };
    } catch (e) {
      if (e instanceof C.Fail) return { ok: false, reason: `receipt: ${e.message}` };
      return { ok: false, reason: `receipt: ${e && e.message ? e.message : e}` };
    }
  }

  return { verify, entry, receipt, trustRoot, buildDigest };
})();
globalThis.PXV = PXV;

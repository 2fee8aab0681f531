// PIXIU in the browser, part 1: the formats underneath a receipt, checked
// as strictly as the C code checks them (docs/formats.md, docs/log.md):
// strict JSON (no duplicate keys, no NUL), canonical base64 and lower-case
// hex, SHA-256 and Ed25519 through WebCrypto, signed-note keys, C2SP signed
// notes, checkpoints and cosignatures, RFC 6962 inclusion proofs, DSSE
// envelopes and in-toto statements. Nothing here trusts the server.
'use strict';

const PXC = (() => {
  class Fail extends Error {}
  const fail = (msg) => { throw new Fail(msg); };
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: true });

  // ---- strict JSON --------------------------------------------------------
  // JSON.parse keeps the last of two equal keys; PIXIU refuses such
  // documents (docs/decisions.md), and so does this parser.
  function json(text, what) {
    let i = 0;
    const err = (m) => fail(`${what}: not strict JSON: ${m} at offset ${i}`);
    const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
    const str = () => {
      if (text[i] !== '"') err('expected a string');
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) err('unterminated string');
        const c = text.charCodeAt(i);
        if (c === 0x22) { i++; break; }
        if (c < 0x20) err('control character in a string');
        if (c === 0x5c) {
          const e = text[i + 1];
          const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (e in simple) { out += simple[e]; i += 2; continue; }
          if (e !== 'u' || !/^[0-9a-fA-F]{4}$/.test(text.substr(i + 2, 4))) err('bad escape');
          let u = parseInt(text.substr(i + 2, 4), 16);
          i += 6;
          if (u === 0) err('\\u0000');
          if (u >= 0xdc00 && u <= 0xdfff) err('lone surrogate');
          if (u >= 0xd800 && u <= 0xdbff) {
            if (text.substr(i, 2) !== '\\u' || !/^[dD][c-fC-F][0-9a-fA-F]{2}$/.test(text.substr(i + 2, 4))) err('lone surrogate');
            out += String.fromCharCode(u, parseInt(text.substr(i + 2, 4), 16));
            i += 6;
            continue;
          }
          out += String.fromCharCode(u);
          continue;
        }
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = text.charCodeAt(i + 1);
          if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) err('lone surrogate');
          out += text[i] + text[i + 1];
          i += 2;
          continue;
        }
        out += text[i++];
      }
      return out;
    };
    const num = () => {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
      if (!m) err('bad number');
      i += m[0].length;
      if (!m[2] && !m[3]) {
        const v = Number(m[0]);
        if (!Number.isSafeInteger(v)) err('integer beyond 2^53');
        return v;
      }
      return Number(m[0]);
    };
    const value = (depth) => {
      if (depth > 64) err('nested too deeply');
      ws();
      const c = text[i];
      if (c === '{') {
        i++;
        const o = Object.create(null);
        ws();
        if (text[i] === '}') { i++; return o; }
        for (;;) {
          ws();
          const k = str();
          if (Object.prototype.hasOwnProperty.call(o, k)) err(`duplicate key "${k.slice(0, 40)}"`);
          ws();
          if (text[i++] !== ':') err('expected :');
          o[k] = value(depth + 1);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === '}') { i++; return o; }
          err('expected , or }');
        }
      }
      if (c === '[') {
        i++;
        const a = [];
        ws();
        if (text[i] === ']') { i++; return a; }
        for (;;) {
          a.push(value(depth + 1));
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === ']') { i++; return a; }
          err('expected , or ]');
        }
      }
      if (c === '"') return str();
      if (text.startsWith('true', i)) { i += 4; return true; }
      if (text.startsWith('false', i)) { i += 5; return false; }
      if (text.startsWith('null', i)) { i += 4; return null; }
      return num();
    };
    const v = value(0);
    ws();
    if (i !== text.length) err('trailing data');
    return v;
  }

  // Members: exactly these (optional ones marked with '?').
  function keys(o, what, allowed) {
    if (!o || typeof o !== 'object' || Array.isArray(o)) fail(`${what} must be an object`);
    const names = allowed.map((k) => k.replace(/\?$/, ''));
    for (const k of Object.keys(o)) if (!names.includes(k)) fail(`${what}: unknown field "${k.slice(0, 64)}"`);
    for (const k of allowed) if (!k.endsWith('?') && !(k in o)) fail(`${what}: missing field "${k}"`);
  }
  const str = (o, k, what) => (typeof o[k] === 'string' ? o[k] : fail(`${what}: field "${k}" must be a string`));
  const int = (o, k, what) => (Number.isSafeInteger(o[k]) ? o[k] : fail(`${what}: field "${k}" must be an integer`));
  const arr = (o, k, what) => (Array.isArray(o[k]) ? o[k] : fail(`${what}: field "${k}" must be an array`));
  const obj = (o, k, what) => (o[k] && typeof o[k] === 'object' && !Array.isArray(o[k]) ? o[k]
    : fail(`${what}: field "${k}" must be an object`));

  // ---- bytes --------------------------------------------------------------
  function hex(s, n, what) {
    if (typeof s !== 'string' || s.length !== 2 * n || !/^[0-9a-f]*$/.test(s)) fail(`${what} is not ${n} bytes of lower-case hex`);
    const b = new Uint8Array(n);
    for (let k = 0; k < n; k++) b[k] = parseInt(s.substr(2 * k, 2), 16);
    return b;
  }
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  function fromBinary(s) {
    const b = new Uint8Array(s.length);
    for (let k = 0; k < s.length; k++) b[k] = s.charCodeAt(k);
    return b;
  }
  function toBinary(b) {
    let s = '';
    for (let k = 0; k < b.length; k += 8192) s += String.fromCharCode.apply(null, b.subarray(k, k + 8192));
    return s;
  }
  const b64enc = (b) => btoa(toBinary(b));
  // Canonical standard base64 with padding: what PIXIU writes and reads.
  function b64(s, what, n) {
    if (typeof s !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) fail(`${what} is not base64`);
    const b = fromBinary(atob(s));
    if (b64enc(b) !== s) fail(`${what} is not canonical base64`);
    if (n !== undefined && b.length !== n) fail(`${what} is not ${n} bytes`);
    return b;
  }
  // DSSE also allows URL-safe and unpadded base64 (docs/decisions.md).
  function b64any(s, what) {
    if (typeof s !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) fail(`${what} is not base64`);
    let t = s.replace(/-/g, '+').replace(/_/g, '/');
    if (/[+/]/.test(s) && /[-_]/.test(s)) fail(`${what} mixes base64 alphabets`);
    if (!t.includes('=')) t += '='.repeat((4 - (t.length % 4)) % 4);
    return b64(t, what);
  }
  const utf8 = (s) => enc.encode(s);
  function text(b, what) {
    try { return dec.decode(b); } catch (e) { return fail(`${what} is not UTF-8`); }
  }
  function concat(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }
  const equal = (a, b) => a.length === b.length && a.every((x, k) => x === b[k]);

  // ---- crypto (WebCrypto: the page needs a secure context) ---------------
  function subtle() {
    if (!globalThis.crypto || !crypto.subtle) fail('this page needs a secure context (https, or http on localhost) for WebCrypto');
    return crypto.subtle;
  }
  async function sha256(...parts) {
    return new Uint8Array(await subtle().digest('SHA-256', concat(...parts)));
  }
  const keyCache = new Map();
  async function ed25519(pk, sig, msg) {
    if (sig.length !== 64 || pk.length !== 32) return false;
    const h = toHex(pk);
    let k = keyCache.get(h);
    if (!k) {
      try {
        k = await subtle().importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']);
      } catch (e) {
        if (e instanceof DOMException && e.name === 'NotSupportedError') fail('this browser has no Ed25519 in WebCrypto');
        return false;
      }
      keyCache.set(h, k);
    }
    try { return await subtle().verify({ name: 'Ed25519' }, k, sig, msg); } catch (e) { return false; }
  }

  // ---- keys: <name>+<hex id>+<base64(type || pk)> ------------------------
  function keyNameValid(n) {
    return n.length > 0 && utf8(n).length <= 255 && !/[\s+\u0000-\u001f\u007f]/.test(n);
  }
  async function keyId(name, type, pk) {
    const d = await sha256(utf8(name), Uint8Array.of(0x0a, type), pk);
    return ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
  }
  async function parseKey(s, type, what) {
    if (typeof s !== 'string') fail(`${what} is not a key`);
    const a = s.indexOf('+'), b = a < 0 ? -1 : s.indexOf('+', a + 1);
    const p = [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
    if (b < 0 || !keyNameValid(p[0]) || !/^[0-9a-f]{8}$/.test(p[1])) fail(`${what} is not name+id+key`);
    const raw = b64(p[2], what);
    if (raw.length !== 33 || raw[0] !== type) fail(`${what} is not an Ed25519 key of type ${type}`);
    const pk = raw.slice(1);
    const id = parseInt(p[1], 16) >>> 0;
    if ((await keyId(p[0], type, pk)) !== id) fail(`${what}: key id does not match the key`);
    return { name: p[0], id, pk, text: s };
  }
  const verifier = (s, what) => parseKey(s, 0x01, what || 'verifier key');
  const cosigner = (s, what) => parseKey(s, 0x04, what || 'cosigner key');
  // The cosigner key of a witness whose signing key is v (docs/log.md).
  async function cosignerOf(v) {
    return { name: v.name, id: await keyId(v.name, 0x04, v.pk), pk: v.pk };
  }
  const sameKey = (a, b) => a.name === b.name && a.id === b.id && equal(a.pk, b.pk);
  const keyLabel = (k) => `${k.name}+${k.id.toString(16).padStart(8, '0')}`;

  // ---- C2SP signed notes, checkpoints, cosignatures -----------------------
  function note(s, what) {
    if (typeof s !== 'string' || !s.endsWith('\n')) fail(`${what} does not end with a newline`);
    if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) fail(`${what} contains a control character`);
    if (utf8(s).length > (1 << 20)) fail(`${what} is larger than 1 MiB`);
    const split = s.lastIndexOf('\n\n', s.length - 2);
    if (split < 0) fail(`${what} has no blank line before its signatures`);
    const body = s.slice(0, split + 1);
    const lines = s.slice(split + 2, -1).split('\n');
    if (lines.length === 1 && lines[0] === '') fail(`${what} has no signature lines`);
    const sigs = lines.map((l, k) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(l);
      if (!m || !keyNameValid(m[1])) fail(`${what}: signature line ${k + 1} is malformed`);
      const raw = b64(m[2], `${what}: signature line ${k + 1}`);
      if (raw.length < 5) fail(`${what}: signature line ${k + 1} is too short`);
      return { name: m[1], id: ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0, sig: raw.slice(4) };
    });
    return { body, bytes: utf8(body), sigs };
  }
  // A note signed by key: every line by it must verify, and one must be there.
  async function noteSigned(n, key, what) {
    let ok = 0;
    for (const s of n.sigs) {
      if (s.name !== key.name || s.id !== key.id) continue;
      if (!(await ed25519(key.pk, s.sig, n.bytes))) fail(`${what}: the signature by ${keyLabel(key)} does not verify`);
      ok++;
    }
    if (!ok) fail(`${what} is not signed by ${keyLabel(key)}`);
  }
  function checkpoint(n, what) {
    const lines = n.body.slice(0, -1).split('\n');
    if (lines.length < 3 || !lines[0]) fail(`${what}: missing origin, size or root line`);
    if (!/^(0|[1-9][0-9]{0,19})$/.test(lines[1]) || BigInt(lines[1]) >= (1n << 64n)) fail(`${what}: bad tree size`);
    if (lines.slice(3).some((l) => !l)) fail(`${what}: empty extension line`);
    if (!Number.isSafeInteger(Number(lines[1]))) fail(`${what}: tree too large for this page`);
    return { origin: lines[0], size: Number(lines[1]), root: b64(lines[2], `${what}: root`, 32) };
  }
  // The cosignature of c on note n (tlog-cosignature v1): its time, or null.
  async function cosignature(n, c) {
    for (const s of n.sigs) {
      if (s.name !== c.name || s.id !== c.id) continue;
      if (s.sig.length !== 72) return null;
      let t = 0n;
      for (let k = 0; k < 8; k++) t = (t << 8n) | BigInt(s.sig[k]);
      const msg = concat(utf8(`cosignature/v1\ntime ${t}\n`), n.bytes);
      return (await ed25519(c.pk, s.sig.slice(8), msg)) ? Number(t) : null;
    }
    return null;
  }

  // ---- RFC 6962 / 9162 --------------------------------------------------
  const leafHash = (b) => sha256(Uint8Array.of(0), b);
  const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);
  // The Merkle tree hash of leaf hashes (RFC 9162 section 2.1.1), n >= 1.
  async function treeHash(h) {
    if (h.length === 1) return h[0];
    let k = 1;
    while (k * 2 < h.length) k *= 2;
    return nodeHash(await treeHash(h.slice(0, k)), await treeHash(h.slice(k)));
  }
  // RFC 9162 section 2.1.3.2.
  async function inclusion(index, size, leaf, proof, root) {
    if (!(index < size)) return 'index beyond the tree';
    let fn = BigInt(index), sn = BigInt(size - 1), r = leaf;
    for (const p of proof) {
      if (sn === 0n) return 'proof too long';
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) return 'proof too short';
    return equal(r, root) ? null : 'the proof does not lead to the root';
  }

  // ---- DSSE and in-toto ----------------------------------------------------
  function dsse(bytes, what) {
    const o = json(text(bytes, what), what);
    keys(o, what, ['payload', 'payloadType', 'signatures']);
    const type = str(o, 'payloadType', what);
    if (!type || type.length > 1024 || /[\u0000-\u001f\u007f]/.test(type)) fail(`${what}: bad payloadType`);
    const sigs = arr(o, 'signatures', what);
    if (!sigs.length) fail(`${what} has no signatures`);
    return {
      type,
      payload: b64any(str(o, 'payload', what), `${what} payload`),
      sigs: sigs.map((s, k) => {
        keys(s, `${what} signature ${k}`, ['keyid?', 'sig']);
        if ('keyid' in s && typeof s.keyid !== 'string') fail(`${what} signature ${k}: keyid must be a string`);
        return { keyid: s.keyid || '', sig: b64any(str(s, 'sig', what), `${what} signature ${k}`) };
      }),
    };
  }
  function pae(e) {
    const t = utf8(e.type);
    return concat(utf8(`DSSEv1 ${t.length} `), t, utf8(` ${e.payload.length} `), e.payload);
  }
  // Signed by pk (raw instance keys: keyid ignored) or by a named key (a
  // signature counts only when its keyid is empty or names that key).
  async function dsseSigned(e, pk, named) {
    const m = pae(e);
    for (const s of e.sigs) {
      if (named && s.keyid && s.keyid !== keyLabel(named)) continue;
      if (await ed25519(pk, s.sig, m)) return true;
    }
    return false;
  }
  function statement(e, what) {
    if (e.type !== 'application/vnd.in-toto+json') return null;
    const o = json(text(e.payload, `${what} payload`), `${what} statement`);
    if (o._type !== 'https://in-toto.io/Statement/v1') fail(`${what}: _type is not in-toto Statement v1`);
    const pt = str(o, 'predicateType', what);
    if (!Array.isArray(o.subject) || !o.subject.length) fail(`${what}: subject must be a non-empty array`);
    const subjects = o.subject.map((s, k) => {
      if (!s || typeof s !== 'object' || !s.digest || typeof s.digest !== 'object') fail(`${what}: subject ${k} has no digest`);
      return { name: typeof s.name === 'string' ? s.name : '', sha256: toHex(hex(s.digest.sha256, 32, `${what}: subject ${k}`)) };
    });
    const p = o.predicate === undefined ? Object.create(null) : o.predicate;
    if (!p || typeof p !== 'object' || Array.isArray(p)) fail(`${what}: predicate must be an object`);
    return { type: pt, subjects, predicate: p };
  }

  return {
    Fail, fail, json, keys, str, int, arr, obj, hex, toHex, b64, b64any, b64enc, utf8, text, concat, equal,
    sha256, ed25519, verifier, cosigner, cosignerOf, sameKey, keyLabel, note, noteSigned, checkpoint,
    cosignature, leafHash, treeHash, inclusion, dsse, dsseSigned, statement,
  };
})();
globalThis.PXC = PXC;

#!/usr/bin/python3
"""An independent DSSE v1 implementation (PyNaCl Ed25519 + Python's own
base64/json), used to show that PIXIU's envelopes interoperate with the
spec rather than only with themselves. It shares no code with PIXIU.

  dsse_ref.py sign KEYFILE PAYLOADTYPE FILE     -> envelope on stdout
  dsse_ref.py verify VKEYFILE ENVELOPE          -> exit 0 valid, 1 invalid
"""
import base64
import json
import sys

import nacl.exceptions
import nacl.signing


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def key_material(line: str) -> tuple[str, bytes]:
    # signed-note key formats: [PRIVATE+KEY+]name+hexid+base64(0x01||key)
    line = line.strip().removeprefix("PRIVATE+KEY+")
    name, keyid, b64 = line.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if raw[0] != 1 or len(raw) != 33:
        raise ValueError("not an Ed25519 key")
    return f"{name}+{keyid}", raw[1:]


def main() -> int:
    cmd = sys.argv[1]
    if cmd == "sign":
        keyid, seed = key_material(open(sys.argv[2]).read())
        body = open(sys.argv[4], "rb").read()
        sig = nacl.signing.SigningKey(seed).sign(pae(sys.argv[3], body)).signature
        env = {
            "payloadType": sys.argv[3],
            "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}],
        }
        print(json.dumps(env, indent=2))
        return 0
    if cmd == "verify":
        _, pk = key_material(open(sys.argv[2]).read())
        env = json.load(open(sys.argv[3]))
        body = base64.b64decode(env["payload"])
        vk = nacl.signing.VerifyKey(pk)
        for s in env["signatures"]:
            try:
                vk.verify(pae(env["payloadType"], body), base64.b64decode(s["sig"]))
                return 0
            except nacl.exceptions.BadSignatureError:
                pass
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())

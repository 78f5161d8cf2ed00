# Firmware-side helpers for the link tests (called through tests/mp/service.py).
import binascii

import auth
import frames


def hmac_hex(key_hex, msg_hex):
    return binascii.hexlify(auth.hmac_sha256(binascii.unhexlify(key_hex), binascii.unhexlify(msg_hex))).decode()


def events_frame_hex(key_hex, device, events, sent):
    frame = bytearray(frames.frame_len(len(events)))
    for i, e in enumerate(events):
        at = frames.EVENTS_AT + 32 * i
        frame[at : at + 32] = frames.event(*e[:8], zone_id=binascii.unhexlify(e[8]))
    end = frames.seal_events(frame, binascii.unhexlify(key_hex), device.encode(), len(events), sent)
    return binascii.hexlify(frame[:end]).decode()


def open_hex(key_hex, device, frame_hex):
    try:
        kind, dev, payload = frames.open_frame(binascii.unhexlify(key_hex), binascii.unhexlify(frame_hex),
                                               device.encode() if device else None)
    except frames.FrameError as e:
        return {"error": str(e)}
    return {"kind": kind, "payload": binascii.hexlify(payload).decode()}


def slip_roundtrip(chunks_hex):
    got = []
    u = frames.Unslip(lambda f: got.append(binascii.hexlify(f).decode()))
    for h in chunks_hex:
        u.feed(binascii.unhexlify(h))
    return {"frames": got, "dropped": u.dropped}


def slip_hex(frame_hex):
    frame = binascii.unhexlify(frame_hex)
    out = bytearray(2 * len(frame) + 2)
    return binascii.hexlify(out[: frames.slip_into(frame, out)]).decode()

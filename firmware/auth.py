# HMAC-SHA256 (RFC 2104) over MicroPython's hashlib, which has no hmac module.
import hashlib

from micropython import const

_BLOCK = const(64)
MAC_LEN = const(16)  # frames carry the first 16 bytes of the HMAC


def hmac_sha256(key, msg):
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + b"\0" * (_BLOCK - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def mac(key, msg):
    return hmac_sha256(key, msg)[:MAC_LEN]


def equal(a, b):
    # Compare without an early exit: how long a check takes says nothing of the key.
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0

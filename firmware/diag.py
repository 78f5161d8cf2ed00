# The diagnostics protocol on the USB serial console, for a field technician.
#
#   request:  EMTAG?1 <command> [arguments]
#   answer:   EMTAG!1 <command> ok key=value ...   or   EMTAG!1 <command> err <reason>
#
# Read-only: version, board, gnss, modem, queue, strap, battery, pairing,
# counters, status (all of those in one answer), selftest. Changing state needs
# the technician token: fit <token> (clears a tamper once strap and case are
# whole), pair <other-id> <token> <pair-key> <tag-beacon-id> <unit-beacon-id>
# (tagctl generates the key and ids and gives both devices the same; the device
# keeps them and restarts to use them). No answer says anything of zones or
# places, nor the key: pairing shows its key id, the first 4 bytes of its SHA-256.
# A home unit answers the same (gnss=none; no strap; pairing names its tag).
import binascii
import os

import auth
import frames
import gnss
import nmea
import pairing
from micropython import const

VERSION = "0.1.0"
_PROTO = const(1)
_MAX_LINE = const(192)  # a pair request: 64 hex digits of key beside the token and ids
_COMMANDS = ("version", "board", "gnss", "modem", "queue", "strap", "battery", "pairing", "counters", "status",
             "selftest", "fit", "pair")

# modem.py's states, by number: what the technician reads
_MODEM_STATES = ("starting", "initialising", "registering", "attaching", "opening", "ready", "off", "asking-time")
# events this module sends (docs/frames.md)
_EV_PAIRED = const(23)  # depth: the side, _SIDE_TAG or _SIDE_UNIT
_SIDE_TAG = const(1)
_SIDE_UNIT = const(2)


class Diag:
    # given what it reports on, piece by piece: the technician sees the tag's parts, not its wiring
    def __init__(self, board, cfg, record, counters, gnss, locwatch, modem, store, link, tamper, power):
        self.board = board
        self._cfg = cfg  # the deployed configuration: device id, transport, technician token
        self._record = record
        self._counters = counters
        self._gnss, self._locwatch, self._modem = gnss, locwatch, modem
        self._store, self._link, self._tamper, self._power = store, link, tamper, power
        self._line = bytearray()
        self._rx = bytearray(64)
        token = cfg["tech_token"]
        self._token = binascii.unhexlify(token) if token else b""
        self.paired = self._read_pairing()
        self.restart = False  # a new pairing is used from the next boot: the board resets after answering

    def poll(self):
        con = self.board.console
        while True:
            n = con.readinto(self._rx)
            if not n:
                return
            for i in range(n):
                b = self._rx[i]
                if b == 0x0A or b == 0x0D:
                    if self._line:
                        self._request(bytes(self._line).decode())
                        self._line = bytearray()
                    if self.restart:  # answered, and everything on flash: machine.reset()
                        self.board.reset()
                elif len(self._line) < _MAX_LINE:
                    self._line.append(b)

    def _answer(self, cmd, text):
        self.board.console.write(("EMTAG!%d %s %s\n" % (_PROTO, cmd, text)).encode())

    def _request(self, line):
        words = line.split()
        if len(words) < 2 or words[0] != "EMTAG?%d" % _PROTO:
            if words and words[0].startswith("EMTAG?"):
                self._answer("-", "err protocol version: this tag speaks %d" % _PROTO)
            return
        cmd, args = words[1], words[2:]
        if cmd not in _COMMANDS:  # before getattr, which would intern any name it is given, for good
            self._answer(cmd, "err unknown command")
            return
        fn = getattr(self, "_q_" + cmd)
        try:
            self._answer(cmd, fn(args))
        except ValueError as e:
            self._answer(cmd, "err %s" % e)

    def _authorised(self, token_hex):
        if not self._token:
            raise ValueError("no technician token configured")
        try:
            given = binascii.unhexlify(token_hex)
        except ValueError:
            raise ValueError("refused: bad token") from None
        if not auth.equal(given, self._token):
            raise ValueError("refused: bad token")

    # read-only ----------------------------------------------------------------
    def _q_version(self, args):
        return "ok firmware=%s protocol=%d" % (VERSION, _PROTO)

    def _q_board(self, args):
        b = self.board
        return "ok board=%s chip=%s role=%s device=%s naps=%d" % (b.name, b.chip, b.role, self._cfg["device_id"],
                                                                 b.naps)

    def _q_gnss(self, args):
        g = self._gnss
        if g is None:
            return "ok gnss=none"
        fr = g.framer
        last = self._locwatch.fix_utc
        age = self.board.utc() - last if last else -1
        return "ok fix=%s last_valid_age_s=%s sentences=%d checksum_errors=%d fixes=%d" % (
            "valid" if 0 <= age <= 5 else "none", age if last else "none", fr.count(nmea.C_SENTENCES),
            fr.count(nmea.C_CHECKSUM), g.count(gnss.C_FIXES))

    def _q_modem(self, args):
        m = self._modem
        if m is None:
            return "ok transport=%s" % self._cfg["transport"]
        return "ok transport=cellular state=%s registered=%s rssi=%d resets=%d errors=%d" % (
            _MODEM_STATES[m.state], _yes(m.registered), m.rssi, m.resets, m.errors)

    def _q_queue(self, args):
        s, lk = self._store, self._link
        return "ok queued=%d acked_seq=%d next_seq=%d sent=%d rejected=%d" % (
            s.count, s.acked, s.seq.next, lk.sent if lk else 0, lk.rejected if lk else 0)

    def _q_strap(self, args):
        b, t = self.board, self._tamper
        return "ok strap=%s case=%s strap_tamper=%s case_tamper=%s" % (
            _switch(b.has_strap, b.strap_closed()), _switch(b.has_case, b.case_closed()),
            "latched" if t.strap else "clear", "latched" if t.case else "clear")

    def _q_battery(self, args):
        p = self._power
        return "ok mv=%d percent=%d low=%s critical=%s" % (self.board.battery_mv(), p.pct, _yes(p.low),
                                                          _yes(p.critical))

    def _q_pairing(self, args):
        c = self._cfg
        return "ok %s=%s key_id=%s tag_beacon=%s unit_beacon=%s" % (
            "tag" if self.board.role == "hmu" else "hmu", self.paired or "none",
            pairing.key_id(c["pair_key"]) if c["pair_key"] else "none", c["beacon_id"] or "none",
            c["hmu_beacon_id"] or "none")

    def _q_counters(self, args):
        return "ok " + " ".join(self._counters())

    def _q_status(self, args):
        parts = [self._q_board(args), self._q_gnss(args), self._q_modem(args), self._q_queue(args),
                 self._q_strap(args), self._q_battery(args), self._q_pairing(args)]
        return "ok " + " ".join(p[3:] for p in parts)

    def _q_selftest(self, args):
        checks = []
        try:
            with open(self.board.storage + "/selftest.tmp", "wb") as f:
                f.write(b"ok")
            checks.append("storage=pass")
        except OSError:
            checks.append("storage=fail")
        b = self.board
        if self._gnss is not None:
            checks.append("gnss=%s" % ("pass" if self._gnss.framer.count(nmea.C_SENTENCES) else "fail"))
        if b.has_strap:
            checks.append("strap=%s" % ("pass" if b.strap_closed() else "fail"))
        if b.has_case:
            checks.append("case=%s" % ("pass" if b.case_closed() else "fail"))
        checks.append("battery=%s" % ("pass" if 20 < self._power.pct <= 100 else "fail"))
        m = self._modem
        checks.append("link=%s" % ("pass" if self._link and (m is None or m.session_up()) else "fail"))
        verdict = "pass" if all(c.endswith("pass") for c in checks) else "fail"
        return "ok result=%s %s" % (verdict, " ".join(checks))

    # changing state -------------------------------------------------------------
    def _q_fit(self, args):
        if len(args) != 1:
            raise ValueError("usage: fit <token>")
        self._authorised(args[0])
        if not self._tamper.clear():
            raise ValueError("strap or case still open: close them first")
        self._record(frames.EV_FITTED, self.board.utc())
        return "ok fitted"

    def _q_pair(self, args):
        # a tag pairs with its unit, a unit with its tag: the same key and ids on both
        if len(args) != 5:
            raise ValueError("usage: pair <device-id> <token> <pair-key> <tag-beacon-id> <unit-beacon-id>")
        self._authorised(args[1])
        other, key, tag_id, unit_id = args[0], args[2], args[3].lower(), args[4].lower()
        if not (1 <= len(other) <= 16) or not all(c.isalpha() or c.isdigit() or c == "-" for c in other):
            raise ValueError("device id: 1 to 16 letters, digits or dashes")
        if len(key) != 64 or not _hex(key):
            raise ValueError("pair key: 64 hex digits (32 bytes)")
        if not (len(tag_id) == len(unit_id) == 8 and _hex(tag_id + unit_id)) or "00000000" in (tag_id, unit_id):
            raise ValueError("beacon ids: 8 hex digits each, not zero")
        if tag_id == unit_id:
            raise ValueError("beacon ids: the tag's and the unit's must differ")
        folder = self.board.storage
        if self.board.role == "hmu":  # the marks of the tag heard before: the new one counts from its own
            import presence

            try:
                os.remove(folder + presence.MARKS)
            except OSError:
                pass
        pairing.write(folder, other, key, tag_id, unit_id)
        self.paired = other
        kid = pairing.key_id(key)
        # the centre matches the two sides by key id and tag beacon id (zone id), side in depth
        self._store.append(_EV_PAIRED, self.board.utc(), depth_m=_SIDE_UNIT if self.board.role == "hmu" else _SIDE_TAG,
                           battery=self._power.pct, zone_id=binascii.unhexlify(kid + tag_id))
        self.restart = True
        return "ok paired=%s key_id=%s restarting=1" % (other, kid)

    def _read_pairing(self):
        try:
            return pairing.read(self.board.storage).get("with", "")
        except (OSError, ValueError):
            return ""


def _hex(text):
    return not text.strip("0123456789abcdefABCDEF")


def _yes(flag):
    return "yes" if flag else "no"


def _switch(fitted, closed):
    return "none" if not fitted else "closed" if closed else "open"

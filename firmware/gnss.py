# GNSS epochs: the NMEA sentences of one UTC instant merged into one fix.
from array import array

import civil
import nmea
from micropython import const

_RMC = const(0x524D43)
_GGA = const(0x474741)
_GSA = const(0x475341)
_GSV = const(0x475356)
_VTG = const(0x565447)
_GLL = const(0x474C4C)
_ZDA = const(0x5A4441)
_GNS = const(0x474E53)
# GP GL GA GB BD GQ GI GN
_TALKERS = (0x4750, 0x474C, 0x4741, 0x4742, 0x4244, 0x4751, 0x4749, 0x474E)

_A = const(0x41)
_V = const(0x56)
# FAA modes that are a real position: autonomous, differential, precise, RTK fixed, RTK float
_GOOD_MODES = b"ADPRF"
_GOOD_QUALITY = (1, 2, 4, 5)  # GPS, DGPS, RTK fixed, RTK float

_DAY_MS = const(86400000)
_HALF_DAY_MS = const(43200000)
_WEEKS_1024_DAYS = const(7168)
_WEEKS_512_DAYS = const(3584)
# 2026-11-01, days since 1970: the firmware's idea of "now" until the clock is set
BUILD_DAY = const(20758)

# Gnss counters (indices into Gnss.counts); framing counters live in nmea.Framer
C_ACCEPTED = const(0)  # known sentence, decoded
C_UNKNOWN = const(1)  # proprietary, unsupported type or talker
C_MALFORMED = const(2)  # known sentence with a field that does not decode
C_FIXES = const(3)  # epochs emitted


class Fix:
    # One epoch. Integers throughout; -1 (or 0 for letters) means "not reported".
    def __init__(self):
        self.clear()

    def clear(self):
        self.day = -1  # days since 1970-01-01 (UTC)
        self.ms = -1  # milliseconds of the UTC day
        self.lat_e7 = 0
        self.lon_e7 = 0
        self.has_pos = False
        self.valid = False
        self.status = 0  # RMC/GLL status letter: A or V
        self.mode = 0  # FAA mode letter
        self.nav_status = 0  # NMEA 4.1 RMC navigational status letter
        self.systems = 0  # NMEA 4.11 GSA system ids seen, as bits (1 << id)
        self.quality = -1  # GGA fix quality
        self.fix_type = 0  # GSA: 1 none, 2 2D, 3 3D
        self.sats_used = -1
        self.sats_gsa = -1  # satellites listed by the epoch's GSA sentences, -1 without GSA
        self.sats_view = 0
        self.snr_max = 0
        self.low = 0  # the weakest satellite's C/N0 (0: none heard)
        self.hdop = -1  # x100
        self.pdop = -1
        self.vdop = -1
        self.alt_cm = -1
        self.has_alt = False
        self.speed_cms = -1
        self.course_cdeg = -1
        self.sentences = 0

    def utc(self):
        # Epoch seconds, or -1 while the date or time is unknown.
        if self.day < 0 or self.ms < 0:
            return -1
        return self.day * 86400 + self.ms // 1000

    def judge(self):
        # The validity rule: status A with a positioning FAA mode (or none, before
        # NMEA 2.3), or where no RMC/GLL came, a GGA quality that is a position
        # (or, from GNS alone, a positioning mode).
        # Any sentence of the epoch saying "no fix", dead reckoning, manual or
        # simulated makes the epoch invalid.
        ok = self.has_pos
        if self.status:
            ok = ok and self.status == _A
        elif self.quality >= 0:
            ok = ok and self.quality in _GOOD_QUALITY
        elif not self.mode:  # a GNS-only receiver: its mode letters are the status
            ok = False
        if self.mode and self.mode not in _GOOD_MODES:
            ok = False
        if self.quality >= 0 and self.quality not in _GOOD_QUALITY:
            ok = False
        if self.fix_type == 1 or self.sats_used == 0:  # GSA "no fix", or GGA with no satellites
            ok = False
        if self.sats_used < 0:  # after the check above: GSA lists are often left empty
            self.sats_used = self.sats_gsa
        self.valid = ok


class Gnss:
    # feed() UART bytes; on_fix(fix) is called with each finished epoch. The Fix
    # passed is reused for the next epoch: copy what must outlive the call.
    def __init__(self, on_fix, ref_day=BUILD_DAY):
        self.framer = nmea.Framer(self._sentence)
        self.fix = Fix()
        self.counts = array("I", bytes(16))
        self.out = array("i", bytes(4))
        self._on_fix = on_fix
        self.ref_day = ref_day
        self.last_day = -1  # date of the last RMC/ZDA, carried forward
        self.last_ms = -1
        self._lat = 0
        self._lon = 0
        self._dmy = array("i", (0, 0, 0))

    def feed(self, data, n=-1):
        self.framer.feed(data, n)

    def flush(self):
        # Finish the current epoch now (the receiver has gone quiet).
        if self.fix.sentences:
            self._emit()

    def count(self, which):
        return self.counts[which]

    def _emit(self):
        f = self.fix
        if f.day < 0 and f.ms >= 0 and self.last_day >= 0:
            f.day = self.last_day
            if f.ms + _HALF_DAY_MS < self.last_ms:  # past midnight since that date
                f.day += 1
        if f.day >= 0 and f.ms >= 0:
            self.last_day = f.day
            self.last_ms = f.ms
        f.judge()
        self.counts[C_FIXES] += 1
        self._on_fix(f)
        f.clear()

    def _at(self, ms):
        # A timed sentence: a new instant finishes the epoch in progress.
        f = self.fix
        if f.sentences and f.ms >= 0 and ms != f.ms:
            self._emit()
        f.ms = ms

    def _day(self, y, m, d):
        if not civil.valid_date(y, m, d):
            return -1
        day = civil.days_from_civil(y, m, d)
        while day < self.ref_day - _WEEKS_512_DAYS:  # GPS 10-bit week rollover
            day += _WEEKS_1024_DAYS
        return day

    def _sentence(self, fr):
        kind = fr.sentence_type()
        if kind == 0 or fr.talker() not in _TALKERS:
            self.counts[C_UNKNOWN] += 1
            return
        if kind == _RMC:
            ok = self._rmc(fr)
        elif kind == _GGA:
            ok = self._gga(fr)
        elif kind == _GSA:
            ok = self._gsa(fr)
        elif kind == _GSV:
            ok = self._gsv(fr)
        elif kind == _VTG:
            ok = self._vtg(fr)
        elif kind == _GLL:
            ok = self._gll(fr)
        elif kind == _ZDA:
            ok = self._zda(fr)
        elif kind == _GNS:
            ok = self._gns(fr)
        else:
            self.counts[C_UNKNOWN] += 1
            return
        if ok:
            self.counts[C_ACCEPTED] += 1
            self.fix.sentences += 1
        else:
            self.counts[C_MALFORMED] += 1

    # Each decoder reads every field into locals first and touches the epoch only
    # once the whole sentence has decoded: a bad field loses the sentence, never
    # half of it.

    def _pos(self, fr, k):
        # Latitude at field k, longitude at k+2. Returns 1 position, 0 none, -1 bad.
        line, offs, out = fr.line, fr.offs, self.out
        r = nmea.field_coord(line, offs, k, 2, out)
        if r == nmea.BAD:
            return -1
        lat = out[0]
        r2 = nmea.field_coord(line, offs, k + 2, 3, out)
        if r2 == nmea.BAD or r != r2:
            return -1
        if r == nmea.EMPTY:
            return 0
        self._lat = lat
        self._lon = out[0]
        return 1

    def _num(self, fr, k, scale):
        # A numeric field times 10**scale; -1 empty; None when it does not decode.
        r = nmea.field_num(fr.line, fr.offs, k, scale, self.out)
        if r == nmea.OK:
            return self.out[0]
        return -1 if r == nmea.EMPTY else None

    def _time(self, fr, k):
        r = nmea.field_time(fr.line, fr.offs, k, self.out)
        if r == nmea.OK:
            return self.out[0]
        return -1 if r == nmea.EMPTY else None

    def _rmc(self, fr):
        if fr.nf < 10:
            return False
        ms = self._time(fr, 1)
        status = nmea.field_char(fr.line, fr.offs, 2)
        pos = self._pos(fr, 3)
        kn = self._num(fr, 7, 3)
        course = self._num(fr, 8, 2)
        # A date that does not decode (week-rollover firmware has sent "2208-1") leaves
        # the date unknown; the position and time of day still stand.
        day = -1
        if nmea.field_uint(fr.line, fr.offs, 9, 6, self.out) == nmea.OK and fr.offs[10] - fr.offs[9] == 7:
            dmy = self.out[0]
            yy = dmy % 100
            day = self._day(yy + (2000 if yy < 80 else 1900), (dmy // 100) % 100, dmy // 10000)
        mode = nmea.field_char(fr.line, fr.offs, 12) if fr.nf > 12 else 0
        nav = nmea.field_char(fr.line, fr.offs, 13) if fr.nf > 13 else 0
        if ms is None or pos < 0 or kn is None or course is None or (status != _A and status != _V):
            return False
        if ms >= 0:
            self._at(ms)
        f = self.fix
        f.status = status
        if mode:
            f.mode = mode
        if nav:
            f.nav_status = nav
        if pos:
            self._set_pos()
        if day >= 0:
            f.day = day
        if kn >= 0:
            f.speed_cms = (kn * 463 + 4500) // 9000  # 1 kn = 1852/3600 m/s
        if course >= 0:
            f.course_cdeg = course
        return True

    def _set_pos(self):
        f = self.fix
        f.lat_e7 = self._lat
        f.lon_e7 = self._lon
        f.has_pos = True

    def _gga(self, fr):
        if fr.nf < 10:
            return False
        r = nmea.field_uint(fr.line, fr.offs, 6, 1, self.out)
        if r == nmea.BAD:
            return False
        return self._position_fix(fr, self.out[0] if r == nmea.OK else -1, 0)

    def _gns(self, fr):
        # GNS: like GGA, with one FAA mode letter per constellation instead of a quality
        if fr.nf < 10:
            return False
        line, offs = fr.line, fr.offs
        mode = 0
        k = offs[6]
        while k < offs[7] - 1:  # a constellation with a position decides, else the first letter
            c = line[k]
            if c in _GOOD_MODES or not mode:
                mode = c
                if c in _GOOD_MODES:
                    break
            k += 1
        return self._position_fix(fr, -1, mode)

    def _position_fix(self, fr, quality, mode):
        # GGA and GNS alike: time 1, position 2-5, satellites 7, HDOP 8, altitude 9
        ms = self._time(fr, 1)
        pos = self._pos(fr, 2)
        r = nmea.field_uint(fr.line, fr.offs, 7, 2, self.out)
        if r == nmea.BAD:
            return False
        sats = self.out[0] if r == nmea.OK else -1
        hdop = self._num(fr, 8, 2)
        alt = self._num(fr, 9, 2)
        if ms is None or pos < 0 or hdop is None or alt is None:
            return False
        if ms >= 0:
            self._at(ms)
        f = self.fix
        if pos:
            self._set_pos()
        if quality >= 0:
            f.quality = quality
        if mode:
            f.mode = mode
        if sats >= 0:
            f.sats_used = sats
        if hdop >= 0:
            f.hdop = hdop
        if nmea.field_char(fr.line, fr.offs, 9):
            f.alt_cm = alt
            f.has_alt = True
        return True

    def _gsa(self, fr):
        if fr.nf < 18:
            return False
        r = nmea.field_uint(fr.line, fr.offs, 2, 1, self.out)
        if r == nmea.BAD:
            return False
        fix_type = self.out[0] if r == nmea.OK else 0
        used = 0
        for k in range(3, 15):
            if nmea.field_char(fr.line, fr.offs, k):
                used += 1
        pdop = self._num(fr, 15, 2)
        hdop = self._num(fr, 16, 2)
        vdop = self._num(fr, 17, 2)
        system = 0
        if fr.nf > 18:
            r = nmea.field_uint(fr.line, fr.offs, 18, 2, self.out)
            if r == nmea.BAD or (r == nmea.OK and self.out[0] > 15):
                return False
            if r == nmea.OK:
                system = 1 << self.out[0]
        if pdop is None or hdop is None or vdop is None:
            return False
        f = self.fix
        f.systems |= system
        if fix_type and (f.fix_type == 0 or fix_type > f.fix_type):
            f.fix_type = fix_type
        f.sats_gsa = used + (f.sats_gsa if f.sats_gsa > 0 else 0)
        if pdop >= 0:
            f.pdop = pdop
        if hdop >= 0 and f.hdop < 0:
            f.hdop = hdop
        if vdop >= 0:
            f.vdop = vdop
        return True

    def _gsv(self, fr):
        if fr.nf < 4:
            return False
        line, offs, out = fr.line, fr.offs, self.out
        if nmea.field_uint(line, offs, 2, 2, out) != nmea.OK:
            return False
        num = out[0]
        r = nmea.field_uint(line, offs, 3, 3, out)
        if r == nmea.BAD:
            return False
        view = out[0] if r == nmea.OK else 0
        snr = low = 0
        k = 7
        while k < fr.nf:
            r = nmea.field_uint(line, offs, k, 2, out)
            if r == nmea.BAD:
                return False
            v = out[0] if r == nmea.OK else 0
            if v > snr:
                snr = v
            if v and (not low or v < low):
                low = v
            k += 4
        f = self.fix
        if num == 1:
            f.sats_view += view
        if snr > f.snr_max:
            f.snr_max = snr
        if low and (not f.low or low < f.low):
            f.low = low
        return True

    def _vtg(self, fr):
        if fr.nf < 5:
            return False
        course = self._num(fr, 1, 2)
        # NMEA 2.3+: cog,T,cogm,M,kn,N,kmh,K,mode; older: cog,cogm,kn,kmh
        new = nmea.field_char(fr.line, fr.offs, 2) == 0x54 or fr.nf >= 9
        kmh = self._num(fr, 7 if new else 4, 3) if fr.nf > (7 if new else 4) else -1
        mode = nmea.field_char(fr.line, fr.offs, 9) if new and fr.nf > 9 else 0
        if course is None or kmh is None:
            return False
        f = self.fix
        if course >= 0:
            f.course_cdeg = course
        if kmh >= 0 and f.speed_cms < 0:
            f.speed_cms = (kmh + 18) // 36  # km/h x1000 to cm/s
        if mode:
            f.mode = mode
        return True

    def _gll(self, fr):
        if fr.nf < 7:
            return False
        pos = self._pos(fr, 1)
        ms = self._time(fr, 5)
        status = nmea.field_char(fr.line, fr.offs, 6)
        mode = nmea.field_char(fr.line, fr.offs, 7) if fr.nf > 7 else 0
        if ms is None or pos < 0 or (status != _A and status != _V):
            return False
        if ms >= 0:
            self._at(ms)
        f = self.fix
        if not f.status or status == _V:
            f.status = status
        if mode:
            f.mode = mode
        if pos:
            self._set_pos()
        return True

    def _zda(self, fr):
        if fr.nf < 5:
            return False
        ms = self._time(fr, 1)
        line, offs, out = fr.line, fr.offs, self.out
        got = 0
        vals = self._dmy
        for i in range(3):
            r = nmea.field_uint(line, offs, 2 + i, 4 if i == 2 else 2, out)
            if r == nmea.BAD:
                return False
            if r == nmea.OK:
                vals[i] = out[0]
                got += 1
        if ms is None:
            return False
        if ms >= 0:
            self._at(ms)
        if got == 3:
            day = self._day(vals[2], vals[1], vals[0])
            if day < 0:
                return False
            self.fix.day = day
        return True

# NMEA 0183 framing and field decoding, allocation-free.
#
# Framer turns UART bytes into checksummed sentences held in one preallocated
# line buffer; the viper helpers decode fields of that buffer into integers.
# Nothing here allocates per byte, per sentence or per field.
from array import array

import micropython
from micropython import const

_MAX_LINE = const(120)  # bytes from '$' up to the terminator; longer lines are dropped
_MAX_FIELDS = const(32)

# Framer counters (indices into Framer.st, reported by diagnostics)
C_SENTENCES = const(2)  # framed with a good checksum
C_CHECKSUM = const(3)  # bad or missing checksum
C_OVERLONG = const(4)  # longer than _MAX_LINE
C_BROKEN = const(5)  # cut short by a new '$' or a byte that is not printable ASCII
_ST_SIZE = const(6)

# Field decoder results
EMPTY = const(0)
OK = const(1)
BAD = const(2)


@micropython.viper
def _frame(src: ptr8, i: int, end: int, line: ptr8, st: ptr32) -> int:
    # st[0]: bytes of the sentence so far (0: hunting for '$'); st[1]: 1 while
    # skipping the rest of an overlong line. Returns the index just past a
    # terminator that completes a sentence (its length left in st[0] is then
    # reset by the caller through st[0] = 0), or -1 when src is used up.
    n = int(st[0])
    over = int(st[1])
    while i < end:
        c = src[i]
        i += 1
        if c == 0x24:  # '$' always starts a new sentence
            if n > 0:
                st[5] = st[5] + 1
            line[0] = c
            n = 1
            over = 0
        elif n == 0 and over == 0:
            pass
        elif c == 0x0A or c == 0x0D:
            if over:
                st[4] = st[4] + 1
                over = 0
            elif n > 0:
                st[0] = n
                st[1] = 0
                return i
        elif c < 0x20 or c > 0x7E:
            st[5] = st[5] + 1
            n = 0
            over = 0
        elif over:
            pass
        elif n >= _MAX_LINE:
            over = 1
            n = 0
        else:
            line[n] = c
            n += 1
    st[0] = n
    st[1] = over
    return -1


@micropython.viper
def _checksum_ok(line: ptr8, n: int) -> bool:
    # A sentence ends in '*hh'; the XOR of every byte between '$' and '*' must equal hh.
    if n < 4 or line[n - 3] != 0x2A:
        return False
    want = 0
    i = n - 2
    while i < n:  # two hex digits, either case
        c = int(line[i]) | 0x20
        if 0x30 <= c <= 0x39:
            want = (want << 4) | (c - 0x30)
        elif 0x61 <= c <= 0x66:
            want = (want << 4) | (c - 0x57)
        else:
            return False
        i += 1
    x = 0
    i = 1
    while i < n - 3:
        c = line[i]
        if c == 0x2A:
            return False
        x ^= c
        i += 1
    return x == want


@micropython.viper
def _split(line: ptr8, end: int, offs: ptr16) -> int:
    # Field k spans offs[k] .. offs[k+1]-1 (the comma or '*'). Field 0 is the address.
    nf = 0
    offs[0] = 1
    i = 1
    while i < end:
        if line[i] == 0x2C and nf < _MAX_FIELDS - 1:
            nf += 1
            offs[nf] = i + 1
        i += 1
    offs[nf + 1] = end + 1
    return nf + 1


@micropython.viper
def field_char(line: ptr8, offs: ptr16, k: int) -> int:
    # First byte of field k, or 0 when the field is empty.
    a = int(offs[k])
    if int(offs[k + 1]) - 1 > a:
        return int(line[a])
    return 0


@micropython.viper
def field_num(line: ptr8, offs: ptr16, k: int, scale: int, out: ptr32) -> int:
    # Signed decimal number times 10**scale, rounded half away from zero.
    # Up to 9 significant digits; more is BAD, as is any stray character.
    a = int(offs[k])
    b = int(offs[k + 1]) - 1
    if a >= b:
        return EMPTY
    neg = 0
    if line[a] == 0x2D:
        neg = 1
        a += 1
    elif line[a] == 0x2B:
        a += 1
    v = 0
    digits = 0
    frac = -1  # digits after the point, -1 before it
    rnd = 0
    while a < b:
        c = int(line[a])
        a += 1
        if c == 0x2E and frac < 0:
            frac = 0
        elif 0x30 <= c <= 0x39:
            if frac >= scale:
                if frac == scale:
                    rnd = 1 if c >= 0x35 else 0
                frac += 1
            else:
                if digits >= 9:
                    return BAD
                v = v * 10 + c - 0x30
                if v > 0:
                    digits += 1
                if frac >= 0:
                    frac += 1
        else:
            return BAD
    if frac < 0:
        frac = 0
    while frac < scale:
        if digits >= 9:
            return BAD
        v *= 10
        if v > 0:
            digits += 1
        frac += 1
    v += rnd
    out[0] = -v if neg else v
    return OK


@micropython.viper
def field_coord(line: ptr8, offs: ptr16, k: int, degdigits: int, out: ptr32) -> int:
    # (d)ddmm.mmmm in field k and its hemisphere letter in field k+1, to signed 1e-7
    # degrees, exactly rounded. The minutes fraction is split off so that every
    # intermediate value stays below 2**31 (ESP32 viper words are 32-bit).
    a = int(offs[k])
    b = int(offs[k + 1]) - 1
    if a >= b:
        return EMPTY
    h = 0
    if int(offs[k + 2]) - 1 > b + 1:
        h = int(line[b + 1])
    if degdigits == 2:
        if h != 0x4E and h != 0x53:  # N S
            return BAD
    elif h != 0x45 and h != 0x57:  # E W
        return BAD
    deg = 0
    mi = 0
    i = 0
    while a < b and line[a] != 0x2E:
        c = int(line[a])
        if c < 0x30 or c > 0x39 or i >= degdigits + 2:
            return BAD
        if i < degdigits:
            deg = deg * 10 + c - 0x30
        else:
            mi = mi * 10 + c - 0x30
        i += 1
        a += 1
    if i != degdigits + 2 or mi > 59:
        return BAD
    f = 0
    nf = 0
    if a < b:
        a += 1  # the point
        if a >= b:
            return BAD
    while a < b:
        c = int(line[a])
        if c < 0x30 or c > 0x39:
            return BAD
        if nf < 9:  # digits past the ninth are below 1e-9 minutes
            f = f * 10 + c - 0x30
            nf += 1
        a += 1
    # value_e7 = deg*1e7 + (mi + f/10**nf) * 1e7/60 = deg*1e7 + mi*1e6/6 + f*10**(6-nf)/6
    m = nf if nf > 6 else 6
    den = 6
    j = 6
    while j < m:
        den *= 10
        j += 1
    mult = 1
    j = nf
    while j < m:
        mult *= 10
        j += 1
    q = mi * 1000000
    whole = q // 6
    r = q - whole * 6
    rest = r * (den // 6) + f * mult
    v = deg * 10000000 + whole + (2 * rest + den) // (2 * den)
    lim = 900000000  # 90 degrees; viper on ESP32 can't take literals above 2**30
    if degdigits == 3:
        lim += lim
    if v > lim:
        return BAD
    out[0] = -v if (h == 0x53 or h == 0x57) else v
    return OK


@micropython.viper
def field_time(line: ptr8, offs: ptr16, k: int, out: ptr32) -> int:
    # hhmmss[.sss] to milliseconds of the UTC day
    a = int(offs[k])
    b = int(offs[k + 1]) - 1
    if a >= b:
        return EMPTY
    if b - a < 6:
        return BAD
    v = 0
    i = 0
    while i < 6:
        c = int(line[a + i])
        if c < 0x30 or c > 0x39:
            return BAD
        v = v * 10 + c - 0x30
        i += 1
    hh = v // 10000
    mm = (v // 100) % 100
    ss = v % 100
    if hh > 23 or mm > 59 or ss > 60:
        return BAD
    ms = 0
    a += 6
    if a < b:
        if line[a] != 0x2E:
            return BAD
        a += 1
        scale = 100
        while a < b:
            c = int(line[a])
            if c < 0x30 or c > 0x39:
                return BAD
            ms += (c - 0x30) * scale
            scale //= 10
            a += 1
    out[0] = ((hh * 60 + mm) * 60 + ss) * 1000 + ms
    return OK


@micropython.viper
def field_uint(line: ptr8, offs: ptr16, k: int, maxdigits: int, out: ptr32) -> int:
    a = int(offs[k])
    b = int(offs[k + 1]) - 1
    if a >= b:
        return EMPTY
    if b - a > maxdigits:
        return BAD
    v = 0
    while a < b:
        c = int(line[a])
        if c < 0x30 or c > 0x39:
            return BAD
        v = v * 10 + c - 0x30
        a += 1
    out[0] = v
    return OK


class Framer:
    # feed() calls on_sentence(framer) once per sentence with a good checksum;
    # the sentence is then in self.line[:self.n] and its fields are split.
    def __init__(self, on_sentence):
        self.line = bytearray(_MAX_LINE)
        self.offs = array("H", bytes(2 * (_MAX_FIELDS + 1)))
        self.st = array("I", bytes(4 * _ST_SIZE))
        self.n = 0
        self.nf = 0
        self._on_sentence = on_sentence

    def feed(self, data, n=-1):
        # The first n bytes of data (all of it when n < 0).
        i = 0
        end = len(data) if n < 0 else n
        st = self.st
        while True:
            i = _frame(data, i, end, self.line, st)
            if i < 0:
                return
            n = st[0]
            st[0] = 0
            if _checksum_ok(self.line, n):
                st[C_SENTENCES] += 1
                self.n = n
                self.nf = _split(self.line, n - 3, self.offs)
                self._on_sentence(self)
            else:
                st[C_CHECKSUM] += 1

    def count(self, which):
        return self.st[which]

    def sentence_type(self):
        # The three letters after the talker as one integer (0x524D43 for RMC);
        # 0 for proprietary ($P...) and malformed addresses.
        line = self.line
        if self.offs[1] != 7 or line[1] == 0x50:  # 'P'
            return 0
        return (line[3] << 16) | (line[4] << 8) | line[5]

    def talker(self):
        return (self.line[1] << 8) | self.line[2]

"""Hypothesis strategies for NMEA 0183 sentences, as receivers write them."""

from __future__ import annotations

from hypothesis import strategies as st

TALKERS = ["GP", "GL", "GA", "GB", "BD", "GQ", "GI", "GN"]


def checksum(body: str) -> str:
    x = 0
    for c in body.encode():
        x ^= c
    return f"${body}*{x:02X}"


def optional(s: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), s)


@st.composite
def decimal(draw: st.DrawFn, lo: int, hi: int, max_places: int = 3, signed: bool = False) -> str:
    whole = draw(st.integers(lo, hi))
    places = draw(st.integers(0, max_places))
    frac = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=places, max_size=places)))
    sign = "-" if signed and draw(st.booleans()) else ""
    return f"{sign}{whole}" + (f".{frac}" if places else "")


@st.composite
def coordinate(draw: st.DrawFn, lat: bool) -> tuple[str, str]:
    """(ddmm.mmmm or dddmm.mmmm, hemisphere): 0 and +-90/180 degrees, 1 to 8 places."""
    top = 90 if lat else 180
    deg = draw(st.one_of(st.integers(0, top), st.sampled_from([0, top])))
    places = draw(st.integers(1, 8))
    if deg == top:
        minutes, frac = 0, "0" * places
    else:
        minutes = draw(st.integers(0, 59))
        frac = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=places, max_size=places)))
    width = 2 if lat else 3
    hemi = draw(st.sampled_from("NS" if lat else "EW"))
    return f"{deg:0{width}d}{minutes:02d}.{frac}", hemi


@st.composite
def position(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return ",,,"
    lat, ns = draw(coordinate(True))
    lon, ew = draw(coordinate(False))
    return f"{lat},{ns},{lon},{ew}"


@st.composite
def utc_time(draw: st.DrawFn) -> str:
    hh, mm, ss = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    places = draw(st.integers(0, 3))
    frac = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=places, max_size=places)))
    return f"{hh:02d}{mm:02d}{ss:02d}" + (f".{frac}" if places else "")


@st.composite
def ddmmyy(draw: st.DrawFn) -> str:
    d = draw(st.dates(min_value=__import__("datetime").date(2000, 1, 1),
                      max_value=__import__("datetime").date(2068, 12, 31)))
    return d.strftime("%d%m%y")


@st.composite
def rmc(draw: st.DrawFn) -> str:
    t = draw(optional(utc_time()))
    status = draw(st.sampled_from("AV"))
    pos = draw(position())
    kn = draw(optional(decimal(0, 999)))
    course = draw(optional(decimal(0, 359, 2)))
    date = draw(optional(ddmmyy()))
    version = draw(st.sampled_from(["2.0", "2.3", "4.1"]))
    fields = [t, status, pos, kn, course, date, "", ""]
    if version != "2.0":
        fields.append(draw(st.sampled_from("ADEFMNPRS")))
    if version == "4.1":
        fields.append(draw(st.sampled_from("ASCUV")))
    return f"{draw(st.sampled_from(TALKERS))}RMC," + ",".join(fields)


@st.composite
def gga(draw: st.DrawFn) -> str:
    t = draw(optional(utc_time()))
    pos = draw(position())
    q = draw(st.integers(0, 8))
    sats = draw(optional(st.integers(0, 36).map(lambda n: f"{n:02d}")))
    hdop = draw(optional(decimal(0, 99, 2)))
    alt = draw(optional(decimal(0, 9999, 2, signed=True)))
    return f"{draw(st.sampled_from(TALKERS))}GGA,{t},{pos},{q},{sats},{hdop},{alt},M,47.0,M,,"


@st.composite
def gll(draw: st.DrawFn) -> str:
    pos = draw(position())
    t = draw(optional(utc_time()))
    status = draw(st.sampled_from("AV"))
    mode = draw(st.sampled_from(["", ",A", ",D", ",N", ",E"]))
    return f"{draw(st.sampled_from(TALKERS))}GLL,{pos},{t},{status}{mode}"


@st.composite
def vtg(draw: st.DrawFn) -> str:
    course = draw(optional(decimal(0, 359, 2)))
    kn = draw(decimal(0, 999))
    kmh = draw(optional(decimal(0, 999)))
    mode = draw(st.sampled_from("ADEN"))
    return f"{draw(st.sampled_from(TALKERS))}VTG,{course},T,,M,{kn},N,{kmh},K,{mode}"


@st.composite
def gsa(draw: st.DrawFn) -> str:
    ids = draw(st.lists(st.integers(1, 99).map(lambda n: f"{n:02d}"), max_size=12))
    ids += [""] * (12 - len(ids))
    dops = [draw(optional(decimal(0, 50, 2))) for _ in range(3)]
    system = draw(st.sampled_from(["", ",1", ",2", ",3", ",4"]))
    fix = draw(st.sampled_from("123"))
    return f"{draw(st.sampled_from(TALKERS))}GSA,A,{fix}," + ",".join(ids + dops) + system


@st.composite
def gsv(draw: st.DrawFn) -> str:
    total = draw(st.integers(1, 9))
    num = draw(st.integers(1, total))
    view = draw(st.integers(0, 36))
    sats = []
    for _ in range(draw(st.integers(0, 4))):
        snr = draw(optional(st.integers(0, 99).map(lambda n: f"{n:02d}")))
        sats.append(f"{draw(st.integers(1, 99)):02d},{draw(st.integers(0, 90)):02d},"
                    f"{draw(st.integers(0, 359)):03d},{snr}")
    signal = draw(st.sampled_from(["", ",1", ",7"]))
    body = f"{draw(st.sampled_from(TALKERS))}GSV,{total},{num},{view:02d}"
    return body + "".join("," + s for s in sats) + signal


@st.composite
def zda(draw: st.DrawFn) -> str:
    t = draw(utc_time())
    d = draw(st.dates(min_value=__import__("datetime").date(2000, 1, 1),
                      max_value=__import__("datetime").date(2068, 12, 31)))
    return f"{draw(st.sampled_from(TALKERS))}ZDA,{t},{d.day:02d},{d.month:02d},{d.year},00,00"


@st.composite
def gns(draw: st.DrawFn) -> str:
    t = draw(optional(utc_time()))
    pos = draw(position())
    mode = "".join(draw(st.lists(st.sampled_from("ADENR"), min_size=1, max_size=4)))
    sats = draw(st.integers(0, 36))
    hdop = draw(optional(decimal(0, 99, 2)))
    alt = draw(optional(decimal(0, 9999, 2, signed=True)))
    return f"{draw(st.sampled_from(TALKERS))}GNS,{t},{pos},{mode},{sats:02d},{hdop},{alt},47.0,,,V"

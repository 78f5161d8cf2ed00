# Epoch assembly, validity and time: run inside MicroPython.
import civil
import gnss


def _cs(body):
    x = 0
    for c in body.encode():
        x ^= c
    return "$%s*%02X\r\n" % (body, x)


def _epochs(bodies, ref_day=gnss.BUILD_DAY):
    out = []

    def on_fix(f):
        out.append((f.day, f.ms, f.lat_e7, f.lon_e7, f.valid, f.hdop, f.sats_used, f.speed_cms))

    g = gnss.Gnss(on_fix, ref_day)
    for b in bodies:
        g.feed(_cs(b).encode())
    g.flush()
    return out, g


def _day(y, m, d):
    return civil.days_from_civil(y, m, d)


def test_days_from_civil():
    assert _day(1970, 1, 1) == 0
    assert _day(2000, 3, 1) == 11017
    assert _day(2026, 11, 1) == gnss.BUILD_DAY


def test_rmc_gga_gsa_of_one_instant_merge():
    out, g = _epochs([
        "GNRMC,120000.00,A,5229.3000,N,00154.1200,W,1.00,90.0,301126,,,A,V",
        "GNGGA,120000.00,5229.3000,N,00154.1200,W,1,09,0.9,120.5,M,48.0,M,,",
        "GNGSA,A,3,01,02,03,04,05,,,,,,,,1.6,0.9,1.3,1",
        "GNRMC,120001.00,A,5229.3001,N,00154.1201,W,1.00,90.0,301126,,,A,V",
    ])
    assert len(out) == 2
    day, ms, lat, lon, valid, hdop, sats, speed = out[0]
    assert (day, ms) == (_day(2026, 11, 30), 43200000)
    assert (lat, lon) == (524883333, -19020000)
    assert valid and hdop == 90 and sats == 9 and speed == 51
    assert g.count(gnss.C_ACCEPTED) == 4 and g.count(gnss.C_FIXES) == 2


def test_validity_rule():
    base = "GPRMC,120000,%s,5229.3,N,00154.12,W,0,0,301126,,,%s"
    cases = [("A", "A", True), ("A", "D", True), ("A", "E", False), ("A", "N", False),
             ("V", "A", False), ("A", "M", False), ("A", "S", False), ("A", "", True)]
    for status, mode, want in cases:
        body = base % (status, mode) if mode else "GPRMC,120000,%s,5229.3,N,00154.12,W,0,0,301126,," % status
        out, _ = _epochs([body])
        assert out[0][4] == want, (status, mode, out)


def test_gga_quality_decides_without_rmc():
    for q in range(9):
        want = q in (1, 2, 4, 5)
        out, _ = _epochs(["GPGGA,120000,5229.3,N,00154.12,W,%d,07,1.2,100,M,,,," % q])
        assert out[0][4] == want, (q, out)


def test_dead_reckoning_gga_spoils_an_rmc_fix():
    out, _ = _epochs(["GPRMC,120000,A,5229.3,N,00154.12,W,0,0,301126,,,A",
                      "GPGGA,120000,5229.3,N,00154.12,W,6,07,1.2,100,M,,,,"])
    assert out[0][4] is False


def test_gga_only_takes_date_from_last_rmc_and_rolls_at_midnight():
    out, _ = _epochs([
        "GPRMC,235959,A,5229.3,N,00154.12,W,0,0,301126,,,A",
        "GPGGA,000000,5229.3,N,00154.12,W,1,07,1.2,100,M,,,,",
        "GPGGA,000001,5229.3,N,00154.12,W,1,07,1.2,100,M,,,,",
    ])
    assert [(d, ms) for d, ms, *_ in out] == [
        (_day(2026, 11, 30), 86399000), (_day(2026, 12, 1), 0), (_day(2026, 12, 1), 1000)]


def test_zda_gives_the_date():
    out, _ = _epochs(["GPZDA,101500.25,29,02,2028,00,00",
                      "GPGGA,101500.25,5229.3,N,00154.12,W,1,07,1.2,100,M,,,,"])
    assert out[0][:2] == (_day(2028, 2, 29), 36900250)


def test_week_rollover_date_is_moved_1024_weeks():
    out, _ = _epochs(["GPRMC,000231.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220899,,,A"],
                     ref_day=_day(2019, 3, 14))
    assert out[0][0] == _day(2019, 4, 7)
    # a date within half a cycle of the reference stands
    out, _ = _epochs(["GPRMC,000231.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220814,,,A"],
                     ref_day=_day(2019, 3, 14))
    assert out[0][0] == _day(2014, 8, 22)


def test_bad_field_drops_the_whole_sentence():
    out, g = _epochs([
        "GPRMC,120000,A,5229.3,N,00154.12,W,0,0,301126,,,A",
        "GPGGA,120000,5229.3,X,00154.12,W,6,07,1.2,100,M,,,,",  # bad hemisphere: quality 6 ignored too
    ])
    assert out[0][4] is True
    assert g.count(gnss.C_MALFORMED) == 1


def test_unknown_and_proprietary_are_counted():
    _, g = _epochs(["PUBX,00,120000.00,5229.3,N,00154.12,W,100,G3,5,5,0,0,0,,1,1,1,7,0,0",
                    "GPXTE,A,A,0.67,L,N", "XXRMC,120000,A,5229.3,N,00154.12,W,0,0,301126,,,A"])
    assert g.count(gnss.C_UNKNOWN) == 3 and g.count(gnss.C_ACCEPTED) == 0


def test_no_fix_sentences_of_a_neo6m():
    out, _ = _epochs(["GPRMC,,V,,,,,,,,,,N", "GPGGA,,,,,,0,00,99.99,,,,,,"])
    assert len(out) == 1 and out[0][4] is False and out[0][1] == -1


def _keep(fixes):
    # the Fix passed to on_fix is reused: keep copies of the fields
    return lambda f: fixes.append(dict(f.__dict__))


def test_gsv_and_multiple_gsa_counts():
    fixes = []
    g = gnss.Gnss(_keep(fixes))
    for b in ["GNGGA,120000,5229.3,N,00154.12,W,1,,1.2,100,M,,,,",
              "GNGSA,A,3,01,02,03,,,,,,,,,,1.6,0.9,1.3,1",
              "GNGSA,A,3,65,66,,,,,,,,,,,1.6,0.9,1.3,2",
              "GPGSV,2,1,05,01,40,083,46,02,17,308,41,03,07,344,39,04,22,228,45",
              "GPGSV,2,2,05,05,40,083,30",
              "GLGSV,1,1,02,65,40,083,33,66,17,308,",
              ]:
        g.feed(_cs(b).encode())
    g.flush()
    f = fixes[0]
    assert (f["sats_used"], f["sats_view"], f["snr_max"], f["pdop"]) == (5, 7, 46, 160), f


def test_vtg_old_and_new_forms():
    fixes = []
    g = gnss.Gnss(_keep(fixes))
    g.feed(_cs("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A").encode())
    g.flush()
    assert (fixes[0]["course_cdeg"], fixes[0]["speed_cms"]) == (5470, 283), fixes
    g.feed(_cs("GPVTG,054.7,034.4,005.5,010.2").encode())
    g.flush()
    assert (fixes[1]["course_cdeg"], fixes[1]["speed_cms"]) == (5470, 283), fixes

"""GNSS faults: the scenario's jammers, spoofers, multipath, cold starts and garbage;
the firmware's rule that tells a jammer and a spoofer (in MicroPython, against a
reference written here); the oracle that judges alerts against the truth, never
against the faked fixes."""

from pathlib import Path

import numpy as np
import pynmea2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp
from host_sim.judge import oracle, verdict
from host_sim.paths import ROOT
from host_sim.run.home_unit import tag_id
from host_sim.wire import Kind
from host_sim.world import gnss_model, scenario, trace
from tests.host.test_verdict_alerts import _row, _run

JAM_SNR, JAM_SATS, JAM_AFTER_S = 20, 4, 60
SPOOF_SNR, SPOOF_SPREAD, SPOOF_SATS, SPOOF_FIXES = 40, 2, 6, 10


def _reference(epochs: list[tuple[bool, int, int, int, int]], home: bool, link: list[bool] | None
               ) -> tuple[list[list[int]], list[int]]:
    """docs/frames.md's events 42 and 43 and docs/breach-policy.md's rule, the plain way."""
    said, doubted, start, count = [], [], 0, 0
    for k, (valid, used, view, snr, low) in enumerate(epochs):
        now = 1000 + k
        if valid:
            start = 0
            one = used >= SPOOF_SATS and low >= SPOOF_SNR and snr - low <= SPOOF_SPREAD
            count = count + 1 if one else 0
            if count == SPOOF_FIXES:
                said.append([now, Kind.SPOOFING])
            if count:
                doubted.append(now)
        elif view < JAM_SATS or snr >= JAM_SNR:
            start = 0
        elif not start:
            start = now
        up = link is None or link[k]
        if k % 10 == 9 and start > 0 and now - start >= JAM_AFTER_S and not home and up:
            said.append([now, Kind.JAMMING])
            start = -1
    return said, doubted


_EPOCH = st.tuples(st.booleans(), st.integers(0, 14), st.integers(0, 14), st.integers(0, 52), st.integers(0, 52))
# spells of one kind of sky, so that runs long enough for each rule are drawn
_SPELL = st.tuples(st.integers(1, 90), st.one_of(
    _EPOCH,
    st.tuples(st.just(False), st.just(0), st.integers(4, 12), st.integers(0, 19), st.integers(0, 19)),  # jammed
    st.tuples(st.just(True), st.integers(6, 12), st.just(10), st.integers(42, 50), st.integers(40, 42))))  # spoofed


@pytest.fixture(scope="module")
def fw() -> mp.Service:
    service = mp.Service([ROOT / "tests" / "firmware"])
    yield service  # type: ignore[misc]
    service.close()


@given(st.lists(_SPELL, max_size=8), st.booleans(), st.booleans(), st.data())
@settings(max_examples=150, deadline=None)
def test_the_tags_jamming_and_spoofing_rule(fw: mp.Service, spells: list[tuple[int, tuple[bool, int, int, int, int]]],
                                           home: bool, modem: bool, data: st.DataObject) -> None:
    epochs = [e for n, e in spells for _ in range(n)]
    epochs = [(v, u, w, max(s, lo), min(s, lo) if lo else 0) for v, u, w, s, lo in epochs]  # max >= the weakest
    link = data.draw(st.lists(st.booleans(), min_size=len(epochs), max_size=len(epochs))) if modem else None
    said, doubted = fw.call("sky_probe", "run", [list(e) for e in epochs], home, link)
    assert (said, doubted) == _reference(epochs, home, link)


def _load(name: str) -> scenario.Scenario:
    return scenario.load(ROOT / "scenarios" / f"{name}.yaml")


def test_multipath_fixes_are_marked_and_a_breach_on_them_is_false() -> None:
    sc = _load("gnss-multipath-beside-zone")
    truth = trace.synthesise(sc)
    rx = gnss_model.Receiver(sc)
    rx.power_on(cold=False)
    reports = [rx.epoch(t * 1000, truth[t], truth[min(t + 1, len(truth) - 1)])[1] for t in range(len(truth))]
    faked = [r for r in reports if r.faked]
    assert len(faked) == 6 and all(r.t_ms // 1000 >= 290 for r in faked)
    zt = oracle.truths(sc, truth)
    assert all(zt[0].depth_m[r.t_ms // 1000] < -40 for r in faked)  # the wearer 40 m and more outside
    depth = oracle.signed_depth(zt[0].zone, np.array([r.lat for r in faked]), np.array([r.lon for r in faked]))
    assert (depth > 20).all()  # the fixes well inside
    assert oracle.must_alerts(sc, zt) == []
    breach = _row(sc, tag_id(sc), 5, Kind.BREACH, faked[-1].t_ms // 1000)
    result = verdict.score(_run(sc, [breach]))
    assert result.false_alerts == 1 and result.alerts[0]["class"] == "false"


def test_spoofed_and_jammed_seconds_are_unseen() -> None:
    for name, kind in (("gnss-spoofer-walks-away", "spoofing"), ("gnss-jammer-at-the-door", "jamming")):
        sc = _load(name)
        truth = trace.synthesise(sc)
        (f,) = sc.faults
        zt = oracle.truths(sc, truth)
        assert zt[0].seen is not None and not zt[0].seen[f.start_s:f.end_s].any() and zt[0].seen[:f.start_s].all()
        assert f.kind == kind
        (m,) = oracle.must_alerts(sc, zt)
        assert m.kind == "location_lost" and m.outage_t == f.start_s  # the breach itself no fix could show


def test_a_jamming_or_spoofing_alert_with_no_such_fault_is_false() -> None:
    sc = _load("shallow-ten-minutes")
    said = [_row(sc, tag_id(sc), 1, Kind.JAMMING, 100), _row(sc, tag_id(sc), 2, Kind.SPOOFING, 200)]
    result = verdict.score(_run(sc, said))
    assert result.false_alerts == 2 and [a["class"] for a in result.alerts] == ["false", "false"]


def test_a_jammer_requires_its_alert_and_a_late_one_misses() -> None:
    sc = _load("gnss-jammer-on-a-bus")
    (f,) = sc.faults
    on_time = verdict.score(_run(sc, [_row(sc, tag_id(sc), 1, Kind.JAMMING, f.start_s + 70)]))
    assert on_time.passed and on_time.required[0]["kind"] == "jamming" and on_time.required[0]["latency_s"] == 15
    late = verdict.score(_run(sc, [_row(sc, tag_id(sc), 1, Kind.JAMMING, f.start_s + 400)]))
    assert not late.passed and late.missed[0]["why"] == "late"


def test_garbage_corrupts_only_its_window(tmp_path: Path) -> None:
    sc = _load("gnss-garbage-during-approach")
    truth = trace.synthesise(sc)
    rx = gnss_model.Receiver(sc)
    rx.power_on(cold=False)
    bursts = [rx.epoch(t * 1000, truth[t], truth[t + 1])[0] for t in range(0, 700)]
    (f,) = sc.faults
    inside = b"".join(bursts[f.start_s:f.end_s])
    outside = b"".join(bursts[:f.start_s] + bursts[f.end_s:])
    def bad(blob: bytes) -> int:
        n = 0
        for line in blob.split(b"\r\n"):
            try:
                pynmea2.parse(line.decode("ascii"), check=True)
            except (UnicodeDecodeError, pynmea2.ParseError, ValueError, AttributeError):
                n += bool(line)
        return n

    assert bad(outside) == 0 and bad(inside) > 50


@pytest.mark.parametrize(("fault", "says"), [
    ("{kind: sunspots, at: 1m}", "kind 'sunspots': expected one of multipath, jamming"),
    ("{kind: jamming, at: 1m}", "unknown key 'at'"),
    ("{kind: multipath, at: 1m, fixes: 3}", "offset_m"),
    ("{kind: spoofing, from: 5m, to: 2m, drift_mps: 1, bearing: 0}", "from 300 s to 120 s must lie within"),
])
def test_a_malformed_fault_names_the_line_and_the_fix(tmp_path: Path, fault: str, says: str) -> None:
    text = (ROOT / "scenarios" / "shallow-ten-minutes.yaml").read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("  default: open_sky\n", f"  default: open_sky\n  faults:\n    - {fault}\n"))
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.load(path)
    assert says in str(e.value) and "bad.yaml:" in str(e.value), str(e.value)


def test_the_map_shades_the_jamming_and_marks_every_alert_with_its_class(tmp_path: Path) -> None:
    import json

    from host_sim.judge import maps
    from host_sim.run import sim

    run = sim.execute(_load("gnss-jammer-at-the-door"), keep_nmea=False)
    result = verdict.score(run)
    maps.write(run, result, tmp_path)
    assert (tmp_path / "gnss-jammer-at-the-door.png").read_bytes()[:4] == b"\x89PNG"
    feats = json.loads((tmp_path / "gnss-jammer-at-the-door.geojson").read_text())["features"]
    shaded = [f["properties"] for f in feats if f["properties"]["role"] == "shaded"]
    assert [(s["what"], s["from_s"], s["to_s"]) for s in shaded] == [("jamming", 180, 1200)]
    alerts = [f["properties"] for f in feats if f["properties"]["role"] == "alert"]
    assert [(a["kind"], a["class"]) for a in alerts] == [(a["kind"], a["class"]) for a in result.alerts]
    assert ("jamming", "required") in [(a["kind"], a["class"]) for a in alerts]

"""Power cuts: the firmware killed at 200 points of a scenario, some in the middle
of a flash program (the LittleFS partition torn mid-write), and started again.
The store always opens; the centre ends with
the events of an uncut run less those the tag was off for: the same zone events,
no breadcrumb from a window the uncut run lacks, none twice."""

import random

from host_sim.paths import ROOT
from host_sim.run import sim, tag_rig
from host_sim.world import scenario


def test_two_hundred_power_cuts() -> None:
    sc = scenario.load(ROOT / "scenarios/direct-approach.yaml")
    sc.duration_s = 90 * 60  # he waits at her door for over an hour: a cut every half minute on average
    uncut = sim.execute(sc, keep_nmea=False)
    rnd = random.Random(200)
    at = sorted(rnd.sample(range(5, sc.duration_s - 30), 200))
    cuts, last_end = [], 0
    for t in at:
        if t > last_end:
            c = tag_rig.PowerCut(t, rnd.randint(1, 4), rnd.choice([0, 0, rnd.randint(1, 35)]))
            cuts.append(c)
            last_end = t + c.off_s
    assert len(cuts) >= 150 and sum(1 for c in cuts if c.tear) >= 40
    cut = sim.execute(sc, keep_nmea=False, cuts=cuts)

    def zone_events(run: sim.Run) -> list[tuple[int, str]]:
        return [(r["kind"], r["zone_id"]) for r in run.stored if 1 <= r["kind"] <= 4]

    assert zone_events(cut) == zone_events(uncut) == [(3, zone_events(uncut)[0][1]), (1, zone_events(uncut)[0][1])]
    windows = {r["utc"] // 60 for r in uncut.stored if r["kind"] == 10}
    cut_windows = [r["utc"] // 60 for r in cut.stored if r["kind"] == 10]
    assert len(cut_windows) == len(set(cut_windows))  # no window twice
    assert set(cut_windows) <= windows
    start = sc.start_utc
    assert len(cut.outages) == len(cuts)
    assert all(c.at_s <= a <= c.at_s + tag_rig.TEAR_WAIT_S for c, (a, _, _) in zip(cuts, cut.outages, strict=True))
    assert sum(torn for _, _, torn in cut.outages) >= 30  # the power went in the middle of a flash program
    off = {(start + int(a) + k) // 60 for a, b, _ in cut.outages for k in range(-1, int(b - a) + 8)}  # settling
    assert windows - set(cut_windows) <= off
    seqs = [r["seq"] for r in cut.stored]
    assert len(seqs) == len(set(seqs))
    boots = [r for r in cut.stored if r["kind"] == 11]
    assert len(boots) == len(cuts) + 1  # every start told the centre

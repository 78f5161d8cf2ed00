"""An alcohol tag's run as a picture, on London clock time: the true blood alcohol,
the tag's readings as the centre stored them, the threshold, the drinks and the
exposures, the barrier, removal and sensor fault spells, the tag's decisions and the centre's
episodes; below, what the sensor saw of the skin (IR, skin and case temperature)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from host_sim.centre import episodes  # noqa: E402
from host_sim.judge.alcohol_score import THRESHOLD  # noqa: E402
from host_sim.judge.verdict import Result  # noqa: E402
from host_sim.run.sim import Run  # noqa: E402
from host_sim.wire import Kind  # noqa: E402
from host_sim.world.scenario import LONDON  # noqa: E402

DECISIONS = {Kind.DRINKING: ("v", "#d62728", "drinking (tag)"), Kind.DRINKING_ENDED: ("^", "#2ca02c", "ended (tag)"),
             Kind.ENVIRONMENTAL_ALCOHOL: ("*", "#ff7f0e", "environmental (tag)"),
             Kind.SENSOR_REMOVED: ("X", "#7f7f7f", "removed (tag)"),
             Kind.SENSOR_OBSTRUCTED: ("s", "#8c564b", "obstructed (tag)"),
             Kind.SENSOR_ON_SKIN: ("o", "#17becf", "on skin (tag)"),
             Kind.SENSOR_FAULT: ("P", "#000000", "sensor fault (tag)")}


def picture(run: Run, result: Result, path: Path) -> None:
    sc, truth = run.scenario, run.alcohol
    assert sc.alcohol is not None and truth is not None
    spec, start = sc.alcohol, sc.start_utc

    def when(s: float) -> datetime:
        return datetime.fromtimestamp(start + s, UTC)

    fig, (ax, skin) = plt.subplots(2, 1, figsize=(14, 9), dpi=100, sharex=True, height_ratios=[3, 1])
    minutes = range(len(truth.bac))
    ax.plot([when(60 * m) for m in minutes], truth.bac, color="black", lw=1.2, label="true blood alcohol")
    readings = [r for r in run.stored if r["kind"] == Kind.ALCOHOL_READING]
    ax.scatter([when(r["utc"] - start) for r in readings], [r["depth_m"] / 1e4 for r in readings], s=9,
               color="#1f77b4", zorder=4, label="the tag's readings (sweat)")
    ax.axhline(THRESHOLD, color="#d62728", lw=0.8, ls="--", label=f"threshold {THRESHOLD} g/dL")
    for spells, colour, label in ((spec.obstruction, "#8c564b", "barrier"), (spec.removal, "#7f7f7f", "removed"),
                                  (spec.sensor_fault, "#000000", "sensors silent")):
        for k, (a, b) in enumerate(spells):
            for axis in (ax, skin):
                axis.axvspan(when(a), when(b), color=colour, alpha=0.15, lw=0, label=label if k == 0 and
                             axis is ax else None)
    for k, e in enumerate(episodes.of_centre(run.stored)):
        end = e.end_utc if e.end_utc is not None else readings[-1]["utc"]
        ax.axvspan(when(e.start_utc - start), when(end - start), ymin=0, ymax=0.04,
                   color="#2ca02c" if e.body else "#ff7f0e", lw=0,
                   label=("centre: a body's episode" if e.body else "centre: not a body's") if k == 0 else None)
    top = max(float(truth.bac.max()), max((r["depth_m"] / 1e4 for r in readings), default=0), 2 * THRESHOLD)
    for k, d in enumerate(spec.drinks):
        ax.scatter([when(d.at_s)], [top * 1.05], marker="$\u2663$", s=60, color="#9467bd",
                   label="drinks" if k == 0 else None)
    for k, x in enumerate(spec.exposures):
        ax.scatter([when(x.at_s)], [top * 1.1], marker="d", s=40, color="#e377c2",
                   label="exposures (gel, perfume, spill)" if k == 0 else None)
    shown: set[int] = set()
    for r in run.stored:
        if r["kind"] in DECISIONS:
            marker, colour, label = DECISIONS[r["kind"]]
            ax.axvline(when(r["utc"] - start), color=colour, lw=0.7, ls=":")
            ax.scatter([when(r["utc"] - start)], [top * 0.95], marker=marker, s=70, color=colour, edgecolor="black",
                       zorder=6, label=label if r["kind"] not in shown else None)
            shown.add(r["kind"])
    ax.set_ylabel("g/dL")
    ax.set_ylim(0, top * 1.18)
    verdict = "PASS" if result.passed else "FAIL"
    ax.set_title(f"{result.name}: {verdict}; alerts required {result.must_alert}, detected {result.detected}, "
                 f"false {result.false_alerts}", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    _skin(skin, readings, start, when)
    skin.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M\n%d %b", tz=LONDON))  # type: ignore[no-untyped-call]
    skin.set_xlabel("London time")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _skin(ax: Any, readings: list[dict[str, Any]], start: int, when: Any) -> None:
    """IR counts (left) and the skin and case temperatures (right), as each reading carried them."""
    t = [when(r["utc"] - start) for r in readings]
    ax.plot(t, [r["accuracy_m"] for r in readings], color="#17becf", lw=1, label="IR (counts)")
    ax.set_ylabel("IR counts")
    temps = ax.twinx()
    skin_case = [struct.unpack("<hh", bytes.fromhex(r["zone_id"])[:4]) for r in readings]
    temps.plot(t, [s / 10 for s, _ in skin_case], color="#d62728", lw=1, label="skin °C")
    temps.plot(t, [c / 10 for _, c in skin_case], color="#7f7f7f", lw=1, label="case °C")
    temps.set_ylabel("°C")
    lines = ax.get_legend_handles_labels()
    more = temps.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", bbox_to_anchor=(1.06, 1), fontsize=7,
              frameon=False)

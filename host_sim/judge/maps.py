"""Pictures and GeoJSON of a scenario run: zones, warning rings, the true trace,
the fixes the receiver reported (those a fault made apart), and every alert the
centre received, classified (the operator's view: these show zone geometry, the
tag never does). Maps are drawn in metres on a local azimuthal equidistant
projection (equal aspect, a scale bar, north up), with the stretches of the trace
where no fix was possible, a fault was on or the link was down shaded along it.
With a curfew, the home unit too, and beside the map a timeline on London clock
time of the wearer's distance from it, the hours the curfew was enforced, the
unit's spells on its backup battery or without power (shaded along the trace too),
and its alerts. An alcohol tag's run is a picture in time instead
(host_sim/judge/alcohol_picture.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar  # type: ignore[import-untyped]  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import Point, mapping  # noqa: E402

from host_sim.judge import alcohol_picture, curfew_oracle  # noqa: E402
from host_sim.judge.oracle import project, runs  # noqa: E402
from host_sim.judge.verdict import Result  # noqa: E402
from host_sim.run.sim import Run  # noqa: E402
from host_sim.wire import EVENT_NAMES as ALL_EVENTS  # noqa: E402
from host_sim.world import gnss_model  # noqa: E402
from host_sim.world import zones as zonemod  # noqa: E402
from host_sim.world.scenario import LONDON  # noqa: E402

UNIT_MARKS = {50: ("v", "#d62728"), 51: ("v", "#d62728"), 52: ("^", "#2ca02c"), 53: ("*", "#9467bd"),
              54: ("s", "#ff7f0e"), 55: ("s", "#2ca02c")}


def _shapes(z: zonemod.Zone) -> tuple[Any, Any]:
    """The zone and its warning ring's outer edge, in lon/lat, via a local metric projection."""
    west, south, east, north = z.lonlat_bounds()
    lat0, lon0 = (south + north) / 2, (west + east) / 2
    fwd = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84",
                               always_xy=True)
    back = Transformer.from_crs(fwd.target_crs, "EPSG:4326", always_xy=True)
    if z.centre is not None:
        metric = Point(fwd.transform(*z.centre)).buffer(z.radius_m, 64)
    else:
        metric = project(z.geometry, fwd)
    shape = project(metric, back)
    ring = project(metric.buffer(z.warning_m, 32), back) if z.warning_m else None
    return shape, ring


def geojson(run: Run, result: Result) -> dict[str, Any]:
    feats: list[dict[str, Any]] = []
    for z in run.scenario.zones:
        shape, ring = _shapes(z)
        feats.append({"type": "Feature", "geometry": mapping(shape),
                      "properties": {"role": "zone", "name": z.name, "kind": z.kind}})
        if ring is not None:
            feats.append({"type": "Feature", "geometry": mapping(ring),
                          "properties": {"role": "warning_ring", "name": z.name, "width_m": z.warning_m}})
    feats.append({"type": "Feature", "properties": {"role": "true_trace"},
                  "geometry": {"type": "LineString",
                               "coordinates": [[round(p.lon, 7), round(p.lat, 7)] for p in run.truth]}})
    feats.append({"type": "Feature", "properties": {"role": "reported_fixes"},
                  "geometry": {"type": "MultiPoint",
                               "coordinates": [[round(r.lon, 7), round(r.lat, 7)] for r in run.reported
                                               if r.valid]}})
    for name, spans in _spans(run).items():
        for a, b in spans:
            feats.append({"type": "Feature", "properties": {"role": "shaded", "what": name, "from_s": a, "to_s": b},
                          "geometry": {"type": "LineString", "coordinates": [[round(p.lon, 7), round(p.lat, 7)]
                                                                             for p in run.truth[a:b + 1]]}})
    for alert in result.alerts:  # where the tag said, for a zone event; else where the wearer was
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": list(_where(run, alert))},
                      "properties": {"role": "alert", **alert}})
    c = run.scenario.curfew
    if c is not None:
        unit = [c.unit[1], c.unit[0]]
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": unit},
                      "properties": {"role": "home_unit", "property_m": c.property_m, "away_m": c.away_m}})
        for r in run.unit_stored:
            if r["kind"] in UNIT_MARKS:
                feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": unit},
                              "properties": {"role": "curfew_alert", "type": ALL_EVENTS[r["kind"]],
                                             "utc": r["utc"], "received_ms": r["received_ms"]}})
    return {"type": "FeatureCollection", "features": feats,
            "properties": {"scenario": result.name, "passed": result.passed}}


# alert kinds by how they are drawn: (marker, colour, legend)
ALERT_MARKS: dict[str, tuple[str, str, str]] = {
    "breach": ("X", "#d62728", "breach"), "exit": ("P", "#8c564b", "exit"), "warning": ("^", "#ff7f0e", "warning"),
    "tamper_strap": ("D", "#e377c2", "tamper"), "tamper_case": ("D", "#e377c2", "tamper"),
    "battery_low": ("v", "#bcbd22", "battery"), "battery_critical": ("v", "#bcbd22", "battery"),
    "location_lost": ("o", "#7f7f7f", "location unavailable"), "shielding": ("o", "#7f7f7f", "location unavailable"),
    "jamming": ("*", "#9467bd", "jamming / spoofing"), "spoofing": ("*", "#9467bd", "jamming / spoofing"),
    "curfew_absent": ("s", "#17becf", "curfew"), "curfew_left": ("s", "#17becf", "curfew"),
    "spoof_suspected": ("s", "#17becf", "curfew"), "mains_lost": ("s", "#17becf", "curfew"),
    "unit_moved": ("s", "#17becf", "curfew"), "comms_lost": ("s", "#17becf", "curfew"),
}
CLASS_EDGE = {"required": "black", "acceptable": "#a0a0a0", "false": "#ff0000"}
# stretches shaded along the trace: (colour, legend)
SPANS = {"no fix possible": "#7f7f7f", "jamming": "#9467bd", "spoofing": "#e377c2", "garbled NMEA": "#8c564b",
         "link down": "#17becf", "tag off": "#000000", "unit on its backup battery": "#d4a017",
         "unit without power": "#2f4f4f"}
UNIT_SPANS = ("unit on its backup battery", "unit without power")  # drawn on the curfew's timeline too


def _metric(run: Run) -> tuple[Transformer, float, float]:
    """A local azimuthal equidistant projection centred on the trace and zones."""
    lats = [p.lat for p in run.truth] + [z.lonlat_bounds()[i] for z in run.scenario.zones for i in (1, 3)]
    lons = [p.lon for p in run.truth] + [z.lonlat_bounds()[i] for z in run.scenario.zones for i in (0, 2)]
    lat0, lon0 = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    return (Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84",
                                 always_xy=True), lat0, lon0)


def _xy(fwd: Transformer, lons: list[float], lats: list[float]) -> tuple[list[float], list[float]]:
    x, y = fwd.transform(lons, lats)
    return list(x), list(y)


def _spans(run: Run) -> dict[str, list[tuple[int, int]]]:
    sc = run.scenario
    n = len(run.truth)
    unseen = [gnss_model.SKIES[gnss_model.env_at(sc, p.t, p.env)].fix_prob == 0 for p in run.truth]
    out = {"no fix possible": runs(np.array(unseen, dtype=bool))}
    for kind, name in (("jamming", "jamming"), ("spoofing", "spoofing"), ("garbage", "garbled NMEA")):
        out[name] = [(f.start_s, min(f.end_s, n - 1)) for f in sc.faults if f.kind == kind]
    out["link down"] = [(a, min(b, n - 1)) for a, b in sc.coverage_gaps]
    out["tag off"] = [(a, min(b, n - 1)) for a, b in sc.tag_off]
    if sc.curfew is not None:
        out["unit on its backup battery"] = [(a, min(b, n - 1)) for a, b in sc.curfew.mains_off]
        out["unit without power"] = [(a, min(b, n - 1)) for a, b in sc.curfew.unit_off]
    return {k: v for k, v in out.items() if v}


def _where(run: Run, a: dict[str, Any]) -> tuple[float, float]:
    """Where to mark an alert: a zone event where the tag said it was; any other where
    the wearer truly was when it was stamped."""
    e = next((e for e in run.events if e.seq == a["seq"] and "zone" in a), None)
    if e is not None and (e.lat or e.lon):
        return e.lon, e.lat
    p = run.truth[min(max(0, int(a["at_s"])), len(run.truth) - 1)]
    return p.lon, p.lat


def scale_and_north(ax: Any) -> None:
    ax.apply_aspect()  # the limits as drawn, after the equal aspect has widened one of them
    x0, x1 = ax.get_xlim()
    span = x1 - x0
    bar = next(v for v in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if v >= span / 6)
    ax.add_artist(AnchoredSizeBar(ax.transData, bar, f"{bar:,} m" if bar < 1000 else f"{bar // 1000} km",
                                  "lower left", pad=0.6, frameon=True, size_vertical=span / 300))
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.86), xycoords="axes fraction", ha="center", va="center",
                fontsize=11, fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})


def _unit(ax: Any, run: Run, fwd: Transformer) -> None:
    c = run.scenario.curfew
    assert c is not None
    ux, uy = fwd.transform(c.unit[1], c.unit[0])
    for radius, style in ((c.property_m, "-"), (c.away_m, ":")):
        circle = Point(ux, uy).buffer(radius, 64)
        ax.plot(*circle.exterior.xy, color="#2ca02c", lw=1, ls=style)
    ax.scatter([ux], [uy], s=120, marker="H", color="#2ca02c", edgecolor="black", zorder=6,
               label=f"home unit (home within {c.property_m:.0f} m, away beyond {c.away_m:.0f} m)")


def _timeline(ax: Any, run: Run, spans: dict[str, list[tuple[int, int]]]) -> None:
    sc = run.scenario
    ct = curfew_oracle.truth(sc, run.truth)
    when = [datetime.fromtimestamp(sc.start_utc + t, UTC) for t in range(len(run.truth))]
    for a, b in runs(ct.enforced):
        ax.axvspan(when[a], when[b], color="#9467bd", alpha=0.12, lw=0)
    for name in UNIT_SPANS:
        for k, (a, b) in enumerate(spans.get(name, [])):
            ax.axvspan(when[a], when[b], ymax=0.06, color=SPANS[name], alpha=0.6, lw=0, label=name if k == 0 else None)
    ax.plot(when, [max(1.0, float(d)) for d in ct.distance_m], color="black", lw=1, label="distance from unit")
    assert sc.curfew is not None
    ax.axhline(sc.curfew.property_m, color="#2ca02c", lw=1)
    ax.axhline(sc.curfew.away_m, color="#2ca02c", lw=1, ls=":")
    for r in run.unit_stored:
        if r["kind"] in UNIT_MARKS:
            marker, colour = UNIT_MARKS[r["kind"]]
            t = datetime.fromtimestamp(r["utc"], UTC)
            ax.axvline(t, color=colour, lw=0.8, ls="--")
            ax.scatter([t], [sc.curfew.away_m * 2], marker=marker, s=70, color=colour, edgecolor="black", zorder=5,
                       label=ALL_EVENTS[r["kind"]])
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M\n%d %b", tz=LONDON))  # type: ignore[no-untyped-call]
    ax.set_xlabel("London time (shaded: curfew enforced)")
    ax.set_ylabel("metres from the home unit")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(0, -0.18), ncol=3, fontsize=7,
              frameon=False)


def picture(run: Run, result: Result, path: Path) -> None:
    sc = run.scenario
    spans = _spans(run)
    if sc.curfew is not None:
        fig, (ax, tl) = plt.subplots(1, 2, figsize=(16, 9), dpi=100)
        _timeline(tl, run, spans)
    else:
        fig, ax = plt.subplots(figsize=(9, 10), dpi=100)
    fwd, lat0, lon0 = _metric(run)
    if sc.curfew is not None:
        _unit(ax, run, fwd)
    for z in sc.zones:
        shape, ring = _shapes(z)
        colour = "#d62728" if z.kind == "exclusion" else "#2ca02c"
        shape = project(shape, fwd)
        for g in getattr(shape, "geoms", [shape]):
            ax.fill(*g.exterior.xy, color=colour, alpha=0.2, lw=0)
            ax.plot(*g.exterior.xy, color=colour, lw=1.5)
            for hole in g.interiors:
                ax.fill(*hole.xy, color="white", lw=0)
        if ring is not None:
            for g in getattr(project(ring, fwd), "geoms", [project(ring, fwd)]):
                ax.plot(*g.exterior.xy, color="#ff7f0e", lw=1, ls="--")
        c = shape.centroid
        ax.annotate(z.name, (c.x, c.y), fontsize=8, ha="center", color="#7f0000")
    tx, ty = _xy(fwd, [p.lon for p in run.truth], [p.lat for p in run.truth])
    for name, stretches in spans.items():
        for k, (a, b) in enumerate(stretches):
            ax.plot(tx[a:b + 1], ty[a:b + 1], color=SPANS[name], lw=9, alpha=0.3, solid_capstyle="butt",
                    label=name if k == 0 else None)
    ax.plot(tx, ty, color="black", lw=1.2, label="true trace")
    ax.scatter(tx[:1], ty[:1], s=80, marker="o", color="#2ca02c", edgecolor="black", zorder=7, label="start")
    ax.scatter(tx[-1:], ty[-1:], s=80, marker="s", color="#d62728", edgecolor="black", zorder=7, label="end")
    for faked, colour, label in ((False, "#1f77b4", "reported fixes"), (True, "#e377c2", "fixes a fault made")):
        pts = [r for r in run.reported if r.valid and r.faked == faked]
        if pts:
            fx, fy = _xy(fwd, [r.lon for r in pts], [r.lat for r in pts])
            ax.scatter(fx, fy, s=4 if not faked else 14, color=colour, alpha=0.5 if not faked else 0.9, label=label)
    shown: set[str] = set()
    for alert in result.alerts:
        marker, colour, label = ALERT_MARKS.get(alert["kind"], ("o", "#000000", alert["kind"]))
        lon, lat = _where(run, alert)
        x, y = fwd.transform(lon, lat)
        ax.scatter([x], [y], s=110, marker=marker, color=colour, edgecolor=CLASS_EDGE[alert["class"]],
                   linewidths=1.8, zorder=8, label=f"{label} alert" if label not in shown else None)
        shown.add(label)
    for cls, edge in CLASS_EDGE.items():
        if any(a["class"] == cls for a in result.alerts):
            ax.scatter([], [], s=80, marker="o", color="white", edgecolor=edge, linewidths=1.8,
                       label=f"edge: {cls}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.08)
    scale_and_north(ax)
    verdict = "PASS" if result.passed else "FAIL"
    ax.set_title(f"{result.name}: {verdict}\nalerts required {result.must_alert}, detected {result.detected}, "
                 f"acceptable {sum(a['class'] == 'acceptable' for a in result.alerts)}, "
                 f"false {result.false_alerts}", fontsize=9)
    ax.set_xlabel(f"metres east of {lat0:.4f}, {lon0:.4f}")
    ax.set_ylabel("metres north")
    if sc.zones:
        ax.scatter([], [], s=80, marker="o", color="#d62728", alpha=0.2, label="zone")
        ax.plot([], [], color="#ff7f0e", lw=1, ls="--", label="warning ring")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.09), ncol=4, fontsize=7, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write(run: Run, result: Result, out: Path) -> None:
    stem = out / result.name
    if run.alcohol is not None:  # an alcohol tag's story is told in time, not space
        alcohol_picture.picture(run, result, stem.with_suffix(".png"))
    else:
        picture(run, result, stem.with_suffix(".png"))
    stem.with_suffix(".geojson").write_text(json.dumps(geojson(run, result), indent=1))

"""Pictures and GeoJSON of a scenario run: zones, warning rings, the true trace,
the fixes the receiver reported, and the alerts the tag raised (the operator's
view: these show zone geometry, the tag never does). With a curfew, the home
unit too, and beside the map a timeline of the wearer's distance from it, the
hours the curfew was enforced, and the unit's alerts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import Point, mapping  # noqa: E402

from host_sim.judge import curfew_oracle  # noqa: E402
from host_sim.judge.oracle import project, runs  # noqa: E402
from host_sim.judge.verdict import Result  # noqa: E402
from host_sim.run.sim import ENTER, EVENT_NAMES, WARN_ENTER, Run  # noqa: E402
from host_sim.wire import EVENT_NAMES as ALL_EVENTS  # noqa: E402
from host_sim.world import zones as zonemod  # noqa: E402

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
    for e in run.events:
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [e.lon, e.lat]},
                      "properties": {"role": "alert", "type": EVENT_NAMES[e.kind],
                                     "zone": run.scenario.zones[e.zone].name, "confirmed_utc": e.confirm_utc,
                                     "received_ms": e.received_ms, "depth_m": e.depth_m}})
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


def _unit(ax: Any, run: Run) -> None:
    c = run.scenario.curfew
    assert c is not None
    fwd = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={c.unit[0]} +lon_0={c.unit[1]} +ellps=WGS84",
                               always_xy=True)
    back = Transformer.from_crs(fwd.target_crs, "EPSG:4326", always_xy=True)
    for radius, style in ((c.property_m, "-"), (c.away_m, ":")):
        circle = project(Point(0, 0).buffer(radius, 64), back)
        ax.plot(*circle.exterior.xy, color="#2ca02c", lw=1, ls=style)
    ax.scatter([c.unit[1]], [c.unit[0]], s=120, marker="H", color="#2ca02c", edgecolor="black", zorder=6,
               label=f"home unit (home within {c.property_m:.0f} m, away beyond {c.away_m:.0f} m)")


def _timeline(ax: Any, run: Run) -> None:
    sc = run.scenario
    ct = curfew_oracle.truth(sc, run.truth)
    hours = [t / 3600 for t in range(len(run.truth))]
    for a, b in runs(ct.enforced):
        ax.axvspan(a / 3600, b / 3600, color="#9467bd", alpha=0.12, lw=0)
    ax.plot(hours, [max(1.0, float(d)) for d in ct.distance_m], color="black", lw=1, label="distance from unit")
    assert sc.curfew is not None
    ax.axhline(sc.curfew.property_m, color="#2ca02c", lw=1)
    ax.axhline(sc.curfew.away_m, color="#2ca02c", lw=1, ls=":")
    for r in run.unit_stored:
        if r["kind"] in UNIT_MARKS:
            marker, colour = UNIT_MARKS[r["kind"]]
            t = (r["utc"] - sc.start_utc) / 3600
            ax.axvline(t, color=colour, lw=0.8, ls="--")
            ax.scatter([t], [sc.curfew.away_m * 2], marker=marker, s=70, color=colour, edgecolor="black", zorder=5,
                       label=ALL_EVENTS[r["kind"]])
    ax.set_yscale("log")
    ax.set_xlabel("hours from the start (shaded: curfew enforced)")
    ax.set_ylabel("metres from the home unit")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="best", fontsize=7)


def picture(run: Run, result: Result, path: Path) -> None:
    if run.scenario.curfew is not None:
        fig, (ax, tl) = plt.subplots(1, 2, figsize=(15, 7), dpi=100)
        _unit(ax, run)
        _timeline(tl, run)
    else:
        fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    lat_mid = sum(p.lat for p in run.truth) / len(run.truth)
    for z in run.scenario.zones:
        shape, ring = _shapes(z)
        colour = "#d62728" if z.kind == "exclusion" else "#2ca02c"
        for g in getattr(shape, "geoms", [shape]):
            ax.fill(*g.exterior.xy, color=colour, alpha=0.25, lw=0)
            ax.plot(*g.exterior.xy, color=colour, lw=1.5)
            for hole in g.interiors:
                ax.fill(*hole.xy, color="white", lw=0)
        if ring is not None:
            for g in getattr(ring, "geoms", [ring]):
                ax.plot(*g.exterior.xy, color="#ff7f0e", lw=1, ls="--")
        c = shape.centroid
        ax.annotate(z.name, (c.x, c.y), fontsize=8, ha="center")
    ax.plot([p.lon for p in run.truth], [p.lat for p in run.truth], color="black", lw=1.2, label="true trace")
    good = [r for r in run.reported if r.valid]
    ax.scatter([r.lon for r in good], [r.lat for r in good], s=3, color="#1f77b4", alpha=0.5,
               label="reported fixes")
    for kind, marker, colour, label in ((ENTER, "X", "#d62728", "breach alert"),
                                        (WARN_ENTER, "^", "#ff7f0e", "warning")):
        pts = [e for e in run.events if e.kind == kind]
        if pts:
            ax.scatter([e.lon for e in pts], [e.lat for e in pts], s=90, marker=marker, color=colour,
                       edgecolor="black", zorder=5, label=label)
    ax.set_aspect(1 / max(0.1, math.cos(math.radians(lat_mid))))
    verdict = "PASS" if result.passed else "FAIL"
    ax.set_title(f"{result.name}: {verdict}  (alerts required {result.must_alert}, detected {result.detected}, "
                 f"false {result.false_alerts})", fontsize=9)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(loc="best", fontsize=7)
    ax.ticklabel_format(useOffset=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write(run: Run, result: Result, out: Path) -> None:
    stem = out / result.name
    picture(run, result, stem.with_suffix(".png"))
    stem.with_suffix(".geojson").write_text(json.dumps(geojson(run, result), indent=1))

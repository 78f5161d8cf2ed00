"""One tag at one crime, as a reviewer reads it: the trail around the window, the
scene and its radius, each breadcrumb in the window with its uncertainty, and how
strong the match is, in a picture (local metres, scale bar, north up) and GeoJSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from host_sim.centre.crimes import NO_DATA, PATH, STRONG, Crime, Crumb, Hit, london  # noqa: E402
from host_sim.centre.views import iso  # noqa: E402
from host_sim.judge.maps import scale_and_north  # noqa: E402

VERDICT = {STRONG: ("#b30000", "STRONG: a fix inside the radius"),
           "fix near": ("#e65c00", "MEDIUM: a fix whose uncertainty reaches the radius"),
           PATH: ("#7f7f7f", "WEAK: only a possible path through it, between fixes"),
           NO_DATA: ("#7f7f7f", "NO DATA: the trail has a gap while it could have been there")}


def geojson(c: Crime, crumbs: list[Crumb], hit: Hit | None) -> dict[str, Any]:
    feats: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
         "properties": {"role": "scene", "ref": c.ref, "offence": c.offence, "radius_m": c.radius_m,
                        "from": iso(c.from_utc), "to": iso(c.to_utc)}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[k.lon, k.lat] for k in crumbs]},
         "properties": {"role": "trail"}}]
    feats += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [k.lon, k.lat]},
               "properties": {"role": "breadcrumb", "seq": k.seq, "time": iso(k.utc), "uncertainty_m": k.unc_m,
                              "in_window": c.from_utc <= k.utc <= c.to_utc}} for k in crumbs]
    return {"type": "FeatureCollection", "features": feats, "properties": {"match": hit.as_dict() if hit else None}}


def picture(c: Crime, crumbs: list[Crumb], hit: Hit | None, record: dict[str, Any], path: Path) -> None:
    fwd = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={c.lat} +lon_0={c.lon} +ellps=WGS84", always_xy=True)
    fig, ax = plt.subplots(figsize=(9, 10), dpi=100)
    scene = Point(0, 0).buffer(c.radius_m, 64)
    ax.fill(*scene.exterior.xy, color="#d62728", alpha=0.15, lw=0)
    ax.plot(*scene.exterior.xy, color="#d62728", lw=1.5, label=f"scene, {c.radius_m:g} m")
    ax.scatter([0], [0], marker="*", s=200, color="#d62728", edgecolor="black", zorder=6, label=c.offence)
    if crumbs:
        x, y = fwd.transform([k.lon for k in crumbs], [k.lat for k in crumbs])
        ax.plot(x, y, color="black", lw=1, alpha=0.6, label="trail (straight between breadcrumbs)")
        inside = [i for i, k in enumerate(crumbs) if c.from_utc <= k.utc <= c.to_utc]
        for i in inside:
            ring = Point(x[i], y[i]).buffer(crumbs[i].unc_m, 32)
            ax.plot(*ring.exterior.xy, color="#1f77b4", lw=0.6, alpha=0.7)
        ax.scatter([x[i] for i in inside], [y[i] for i in inside], s=18, color="#1f77b4", zorder=5,
                   label="breadcrumbs in the window (rings: uncertainty)")
        for i in inside[:: -(-len(inside) // 8) or 1]:  # eight labels at most
            ax.annotate(london(crumbs[i].utc)[11:], (x[i], y[i]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.15)
    scale_and_north(ax)
    colour, words = VERDICT[hit.strength] if hit else ("#2ca02c", "NOT THERE: no fix or path reaches the radius")
    ax.set_title(f"{c.ref} ({c.offence}), {london(c.from_utc)} to {london(c.to_utc)[11:]} London\n"
                 f"{crumbs[0].device if crumbs else ''}: {words}", fontsize=10, color=colour, fontweight="bold")
    checks = "every breadcrumb verified from its frame" if record["all_verified"] else "NOT every breadcrumb verified"
    seq = "sequence complete" if record["sequence"]["complete"] else f"missing seq {record['sequence']['missing']}"
    gaps = ", ".join(f"{london(a)[11:]}-{london(b)[11:]}" for a, b in hit.gaps) if hit and hit.gaps else "none"
    ax.set_xlabel(f"metres east of the scene; {checks}; {seq}; no data: {gaps}", fontsize=8)
    ax.set_ylabel("metres north")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.09), ncol=2, fontsize=8, frameon=False)
    fig.text(0.99, 0.005, f"made {datetime.now(UTC):%Y-%m-%d %H:%M}Z", ha="right", fontsize=6, color="#808080")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)

"""The cohort report: detection across the cohort, alerts per tag-day, the
latency distribution, false alerts, battery life, the load on the centre, and
whether every breach the generator planted was caught; as a table, JSON and
PNG plots (latency histogram, alerts per tag-day, a map of the cohort's zones
with the breach alerts)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from host_sim.exits import CliError  # noqa: E402
from host_sim.judge import report  # noqa: E402

PLANTED_TO = {"zone": "zone", "curfew": "absence"}  # a planted breach, and the oracle's name for its alert
PLANTED_WINDOW_S = 1800  # the oracle's breach time lies this near the planted visit


def planted_caught(entry: dict[str, Any], result: dict[str, Any]) -> list[bool]:
    """For each breach planted in this wearer's day: did the tag (or unit) raise its required alert?"""
    out = []
    for p in entry["planted"]:
        hits = [r for r in result.get("required", []) if r["kind"] == PLANTED_TO[p["kind"]]
                and p["from_s"] - PLANTED_WINDOW_S <= r["at_s"] <= p["to_s"] + PLANTED_WINDOW_S]
        out.append(bool(hits) and all(r["detected"] for r in hits))
    return out


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


PILOT_TAGS = 500  # the Midlands pilot's size, for the centre's load


def summarise(manifest: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rs = [results[w["name"]] for w in manifest["wearers"] if w["name"] in results]
    tag_days = sum(r["tag_days"] for r in rs)
    lat = [x for r in rs for x in r["latencies_s"]]
    life = [r["energy"]["battery_life_h"] for r in rs if r.get("energy")]
    worst = min((r for r in rs if r.get("energy")), key=lambda r: r["energy"]["battery_life_h"], default=None)
    caught = [c for w in manifest["wearers"] if w["name"] in results for c in planted_caught(w, results[w["name"]])]
    frames = sum(r["frames"] for r in rs)
    per_day = [r["alerts"] / r["tag_days"] for r in rs if r["tag_days"]]
    return {
        "tags": len(manifest["wearers"]), "run": len(rs), "tag_days": round(tag_days, 2),
        "passed": sum(r["passed"] for r in rs), "failed": [r["name"] for r in rs if not r["passed"]],
        "errors": {r["name"]: r["error"] for r in rs if "error" in r},
        "required": sum(r["must_alert"] for r in rs), "detected": sum(r["detected"] for r in rs),
        "false_alerts": sum(r["false_alerts"] for r in rs),
        "planted": len(caught), "planted_detected": sum(caught),
        "alerts_per_tag_day": round(sum(r["alerts"] for r in rs) / tag_days, 2) if tag_days else None,
        "alerts_per_tag_day_p90": _pct(per_day, 90),
        "latency_s": {"p50": _pct(lat, 50), "p90": _pct(lat, 90), "max": max(lat) if lat else None},
        "battery_life_h": {"min": _pct(life, 0), "p10": _pct(life, 10), "median": _pct(life, 50)},
        "worst_battery": {"wearer": worst["name"], "battery_life_h": worst["energy"]["battery_life_h"],
                          "costliest_mah": worst["energy"].get("costliest_mah", [])} if worst else None,
        "centre": {"frames": frames, "frames_per_tag_day": round(frames / tag_days, 1) if tag_days else None,
                   "frames_per_s_for_pilot": round(frames / tag_days * PILOT_TAGS / 86400, 2) if tag_days else None,
                   "pilot_tags": PILOT_TAGS},
        "episodes": _episodes(rs),
        "cpu_s": round(sum(r["cpu_s"] for r in rs), 1),
        "cpu_split_s": {part: round(sum(r.get("cpu_split", {}).get(part, 0.0) for r in rs), 1)
                        for part in ("firmware", "nmea_and_trace", "lockstep_and_rest", "centre")},
    }


def _episodes(rs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The alcohol tags' drinking episodes summed (alcohol_score.episode_figures): those
    owed, and the tag's and the centre's reported and false ones. None without alcohol tags."""
    got = [r["episodes"] for r in rs if r.get("episodes")]
    if not got:
        return None
    return {"tags": len(got), **{k: sum(g[k] for g in got) for k in got[0]}}


MATCHED = ("fix inside", "fix near", "path through")  # crimes.STRONG, NEAR, PATH: the trail puts him there


def crimes_summary(manifest: dict[str, Any], cohort: Path, dbs: dict[str, Path],
                   got: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The cohort's crimes (crimes.csv) matched against each trail-mode tag's centre
    database (dbs, by wearer: fleet.trail_dbs): recall on the planted crimes (matched
    to their wearer by a fix or a path, not only a gap), and the hits on near misses
    and unrelated crimes by strength. None for a cohort without trail wearers."""
    from host_sim.centre import crimes
    from host_sim.centre.server import Centre

    if not manifest.get("crimes"):
        return None
    sheet = crimes.read_csv(cohort / "crimes.csv")
    hits: list[crimes.Hit] = []
    missing = []
    for name, db in dbs.items():
        if not db.exists() or name not in got:
            missing.append(name)
            continue
        centre = Centre(db)
        crimes.store(centre, sheet)
        hits += crimes.match(centre, None, "fleet report")
        centre.close()
    by_ref: dict[str, list[crimes.Hit]] = {}
    for h in hits:
        by_ref.setdefault(h.ref, []).append(h)
    kinds: dict[str, dict[str, Any]] = {}
    for c in manifest["crimes"]:
        k = kinds.setdefault(c["kind"], {"crimes": 0, "hits": dict.fromkeys(crimes.RANK, 0)})
        k["crimes"] += 1
        for h in by_ref.get(c["reference"], []):
            k["hits"][h.strength] += 1
    planted = [c for c in manifest["crimes"] if c["kind"] == "planted"]
    device = {name: r.get("device") for name, r in got.items()}
    found = [c["reference"] for c in planted if any(h.device == device.get(c["wearer"]) and h.strength in MATCHED
                                                    for h in by_ref.get(c["reference"], []))]
    near = [c for c in manifest["crimes"] if c["kind"].startswith("near miss")]
    return {"planted": len(planted), "planted_matched": len(found),
            "planted_missed": sorted(c["reference"] for c in planted if c["reference"] not in found),
            "near_miss_strong": sum(h.strength == MATCHED[0] for c in near for h in by_ref.get(c["reference"], [])),
            "by_kind": kinds, "trail_tags_without_database": missing}


def worst_line(w: dict[str, Any] | None) -> str:
    if not w:
        return "-"
    cost = ", ".join(f"{k} {v} mAh" for k, v in w["costliest_mah"])
    return f"{w['wearer']}: {w['battery_life_h']} h (most spent on {cost or '-'})"


def table(s: dict[str, Any]) -> str:
    lat, life, c = s["latency_s"], s["battery_life_h"], s["centre"]
    rows = [
        ("tags run", f"{s['run']} of {s['tags']} ({s['tag_days']} tag-days)"),
        ("scenarios passed", f"{s['passed']} (failed: {', '.join(s['failed']) or 'none'})"),
        ("required alerts detected", f"{s['detected']} of {s['required']}"),
        ("planted breaches detected", f"{s['planted_detected']} of {s['planted']}"),
        ("false alerts", s["false_alerts"]),
        ("alerts per tag-day", f"{s['alerts_per_tag_day']} (p90 of tags {s['alerts_per_tag_day_p90']})"),
        ("latency s", f"p50 {lat['p50']}, p90 {lat['p90']}, max {lat['max']}"),
        ("battery life h", f"min {life['min']}, p10 {life['p10']}, median {life['median']}"),
        ("worst battery", worst_line(s["worst_battery"])),
        ("centre frames", f"{c['frames']} ({c['frames_per_tag_day']} per tag-day; "
                          f"{c['frames_per_s_for_pilot']} /s for {c['pilot_tags']} tags)"),
        ("CPU", f"{s['cpu_s']} s"),
    ]
    e = s.get("episodes")
    if e:
        rows.append(("drinking episodes reported", f"tags {e['tag_reported']} of {e['owed']}, centre "
                                                   f"{e['centre_reported']} of {e['owed']} ({e['tags']} alcohol tags)"))
        rows.append(("false drinking episodes", f"tags {e['tag_false']}, centre {e['centre_false']} (the centre "
                                                f"judged {e['centre_not_a_body']} runs not a body's)"))
    t = s.get("crimes")
    if t:
        rows.append(("planted crimes matched", f"{t['planted_matched']} of {t['planted']} (to their wearer, by a fix "
                                               f"or a path; missed: {', '.join(t['planted_missed']) or 'none'})"))
        rows.append(("near misses as fix inside", t["near_miss_strong"]))
        for kind, k in sorted(t["by_kind"].items()):
            rows.append((f"{kind} crimes", f"{k['crimes']}; hits " + ", ".join(f"{n} {v}" for v, n in
                                                                                k["hits"].items() if n) or "none"))
    return report.table(["cohort", "figure"], rows)


def plots(manifest: dict[str, Any], results: dict[str, dict[str, Any]], cohort: Path, out: Path) -> list[Path]:
    import yaml

    out.mkdir(parents=True, exist_ok=True)
    rs = [results[w["name"]] for w in manifest["wearers"] if w["name"] in results]
    written = []
    lat = [x for r in rs for x in r["latencies_s"]]
    written.append(_histogram(lat, range(0, int(max(lat, default=0)) + 15, 10), "#1f77b4",
                              "seconds from the true breach to receipt at the centre", "alerts",
                              f"Detection latency, {len(lat)} required alerts across {len(rs)} tags",
                              (240, "limit (240 s)"), out / "latency.png"))
    per_day = [r["alerts"] / r["tag_days"] for r in rs if r["tag_days"]]
    written.append(_histogram(per_day, [x / 2 for x in range(int(2 * max(per_day, default=1)) + 3)], "#ff7f0e",
                              "alerts per tag-day (breaches, warnings, tamper, battery, location, curfew)", "tags",
                              "Alerts per tag-day", None, out / "alerts_per_tag_day.png"))
    life = sorted(r["energy"]["battery_life_h"] for r in rs if r.get("energy"))
    written.append(_histogram(life, range(0, int(max(life, default=0)) + 25, 12), "#2ca02c",
                              "hours a 1200 mAh battery lasts at the day's rate (host_sim/run/energy.py)", "tags",
                              f"Battery life, {len(life)} tags (shortest {life[0] if life else '-'} h)",
                              (24, "a day: a charge every night"), out / "battery_life.png"))

    fig, ax = plt.subplots(figsize=(9, 9), dpi=100)
    for w in manifest["wearers"]:
        sc = yaml.safe_load((cohort / w["file"]).read_text())
        home = sc["home"]
        ax.scatter([home["lon"]], [home["lat"]], s=6, color="#2ca02c" if w["curfew"] else "#7f7f7f", zorder=3)
        for z in sc.get("zones", []):
            c = z["circle"]
            r_deg = c["radius_m"] / 111_195
            ax.add_patch(Ellipse((c["lon"], c["lat"]), 2 * r_deg / math.cos(math.radians(c["lat"])), 2 * r_deg,
                                 color="#d62728", alpha=0.35, lw=0))
    from host_sim.world.cohort import TOWNS

    for town, (t_lat, t_lon) in TOWNS.items():
        ax.annotate(town, (t_lon, t_lat + 0.035), fontsize=7, ha="center", color="#404040")
    pts = [p for r in rs for p in r["breach_points"]]
    if pts:
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker="X", s=60, color="#d62728", edgecolor="black",
                   zorder=5, label="breach alerts")
    ax.scatter([], [], s=6, color="#2ca02c", label="home (curfew)")
    ax.scatter([], [], s=6, color="#7f7f7f", label="home (no curfew)")
    ax.scatter([], [], s=40, color="#d62728", alpha=0.35, label="victims' exclusion zones")
    ax.set_aspect(1 / math.cos(math.radians(52.6)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"The cohort: {len(manifest['wearers'])} wearers across the East and West Midlands", fontsize=9)
    ax.legend(fontsize=8, loc="center right")
    written.append(_save(fig, out / "cohort_map.png"))
    return written


def _histogram(values: list[float], bins: Any, color: str, xlabel: str, ylabel: str, title: str,
               mark: tuple[float, str] | None, path: Path) -> Path:
    """A histogram picture, with a dashed line at mark's value if given."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.hist(values, bins=bins, color=color, edgecolor="black")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole
    if mark:
        ax.axvline(mark[0], color="#d62728", ls="--", label=mark[1])
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def load(cohort: Path, results: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    try:
        manifest: dict[str, Any] = json.loads((cohort / "cohort.json").read_text())
    except (OSError, ValueError) as e:
        raise CliError(f"fleet: {cohort / 'cohort.json'}: cannot be read ({e}); "
                       "make the cohort with tagsim cohort generate") from None
    out = {}
    for f in sorted(results.glob("*.json")):
        out[f.stem] = json.loads(f.read_text())
    return manifest, out

# Firmware-side helper: the alcohol tag's rules (tacrule.py, skinwatch.py) over a
# series of readings, as the tag runs them.
import alcohol
import config
import skinwatch
import tacrule


def run(readings, overrides):
    # readings: [utc, tac_e4, ir, skin_c10, case_c10]; returns [[index, "rule"|"skin", what], ...]
    cfg = config.defaults()
    cfg.update(alcohol.settings())
    cfg.update(overrides)
    rule = tacrule.TacRule(cfg)
    skin = skinwatch.SkinWatch(cfg)
    out = []
    for i, (utc, tac, ir, skin_c10, case_c10) in enumerate(readings):
        said = rule.update(utc, tac)
        if said:
            out.append([i, "rule", said])
        seen = skin.update(tac, ir, skin_c10, case_c10)
        if seen:
            out.append([i, "skin", seen])
    return out

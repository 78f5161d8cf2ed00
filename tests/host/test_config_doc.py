"""docs/config.md against the firmware's own defaults and order keys, read from its
source (the firmware is never imported into CPython)."""

import ast
import json
import re

from host_sim.paths import FIRMWARE, ROOT


def _firmware() -> tuple[dict[str, object], set[str], set[str]]:
    tree = ast.parse((FIRMWARE / "config.py").read_text())
    defaults = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "defaults")
    ret = defaults.body[-1]
    assert isinstance(ret, ast.Return) and ret.value is not None
    values = ast.literal_eval(ret.value)
    tuples = {n.targets[0].id: set(ast.literal_eval(n.value)) for n in tree.body
              if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    return values, tuples["ORDER_KEYS"], tuples["UNIT_ORDER_KEYS"]


def test_every_key_is_documented_with_its_default_and_who_may_order_it() -> None:
    values, tag, unit = _firmware()
    rows = re.findall(r"^\| `(\w+)` \| `(.+?)` \| ([^|]+) \| (.+) \|$", (ROOT / "docs/config.md").read_text(), re.M)
    doc = {key: (json.loads(default), order.strip(), meaning) for key, default, order, meaning in rows}
    assert list(doc) == list(values)  # every key, in the firmware's order, and no other
    for key, value in values.items():
        default, order, meaning = doc[key]
        assert default == value, key
        assert order == (", ".join(w for w, keys in (("tag", tag), ("unit", unit)) if key in keys) or "-"), key
        assert len(meaning) > 10, key


def test_every_example_device_names_known_keys_of_the_right_type_and_no_secret() -> None:
    values, _, _ = _firmware()
    examples = sorted((ROOT / "devices").glob("*.json"))
    assert examples
    for path in examples:
        given = json.loads(path.read_text())
        assert set(given) <= set(values), (path, set(given) - set(values))
        assert all(type(v) is type(values[k]) for k, v in given.items()), path
        assert not {"key", "tech_token", "pair_key"} & set(given), path  # secrets come at deploy time

"""The receiver model writes its sentences itself, for speed: held here to the bytes
pynmea2, an independent implementation, renders for the same fields."""

import pynmea2
from hypothesis import given
from hypothesis import strategies as st

from host_sim.paths import ROOT
from host_sim.world import gnss_model, scenario, trace

field = st.text(alphabet="0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZ-", max_size=12)


@given(st.sampled_from(["RMC", "GGA", "GSA", "GSV", "VTG", "GLL", "ZDA"]), st.sampled_from(["GN", "GP", "GL"]),
       st.lists(field, min_size=1, max_size=20))
def test_sentence_is_what_pynmea2_renders(kind: str, talker: str, fields: list[str]) -> None:
    cls = pynmea2.TalkerSentence.sentence_types[kind]
    assert gnss_model.sentence(talker + kind, fields) == cls(talker, kind, tuple(fields)).render()


def test_every_epoch_parses_with_its_checksum() -> None:
    sc = scenario.load(ROOT / "scenarios" / "urban-canyon-beside-zone.yaml")
    sc.sentences = ("RMC", "GGA", "GSA", "GSV", "VTG", "GLL", "ZDA")
    truth = trace.synthesise(sc)
    rx = gnss_model.Receiver(sc)
    seen = set()
    for t in range(0, 300):
        burst, _ = rx.epoch(t * 1000, truth[t], truth[t + 1])
        for line in burst.decode().split("\r\n")[:-1]:
            msg = pynmea2.parse(line, check=True)
            assert msg.sentence_type in sc.sentences
            seen.add(msg.sentence_type)
    assert seen == set(sc.sentences)


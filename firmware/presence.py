# Is the wearer at home? The home unit hears the tag's adverts; one verified
# (beacon.Verifier) and, smoothed, strong enough, means present; none for
# absence_timeout_s means absent. Forged, stale and replayed adverts are handed
# to on_spoof(verdict, ticks); other tags' are ignored. Timed by the board's
# ticks, not its clock: the clock may be unset after a reboot, and jumps when set.
import time

import beacon

MARKS = "/tag_beacon.dat"  # the highest counter accepted, as beacon.Verifier keeps it (a new pairing removes it)


class Presence:
    # here: the wearer was present when the unit last stopped (the benefit of the
    # doubt for one timeout); absent, he stays so until heard
    def __init__(self, key, cfg, folder, now, here, on_spoof):
        self.verifier = beacon.Verifier(key, beacon.TAG, int(cfg["beacon_id"], 16), cfg["beacon_mac_len"],
                                        cfg["beacon_fresh_s"], folder + MARKS)
        self.configure(cfg)
        self.min_rssi = cfg["min_rssi_dbm"]
        self.on_spoof = on_spoof
        self.here = here
        self.heard = now  # ticks of the last advert that counted
        self.rssi = 0  # smoothed over the last few adverts; 0 until the first

    def configure(self, cfg):
        # the settings in force (an order may change the timeout)
        self.timeout_ms = cfg["absence_timeout_s"] * 1000

    def hear(self, rssi, adv, utc, now):
        # utc 0: the clock is unset, and the counter alone judges the advert. True if it counted
        verdict = self.verifier.verify(adv, utc)
        if verdict == beacon.ACCEPT:
            self.rssi = rssi if self.rssi == 0 else (3 * self.rssi + rssi) // 4
            if self.rssi >= self.min_rssi:
                self.heard = now
                self.here = True
                return True
        elif beacon.FORGED <= verdict <= beacon.REPLAY:
            self.on_spoof(verdict, now)
        return False

    def present(self, now):
        # checked often (every few seconds): the ticks never wrap between two checks
        if self.here and time.ticks_diff(now, self.heard) >= self.timeout_ms:
            self.here = False
        return self.here

# Is the wearer at home? The home unit hears the tag's adverts; one verified
# (beacon.Verifier) and, smoothed, strong enough, means present; none for
# absence_timeout_s means absent. Forged, stale and replayed adverts are handed
# to on_spoof; other tags' are ignored.
import beacon


class Presence:
    def __init__(self, key, cfg, utc, on_spoof):
        self.verifier = beacon.Verifier(key, beacon.TAG, int(cfg["beacon_id"], 16), cfg["beacon_mac_len"],
                                        cfg["beacon_fresh_s"])
        self.timeout = cfg["absence_timeout_s"]
        self.min_rssi = cfg["min_rssi_dbm"]
        self.on_spoof = on_spoof
        self.last_heard = utc  # at boot, the benefit of the doubt for one timeout
        self.rssi = 0  # smoothed over the last few adverts; 0 until the first

    def hear(self, rssi, adv, utc):
        verdict = self.verifier.verify(adv, utc)
        if verdict == beacon.ACCEPT:
            self.rssi = rssi if self.rssi == 0 else (3 * self.rssi + rssi) // 4
            if self.rssi >= self.min_rssi:
                self.last_heard = utc
        elif verdict >= beacon.FORGED:
            self.on_spoof(verdict, utc)

    def present(self, utc):
        return utc - self.last_heard < self.timeout

# The drinking-episode rule (docs/alcohol.md), on transdermal alcohol readings as
# they come: integers in 1e-4 g/dL, UTC seconds. Rates are compared multiplied
# out (readings x 3600 against rate x seconds), never divided, so a 32-bit
# word holds every product (32767 x 3600 and 1000 x 86400 are both below 2**30).
# - An episode: `confirm` readings in a row at or above the threshold, none of
#   them falling faster than a body eliminates: alcohol from the air, or a spill,
#   is gone far faster. Never while a fast rise waits to be judged: two readings
#   either side of a spike's peak agree. It ends at the first reading below the
#   threshold.
# - Environmental alcohol: a rise faster than a body absorbs, then within the
#   spike window a fall faster than it eliminates. A fast rise alone is no
#   verdict: a binge on an empty stomach rises fast, and stays.
from micropython import const

# what update() returns: bits, for a spike may end as an episode does
NOTHING = const(0)
STARTED = const(1)
ENDED = const(2)
SPIKE = const(4)


class TacRule:
    def __init__(self, cfg):
        self.configure(cfg)
        self.last = -1  # the last reading, -1 before the first
        self.last_utc = 0
        self.run = 0  # readings in a row above the threshold, none falling too fast
        self.run_utc = 0  # the first of them
        self.open = False  # an episode reported and not yet ended
        self.start_utc = 0
        self.peak = 0
        self.peak_utc = 0
        self.rise_utc = 0  # a rise too fast for a body, not yet judged (0: none)
        self.spike_peak = 0
        self.tail = False  # after a spike, until a reading below the threshold or rising again

    def configure(self, cfg):
        self.threshold = cfg["alc_threshold_e4"]
        self.confirm = cfg["alc_confirm_readings"]
        self.absorb = cfg["alc_absorb_max_e4_h"]
        self.elim = cfg["alc_elim_max_e4_h"]
        self.slack = 7200 * cfg["alc_noise_e4"]  # two readings' noise, times 3600
        self.spike_s = cfg["alc_spike_window_s"]

    def update(self, utc, tac):
        # one reading; what it decided (bits of STARTED, ENDED, SPIKE; NOTHING)
        rose = fell = False
        if self.last < 0:  # the first reading: a rise from nothing known, judged as one
            rose = tac >= self.threshold
        elif utc > self.last_utc:  # a clock set back between two readings gives no rate to judge
            dt = utc - self.last_utc
            d = (tac - self.last) * 3600
            rose = d > self.absorb * dt + self.slack
            fell = -d > self.elim * dt + self.slack
        if self.tail and (tac < self.threshold or tac - self.last > self.slack // 3600):
            self.tail = False  # the spike's tail is over: gone, or rising again (a drink after all)
        self.last, self.last_utc = tac, utc
        said = NOTHING
        if rose and not self.rise_utc:
            self.rise_utc, self.spike_peak = utc, tac
        elif self.rise_utc:
            if tac > self.spike_peak:
                self.spike_peak = tac
            if utc - self.rise_utc > self.spike_s:
                self.rise_utc = 0  # it stayed: a body's doing after all
            elif fell:
                self.rise_utc = 0
                self.tail = True  # its tail confirms nothing either
                said = SPIKE
        if tac < self.threshold:
            self.run = 0
        elif self.run == 0 or fell:
            self.run, self.run_utc = 1, utc
        elif self.run < self.confirm:
            self.run += 1
        if (not self.open and self.run >= self.confirm and utc - self.run_utc >= self.spike_s and not self.rise_utc
                and not self.tail):
            self.open = True
            self.start_utc, self.peak = self.run_utc, 0
            said |= STARTED
        if self.open:
            if tac > self.peak:
                self.peak, self.peak_utc = tac, utc
            if tac < self.threshold:
                self.open = False
                said |= ENDED
        return said

    # what survives a restart: a reboot mid-episode reports it once
    def state(self):
        return (self.last, self.last_utc, self.run, self.run_utc, self.open | self.tail << 1, self.start_utc,
                self.peak, self.peak_utc)

    def restore(self, s):
        (self.last, self.last_utc, self.run, self.run_utc, opened, self.start_utc, self.peak,
         self.peak_utc) = s
        self.open, self.tail = opened & 1 != 0, opened & 2 != 0

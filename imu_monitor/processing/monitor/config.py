"""Rep detector settings."""

from __future__ import annotations

from dataclasses import dataclass, replace

SMOOTH_S = 0.045
"""The detection's moving average spans this long (``RepConfig.for_rate``)."""


@dataclass(frozen=True)
class RepConfig:
    """Rep detector settings. Angles in degrees of the movement signal, times in seconds."""

    min_rise_deg: float = 1.0
    """Smallest rise above the rest reference that starts a rep: the estimated pelvic roll of a
    one-sensor back kick rises only ~1.5-3 deg; noise up to ~0.2 deg rms and slow sway up to
    ~0.2 deg at rest stay below it. ``Monitor`` raises it where the rep signal is a segment's
    pitch (``core.PITCH_MIN_RISE_DEG``)."""
    rise_fraction: float = 0.3
    """Once reps are known, a rep starts at this fraction of their median amplitude."""
    end_fraction: float = 0.2
    """The rep is back when below this fraction of its amplitude above the rest reference."""
    eccentric_fraction: float = 0.25
    """Online phase: eccentric once this fraction of the amplitude below the running maximum."""
    top_settle_s: float = 0.15
    """Online phase: hold once the running maximum has not grown for this long."""
    fit_band: tuple[float, float] = (0.25, 0.75)
    """Part of each ramp (fractions of the amplitude) the tangent lines are fitted through
    first; a second pass widens it for long ramps (``blend_s``, ``wide_band``)."""
    blend_s: float = 0.15
    """Longest velocity blend expected at a corner; the band stays half of it clear."""
    wide_band: tuple[float, float] = (0.1, 0.9)
    """The widest band the second pass uses."""
    corner_guard_s: float = 0.08
    """Samples this close to a fitted corner are left out of the rest / top level estimates
    (the velocity blends round the corners by about half their 0.1-0.15 s length)."""
    settle_s: float = 0.2
    settle_fraction: float = 0.05
    """The fall has settled where the next ``settle_s`` lower the signal by less than this
    fraction of the amplitude: a rep can end at another level than it started from (the pelvis
    rests a little differently after a kick), and its falling line then meets that level."""
    settle_depth: float = 0.5
    """A rep is also back (``reps``) where it has come this fraction of its amplitude down from
    the top and settled (``settle_s`` / ``settle_fraction``): a bottom shallower than the rest
    it started from. Reps that vary by +-25 % in depth reach a bottom 0.75 / 1.25 as deep as the
    last after a lowering of 60-65 % of their rise (0.65 here lost such reps; 0.5 changed
    nothing else in the accuracy benchmark's variants, docs/accuracy.md). Once a rep is known;
    before, ``first_settle_depth``. ``Monitor`` lowers it where the rep signal is the pelvis' turn
    (``core.PELVIS_TURN_SETTLE_DEPTH``)."""
    first_settle_depth: float = 0.65
    """``settle_depth`` until the first rep has ended, for a rep that rises from where the
    signal began: a session that starts standing, goes up to the top for the calibration and
    down to the bottom has come 55 % down from the top of that move, which is not a rep. A rep
    that rises from a rest the signal came down into (from a calibration at the top) rises from
    a bottom: ``settle_depth`` (``reps.RepTracker._from_bottom``). ``Monitor`` sets it with
    ``settle_depth`` where the rep signal is the pelvis' turn."""
    height_settle_depth: float = 0.5
    """With the hips' height to tell (``RepTracker.height_check``), a settled level this
    fraction of the amplitude down from the top is a bottom if the hips came down, and not one if
    they stayed up (``height``); ``settle_depth`` applies where the height cannot tell."""
    height_down_depth: float = 0.25
    """... and a settled level at least this fraction down is a bottom if the hips are known to
    have come down (not when the heights cannot tell), in a rep that rose from a bottom: a
    shallow bottom after an arched lockout can lie within 15 % of the rep's amplitude of the
    arch's tilt (reps +-30 % in depth)."""
    height_recheck_s: float = 0.1
    """A settled level the hips were up at is looked at again this much later."""
    height_confirm_s: float = 1.0
    """A rep back at its rest level by its tilt alone waits up to this long (s) for the hips'
    height before it ends: an arch can take the pelvis' tilt all the way back to a shallow
    bottom's, and if the hips turn out to be up, the rep goes on (``RepTracker._scan_ending``).
    The hips' height is known 0.4 s into a still moment (``height``), and a bottom is held
    0.25 s or longer (a touch-and-go rise ends the wait)."""
    rest_window_s: float = 0.5
    """Length of rest before the rep used for the rest level."""
    pre_window_s: float = 1.0
    """Rest before the detection used for the first rest estimate."""
    keep_s: float = 3.0
    """Rest samples kept before a detection (bounds the buffer)."""
    max_rep_s: float = 30.0
    """A rep that has not come back after this long is dropped."""
    restart_after_s: float = 6.0
    """A rep that has gone on this long, and rises again from a level above its rest, is
    dropped and a new rep starts at that rise (a session starting with a move into position,
    e.g. from standing into a hip thrust lockout and down to the bottom)."""
    restart_after_reps: float = 1.5
    """... and, once reps are known, has gone on this many times their median duration: a person
    at twice the tempo ends an arch held at the top 6-7 s into a 10 s rep, a rise from below the
    top that had dropped the rep and timed a new one from there (phases 4-5 s off)."""
    amplitude_memory: int = 5
    """How many recent reps set the typical amplitude."""
    onset_fraction: float = 0.05
    """Phase boundaries at movement onset / offset: where the rep signal's speed crosses this
    fraction of the movement's peak speed (``onset``)."""
    detect_fraction: float = 0.08
    """The crossing is looked for at this fraction of the peak and extrapolated along the
    speed's slope down to ``onset_fraction`` (``onset``): a segment's own slow movement at rest
    (breathing moves the thorax at up to ~8 % of a bridge's peak speed) cannot hold a boundary
    off."""
    confirm_fraction: float = 0.12
    """Hysteresis: below the detection threshold counts only if the speed stays under this
    fraction of the peak for ``min_phase_s``."""
    lumbar_leak: float = 0.0
    """Set where the rep signal is the pelvis' turn about its long axis (a back kick without a
    thigh sensor), which a lumbar fault's pitch leaks into by a few per cent through calibration,
    skin and sensor errors (see ``Monitor``): the session's reps then measure that leak and it
    is taken off the rep signal's speed (``leak``), and speed up to this fraction of the lumbar
    angle's speed at the same moment, what the estimate may be off by, is not counted as the
    rep's movement when its phases are timed (``onset``). 0: the speed is the rep signal's
    alone."""
    pelvis_check: bool = False
    """Set where the rep signal is the trunk's turn and the lumbar angle the trunk's less the
    pelvis' (two sensors in a hip thrust or bridge): the pelvis' turn, the rep signal plus the
    lumbar angle, is a second view of the same hip movement, and a hold's boundaries are checked
    against it (``onset``)."""
    min_phase_s: float = 0.1
    """Shortest quiet stretch that ends (or precedes) a movement; shorter dips are wobbles."""
    velocity_smooth_s: float = 0.1
    """Centred moving average before the speed is differentiated."""
    end_wait_fraction: float = 0.6
    end_wait_min_s: float = 0.15
    end_wait_max_s: float = 1.0
    """How long after the tangent end the rep waits for its offset (``onset.end_wait_s``)."""
    smooth_n: int = 9
    """Detection (not the fit) runs on a causal moving average over this many samples
    (``SMOOTH_S`` at 200 Hz), so single noisy samples cannot start or end a rep."""

    def for_rate(self, rate_hz: float) -> RepConfig:
        """These settings for a movement signal sampled at ``rate_hz``: the moving average over
        ``SMOOTH_S`` (at least 2 samples). Nine samples at 10 Hz lagged the signal 0.45 s: the
        lowering of a fast rep was over and still before the phase left the hold, and a
        one-sensor hip thrust's bottom was judged as its lockout (64 false alarms in 20 simulated
        sessions; 0 over ``SMOOTH_S``)."""
        return replace(self, smooth_n=max(2, int(SMOOTH_S * rate_hz + 0.5)))

"""Schedules that are functions of the optimizer step, so a run can change them by config at any time.

    LengthSchedule([[900, 128, 256], [null, 512, 64]])   steps 0-899: 128 tokens x 256, then 512 x 64
    MaskSchedule(start=0.0, end=0.5, start_step=0, end_step=1000)   n-gram share rising linearly

The batch size of a phase is the global batch of one optimizer step (over gradient accumulation
and data-parallel ranks). Which instances a step sees depends only on the schedule and the
step, never on run history, so a resumed run (or a changed schedule) continues deterministically.
"""

from claf.config.errors import ConfigError


class LengthSchedule:
    def __init__(self, phases):
        if not phases:
            raise ConfigError("schedule.sequence_length needs at least one [until_step, max_seq_length, batch_size]")
        self.phases, previous = [], 0
        for i, phase in enumerate(phases):
            if isinstance(phase, dict):
                phase = [phase.get("until_step"), phase.get("max_seq_length"), phase.get("batch_size")]
            if len(phase) != 3:
                raise ConfigError(f"schedule.sequence_length[{i}]: give [until_step, max_seq_length, batch_size]")
            until, length, batch = phase
            last = i == len(phases) - 1
            if until is None and not last:
                raise ConfigError(f"schedule.sequence_length[{i}]: only the last phase may have until_step null")
            if until is not None and int(until) <= previous:
                raise ConfigError(f"schedule.sequence_length[{i}]: until_step {until} must be above {previous}")
            if int(length) < 8 or int(batch) < 1:
                raise ConfigError(f"schedule.sequence_length[{i}]: max_seq_length >= 8 and batch_size >= 1 please")
            self.phases.append((None if until is None else int(until), int(length), int(batch)))
            previous = previous if until is None else int(until)

    @property
    def lengths(self):
        return sorted({length for _u, length, _b in self.phases})

    def at(self, step):
        """(max_seq_length, batch_size) of optimizer step ``step`` (0-based)."""
        for until, length, batch in self.phases:
            if until is None or step < until:
                return length, batch
        _u, length, batch = self.phases[-1]  # past the last bound: keep the last phase
        return length, batch

    def consumed(self, step, length):
        """Instances of ``length`` used by steps [0, step): where that length's stream resumes."""
        total, begin = 0, 0
        for i, (until, phase_length, batch) in enumerate(self.phases):
            end = until if until is not None and i < len(self.phases) - 1 else float("inf")  # the last phase never ends
            if phase_length == length:
                total += max(0, min(end, step) - begin) * batch
            begin = end
            if begin >= step:
                break
        return int(total)

    def describe(self):
        return [[u, length, b] for u, length, b in self.phases]


class MaskSchedule:
    """The share of instances masked with n-grams, linear from ``start`` to ``end`` over [start_step, end_step]."""

    def __init__(self, start=0.0, end=0.0, start_step=0, end_step=0):
        for name, value in (("start", start), ("end", end)):
            if not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"schedule.ngram_share.{name} must be within [0, 1], got {value}")
        if int(end_step) < int(start_step):
            raise ConfigError("schedule.ngram_share.end_step must not be before start_step")
        self.start, self.end = float(start), float(end)
        self.start_step, self.end_step = int(start_step), int(end_step)

    def ngram_share(self, step):
        if step >= self.end_step:
            return self.end
        if step <= self.start_step:
            return self.start
        fraction = (step - self.start_step) / (self.end_step - self.start_step)
        return self.start + (self.end - self.start) * fraction

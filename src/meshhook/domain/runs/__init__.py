"""The run engine's pure core: events, the fold that turns them into a run's
state, and ``decide``, which says what to do next.

No I/O, no clock, no randomness. Time, HTTP responses, jitter and errors enter
only as recorded events (or as explicit arguments whose values end up in the
events), so replaying a run is ``fold`` over its stored events and nothing else.

- ``events``: the event vocabulary and the run/step status enums.
- ``graph``: a definition seen as the engine walks it (edges by source/target).
- ``state``: ``fold(events) -> RunState`` (a reducer, ``apply``, one event at a time).
- ``decide``: ``decide(graph, state, now) -> Decision`` (commands and the next wake-up).
- ``evaluate``: the pure node types (triggers, ``transform``, ``branch``,
  ``terminate``, ``delay``) evaluated on their input.
- ``advance``: runs decide/evaluate in a loop until only side effects are left,
  returning the events to commit and the commands a worker must carry out.
"""

"""Runs: every import (and every undo) is a run, recorded object by object and reversible.

- `recorder`: the run's record, kept the moment NetBox confirms each write (the NetBox session tells it),
  with NetBox's request id; stored in Redis by the job runner (core.jobs.store, `lnbi:job:<id>:objects`).
- `changelog`: the run as NetBox's own changelog tells it. Every change a run makes carries a changelog
  message naming it, so the record is rebuildable from NetBox after Redis lost it, and holds also the
  writes whose answer never reached us. This is the durable copy; undo reads it.
- `undo`: delete what a run created and put back what it changed, in dependency order, leaving whole what
  someone changed since.
- `view`: a run for the Runs page and `python -m core runs` (imports core.jobs: import it as
  core.runs.view, it is not re-exported here).
- `objects`: the object types a run writes, their endpoints and labels.
"""

"""`python -m core runs`: import and undo runs. `runs` lists them; `runs show ID` shows one (plan, result
lines, the NetBox objects it made or changed; from NetBox's changelog when Redis no longer has them);
`runs undo ID` undoes one and `runs resume ID` completes one, here and now, each as a run of its own."""

from __future__ import annotations

import argparse

from core.choices import JobState
from core.cli.output import EXIT_CODES_HELP, EXIT_ERROR, EXIT_FAILING, EXIT_OK, SETTINGS_HELP, err, out
from core.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list import and undo runs; show, undo or resume one",
        description=(
            "Import and undo runs, newest first: who, when, rows, counts, state. Every change a run makes "
            "in NetBox names it in NetBox's changelog."
        ),
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="how many runs (default 20)")
    actions = parser.add_subparsers(dest="action", metavar="{show,undo,resume}")
    show = actions.add_parser("show", help="one run: its plan, result lines and NetBox objects")
    show.add_argument("run_id", metavar="ID")
    undo = actions.add_parser(
        "undo",
        help=(
            "delete what the run created and put back what it changed, in dependency order; objects "
            "changed in NetBox since the run are left as they are and listed"
        ),
    )
    undo.add_argument("run_id", metavar="ID")
    resume = actions.add_parser(
        "resume",
        help="import the run's rows again: what it left unfinished is completed, what it missed is made",
    )
    resume.add_argument("run_id", metavar="ID")
    parser.set_defaults(func=run)


def _when(status) -> str:
    return status.enqueued_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if status.enqueued_at else "-"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing yet"


def _list(settings: Settings, limit: int) -> int:
    from core import jobs
    from core.runs.view import list_runs

    runs = list_runs(jobs.connect(settings), limit)
    if not runs:
        out("no runs")
    for s in runs:
        what = (
            f"undo of {s.undoes}" if s.undoes else "import" + (f" resuming {s.resumes}" if s.resumes else "")
        )
        tail = f"  undone by {s.undone_by}" if s.undone_by else ""
        out(
            f"{_when(s)}  {s.job_id}  {s.state.value:<9} {s.by or '-':<12} {what}: "
            f"{s.done}/{s.total} rows, {_counts(s.counts)}{tail}"
        )
    return EXIT_OK


def _show(settings: Settings, run_id: str) -> int:
    from core import jobs
    from core.runs.view import show_run

    view = show_run(jobs.connect(settings), settings, run_id)
    s = view.status
    out(f"run {run_id}: {s.kind} {s.state.value}, by {s.by or 'unknown'}, {_when(s)}")
    out(f"rows {s.done}/{s.total}: {_counts(s.counts)}")
    for label, value in (("resumes", s.resumes), ("undoes", s.undoes), ("undone by", s.undone_by)):
        if value:
            out(f"{label} {value}")
    if s.error:
        out(f"error: {s.error}")
    if view.note:
        err(f"note: {view.note}")
    if view.plan:
        out("plan:")
        for line in view.plan:
            what = f"{line['object']} '{line['object_name']}'" if line["object"] else line["reason"]
            out(
                f"  {line['name']}: {line['action']}: {what}"
                + (f" ({line['fields']})" if line["fields"] else "")
            )
    if s.results:
        out("results:")
        for r in s.results:
            extra = "; ".join(r.get("extra") or [])
            out(
                f"  {r.get('outcome')}: {r.get('name')}: {r.get('message')}"
                + (f" ({extra})" if extra else "")
            )
    out(f"objects ({view.source}):" if view.objects else f"objects: none ({view.source})")
    for o in view.objects:
        out(
            f"  {o.action}: {o.label} '{o.name}' (id {o.id})"
            + (f" request {o.request_id}" if o.request_id else "")
        )
    return EXIT_OK


def _act(settings: Settings, args: argparse.Namespace) -> int:
    from core import jobs

    def show(record: dict) -> None:
        if record.get("current"):
            out(f"{record.get('done', 0)}/{record.get('total', 0)} {record['current']}")

    if args.action == "undo":
        new_id = jobs.run_here(settings, undo=args.run_id, meta=show)
    else:
        new_id = jobs.run_here(
            settings, items=jobs.run_items(settings, args.run_id), resumes=args.run_id, meta=show
        )
    status = jobs.job_status(jobs.connect_or_none(settings), new_id)
    for r in status.results:
        out(f"{r.get('outcome')}: {r.get('kind')} '{r.get('name')}': {r.get('message')}")
    out(f"{args.action} run {new_id} {status.state.value}: {_counts(status.counts)}")
    if status.error:
        err(f"error: {status.error}")
    if status.state is JobState.FAILED:
        return EXIT_ERROR if not status.results else EXIT_FAILING
    return EXIT_FAILING if status.counts.get("failed") or status.counts.get("partial") else EXIT_OK


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action is None:
        return _list(settings, args.limit)
    if args.action == "show":
        return _show(settings, args.run_id)
    return _act(settings, args)

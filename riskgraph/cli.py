"""The ``riskgraph`` command line: the one entry point, and the only place exit codes are made.

Commands and flags follow ``shared/spec/interfaces.md`` exactly (operators script them). Each
command reads settings once, then delegates to its package; the packages raise
:class:`riskgraph.errors.RiskgraphError` subclasses, turned here into one clear line, a hint,
and the exit code (0 done, 1 done with rejections, 2 bad usage or settings, 3 failure). The
trace is shown with ``--debug``.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from riskgraph.errors import RiskgraphError
from riskgraph.settings import Settings, load_settings

app = typer.Typer(
    name="riskgraph",
    help="riskgraph: knowledge-graph early warning of illegal fundraising (非法集资).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state: dict[str, bool] = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full trace on errors.")] = False,
) -> None:
    _state["debug"] = debug


def settings() -> Settings:
    """Settings for the running command (read from the environment once)."""
    return load_settings()


def _register_subapps() -> None:
    from demo.cli import demo_app
    from graph.cli import db_app

    app.add_typer(db_app, name="db", help="The graph database (local Neo4j or NEO4J_URI).")
    app.add_typer(demo_app, name="demo", help="The synthetic demo city.")


@app.command("ingest")
def ingest_cmd(
    inbox: Annotated[Path, typer.Argument(help="Inbox folder holding <YYYYMMDD>/<source>/ files.")],
    force: Annotated[bool, typer.Option("--force", help="Override count assertions.")] = False,
) -> None:
    """Load every delivery of INBOX not yet loaded."""
    from ingest.pipeline import run_ingest_command
    from riskgraph.paths import existing_folder

    cfg = settings()
    folder = existing_folder(inbox, "inbox", "pass the inbox folder holding <YYYYMMDD>/<source>/ "
                             "delivery folders")  # exit 2 before connecting
    raise typer.Exit(run_ingest_command(cfg, folder, force=force))


@app.command("score")
def score_cmd() -> None:
    """Rescore every enterprise from the graph."""
    from analytics.pipeline import run_score_command

    raise typer.Exit(run_score_command(settings()))


@app.command("refresh")
def refresh_cmd(
    inbox: Annotated[Path | None, typer.Option("--inbox", help="Default: RISKGRAPH_INBOX.")] = None,
    wait: Annotated[bool, typer.Option(
        "--wait", help="Wait for a running refresh instead of exiting 3.")] = False,
) -> None:
    """Ingest new deliveries, rescore, alert."""
    from riskgraph.refresh import run_refresh_command

    raise typer.Exit(run_refresh_command(settings(), inbox, wait=wait))


@app.command("schedule")
def schedule_cmd(
    cron: Annotated[str, typer.Option("--cron", help='Cron expression, e.g. "0 2 * * *".')],
    inbox: Annotated[Path | None, typer.Option("--inbox")] = None,
) -> None:
    """Run refresh on a schedule."""
    from riskgraph.refresh import run_schedule_command

    raise typer.Exit(run_schedule_command(settings(), cron, inbox))


export_app = typer.Typer(help="Exports.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("scores")
def export_scores_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
) -> None:
    """One row per enterprise: uscc,name,county,score,level,group_id,cross_region,… ."""
    from analytics.export import run_export_scores_command

    raise typer.Exit(run_export_scores_command(settings(), out))


report_app = typer.Typer(help="Reports to the city (DOCX + XLSX).", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("monthly")
def report_monthly_cmd(
    county: Annotated[str, typer.Option("--county", help="Six-digit county code.")],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the DOCX and XLSX.")],
) -> None:
    """The county's monthly report to the city: DOCX report + XLSX working ledgers."""
    from workflow.reports import run_monthly_command

    raise typer.Exit(run_monthly_command(settings(), county, month, out))


ledger_app = typer.Typer(help="The county risk ledgers (风险台账) and cross-region hand-offs.",
                         no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("pass-down")
def ledger_pass_down_cmd(
    county: Annotated[str, typer.Option("--county", help="Six-digit county code.")],
    uscc: Annotated[str | None, typer.Option("--uscc", help="USCC of the enterprise.")] = None,
    group: Annotated[str | None, typer.Option(
        "--group", help="Group id (instead of --uscc).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="What the county should do.")] = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", help="Deadline YYYY-MM-DD.")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who passes it down (a local city account is checked; default cli:<user>)."
    )] = None,
) -> None:
    """Pass a city-level clue down to a county's ledger (市级交办); audited."""
    from workflow.commands import run_pass_down_command

    raise typer.Exit(run_pass_down_command(settings(), county, uscc, group, note, deadline, by))


@ledger_app.command("list")
def ledger_list_cmd(
    county: Annotated[str, typer.Option("--county", help="Six-digit county code.")],
    status: Annotated[str | None, typer.Option(
        "--status", help="Only entries in this status, e.g. 待核查.")] = None,
) -> None:
    """List a county's ledger entries (tab-separated, with overdue marks)."""
    from workflow.commands import run_list_command

    raise typer.Exit(run_list_command(settings(), county, status))


@ledger_app.command("handoff")
def ledger_handoff_cmd(
    group: Annotated[str, typer.Option("--group", help="Group id.")],
    to: Annotated[str, typer.Option("--to", help="draft, sent, accepted or closed.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who moves it (a local account is checked; default cli:<user>).")] = None,
) -> None:
    """Move a cross-region group's hand-off status along the declared table; audited."""
    from workflow.commands import run_handoff_command

    raise typer.Exit(run_handoff_command(settings(), group, to, note, by))


users_app = typer.Typer(help="Local accounts of the app (see docs/security.md).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(from_stdin: bool) -> str:
    """A new password: the first line of stdin, or prompted twice; checked (exit 2 when
    empty or too short) before the database is touched."""
    from riskgraph.errors import UsageError
    from security import users

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UsageError("no password given", "type one, or pipe it with --password-stdin")
    users.check_password(password)
    return password


@users_app.command("add")
def users_add_cmd(
    name: Annotated[str, typer.Argument(help="Username (stored verbatim).")],
    role: Annotated[str, typer.Option("--role", help="city, county, sector, analyst or admin.")],
    county: Annotated[list[str] | None, typer.Option(
        "--county", help="County code (repeatable; county role only).")] = None,
    sector: Annotated[str | None, typer.Option(
        "--sector", help="Sector id or name (sector role only), e.g. elderly / 养老机构.")] = None,
    email: Annotated[str | None, typer.Option(
        "--email", help="E-mail used to match an OIDC identity.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Add a local account; the password is prompted twice (or read with --password-stdin)."""
    from graph.connection import connect
    from graph.schema import apply_schema
    from security import audit, users
    from security.roles import check_assignment

    cfg = settings()
    users.check_username(name)
    check_assignment(role, tuple(county or ()), sector, cfg.city)  # exit 2 before any prompt
    password = _read_password(password_stdin)
    driver = connect(cfg)
    try:
        apply_schema(driver, database=cfg.neo4j_database)
        user = users.add_user(driver, cfg, name, role, password, tuple(county or ()), sector,
                              email=email)
        audit.record(driver, "user_add", user=_cli_actor(), role="cli", target=user.username,
                     detail={"role": user.role, "counties": list(user.counties),
                             "sector": user.sector})
    finally:
        driver.close()
    typer.echo(f"user {user.username!r} added: role={user.role} "
               f"counties={','.join(user.counties) or '-'} sector={user.sector or '-'}")


@users_app.command("list")
def users_list_cmd() -> None:
    """List the local accounts (one tab-separated line each; no password data)."""
    from graph.connection import connect
    from security import users

    driver = connect(settings())
    try:
        found = users.list_users(driver)
    finally:
        driver.close()
    typer.echo("username\trole\tcounties\tsector\tdisabled\tcreated")
    for u in found:
        typer.echo(f"{u.username}\t{u.role}\t{','.join(u.counties)}\t{u.sector or ''}\t"
                   f"{str(u.disabled).lower()}\t{u.created}")


@users_app.command("disable")
def users_disable_cmd(
    name: Annotated[str, typer.Argument(help="Username to disable.")],
) -> None:
    """Disable an account (it can no longer sign in; its audit trail stays)."""
    _switch_user(name, enable=False)


@users_app.command("enable")
def users_enable_cmd(
    name: Annotated[str, typer.Argument(help="Username to enable again.")],
) -> None:
    """Enable a disabled account again (also clears a lockout)."""
    _switch_user(name, enable=True)


def _switch_user(name: str, enable: bool) -> None:
    """Enable or disable account ``name``, audited as the CLI's operator."""
    from graph.connection import connect
    from security import audit, users

    driver = connect(settings())
    try:
        user = (users.enable_user if enable else users.disable_user)(driver, name)
        audit.record(driver, "user_enable" if enable else "user_disable", user=_cli_actor(),
                     role="cli", target=user.username)
    finally:
        driver.close()
    typer.echo(f"user {user.username!r} {'enabled' if enable else 'disabled'}")


@users_app.command("set-password")
def users_set_password_cmd(
    name: Annotated[str, typer.Argument(help="Username whose password to replace.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Set a new password (prompted twice, or read with --password-stdin); clears a lockout."""
    from graph.connection import connect
    from security import audit, users

    cfg = settings()
    password = _read_password(password_stdin)
    driver = connect(cfg)
    try:
        user = users.set_password(driver, cfg, name, password)
        audit.record(driver, "user_set_password", user=_cli_actor(), role="cli",
                     target=user.username)
    finally:
        driver.close()
    typer.echo(f"password of user {user.username!r} replaced")


@app.command("eval")
def eval_cmd(
    truth: Annotated[Path, typer.Option("--truth", help="The demo generator's truth folder.")],
) -> None:
    """Compare current scores with a demo truth folder; prints one JSON line."""
    from analytics.evaluate import run_eval_command

    raise typer.Exit(run_eval_command(settings(), truth))


@app.command("calibrate")
def calibrate_cmd(
    rollback: Annotated[str | None, typer.Option(
        "--rollback", help="Re-activate a stored model VERSION ('handset': the code's weights)."
    )] = None,
    list_versions: Annotated[bool, typer.Option(
        "--list", help="List the stored model versions.")] = False,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Write the active model (or --version) to FILE (JSON).")] = None,
    version: Annotated[str | None, typer.Option(
        "--version", help="With --export: the stored VERSION to write.")] = None,
    import_file: Annotated[Path | None, typer.Option(
        "--import", help="Store the model of an --export FILE and make it active.")] = None,
) -> None:
    """Fit indicator weights on the outcomes stored in the graph."""
    from analytics.calibrate_cmd import run_calibrate_command

    raise typer.Exit(run_calibrate_command(settings(), rollback=rollback,
                                           list_versions=list_versions, export=export,
                                           version=version, import_file=import_file))


outcomes_app = typer.Typer(help="Verdicts on enterprises (calibration labels).",
                           no_args_is_help=True)
app.add_typer(outcomes_app, name="outcomes")


@outcomes_app.command("add")
def outcomes_add_cmd(
    uscc: Annotated[str, typer.Argument(help="USCC of the enterprise.")],
    verdict: Annotated[str, typer.Option("--verdict", help="confirmed or dismissed.")],
    reason: Annotated[str, typer.Option(
        "--reason", help="Reason code, e.g. 已立案, 排除-正常经营.")],
    by: Annotated[str | None, typer.Option("--by", help="Who gave the verdict.")] = None,
) -> None:
    """Record a confirmed/dismissed verdict on an enterprise (the latest one counts)."""
    from analytics import outcomes
    from graph.connection import connect

    s = settings()
    driver = connect(s)
    try:
        oid = outcomes.add(driver, uscc, verdict, reason, by or _cli_actor(),
                           database=s.neo4j_database)
    finally:
        driver.close()
    typer.echo(f"outcome {oid}: {uscc} {verdict} ({reason})")


@outcomes_app.command("import-truth")
def outcomes_import_truth_cmd(
    folder: Annotated[Path, typer.Argument(help="Demo truth folder (holding entities.csv).")],
    sample: Annotated[float, typer.Option("--sample", help="Fraction of rows to import.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
) -> None:
    """Demo truth → outcomes: core/periphery ⇒ confirmed, none ⇒ dismissed."""
    from analytics import outcomes
    from graph.connection import connect

    s = settings()
    outcomes.entities_file(folder)  # a missing truth folder or file: exit 2 before connecting
    driver = connect(s)
    try:
        r = outcomes.import_truth(driver, folder, sample=sample, seed=seed,
                                  database=s.neo4j_database, batch_size=s.batch_size)
    finally:
        driver.close()
    typer.echo(f"imported {r.written} outcomes ({r.confirmed} confirmed, {r.dismissed} "
               f"dismissed) from {r.sampled} of {r.rows} truth rows; {r.missing} not in the graph")


@app.command("serve")
def serve_cmd(
    port: Annotated[int, typer.Option("--port")] = 8501,
) -> None:
    """Run the Streamlit app."""
    from dashboards.serve import run_serve_command

    raise typer.Exit(run_serve_command(settings(), port))


def _framework_exit_code(exc: Exception) -> int | None:
    """Exit code for a usage error raised by Typer/Click (bad flag, unknown command), else None.

    Typer may ship its own copy of Click, so both exception families are recognised.
    """
    import click

    families: list[type] = [click.exceptions.UsageError, click.exceptions.ClickException]
    try:
        from typer import _click  # type: ignore[attr-defined]

        families += [_click.exceptions.UsageError, _click.exceptions.ClickException]  # type: ignore[list-item]
    except ImportError:
        pass
    for family in families:
        if isinstance(exc, family):
            return 2 if "UsageError" in family.__name__ else int(getattr(exc, "exit_code", 1))
    return None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and map errors to exit codes."""
    _register_subapps()
    try:
        rc = app(args=argv, standalone_mode=False)
    except RiskgraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        if _state["debug"] or "--debug" in (argv or sys.argv):
            traceback.print_exc()
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        sys.exit(3)
    except Exception as exc:  # usage errors of the CLI framework and anything unexpected
        code = _framework_exit_code(exc)
        if code is not None:
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            sys.exit(code)
        print(f"error: unexpected failure: {exc}", file=sys.stderr)
        print("hint: run again with --debug for the trace", file=sys.stderr)
        if _state["debug"] or "--debug" in (argv or sys.argv):
            traceback.print_exc()
        sys.exit(3)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()

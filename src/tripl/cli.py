"""tripl-server: serve | worker | migrate | create-user | demo."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import TYPE_CHECKING

from tripl.config import Settings

if TYPE_CHECKING:
    from tripl.core.context import TriplContext


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from tripl.core.context import build_context
    from tripl.core.migrate import upgrade
    from tripl.serving import serve_app, serve_processes
    from tripl.workspace.users.service import count_users

    host = args.host or settings.host
    port = args.port or settings.port
    start_worker = settings.run_worker_in_process and not args.no_worker
    context = build_context(settings)
    upgrade(context.db.engine)
    with context.db.sessions() as db:
        has_users = count_users(db) > 0
    url = f"http://{host}:{port}"
    print(f"tripl is starting on {url}  (API docs: {url}/docs)")
    print(f"  metadata database: {context.db.engine.url.render_as_string(hide_password=True)}")
    print(f"  job queue: {context.queue.backend}" + (" with in-process workers" if start_worker else ""))
    if args.processes > 1:
        print(f"  API processes: {args.processes}")
    if not has_users:
        print(
            f"  next: open {url}/ and create the first account (it becomes the owner), or:\n"
            f"    curl -X POST {url}/api/v1/auth/register -H 'content-type: application/json' \\\n"
            '      -d \'{"email": "you@example.com", "password": "a-long-passphrase"}\'\n'
            "    or: tripl-server create-user --email you@example.com --role owner"
        )
    _offer_demo(context, url, build=args.demo)
    context.close()
    sys.stdout.flush()
    if args.processes > 1:
        return serve_processes(settings, host, port, processes=args.processes, start_worker=start_worker)
    serve_app(settings, host, port, start_worker=start_worker)
    return 0


def _offer_demo(context: TriplContext, url: str, *, build: bool) -> None:
    """On an instance without projects: build the demo project (--demo) or say how to get one."""
    from sqlalchemy import func, select

    from tripl.plan.projects.models import Project
    from tripl.workspace.users.models import User, UserRole

    with context.db.sessions() as db:
        if db.scalar(select(func.count()).select_from(Project)):
            return
        first_owner = db.scalar(
            select(User).where(User.role == UserRole.owner).order_by(User.created_at, User.id).limit(1)
        )
    if build and first_owner is not None:
        print(f"  building the demo project for {first_owner.email} (a DuckDB warehouse and its scans)…")
        sys.stdout.flush()
        code = _build_demo(context, first_owner.email)
        if code == 0:
            return
    elif build:
        print("  --demo: there is no account yet to own the demo project; create one first")
    print(
        "  try the demo project (a generated shop warehouse, scanned for real):\n"
        "    'Generate demo project' on the projects page, or\n"
        f"    POST {url}/api/v1/projects/demo as an editor or owner, or\n"
        "    tripl-server demo --email you@example.com"
    )


def _build_demo(context: TriplContext, email: str) -> int:
    from sqlalchemy import select

    from tripl.core.errors import DomainError
    from tripl.demo.service import create_demo_project
    from tripl.plan.projects.models import Project
    from tripl.workspace.auth.service import normalise_email
    from tripl.workspace.users.models import User

    with context.db.sessions() as db:
        user = db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        print(f"error: no account for {email}; create it first (tripl-server create-user)", file=sys.stderr)
        return 1
    try:
        project_id = create_demo_project(context, user.id)
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    with context.db.sessions() as db:
        project = db.get(Project, project_id)
        assert project is not None
        slug = project.slug
    print(f"created the demo project '{slug}' for {user.email}")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from tripl.core.context import build_context
    from tripl.core.migrate import upgrade

    context = build_context(settings)
    try:
        upgrade(context.db.engine)
        return _build_demo(context, args.email)
    finally:
        context.close()


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from tripl.core.context import build_context

    context = build_context(settings)
    print(f"tripl worker: {args.threads} threads on the {context.queue.backend} queue")
    context.queue.run_consumer_forever(args.threads, periodic=not args.no_periodic)
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from tripl.core.db import Database
    from tripl.core.migrate import upgrade

    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    print("database is at the latest schema")
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from tripl.core.db import Database
    from tripl.core.errors import DomainError
    from tripl.core.migrate import upgrade
    from tripl.workspace.auth.service import normalise_email, register
    from tripl.workspace.users.models import User, UserRole

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif args.password is not None:
        password = args.password
    else:
        password = getpass.getpass("Password: ")
    if not 8 <= len(password) <= 255:
        print("error: the password must be 8 to 255 characters", file=sys.stderr)
        return 2
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    try:
        with db.transaction() as session:
            # The command line is trusted: it may create accounts while sign-up is disabled.
            existing = session.scalar(select(User).where(User.email == normalise_email(args.email)))
            if existing is not None:
                print(f"error: {args.email} already has an account", file=sys.stderr)
                return 1
            user = register(
                session,
                settings.model_copy(update={"registration_mode": "open"}),
                email=args.email,
                password=password,
                name=args.name,
            )
            if args.role:
                user.role = UserRole(args.role)
            print(f"created {user.email} with role {user.role.value}")
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripl-server", description="tripl tracking-plan service")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (and in-process workers) after migrating")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-worker", action="store_true", help="do not consume jobs in this process")
    serve.add_argument(
        "--processes",
        type=_positive,
        default=1,
        help="serve the API from N processes sharing the port (one per core; jobs run in the first)",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="build the demo project for the first owner if there are no projects",
    )
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser("worker", help="consume background jobs (use with TRIPL_QUEUE_URL=redis://…)")
    worker.add_argument("--threads", type=int, default=2)
    worker.add_argument("--no-periodic", action="store_true", help="do not schedule periodic jobs here")
    worker.set_defaults(handler=_worker)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    create_user = sub.add_parser("create-user", help="create an account without the web UI")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name")
    create_user.add_argument("--role", choices=["owner", "editor", "viewer"])
    secret = create_user.add_mutually_exclusive_group()
    secret.add_argument("--password", help="prefer --password-stdin: arguments show up in process lists")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create_user.set_defaults(handler=_create_user)

    demo = sub.add_parser("demo", help="create the demo project (generated warehouse, real scans) for a user")
    demo.add_argument("--email", required=True, help="an existing owner or editor account")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())

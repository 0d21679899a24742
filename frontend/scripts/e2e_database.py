"""Prepare the browser tests' fresh database: apply the migrations, then create any table they lack yet.

Tables added to the models ahead of their migration (see tests/test_migrations.py, which guards the
migrations themselves) would otherwise fail the browser suite for a reason it does not test.
"""

from tripl.config import Settings
from tripl.core.context import build_context
from tripl.core.migrate import upgrade
from tripl.models import Base

context = build_context(Settings())
upgrade(context.db.engine)
Base.metadata.create_all(context.db.engine, checkfirst=True)

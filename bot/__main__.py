"""Run the command line: python -m bot."""

import gc

gc.disable()  # start-up makes objects that live as long as the process; bot.cli turns collection back on
from bot.cli import main  # noqa: E402

raise SystemExit(main())

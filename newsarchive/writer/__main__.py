"""``python -m newsarchive.writer``: see :mod:`newsarchive.writer.child`."""

import sys

from newsarchive.writer.child import main

sys.exit(main())

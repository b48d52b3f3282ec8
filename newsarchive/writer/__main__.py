"""``python -m newsarchive.writer [--niceness N]``: see :mod:`newsarchive.writer.child`.

The niceness is taken before anything heavy is imported: the interpreter's start-up (about
1.4 s of CPU: pyarrow, pyiceberg) is the writer's work too, and runs while the crawler starts.
"""

import os
import sys

if len(sys.argv) == 3 and sys.argv[1] == "--niceness" and int(sys.argv[2]) > 0:
    os.nice(int(sys.argv[2]))

from newsarchive.writer.child import main  # after the niceness, on purpose

sys.exit(main())

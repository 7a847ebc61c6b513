"""``python -m cam2seg_utils <command>``: see :mod:`cam2seg_utils.cli`."""
from cam2seg_utils.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

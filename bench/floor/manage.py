#!/usr/bin/env python
"""The floor's manage.py: `python bench/floor/manage.py migrate` (DATABASE_URL or FLOOR_VAR_DIR)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "floor.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)

import sys

from nc_verify.cli import main

sys.exit(main())

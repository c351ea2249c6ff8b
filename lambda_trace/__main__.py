import sys

from lambda_trace.cli import main

sys.exit(main())

import sys

from lambda_trace.analyzer.cli import main

sys.exit(main())

"""The chart tests share tests/k8s_openapi.py with the operator's rendering tests."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

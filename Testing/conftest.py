import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# pydicom warns about odd values in its own test files; the tests assert outcomes instead.
warnings.filterwarnings("ignore", module="pydicom")

import subprocess
import sys
import types

import watchkeeper


def test_all_lists_exactly_the_public_names():
    """__all__ names every public attribute of the package and nothing else."""
    public = {n for n in dir(watchkeeper)
              if not n.startswith("_") and not isinstance(getattr(watchkeeper, n), types.ModuleType)}
    public.add("__version__")
    assert set(watchkeeper.__all__) == public
    assert len(watchkeeper.__all__) == len(set(watchkeeper.__all__))


def test_import_stays_light():
    """Importing watchkeeper in a user's service loads no FastAPI, DuckDB, pandas, numpy or pyarrow."""
    code = (
        "import sys, watchkeeper; watchkeeper.init(endpoint='http://127.0.0.1:9'); "
        "watchkeeper.log_prediction(model='m', output=1); "
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'fastapi','duckdb','pandas','numpy','pyarrow','starlette','uvicorn'}); "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"WATCHKEEPER_TIMEOUT": "0.2", "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_sdk_distribution_does_not_require_server_packages():
    """The base install (no extras) does not depend on FastAPI, DuckDB or pandas."""
    from importlib.metadata import requires

    base = [r for r in requires("watchkeeper") if "extra ==" not in r]
    names = {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in base}
    assert not names & {"fastapi", "duckdb", "pandas", "numpy", "uvicorn", "pyarrow"}

"""Build hook for the optional C decoder; everything else about the package is in pyproject.toml.

``optional=True``: without a C compiler the install goes on and ingest uses the msgspec path.
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("watchkeeper.ingest._predjson", ["src/watchkeeper/ingest/_predjson.c"], optional=True,
              extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                  "-Wno-missing-field-initializers"]),
])

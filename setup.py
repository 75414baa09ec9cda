"""Build hook for the optional C decoders; everything else about the package is in pyproject.toml.

``optional=True``: without a C compiler the install goes on; predictions then take the msgspec path
(_predjson.c stands in for it) and OTLP protobuf exports the upb one (_otlpwire.c stands in for it).
"""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]

setup(ext_modules=[
    Extension(f"watchkeeper.ingest.{name}", [f"src/watchkeeper/ingest/{name}.c"], optional=True, extra_compile_args=_FLAGS)
    for name in ("_predjson", "_otlpwire")
])

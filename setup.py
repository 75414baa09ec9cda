"""Build hook for the optional C decoders; everything else about the package is in pyproject.toml.

``optional=True``: without a C compiler the install goes on; predictions then take the msgspec path
(_predjson.c stands in for it), OTLP protobuf exports the upb one (_otlpwire.c stands in for it) and the
security detectors look their literal pieces up one at a time (_literals.c finds them all in one pass).
"""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]

setup(ext_modules=[
    Extension(f"watchkeeper.{name.replace('/', '.')}", [f"src/watchkeeper/{name}.c"], optional=True, extra_compile_args=_FLAGS)
    for name in ("ingest/_predjson", "ingest/_otlpwire", "security/_literals")
])

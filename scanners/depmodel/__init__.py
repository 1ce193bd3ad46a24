"""One dependency model: every declaration of a project, in every manager, normalised.

A rule that asks "is X declared?" asks this model (through `RepoContext.runtime_requirements`,
`dev_requirements` and `scanners.analysis.project`), never one manager's table: a Poetry,
requirements-file, PDM, Hatch or setuptools project declares its libraries as truly as a
uv one. Judging the manager itself is the DEP rules' job alone.

Sources, all relative to the project root:

- `pyproject.toml`: `[project].dependencies` (runtime), `[project.optional-dependencies]`
  (`optional:<extra>`), `[dependency-groups]` (`group:<name>`, `{include-group = ...}`
  followed), `[tool.uv] dev-dependencies`, `[tool.pdm.dev-dependencies]`, Hatch environments'
  `dependencies`/`extra-dependencies` (all `dev`), Poetry's `[tool.poetry.dependencies]`
  (runtime, `python` read as the Python constraint), `[tool.poetry.group.<g>.dependencies]`
  (`group:<g>`) and `[tool.poetry.dev-dependencies]` (`dev`), Poetry's `^ ~ *` syntax and
  table forms translated to PEP 440;
- `requirements*.txt` (also `*-requirements.txt`) and `requirements/*.txt`, with `-r` includes
  followed inside the checkout only (cycles guarded), `-c` constraints ignored, pip options,
  `-e`, URLs, comments and continuations understood; files whose name says dev, test,
  lint, docs... are dev, the others runtime, and a file only a dev file includes is dev;
- `setup.cfg` `[options] install_requires` / `[options.extras_require]`, and `setup.py`'s
  `install_requires=` / `extras_require=` / `tests_require=` when they are literals (also
  through a module-level name), read from the AST: setup.py is never executed.

Runtime means what a plain install of the service brings: `runtime` declarations and the
dependency groups (uv or Poetry) whose name is not a development word (`dev`, `test`,
`lint`, `docs`, `typing`, ... see `DEV_WORDS`): a project that keeps its application
libraries in `[dependency-groups] app = [...]` with empty `[project].dependencies` declares
them. Dev means `dev` declarations and groups or extras named with a development word.
Other extras are neither, but still "declared anywhere".

Nothing here raises on a malformed manifest: entries that cannot be read are skipped and
reported as notes, as are unknown extras and groups and computed `setup.py` arguments.
"""

from scanners.depmodel.model import (
    DEV_WORDS,
    DependencyModel,
    Location,
    ModelNote,
    PythonConstraint,
    counts_as_dev,
    counts_as_runtime,
    is_dev_label,
)
from scanners.depmodel.poetry import poetry_specifier
from scanners.depmodel.reader import read_dependency_model
from scanners.depmodel.requirements_files import resolve_include
from scanners.depmodel.tomllines import TomlLines

__all__ = [
    "DEV_WORDS",
    "DependencyModel",
    "Location",
    "ModelNote",
    "PythonConstraint",
    "TomlLines",
    "counts_as_dev",
    "counts_as_runtime",
    "is_dev_label",
    "poetry_specifier",
    "read_dependency_model",
    "resolve_include",
]

"""Package discovery only (everything else is in pyproject.toml): the claf packages plus ``claf.base_config``,
which lives at the top of the checkout (``base_config/``) so that ``--base_config klue/nsmc_bert`` names
a file a user can open; ``[tool.setuptools.package-dir]`` maps it into the wheel."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["claf", "claf.*"]) + ["claf.base_config"])

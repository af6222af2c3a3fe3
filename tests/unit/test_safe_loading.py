"""Files from outside (the universe YAML, Tardis' JSON, Parquet in the lake) are parsed
with loaders that build data, never objects: no YAML tag, pickle or extension type runs
code. A static check holds the code base to it; hostile files prove the loaders refuse."""

import ast
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from market_assets.universe import UniverseError, load_universe
from resources.lake import ParquetLake

REPO = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", ".git", "data", "sample", ".dagster_home", "build"}

# Modules whose loading runs code by design.
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "jsonpickle", "marshal",
                  "shelve", "joblib"}  # fmt: skip
UNSAFE_YAML = {"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all",
               "Loader", "UnsafeLoader", "FullLoader",
               "CLoader", "CUnsafeLoader", "CFullLoader"}  # fmt: skip
# yaml's node-level readers default to its full Loader: only with the safe one.
YAML_NEEDING_LOADER = {"compose", "compose_all", "parse", "scan"}
JSON_HOOKS = {"object_hook", "object_pairs_hook", "cls"}
# (file, finding) allowed, with why: only the hostile payload below.
ALLOWED = {
    ("tests/unit/test_safe_loading.py", "import pickle"): "builds the hostile Parquet file",
    ("tests/unit/test_safe_loading.py", "pickle.dumps"): "builds the hostile Parquet file",
}


def unsafe_loading(source: str) -> list[str]:
    """Every place in Python ``source`` that could load data by running code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
                if node.module == "yaml":
                    found += [f"from yaml import {a.name}" for a in node.names
                              if a.name in UNSAFE_YAML | YAML_NEEDING_LOADER]  # fmt: skip
            found += [f"import {n}" for n in names if n.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner, name = node.value.id, node.attr
            if owner in UNSAFE_MODULES:
                found.append(f"{owner}.{name}")
            elif owner == "yaml" and name in UNSAFE_YAML:
                found.append(f"yaml.{name}")
            elif owner in ("pa", "pyarrow") and name == "PyExtensionType":
                found.append(f"{owner}.{name}")
        elif isinstance(node, ast.Call):
            function = node.func
            keywords = {k.arg: k.value for k in node.keywords}
            if isinstance(function, ast.Name) and function.id in ("eval", "exec"):
                found.append(f"{function.id}()")
            if not isinstance(function, ast.Attribute):
                continue
            owner = function.value.id if isinstance(function.value, ast.Name) else ""
            if function.attr == "read_pickle":
                found.append(f"{owner}.read_pickle()")
            elif owner == "yaml" and function.attr in YAML_NEEDING_LOADER:
                loader = keywords.get("Loader")
                safe = isinstance(loader, ast.Attribute) and loader.attr in (
                    "SafeLoader",
                    "CSafeLoader",
                )
                if not safe:
                    found.append(f"yaml.{function.attr}() without Loader=yaml.SafeLoader")
            elif owner in ("np", "numpy") and function.attr == "load":
                allow = keywords.get("allow_pickle")
                if not (isinstance(allow, ast.Constant) and allow.value is False):
                    found.append(f"{owner}.load() without allow_pickle=False")
            elif owner == "json" and function.attr in ("load", "loads"):
                found += [f"json.{function.attr}({k}=...)" for k in JSON_HOOKS & set(keywords)]
            elif owner == "torch" and function.attr == "load":
                found.append("torch.load()")
    return found


def project_sources() -> list[Path]:
    return sorted(
        path for path in REPO.rglob("*.py") if not SKIPPED & set(path.relative_to(REPO).parts[:-1])
    )


def test_the_check_finds_each_unsafe_loader() -> None:
    hostile = """
import pickle, yaml, json, numpy as np, pandas as pd, pyarrow as pa
from yaml import load
yaml.load(text, Loader=yaml.Loader)
yaml.unsafe_load(text)
yaml.full_load(text)
yaml.compose(text)
pickle.loads(blob)
pd.read_pickle(path)
np.load(path)
json.loads(text, object_hook=build)
eval(text)
pa.PyExtensionType
"""
    assert sorted(unsafe_loading(hostile)) == sorted(
        [
            "import pickle",
            "from yaml import load",
            "yaml.load",
            "yaml.Loader",
            "yaml.unsafe_load",
            "yaml.full_load",
            "yaml.compose() without Loader=yaml.SafeLoader",
            "pickle.loads",
            "pd.read_pickle()",
            "np.load() without allow_pickle=False",
            "json.loads(object_hook=...)",
            "eval()",
            "pa.PyExtensionType",
        ]
    )
    safe = "import yaml, json\nyaml.safe_load(t)\nyaml.compose(t, Loader=yaml.SafeLoader)\n"
    assert unsafe_loading(safe + "json.loads(t)\nnp.load(p, allow_pickle=False)\n") == []


def test_the_code_base_parses_outside_data_with_safe_loaders_only() -> None:
    sources = project_sources()
    assert REPO / "market_assets/universe.py" in sources and len(sources) > 100
    findings = {
        (path.relative_to(REPO).as_posix(), finding)
        for path in sources
        for finding in unsafe_loading(path.read_text())
    }
    assert findings - set(ALLOWED) == set()
    assert set(ALLOWED) <= findings  # no allowance outlives its reason


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
        "!!python/name:os.system",
    ],
)
def test_a_universe_with_a_python_tag_is_refused_and_runs_nothing(tag: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        f"venues:\n  binance:\n    data_types: [trades]\n    symbols: {tag.format(marker=marker)}\n"
    )
    with pytest.raises(UniverseError) as refused:
        load_universe(universe)
    message = str(refused.value)
    assert message.startswith(f"{universe}:4: "), message
    assert "tags that build Python objects are refused" in message
    assert not marker.exists()


def test_a_universe_with_a_python_tag_is_refused_by_the_cli(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    universe = tmp_path / "universe.yaml"
    universe.write_text(f'venues: !!python/object/apply:os.system ["touch {marker}"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARDIS_", "MARKET_DATA_"))}
    env.update(MARKET_DATA_UNIVERSE=str(universe), DAGSTER_HOME=str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
         "-m", "market_assets"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"{universe}:1: " in done.stderr + done.stdout, done.stdout[-2000:]
    assert not marker.exists()


class _Payload:
    """Unpickling this runs a shell command: the CVE-2023-47248 vector in pyarrow < 14.0.1,
    where a Parquet field's ``arrow.py_extension_type`` metadata was unpickled on read."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_parquet_file_with_a_pickled_extension_type_reads_as_plain_data(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    field = pa.field(
        "price",
        pa.float64(),
        metadata={
            b"ARROW:extension:name": b"arrow.py_extension_type",
            b"ARROW:extension:metadata": pickle.dumps(_Payload(marker)),
        },
    )
    lake = ParquetLake(str(tmp_path / "lake"))
    folder = lake.partition_path(("ticks", "trades"), "2024-01-02", "binance")
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"price": [1.5, 2.5]}, schema=pa.schema([field])), folder / "x.parquet")

    table = lake.read(("ticks", "trades"), "2024-01-02", "binance")

    assert table.column("price").type == pa.float64()
    assert table.column("price").to_pylist() == [1.5, 2.5]
    assert table.to_pandas()["price"].tolist() == [1.5, 2.5]
    assert not marker.exists()

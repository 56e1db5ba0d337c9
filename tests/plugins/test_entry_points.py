"""Entry-point discovery: lazy loading, sources, and broken or clashing plugins.

Each test lays out a fake installed distribution (a ``.dist-info`` folder
with ``entry_points.txt``, next to the plugin's module) in a temporary folder
and puts that folder on ``sys.path``.
"""

import logging
import sys
import textwrap
from pathlib import Path

import pytest

from maskme.strategies import get_strategy
from maskme.strategies.registry import (
    StrategyPluginError,
    available_strategies,
    get_registered,
    refresh_plugins,
    strategy_names,
)
from maskme.testing import isolated_registry

PLUGIN_MODULE = '''
import polars as pl
from maskme import Strategy, StrategyParams

class ShoutParams(StrategyParams):
    """Params of fake_shout."""

class Shout(Strategy):
    """Upper-case values.

    Notes
    -----
    A test double; gives no privacy.
    """

    name = "fake_shout"
    Params = ShoutParams

    def apply(self, values, batch):
        return values.str.to_uppercase()

class Misnamed(Shout):
    """Registered under an entry point with another name."""
    name = "fake_real_name"

class Impostor(Shout):
    """Uses a built-in name."""
    name = "drop"

NOT_A_STRATEGY = 42
'''

DECORATED_MODULE = '''
from maskme import Strategy, StrategyParams, register_strategy

@register_strategy
class Whisper(Strategy):
    """Lower-case values.

    Notes
    -----
    A test double; gives no privacy.
    """

    name = "fake_whisper"
    Params = StrategyParams

    def apply(self, values, batch):
        return values.str.to_lowercase()
'''


def install_fake_distribution(
    folder: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Write a distribution ``name`` 1.0 with the given entry points and modules into ``folder``."""
    # Installers write the folder name with underscores; importlib.metadata
    # reads the distribution name up to the first dash.
    dist_info = folder / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = ["[maskme.strategies]", *(f"{key} = {value}" for key, value in entry_points.items())]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch):
    """A folder on sys.path for fake distributions; the registry and modules are restored after."""
    modules_before = set(sys.modules)
    monkeypatch.syspath_prepend(str(tmp_path))
    with isolated_registry():
        refresh_plugins()
        yield tmp_path
    for module in set(sys.modules) - modules_before:
        if module.startswith("fake_plugin"):
            del sys.modules[module]
    refresh_plugins()


def test_plugin_name_listed_without_import(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    assert "fake_shout" in strategy_names()
    assert "fake_plugin_one" not in sys.modules


def test_plugin_not_imported_by_builtin_lookup(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    get_strategy("drop")
    with pytest.raises(KeyError):
        get_strategy("no_such_strategy")
    assert "fake_plugin_one" not in sys.modules


def test_plugin_imported_on_lookup(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    strategy = get_strategy("fake_shout")
    assert "fake_plugin_one" in sys.modules
    assert strategy is sys.modules["fake_plugin_one"].Shout
    entry = get_registered("fake_shout")
    assert entry.source == "fake-plugin-one 1.0"
    assert entry.builtin is False


def test_only_requested_plugin_imported(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-two",
        {"fake_whisper": "fake_plugin_two"},
        {"fake_plugin_two": DECORATED_MODULE},
    )
    refresh_plugins()
    get_strategy("fake_shout")
    assert "fake_plugin_one" in sys.modules
    assert "fake_plugin_two" not in sys.modules


def test_did_you_mean_includes_unloaded_plugin(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    with pytest.raises(KeyError, match="did you mean 'fake_shout'"):
        get_strategy("fake_shuot")
    assert "fake_plugin_one" not in sys.modules


def test_module_entry_point_with_decorator(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-two",
        {"fake_whisper": "fake_plugin_two"},
        {"fake_plugin_two": DECORATED_MODULE},
    )
    refresh_plugins()
    assert get_strategy("fake_whisper").__name__ == "Whisper"
    assert get_registered("fake_whisper").source == "fake-plugin-two 1.0"


def test_available_strategies_loads_every_plugin(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-two",
        {"fake_whisper": "fake_plugin_two"},
        {"fake_plugin_two": DECORATED_MODULE},
    )
    refresh_plugins()
    sources = {entry.name: entry.source for entry in available_strategies()}
    assert sources["fake_shout"] == "fake-plugin-one 1.0"
    assert sources["fake_whisper"] == "fake-plugin-two 1.0"
    assert sources["drop"] == "maskme"


def test_broken_plugin_lookup_raises(plugin_folder):
    install_fake_distribution(
        plugin_folder, "fake-plugin-broken", {"fake_gone": "fake_plugin_missing:Gone"}, {}
    )
    refresh_plugins()
    with pytest.raises(StrategyPluginError, match="'fake_gone' from fake-plugin-broken 1.0 failed"):
        get_strategy("fake_gone")


def test_broken_plugin_skipped_in_listing(plugin_folder, caplog):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout", "fake_gone": "fake_plugin_missing:Gone"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    with caplog.at_level(logging.WARNING, logger="maskme.strategies.registry"):
        names = [entry.name for entry in available_strategies()]
    assert "fake_shout" in names
    assert "fake_gone" not in names
    assert any("fake_gone" in record.getMessage() for record in caplog.records)


def test_entry_point_name_must_match(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_alias": "fake_plugin_one:Misnamed"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    with pytest.raises(StrategyPluginError, match="must equal the strategy name"):
        get_strategy("fake_alias")


def test_entry_point_must_name_strategy(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_number": "fake_plugin_one:NOT_A_STRATEGY"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    with pytest.raises(StrategyPluginError, match="expected a subclass of maskme.Strategy"):
        get_strategy("fake_number")


def test_plugin_cannot_shadow_builtin(plugin_folder, caplog):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"drop": "fake_plugin_one:Impostor"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    refresh_plugins()
    assert get_registered("drop").builtin is True
    with caplog.at_level(logging.WARNING, logger="maskme.strategies.registry"):
        entries = {entry.name: entry for entry in available_strategies()}
    assert entries["drop"].source == "maskme"
    assert entries["drop"].builtin is True
    assert any("built in" in record.getMessage() for record in caplog.records)


def test_name_from_two_packages_raises(plugin_folder):
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-one",
        {"fake_shout": "fake_plugin_one:Shout"},
        {"fake_plugin_one": PLUGIN_MODULE},
    )
    install_fake_distribution(
        plugin_folder,
        "fake-plugin-copy",
        {"fake_shout": "fake_plugin_copy:Shout"},
        {"fake_plugin_copy": PLUGIN_MODULE},
    )
    refresh_plugins()
    with pytest.raises(StrategyPluginError, match="more than one installed package"):
        get_strategy("fake_shout")


def test_broken_plugin_error_repeats(plugin_folder):
    install_fake_distribution(
        plugin_folder, "fake-plugin-broken", {"fake_gone": "fake_plugin_missing:Gone"}, {}
    )
    refresh_plugins()
    for _ in range(2):  # the second lookup reports the same failure, not an unknown name
        with pytest.raises(StrategyPluginError, match="failed to load"):
            get_strategy("fake_gone")

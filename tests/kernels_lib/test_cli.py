import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import terralab
from terralab.cli import cli

SUBCOMMANDS = ["up", "demo-data", "version", "search", "catalog"]


def test_version_prints_the_package_version():
    result = CliRunner().invoke(cli, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == terralab.__version__


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {name}" in result.output or f"Usage: terralab {name}" in result.output
    assert "--help" in result.output


def test_top_level_help_lists_the_subcommands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "terralab.cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert terralab.__version__ in out.stdout


def test_demo_data_command_writes_then_skips(tmp_path):
    runner = CliRunner()
    first = runner.invoke(cli, ["demo-data", "--home", str(tmp_path), "--size", "256"])
    assert first.exit_code == 0, first.output
    assert re.search(r"wrote \d+ GeoTIFFs", first.output)
    indexed = int(re.search(r"indexed (\d+) demo items", first.output).group(1))
    assert indexed >= 20  # Landsat, Sentinel-2, Sentinel-1 and the aerial pair
    second = runner.invoke(cli, ["demo-data", "--home", str(tmp_path), "--size", "256"])
    assert "already" in second.output
    assert f"indexed {indexed} demo items" in second.output  # re-indexing keeps one copy


def test_demo_data_refuses_a_region_larger_than_the_county(tmp_path):
    result = CliRunner().invoke(cli, ["demo-data", "--home", str(tmp_path), "--size", "4096"])
    assert result.exit_code != 0
    assert "4096" in result.output


def test_up_refuses_a_bad_port():
    result = CliRunner().invoke(cli, ["up", "--port", "70000"])
    assert result.exit_code != 0
    assert "70000" in result.output


def test_up_on_a_taken_port_says_so_and_starts_nothing(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["up", "--port", str(port), "--home", str(tmp_path),
                                          "--no-demo-data"])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output
    assert not (tmp_path / "hub" / "jupyterhub.log").exists()


def test_up_without_the_proxy_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr("terralab.hub.settings.checkout_root", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["up", "--home", str(tmp_path), "--no-demo-data"])
    assert result.exit_code == 1
    assert "configurable-http-proxy not found" in result.output
    assert "make up" in result.output

from pathlib import Path

import pytest

from terralab.home import checkout_root, terralab_home, user_dir


def test_env_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRALAB_HOME", str(tmp_path / "h"))
    assert terralab_home() == (tmp_path / "h").resolve()
    assert not (tmp_path / "h").exists()
    terralab_home(create=True)
    assert (tmp_path / "h").is_dir()


def test_default_is_var_in_a_checkout_else_dot_terralab(monkeypatch, tmp_path):
    root = checkout_root()
    expected = root / "var" if root is not None else Path.home() / ".terralab"
    assert terralab_home() == expected.resolve()
    monkeypatch.setattr("terralab.home.checkout_root", lambda: None)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert terralab_home() == (tmp_path / ".terralab").resolve()


@pytest.mark.parametrize("name", ["", ".", "..", "../bob", "a/b", "a\\b", "x\x00y"])
def test_user_dir_refuses_names_that_escape(tmp_path, name):
    with pytest.raises(ValueError, match="not a valid user name"):
        user_dir(name, home=tmp_path)


def test_user_dir_is_under_users(tmp_path):
    assert user_dir("alice", home=tmp_path) == (tmp_path / "users" / "alice").resolve()

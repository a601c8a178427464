from conftest import run_cli


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pluralign ")
    helped = run_cli("--help")
    assert helped.returncode == 0
    assert "db" in helped.stdout


def test_store_error_is_one_line_without_traceback(tmp_path):
    out = run_cli("db", "upgrade", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert out.returncode == 1
    assert "cannot open the database" in out.stderr
    assert "Traceback" not in out.stderr

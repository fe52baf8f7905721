"""The command line's one error boundary: a Spanish line on stderr and the code's exit code."""

from __future__ import annotations


def test_errors_become_exit_codes_and_one_spanish_line(service_env, capsys, tmp_path,
                                                       monkeypatch):
    from service.cli import main
    from service.settings import get_settings

    assert main(["reprocess", "--since", "ayer"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evidencia reprocess: Fecha inválida") and "AAAA-MM-DD" in err
    assert "Traceback" not in err

    assert main(["batch", str(tmp_path / "no-existe")]) == 2
    assert "No existe" in capsys.readouterr().err

    monkeypatch.setenv("EVIDENCIA_DATABASE_URL", f"sqlite:///{tmp_path / 'vacia.db'}")
    get_settings.cache_clear()
    assert main(["reprocess", "--all"]) == 2  # a database nobody migrated
    assert "evidencia db upgrade" in capsys.readouterr().err
    assert main(["batch", str(tmp_path)]) == 2
    assert "continuar donde quedó" in capsys.readouterr().err  # a batch resumes

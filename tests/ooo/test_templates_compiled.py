"""Templates compiled once for every process that renders them (each task renders its texts afresh)."""

from __future__ import annotations

from collections import Counter

from jinja2 import Environment

from ooo import templates


def test_a_template_compiled_by_one_process_is_loaded_not_compiled_by_the_next(tmp_path, monkeypatch):
    texts, cache = tmp_path / "templates", tmp_path / "compiled"
    texts.mkdir()
    cache.mkdir()
    (texts / "hello.slack").write_text("Hello {{ name }}!")
    monkeypatch.setattr(templates, "TEMPLATES_DIR", texts)
    monkeypatch.setattr(templates, "compiled_templates",
                        lambda kind, directory=str(cache): templates.FileSystemBytecodeCache(
                            directory, pattern=f"__ooo_{kind}_%s.cache"))
    compiles: Counter[str] = Counter()
    compile_once = Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001
        compiles[name] += 1
        return compile_once(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counted)

    def render_in_a_new_process(**context: str) -> str:  # each task process builds its environments afresh
        env = templates._environment("slack", finalize=templates.slack_escape)
        return env.get_template("hello.slack").render(**context)

    assert render_in_a_new_process(name="<team>") == "Hello &lt;team&gt;!"
    assert render_in_a_new_process(name="Maya") == "Hello Maya!"
    assert compiles["hello.slack"] == 1 and [p.name for p in cache.iterdir()][0].startswith("__ooo_slack_")

    (texts / "hello.slack").write_text("Hi {{ name }}.")  # a release changes the text: compiled again
    assert render_in_a_new_process(name="Maya") == "Hi Maya."
    assert compiles["hello.slack"] == 2

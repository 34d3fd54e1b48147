"""Japanese on the teaching surfaces: the catalogues are complete and compiled, the language is
chosen as documented, and explain / the flow diagnosis / the demo report / the command line's
help render in Japanese without a single sentence missing from the catalogue."""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.locale as locale
from chainrule import nn
from chainrule.cli import main
from chainrule.insight.expression import build as build_expression
from chainrule.locale import environment_language, language, normalise

STATIC = Path(locale.__file__).parent.parent / "playground" / "static"
LESSON_LINES = ["wx = w × x = 2 × 3 = 6", "diff = wx − y = 6 − 10 = −4", "L = diff² = (−4)² = 16",
                "∂L/∂(diff) = 2 × diff = 2 × (−4) = −8", "dL/dw = dL/d(wx) × ∂(wx)/∂w = −8 × 3 = −24"]


class Recorder:
    """A catalogue that notes every message looked up and not found in it."""

    def __init__(self, real):
        self.real, self.missing = real, set()

    def gettext(self, message):
        if message not in self.real._catalog:
            self.missing.add(message)
        return self.real.gettext(message)

    def ngettext(self, singular, plural, count):
        if (singular, 0) not in self.real._catalog:
            self.missing.add(singular)
        return self.real.ngettext(singular, plural, count)


@pytest.fixture
def untranslated(monkeypatch):
    """The set of messages rendered in Japanese that the catalogue lacks (filled as the test runs)."""
    real = locale.translation
    recorder = Recorder(real("ja"))
    monkeypatch.setattr(locale, "translation", lambda lang: recorder if lang == "ja" else real(lang))
    return recorder.missing


def lesson():
    return build_expression("(w*x - y)**2", {"w": 2, "x": 3, "y": 10}, wrt=["w"])


# --- the catalogues ---------------------------------------------------------------------------
def test_every_message_is_translated_and_the_compiled_files_are_up_to_date():
    pytest.importorskip("babel", reason="Babel (the test extra) extracts and compiles the catalogues")
    from chainrule.locale import build

    assert build.build(check=True) == []


def test_the_page_catalogue_has_every_message_the_scripts_ask_for():
    table = json.loads((STATIC / "locale" / "ja.json").read_text(encoding="utf-8"))
    asked = set()
    for script in STATIC.glob("*.js"):
        code = re.sub(r"^\s*//.*$", "", script.read_text(encoding="utf-8"), flags=re.MULTILINE)
        asked |= set(re.findall(r'\btn?\(\s*"((?:[^"\\]|\\.)*)"', code))
    assert asked and asked <= set(table), sorted(asked - set(table))
    assert all(table[key] for key in asked)


# --- choosing the language --------------------------------------------------------------------
@pytest.mark.parametrize("environ, expected", [
    ({}, "en"), ({"LANG": "ja_JP.UTF-8"}, "ja"), ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),
    ({"LC_ALL": "ja_JP.eucJP", "LANG": "en_GB.UTF-8"}, "ja"), ({"LANGUAGE": "fr:ja", "LANG": "en_US"}, "ja"),
    ({"LANGUAGE": "", "LC_MESSAGES": "ja"}, "ja"), ({"LANG": "de_DE.UTF-8"}, "en"),
])
def test_the_environment_names_the_default_language(environ, expected):
    assert environment_language(environ) == expected


def test_a_language_block_wins_over_the_environment_and_ends_with_the_block(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "ja")
    assert locale.current_language() == "ja"
    with language("en"):
        assert locale.current_language() == "en"
    assert locale.current_language() == "ja"
    assert normalise("JA-jp") == "ja"
    with pytest.raises(ValueError, match="lang must be one of en, ja"):
        normalise("fr")


# --- explain ----------------------------------------------------------------------------------
def test_explain_in_japanese_writes_the_lessons_numbers(untranslated):
    english, japanese = cr.explain(lesson(), lang="en"), cr.explain(lesson(), lang="ja")
    for line in LESSON_LINES:
        assert line in english and line in japanese
    for words in ("順伝播", "逆伝播", "連鎖律", "葉ノードの勾配"):
        assert words in japanese
    assert "Forward pass" in english and "Forward pass" not in japanese
    assert not untranslated


@pytest.mark.parametrize("style", ["text", "markdown", "latex"])
def test_every_sentence_explain_can_write_is_in_the_catalogue(untranslated, style):
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True, name="x")
    with np.errstate(all="ignore"):
        cases = _awkward_cases(x)
    for case in cases:
        text = cr.explain(case, style=style, lang="ja", max_nodes=2)
        assert "warning" not in text.lower()
    assert not untranslated


def _awkward_cases(x):
    """Graphs that make explain say everything it can: a value used twice, domain errors, a kink,
    an overflow, a matmul (a Jacobian in words) and a summary of a graph too big to write out."""
    cases = [x * x + x, cr.log(x - 4.0), cr.sqrt(x - 3.0) * 2.0, cr.relu(x - 3.0), (x - 3.0) ** -1.0,
             cr.exp(x * 1000.0)]
    w = cr.tensor(np.ones((3, 2)), dtype=cr.float64, requires_grad=True, name="w")
    inputs = cr.tensor(np.ones((4, 3)), dtype=cr.float64)
    return cases + [(inputs @ w).sum(), (inputs @ w).mean() * 2.0]


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang must be one of"):
        cr.explain(lesson(), lang="fr")


# --- gradient flow ----------------------------------------------------------------------------
def deep_sigmoid(depth=8):
    layers = [nn.Linear(2, 8), nn.Sigmoid()]
    for _ in range(depth - 2):
        layers += [nn.Linear(8, 8), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(8, 2))


def test_gradient_flow_reports_in_japanese(untranslated):
    model = deep_sigmoid()
    x, y = cr.randn(32, 2), cr.tensor(np.arange(32) % 2)
    with cr.insight.GradientFlow(model) as flow:
        for _ in range(3):
            model.zero_grad()
            nn.CrossEntropyLoss()(model(x), y).backward()
    report = flow.report(lang="ja")
    text = str(report)
    assert "vanishing" in report and "勾配消失" in text and "レッスンで学んだ対策" in text
    assert "勾配ノルム" in text.splitlines()[1]          # the table's headings
    assert "VANISHING" in str(flow.report(lang="en"))
    assert not untranslated


def test_the_japanese_table_lines_up_in_terminal_columns():
    from chainrule.insight.diagnosis import format_table
    from chainrule.locale import display_width

    with language("ja"):
        lines = format_table([{"layer": "層 0（入力）", "grad norm": 1.0}, {"layer": "x",
            "grad norm": 2.0}]).splitlines()
    starts = {display_width(line[:line.index(number)]) for line, number in zip(lines[1:], ("1.00e+00",
        "2.00e+00"))}
    assert len(starts) == 1 and display_width(lines[0]) >= max(starts)


# --- the command line -------------------------------------------------------------------------
def test_chainrule_explain_lang_ja(capsys, untranslated):
    assert main(["explain", "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    for line in LESSON_LINES:
        assert line in out
    assert "順伝播（入力から出力へ）" in out
    assert not untranslated


def test_the_environment_sets_the_command_lines_language(capsys, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "")
    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    assert main(["explain"]) == 0
    assert "逆伝播" in capsys.readouterr().out
    assert main(["explain", "--lang", "en"]) == 0
    assert "Backward pass" in capsys.readouterr().out


@pytest.mark.parametrize("command", [[], ["demo"], ["explain"], ["gradient-flow"], ["playground"],
                                     ["distributed-demo"], ["run"]])
def test_help_in_japanese_uses_only_catalogue_messages(capsys, untranslated, command):
    with pytest.raises(SystemExit) as done:
        main([*command, "--lang", "ja", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("使い方:") and "オプション" in out and "このヘルプを表示して終了" in out
    assert not untranslated


def test_bad_values_are_refused_in_japanese(capsys, untranslated):
    assert main_exit(["demo", "--lang", "ja", "--epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "エラー" in err and "正の整数（100,000 以下）を指定してください" in err
    assert main_exit(["explain", "--lang=ja", "--style", "html"]) == 2
    assert "無効な選択肢" in capsys.readouterr().err
    assert main(["explain", "--lang", "ja", "--set", "z=1"]) == 2
    assert "式に含まれる名前" in capsys.readouterr().err
    assert not untranslated


def main_exit(argv):
    with pytest.raises(SystemExit) as done:
        main(argv)
    return done.value.code


def test_the_demo_writes_a_japanese_report(tmp_path, capsys, untranslated):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    assert main(["demo", "--lang", "ja", "--quiet", "--epochs", "3", "--samples", "80", "--out",
        str(out)]) == 0
    printed = capsys.readouterr().out
    assert "レポートを" in printed
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# chainrule デモ: moons")
    for words in ("## 図", "## 勾配の流れ", "## 1 ステップ分の連鎖律", "テストデータの正解率",
        "葉ノードの勾配"):
        assert words in report
    assert "Pictures" not in report and "Gradient flow" not in report
    assert {"loss_curve.png", "decision_boundary.png", "gradient_flow.png"} <= {p.name for p in out.iterdir()}
    assert not untranslated


def test_without_a_japanese_font_the_pictures_fall_back_to_english_with_one_warning(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from chainrule.insight import figures, plots

    monkeypatch.setattr(figures, "japanese_font", lambda: None)
    monkeypatch.setattr(figures, "_font_search", {})
    history = {"train_loss": [1.0, 0.5], "test_loss": [1.1, 0.6]}
    with language("ja"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3):
            plots.plot_training_curves(history, tmp_path / f"curve{i}.png")
        with figures.picture_language():
            figure = plots.training_curves_figure(history)
    font_warnings = [w for w in caught if issubclass(w.category, figures.MissingFontWarning)]
    assert len(font_warnings) == 1 and "fonts-ipaexfont-gothic" in str(font_warnings[0].message)
    assert figure.get_suptitle() == "Training"      # English words, not empty boxes

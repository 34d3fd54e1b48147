"""The results as a table for people, and issue 5's targets checked against them.

``cr/peer`` is chainrule's median step time divided by the peer's: 0.5 means chainrule takes half
the peer's time, 2.0 twice. ``spread`` is (slowest - fastest round median) / median: the noise.
``paired`` is the median over rounds of the same ratio taken within each round (the two runs a
few seconds apart): when the machine's speed drifts between rounds it cancels, so a large gap
between ``cr/peer`` and ``paired`` says the drift, not the libraries, moved the ratio.
"""

from __future__ import annotations

import statistics


def paired_ratio(ours: dict, theirs: dict):
    """Median over rounds of chainrule's round median / the peer's round median (same round)."""
    rounds = zip(ours.get("round_medians_ms") or [], theirs.get("round_medians_ms") or [])
    pairs = [a / b for a, b in rounds if b]
    return statistics.median(pairs) if pairs else None


def _ms(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value >= 100 else f"{value:.3g}" if value < 1 else f"{value:.2f}"


def _status(entry: dict) -> str:
    for key in ("missing", "skipped", "error"):
        if key in entry:
            return f"{key}: {entry[key]}"
    return ""


def _losses_differ(entry: dict, reference: dict) -> bool:
    """True when a peer's first losses leave chainrule's by more than float32 drift (1e-3 relative)."""
    ours, theirs = reference.get("first_losses") or [], entry.get("first_losses") or []
    return any(abs(a - b) > 1e-3 * max(abs(a), abs(b), 1e-6) for a, b in zip(ours, theirs))


def workload_table(results: dict) -> list[str]:
    header = f"{'workload':10s} {'library':14s} {'ms/step':>10s} {'cr/peer':>8s} {'paired':>7s} " \
             f"{'spread':>7s} {'peak MB':>8s} {'1st loss':>9s}  note"
    lines = [header, "-" * len(header)]
    for case, by_peer in results["workloads"].items():
        reference = by_peer.get("chainrule", {})
        ours = reference.get("median_ms")
        for peer, entry in by_peer.items():
            median = entry.get("median_ms")
            ratio = paired = ""
            if peer != "chainrule":
                ratio = f"{ours / median:.2f}" if ours and median else ""
                within_rounds = paired_ratio(reference, entry)
                paired = f"{within_rounds:.2f}" if within_rounds is not None else ""
            spread = f"{entry['spread_pct']:.0f}%" if entry.get("spread_pct") is not None else ""
            rss = f"{entry['peak_rss_mb']:.0f}" if entry.get("peak_rss_mb") else ""
            loss = f"{entry['first_loss']:.5g}" if entry.get("first_loss") is not None else ""
            note = _status(entry)[:90]
            if _losses_differ(entry, reference):
                note = "first losses differ from chainrule's! " + note
            lines.append(f"{case:10s} {peer:14s} {_ms(median):>10s} {ratio:>8s} {paired:>7s} {spread:>7s} "
                         f"{rss:>8s} {loss:>9s}  {note}")
        lines.append("")
    return lines


def w5_lines(w5: dict) -> list[str]:
    lines = ["W5 import time (fresh interpreter, median):"]
    for module, entry in w5.get("import", {}).items():
        lines.append(f"  import {module:10s} {entry['median_s'] * 1e3:8.1f} ms")
    lines.append("W5 peak RSS of a W1 training run:")
    for peer, entry in w5.get("training_memory", {}).items():
        extra = f"  ({entry['error']})" if entry.get("error") else ""
        rss = entry.get("peak_rss_mb") or "-"
        lines.append(f"  {peer:10s} {rss:>8} MB after {entry.get('steps')} steps, "
                     f"median {_ms(entry.get('median_ms'))} ms/step{extra}")
    return lines


def _median(results, case, peer):
    return results["workloads"].get(case, {}).get(peer, {}).get("median_ms")


def _target(description, ours, theirs, limit, compare="le"):
    """One target: ``ours <= limit * theirs`` (or ``ours >= limit * theirs`` for 'ge')."""
    if ours is None or theirs is None:
        return {"target": description, "met": None, "why": "not measured"}
    ratio = ours / theirs
    met = ratio <= limit if compare == "le" else ratio >= limit
    return {"target": description, "met": met, "ratio": round(ratio, 3)}


def check_targets(results: dict) -> list[dict]:
    """Issues 5's and 17's targets, each met / not met / not measured, with the ratio judged on."""
    m = lambda case, peer: _median(results, case, peer)  # noqa: E731
    cr = "chainrule"
    targets = [
        _target("W1 chainrule <= 1.10x NumPy limit", m("W1", cr), m("W1", "numpy"), 1.10),
        _target("W1 chainrule <= PyTorch", m("W1", cr), m("W1", "torch"), 1.0),
        _target("W2 chainrule <= PyTorch", m("W2", cr), m("W2", "torch"), 1.0),
        _target("W2 micrograd >= 100x chainrule", m("W2", "micrograd"), m("W2", cr), 100.0, "ge"),
        _target("W3 50,000 <= 11x 5,000 (linear in depth)", m("W3-50000", cr), m("W3-5000", cr), 11.0),
        _target("W3-5000 chainrule <= PyTorch", m("W3-5000", cr), m("W3-5000", "torch"), 1.0),
        _target("W3-50000 chainrule <= PyTorch", m("W3-50000", cr), m("W3-50000", "torch"), 1.0),
        _target("W4 chainrule <= 1.5x PyTorch", m("W4", cr), m("W4", "torch"), 1.5),
        _target("LSTM chainrule <= 1.5x PyTorch", m("LSTM", cr), m("LSTM", "torch"), 1.5),
        _target("W6 chainrule <= 1.5x PyTorch", m("W6", cr), m("W6", "torch"), 1.5),
        _target("GPT chainrule <= PyTorch (small GPT, AdamW)", m("GPT", cr), m("GPT", "torch"), 1.0),
    ]
    compiled = "compiled"   # issue 17: cr.compile
    targets += [
        _target("W2 compiled <= 1.5x NumPy limit", m("W2", compiled), m("W2", "numpy"), 1.5),
        _target("W1 compiled <= 1.0x NumPy limit", m("W1", compiled), m("W1", "numpy"), 1.0),
        _target("W1 compiled <= 0.95x PyTorch", m("W1", compiled), m("W1", "torch"), 0.95),
        _target("W4 compiled <= 0.7x PyTorch", m("W4", compiled), m("W4", "torch"), 0.7),
    ]
    w5 = results.get("W5", {})
    import_s = w5.get("import", {}).get(cr, {}).get("median_s")
    targets.append(_target("W5 import chainrule <= 0.3 s", import_s, 0.3 if import_s else None, 1.0))
    memory = w5.get("training_memory", {})
    targets.append(_target("W5 peak RSS chainrule < PyTorch (W1 training)",
                           memory.get(cr, {}).get("peak_rss_mb"), memory.get("torch", {}).get("peak_rss_mb"),
                           1.0))
    return targets


def render(results: dict) -> str:
    machine = results["machine"]
    env = ", ".join(f"{k}={v}" for k, v in machine["environment"].items() if v is not None) or "none set"
    lines = [f"chainrule benchmarks ({'quick' if results['settings']['quick'] else 'full'}, "
             f"{results['settings']['rounds']} rounds, {results.get('elapsed_s', '?')} s)",
             f"machine: {machine['cpu']} x{machine['cpu_count']}, Python {machine['python']}, "
             f"load {machine['load_average_start']} -> {machine.get('load_average_end')}",
             f"BLAS/thread variables: {env}", ""]
    for peer, why in results.get("unavailable", {}).items():
        lines.append(f"{peer}: {why}")
    lines += workload_table(results)
    if "W5" in results:
        lines += w5_lines(results["W5"]) + [""]
    lines.append("targets (issues 5 and 17):")
    for t in results.get("targets", []):
        mark = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        ratio = f" (ratio {t['ratio']})" if "ratio" in t else ""
        lines.append(f"  [{mark:12s}] {t['target']}{ratio}")
    return "\n".join(lines)

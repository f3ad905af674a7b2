"""``yarnlab claims --results DIR --out FILE [--settings JSON] [--json FILE] [--n-boot N]``: run the
regime checks, test the paper's claims on a workflow run and write CLAIMS.md, its JSON twin and the claims
forest figure (next to --out).

``yarnlab claims temperature-fit --sweeps CSV... --rules CSV... --out CSV [--rules-out CSV]``: reduce the
temperature sweeps to m*(s) with a joint bootstrap over works (the table the figure and CLAIMS.md read).
``yarnlab claims regime --results DIR --settings JSON --out CSV``: the regime checks alone.
Standard library only at import time."""

from __future__ import annotations


def _load_settings(args) -> dict:
    import json
    from pathlib import Path

    from yarnlab.errors import UsageError

    settings_path = Path(args.settings or Path(args.results, "claims_settings.json"))
    if not settings_path.is_file():
        raise UsageError(
            f"--settings: file not found: {settings_path} (the workflow's claims_settings_file rule writes it)"
        )
    return json.loads(settings_path.read_text())


def _run(args) -> int:
    from pathlib import Path

    from yarnlab.claims.registry import build
    from yarnlab.claims.render import forest, markdown, regime_lines
    from yarnlab.errors import UsageError
    from yarnlab.io import atomic_write_text, provenance, write_json, write_table

    settings = _load_settings(args)
    if args.n_boot is not None and args.n_boot < 100:
        raise UsageError(f"--n-boot: must be >= 100 (got {args.n_boot})")
    doc = build(args.results, settings, args.n_boot)
    out = Path(args.out)
    forest(doc, str(out.parent / "claims_forest"))
    atomic_write_text(out, markdown(doc))
    regime = [{k: r[k] for k in ("check", "what", "value", "threshold", "passed")} for r in doc["regime"]]
    write_table(out.parent / "regime_checks.csv", regime, {"settings": settings["regime"]})
    atomic_write_text(out.parent / "regime_checks.md", "\n".join(regime_lines(doc)) + "\n")
    json_path = Path(args.json) if args.json else out.with_suffix(".json")
    write_json(
        json_path,
        {
            **doc,
            "provenance": provenance({"results": args.results, "settings": settings, "n_boot": doc["n_boot"]}),
        },
    )
    print(out)
    print(json_path)
    return 0


def _temperature_fit(args) -> int:
    from collections import defaultdict

    from yarnlab.claims.temperature import rule_table, temperature_fit
    from yarnlab.errors import UsageError
    from yarnlab.io import read_table, write_table

    if args.n_boot < 100:
        raise UsageError(f"--n-boot: must be >= 100 (got {args.n_boot})")
    sweeps, rules = defaultdict(list), defaultdict(list)
    for path in args.sweeps:
        for r in read_table(path):
            sweeps[float(r["s"])].append(r)
    for path in args.rules or []:
        for r in read_table(path):
            rules[float(r["s"])].append(r)
    if not sweeps:
        raise UsageError("--sweeps: no rows")
    params = {"sweeps": args.sweeps, "rules": args.rules, "n_boot": args.n_boot}
    write_table(args.out, temperature_fit(dict(sweeps), args.n_boot), params)
    if args.rules_out:
        write_table(args.rules_out, rule_table(dict(rules), args.n_boot), params)
    print(args.out)
    return 0


def _regime(args) -> int:
    from pathlib import Path

    from yarnlab.claims.regime import regime_only
    from yarnlab.claims.render import regime_lines
    from yarnlab.io import atomic_write_text, write_table

    settings = _load_settings(args)
    table = regime_only(args.results, settings, args.n_boot)
    rows = [{k: r[k] for k in ("check", "what", "value", "threshold", "passed")} for r in table]
    write_table(args.out, rows, {"settings": settings["regime"]})
    md = "\n".join(regime_lines({"regime": table, "toy": settings.get("toy", {})})) + "\n"
    atomic_write_text(Path(args.out).with_suffix(".md"), md)
    print(md)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("claims", help="test the paper's claims on a workflow run; write CLAIMS.md + JSON")
    p.add_argument("--results", help="the run's results directory (config `results`)")
    p.add_argument("--out", help="Markdown output, e.g. paper_figs/CLAIMS.md")
    p.add_argument("--settings", default=None, help="settings JSON (default RESULTS/claims_settings.json)")
    p.add_argument("--json", default=None, help="JSON output (default: --out with .json)")
    p.add_argument("--n-boot", type=int, default=None, help="bootstrap resamples (default: the settings' n_boot)")
    p.set_defaults(func=_dispatch)
    sub = p.add_subparsers(dest="claims_command")
    t = sub.add_parser("temperature-fit", help="m*(s) with a joint bootstrap over works, from temperature sweeps")
    t.add_argument("--sweeps", nargs="+", required=True, help="sweep CSVs (one per s)")
    t.add_argument("--rules", nargs="*", default=None, help="temperature-rule CSVs (one per s)")
    t.add_argument("--out", required=True, help="the m*(s) table (CSV + provenance)")
    t.add_argument("--rules-out", default=None, help="the per-rule perplexity table")
    t.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    t.set_defaults(func=_temperature_fit)
    g = sub.add_parser("regime", help="the regime checks alone, from the base model's evaluations")
    g.add_argument("--results", required=True, help="the run's results directory")
    g.add_argument("--settings", required=True, help="the claims settings JSON")
    g.add_argument("--out", required=True, help="CSV output (a .md twin is written beside it)")
    g.add_argument("--n-boot", type=int, default=None, help="bootstrap resamples (default: the settings' n_boot)")
    g.set_defaults(func=_regime)


def _dispatch(args) -> int:
    from yarnlab.errors import UsageError

    missing = [f"--{k}" for k in ("results", "out") if not getattr(args, k)]
    if missing:
        raise UsageError(f"{', '.join(missing)}: required (or use a sub-command: temperature-fit, regime)")
    return _run(args)

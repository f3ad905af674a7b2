"""``yarnlab claims --results DIR --paper-figs DIR --out FILE [--settings JSON] [--json FILE]
[--n-boot N]``: test the paper's claims on a workflow run and write CLAIMS.md, its JSON twin and the
claims forest figure (next to --out). Standard library only at import time."""

from __future__ import annotations


def _run(args) -> int:
    import json
    import os
    import tempfile
    from pathlib import Path

    from yarnlab.claims.generate import build
    from yarnlab.claims.render import forest, markdown
    from yarnlab.errors import UsageError
    from yarnlab.theory.provenance import provenance, write_json

    settings_path = Path(args.settings or Path(args.paper_figs, "claims_settings.json"))
    if not settings_path.is_file():
        raise UsageError(
            f"--settings: file not found: {settings_path} (the workflow's claims_settings_file rule "
            "writes it)"
        )
    settings = json.loads(settings_path.read_text())
    if args.n_boot is not None and args.n_boot < 100:
        raise UsageError(f"--n-boot: must be >= 100 (got {args.n_boot})")
    doc = build(args.results, args.paper_figs, settings, args.n_boot)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    forest(doc, str(out.parent / "claims_forest"))
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(markdown(doc))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    json_path = Path(args.json) if args.json else out.with_suffix(".json")
    write_json(
        json_path,
        {
            **doc,
            "provenance": provenance(
                {
                    "results": args.results,
                    "paper_figs": args.paper_figs,
                    "settings": settings,
                    "n_boot": doc["n_boot"],
                }
            ),
        },
    )
    print(out)
    print(json_path)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "claims", help="test the paper's claims on a workflow run; write CLAIMS.md + JSON"
    )
    p.add_argument("--results", required=True, help="the run's results directory (config `results`)")
    p.add_argument("--paper-figs", required=True, help="the run's figure directory (config `paper_figs`)")
    p.add_argument("--out", required=True, help="Markdown output, e.g. paper_figs/CLAIMS.md")
    p.add_argument("--settings", default=None, help="settings JSON (default PAPER_FIGS/claims_settings.json)")
    p.add_argument("--json", default=None, help="JSON output (default: --out with .json)")
    p.add_argument(
        "--n-boot", type=int, default=None, help="bootstrap resamples (default: the settings' n_boot)"
    )
    p.set_defaults(func=_run)

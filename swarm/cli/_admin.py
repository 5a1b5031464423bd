"""``swarm admin token create|revoke|list``: bearer tokens for the daemon's API.

Works on the ledger directly (the first admin token has no daemon to ask).
A token belongs to one tenant and one role: ``ops`` reads and audits,
``ide`` also runs missions and holds locks, ``admin`` also manages tokens.
The secret is printed once; only its sha256 is stored.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import ledger
from swarm.cli._common import emit_json, fail, ledger_url


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
        p.add_argument("--ledger", metavar="URL", default=None, help="ledger URL")
        p.add_argument("--tenant", required=True, help="the tenant the token belongs to")
        p.add_argument("--json", action="store_true", help="print JSON for scripts")
        if name == "create":
            p.add_argument("--role", required=True, choices=["ops", "ide", "admin"])
            p.add_argument("--label", default="", help="a note: who or what holds it")
        if name == "revoke":
            p.add_argument("token_id", help="the token's id (the part after swt_, before _)")
        p.set_defaults(handler=run)


def _row(info: Any) -> dict[str, Any]:
    return {
        "token_id": info.token_id,
        "tenant": info.tenant,
        "role": info.role.label,
        "label": info.label,
        "created_us": info.created_us,
        "revoked_us": info.revoked_us,
        "live": info.live,
    }


def run(args: argparse.Namespace) -> int:
    from swarm.daemon import Role, TokenError, TokenStore

    try:
        with ledger.open_ledger(ledger_url(args)) as led:
            store = TokenStore(led)
            if args.token_action == "create":
                secret, info = store.create(args.tenant, Role.parse(args.role), args.label)
                if args.json:
                    emit_json({**_row(info), "secret": secret})
                else:
                    print(secret)
                    print(
                        f"created {info.role.label} token {info.token_id} for tenant "
                        f"{info.tenant}; the secret above is shown only once",
                        file=sys.stderr,
                    )
            elif args.token_action == "revoke":
                info = store.revoke(args.tenant, args.token_id)
                if args.json:
                    emit_json(_row(info))
                else:
                    print(f"revoked token {info.token_id} of tenant {info.tenant}")
            else:
                rows = [_row(i) for i in store.tokens(args.tenant)]
                if args.json:
                    emit_json(rows)
                elif not rows:
                    print(f"tenant {args.tenant} has no tokens")
                else:
                    print(f"{'TOKEN':<14}{'ROLE':<7}{'STATE':<9}LABEL")
                    for r in rows:
                        state = "live" if r["live"] else "revoked"
                        print(f"{r['token_id']:<14}{r['role']:<7}{state:<9}{r['label']}")
    except (TokenError, ledger.LedgerError) as exc:
        return fail(str(exc))
    return 0

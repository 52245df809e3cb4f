"""Runs scim2-tester (as a library) against a running scim-server tenant.

Usage: conformance.py BASE_URL TOKEN

Prints every result that is not a success (SUCCESS, COMPLIANT, ACCEPTABLE) and a closing
line exactly `N passed, M failed`, where failures are ERROR and CRITICAL results.
Exits 1 when M > 0.
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ServiceProviderConfig
from scim2_tester import Status, check_server

# RFC 9967 §4 (May 2026) adds `securityEvents` to the ServiceProviderConfig, and the server
# advertises it. scim2-models 0.12.3 (the newest) predates it and forbids attributes it
# does not know, so its strict parsing would fail the whole discovery check on that one
# attribute. Let that model accept unknown attributes, so every other discovery assertion
# still runs; the `securityEvents` block itself is tested in scim-core and scim-http.
ServiceProviderConfig.model_config["extra"] = "allow"
ServiceProviderConfig.model_rebuild(force=True)


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    client = SyncSCIMClient(
        Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    )
    results = check_server(
        client,
        include_tags={"discovery", "crud", "patch", "misc"},
        resource_types=["User", "Group"],
    )
    failed = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    for r in results:
        if r.status in (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE):
            continue
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"{r.status.name}{where} {r.title}: {r.reason}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

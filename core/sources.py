"""What the app reads, built from Settings: the LibreNMS clients of the process (one per configured server,
so their device-list caches serve every search and every session) and NetBox's reference data. Pages and ui/
hold a `Sources` and call it; they never build or hold a client themselves. NetBox is always read with the
settings of the session that asks (its analyst's token), never with the process's."""

from __future__ import annotations

import threading

from core import netbox
from core.librenms import DeviceFilter, LibreDevice, LibreNMSClient, client_for
from core.search import Progress, SearchResult, run_search
from core.settings import Settings


class Sources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, LibreNMSClient] = {}
        self._lock = threading.Lock()

    def _client(self, server_key: str) -> LibreNMSClient:
        with self._lock:
            client = self._clients.get(server_key)
            if client is None:
                client = client_for(
                    self.settings,
                    self.settings.server(server_key),
                    cache_seconds=self.settings.librenms_cache_seconds,
                )
                self._clients[server_key] = client
            return client

    def search(
        self,
        settings: Settings,
        flt: DeviceFilter,
        server_key: str,
        *,
        refresh: bool = False,
        progress: Progress | None = None,
    ) -> SearchResult:
        """A search on this server, reading NetBox with `settings` (the session's; `refresh`: read LibreNMS
        again instead of its short-lived cache)."""
        client = self._client(server_key)
        if refresh:
            client.clear_cache()
        return run_search(
            settings, flt, server_key=server_key, librenms=client, progress=progress, refresh=refresh
        )

    def locations(self, server_key: str) -> list[str]:
        """The server's LibreNMS location names (for the filter's choices)."""
        return self._client(server_key).locations()


def all_devices(settings: Settings) -> list[LibreDevice]:
    """Every device of every configured server, disabled ones too, read now (the Mappings page)."""
    servers = settings.librenms_servers or (settings.librenms,)  # .librenms raises "not configured"
    devices: list[LibreDevice] = []
    for server in servers:
        client = LibreNMSClient(server, timeout=settings.librenms_timeout)
        devices += client.list_devices(DeviceFilter(show_disabled=True))
    return devices


def reference_index(settings: Settings) -> netbox.NetBoxIndex:
    """NetBox's reference data (sites, types, platforms, roles, racks, clusters), without existing devices."""
    return netbox.load_index(
        netbox.connect(settings), default_server_key=settings.default_server_key, existing=False
    )

"""The served model: loaded once at start-up, swapped atomically when the champion alias moves.

Handlers read :attr:`ModelHolder.current` once per request, so a request in flight finishes on the model it
started with while new requests get the new one: no request fails or is dropped during a switch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.store.batches import ResultStore

logger = logging.getLogger("riskmodel.serving")


class ModelHolder:
    """Holds the current model and polls the registry for a new version of the same URI.

    Parameters
    ----------
    uri
        ``models:/riskmodel@champion`` (polled), a fixed version, or a local folder (not polled).
    config
        Tracking store location and poll interval.
    loader, resolver
        How to load a model and find the version a URI points at now (:mod:`serving.registry` by default).
    """

    def __init__(
        self,
        uri: str,
        config: RiskConfig,
        *,
        loader: Callable[[str, RiskConfig], RiskModel] | None = None,
        resolver: Callable[[str, RiskConfig], str | None] | None = None,
    ) -> None:
        from serving.registry import load_model, resolve_version

        self.uri = uri
        self.config = config
        self._load = loader or load_model
        self._resolve = resolver or resolve_version
        self.current: RiskModel | None = None
        self.current_registered: str | None = None
        self.last_error: str | None = None
        self._poller = Repeating(config.serving.model_poll_seconds, self.check_for_update, "model-poller")
        self._lock = threading.Lock()

    def load(self) -> RiskModel:
        """Load the model the URI points at now, and make it current."""
        with self._lock:
            registered = self._resolve(self.uri, self.config)
            model = self._load(self.uri if registered is None else self._pinned(registered), self.config)
            model.prepare_explanations()
            self.current, self.current_registered = model, registered
            self.last_error = None
        logger.info("model loaded: %s", model.version)
        return model

    def _pinned(self, version: str) -> str:
        name = self.uri.removeprefix("models:/").split("@")[0].split("/")[0]
        return f"models:/{name}/{version}"

    def check_for_update(self) -> bool:
        """Load a new version if the URI now points elsewhere; True when the model changed."""
        if not self.uri.startswith("models:/") or "@" not in self.uri:
            return False
        try:
            registered = self._resolve(self.uri, self.config)
            if registered is None or registered == self.current_registered:
                return False
            model = self._load(self._pinned(registered), self.config).prepare_explanations()
        except Exception as exc:  # noqa: BLE001 - keep serving the current model, report the failure
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            logger.warning(
                "model update check failed, still serving %s: %s",
                self.current.version if self.current else None,
                self.last_error,
            )
            return False
        with self._lock:
            self.current, self.current_registered = model, registered
        logger.info("switched to model %s", model.version)
        return True

    def start_polling(self) -> None:
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()


class ListWarmer:
    """Reads a newly published batch for the teams the API served lately, before their users ask.

    The first list of a team after the nightly batch reads its rows from the store (about 1.5 s of CPU for a
    30,000-resident team); the next pages and requests re-use them. Every ``serving.model_poll_seconds`` this
    checks for a new batch and, when there is one, prepares each team served from the old batch (most recent
    first, as many as the store keeps: its rows and their assessment), so that the morning's first request is
    as fast as the rest.
    """

    def __init__(self, store: ResultStore, holder: ModelHolder, config: RiskConfig) -> None:
        self.store, self.holder, self.config = store, holder, config
        self._seen: str | None = None
        self._poller = Repeating(config.serving.model_poll_seconds, self.check, "list-warmer")

    def check(self) -> list[str]:
        """Warm the latest batch for the recently served teams if it is new; returns the teams warmed."""
        from riskmodel.worklist.team import team_worklist

        batch = self.store.latest_batch()
        if batch is None or batch["batch_id"] == self._seen:
            return []
        first = self._seen is None
        self._seen = batch["batch_id"]
        model = self.holder.current
        if first or model is None:
            return []
        warmed = []
        for team in self.store.recent_teams():
            try:
                team_worklist(
                    self.store,
                    team,
                    model,
                    today=model.config.deployment.today(),
                    limit=1,
                    reasons=False,
                    config=model.config,  # as the list route has it (team_worklist's default): the same cache key
                )
            except LookupError:
                continue  # the team has no residents in the new batch
            warmed.append(team)
        if warmed:
            logger.info("new batch: %d recently served team lists prepared", len(warmed))
        return warmed

    def start(self) -> None:
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()


class Repeating:
    """A daemon thread that calls ``action`` every ``seconds`` until stopped; an action that raises is logged and
    tried again next time (a store or registry briefly unreachable)."""

    def __init__(self, seconds: float, action: Callable[[], object], name: str) -> None:
        self.seconds, self.action, self.name = seconds, action, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.seconds):
                try:
                    self.action()
                except Exception:
                    logger.warning("%s: failed, trying again in %.0f s", self.name, self.seconds, exc_info=True)

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

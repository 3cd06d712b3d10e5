"""Static checks of collector-config/: OpenTelemetry Collector, Tempo, Grafana, compose, README.

Jaeger, Tempo and the collector cannot run on the CI machines (no Docker engine, no packages),
so these tests check what can be checked without them. They read the real files. Each check
returns a list of problems, and the ``test_check_catches_*`` tests feed the same checks
deliberately broken copies of the real files to show that each one can fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

CONFIG_DIR = Path(__file__).resolve().parents[1] / "collector-config"
README = CONFIG_DIR / "README.md"

# --------------------------------------------------------------------------------------------
# What the files were written for.
# --------------------------------------------------------------------------------------------

OTELCOL_CONTRIB_VERSION = "0.159.0"
OTELCOL_IMAGE_REPO = "otel/opentelemetry-collector-contrib"

# Component types these configs use, exactly as otelcol-contrib v0.159.0 registers them
# (the `type:` in each component's metadata.yaml; the distribution's manifest.yaml lists the
# modules). Deliberately small: a new component must be added here on purpose.
KNOWN_COMPONENT_TYPES_V0_159_0: dict[str, frozenset[str]] = {
    "receivers": frozenset({"otlp"}),  # go.opentelemetry.io/collector/receiver/otlpreceiver
    "processors": frozenset(
        {
            "memory_limiter",  # collector/processor/memorylimiterprocessor
            "batch",  # collector/processor/batchprocessor
            "tail_sampling",  # contrib/processor/tailsamplingprocessor
        }
    ),
    "exporters": frozenset(
        {
            "otlp_grpc",  # collector/exporter/otlpexporter (was `otlp` before v0.144.0)
            "otlp_http",  # collector/exporter/otlphttpexporter (was `otlphttp`)
            "load_balancing",  # contrib/exporter/loadbalancingexporter (was `loadbalancing`)
            "debug",  # collector/exporter/debugexporter
        }
    ),
    "extensions": frozenset({"health_check"}),  # contrib/extension/healthcheckextension
    "connectors": frozenset(),
}
# Old names that v0.159.0 still accepts, with a deprecation warning at start-up.
DEPRECATED_ALIASES: dict[tuple[str, str], str] = {
    ("exporters", "otlp"): "otlp_grpc",
    ("exporters", "otlphttp"): "otlp_http",
    ("exporters", "loadbalancing"): "load_balancing",
}
COLLECTOR_TOP_LEVEL_KEYS = {
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
    "service",
}
PIPELINE_SIGNALS = {"traces", "metrics", "logs", "profiles"}
LB_RESOLVERS = {"static", "dns", "k8s", "aws_cloud_map"}
TAIL_SAMPLING_POLICY_TYPES = {
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "trace_flags",
    "boolean_attribute",
    "ottl_condition",
    "and",
    "composite",
    "not",
    "drop",
}
POLICIES_WITHOUT_BLOCK = {"always_sample", "trace_flags"}

# Jaeger v2.20.0 runs in the compose files with its built-in all-in-one config (no file of
# ours to read), which listens for OTLP/gRPC on 4317 and serves the UI/API on 16686.
JAEGER_OTLP_GRPC_PORT = 4317
JAEGER_UI_PORT = 16686
TEMPO_DEFAULT_MAX_ATTRIBUTE_BYTES = 2048
TEMPO_2X_ONLY_BLOCKS = {"ingester", "ingester_client", "compactor", "metrics_generator_client"}
COLLECTOR_CONFIG_PATH_IN_IMAGE = "/etc/otelcol-contrib/config.yaml"
TEMPO_CONFIG_PATH_IN_IMAGE = "/etc/tempo.yaml"
GRAFANA_PROVISIONING_IN_IMAGE = "/etc/grafana/provisioning/datasources"

COLLECTOR_CONFIGS = [
    "otelcol-jaeger.yaml",
    "otelcol-tempo.yaml",
    "otelcol-laptop.yaml",
    "two-tier/otelcol-front.yaml",
    "two-tier/otelcol-back.yaml",
]
COMPOSE_FILES = ["docker-compose.yaml", "docker-compose.two-tier.yaml"]
TEMPO_CONFIG = "tempo.yaml"
GRAFANA_DATASOURCES = "grafana/provisioning/datasources/datasources.yaml"
# Host ports a laptop user needs from docker-compose.yaml, by service kind.
LAPTOP_REQUIRED_HOST_PORTS = {
    "collector": {4317, 4318},
    "jaeger": {16686},
    "grafana": {3000},
    "tempo": {3200},
}

ALL_YAML = sorted(p for p in CONFIG_DIR.rglob("*") if p.suffix in (".yaml", ".yml"))

Problems = list[str]
Loader = Callable[[str], Any]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def load_yaml(rel: str) -> Any:
    with open(CONFIG_DIR / rel, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def disk_loader(overrides: Mapping[str, Any] | None = None) -> Loader:
    """Loads a file of collector-config/ by relative path, or its in-memory replacement."""
    overrides = dict(overrides or {})

    def load(rel: str) -> Any:
        rel = str(Path(rel).as_posix())
        if rel in overrides:
            return overrides[rel]
        return load_yaml(rel)

    return load


def is_collector_config(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("service"), dict) and "pipelines" in doc["service"]


def component_type(component_id: str) -> str:
    return str(component_id).split("/", 1)[0]


_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def resolve_env_defaults(value: str) -> str:
    """``${env:X:-default}`` -> ``default``, as the collector does when X is unset."""
    return _ENV_REF.sub(lambda m: m.group(2) or "", value)


def split_host_port(value: Any) -> tuple[str, int]:
    text = resolve_env_defaults(str(value))
    text = re.sub(r"^[a-z]+://+", "", text)
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not host:port: {value!r}")
    return host, int(port)


def section(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name)
    return value if isinstance(value, dict) else {}


def pipelines(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return section(section(doc, "service"), "pipelines")


def components_of_type(doc: Mapping[str, Any], kind: str, ctype: str) -> Iterator[tuple[str, Any]]:
    for cid, cfg in section(doc, kind).items():
        if component_type(cid) == ctype:
            yield cid, (cfg or {})


def otlp_receiver_ports(doc: Mapping[str, Any]) -> dict[str, int]:
    """{'grpc': port, 'http': port} of the config's otlp receiver(s)."""
    ports: dict[str, int] = {}
    for _, cfg in components_of_type(doc, "receivers", "otlp"):
        for proto, pcfg in section(cfg, "protocols").items():
            endpoint = (pcfg or {}).get("endpoint")
            if endpoint:
                ports[proto] = split_host_port(endpoint)[1]
    return ports


def health_check_port(doc: Mapping[str, Any]) -> int | None:
    for _, cfg in components_of_type(doc, "extensions", "health_check"):
        if cfg.get("endpoint"):
            return split_host_port(cfg["endpoint"])[1]
    return None


def otlp_exporter_targets(doc: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(exporter id, host, port) of every OTLP exporter, env defaults resolved."""
    targets = []
    for ctype in ("otlp_grpc", "otlp_http"):
        for cid, cfg in components_of_type(doc, "exporters", ctype):
            host, port = split_host_port(cfg.get("endpoint", ""))
            targets.append((cid, host, port))
    return targets


def lb_backends(doc: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(exporter id, host, port) the load_balancing exporters resolve to (static or dns)."""
    backends = []
    for cid, cfg in components_of_type(doc, "exporters", "load_balancing"):
        resolver = section(cfg, "resolver")
        for hostname in section(resolver, "static").get("hostnames") or []:
            host, port = split_host_port(hostname) if ":" in str(hostname) else (str(hostname), 4317)
            backends.append((cid, host, port))
        dns = section(resolver, "dns")
        if dns:
            backends.append(
                (
                    cid,
                    resolve_env_defaults(str(dns.get("hostname", ""))),
                    int(dns.get("port", 4317)),
                )
            )
    return backends


# --------------------------------------------------------------------------------------------
# Checks of one collector config
# --------------------------------------------------------------------------------------------


def check_pipelines(doc: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    connectors = set(section(doc, "connectors"))
    defined = {kind: set(section(doc, kind)) for kind in ("receivers", "processors", "exporters")}
    used: dict[str, set[str]] = {kind: set() for kind in defined}
    if not pipelines(doc):
        problems.append("service.pipelines is empty")
    for pid, pcfg in pipelines(doc).items():
        pcfg = pcfg or {}
        if component_type(pid) not in PIPELINE_SIGNALS:
            problems.append(f"pipeline {pid}: unknown signal {component_type(pid)!r}")
        for kind in ("receivers", "exporters"):
            if not pcfg.get(kind):
                problems.append(f"pipeline {pid}: no {kind}")
        for kind in ("receivers", "processors", "exporters"):
            names = list(pcfg.get(kind) or [])
            if len(names) != len(set(names)):
                problems.append(f"pipeline {pid}: duplicate {kind} in {names}")
            for name in names:
                allowed = defined[kind] | (connectors if kind != "processors" else set())
                if name not in allowed:
                    problems.append(f"pipeline {pid}: {kind[:-1]} {name!r} is not defined")
                used[kind].add(name)
    for kind, defined_names in defined.items():
        for name in sorted(defined_names - used[kind]):
            problems.append(f"{kind[:-1]} {name!r} is defined but no pipeline uses it")
    service_ext = list(section(doc, "service").get("extensions") or [])
    for name in service_ext:
        if name not in section(doc, "extensions"):
            problems.append(f"service.extensions names {name!r}, which is not defined")
    for name in section(doc, "extensions"):
        if name not in service_ext:
            problems.append(f"extension {name!r} is defined but not in service.extensions")
    return problems


def check_component_types(doc: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    for key in doc:
        if key not in COLLECTOR_TOP_LEVEL_KEYS:
            problems.append(f"unknown top-level key {key!r}")
    for kind, known in KNOWN_COMPONENT_TYPES_V0_159_0.items():
        for cid in section(doc, kind):
            ctype = component_type(cid)
            if (kind, ctype) in DEPRECATED_ALIASES:
                problems.append(
                    f"{kind} {cid!r}: {ctype!r} is a deprecated alias in "
                    f"v{OTELCOL_CONTRIB_VERSION}, use "
                    f"{DEPRECATED_ALIASES[(kind, ctype)]!r}"
                )
            elif ctype not in known:
                problems.append(
                    f"{kind} {cid!r}: type {ctype!r} is not on the "
                    f"otelcol-contrib v{OTELCOL_CONTRIB_VERSION} allow-list"
                )
    return problems


def check_processors(doc: Mapping[str, Any]) -> Problems:
    """memory_limiter first, batch last (after tail_sampling); sane limits and batch sizes."""
    problems: Problems = []
    for pid, pcfg in pipelines(doc).items():
        procs = [component_type(p) for p in ((pcfg or {}).get("processors") or [])]
        if not procs or procs[0] != "memory_limiter":
            problems.append(f"pipeline {pid}: memory_limiter must be the first processor: {procs}")
        if "batch" not in procs:
            problems.append(f"pipeline {pid}: no batch processor: {procs}")
        elif procs[-1] != "batch":
            problems.append(f"pipeline {pid}: batch must be the last processor: {procs}")
        if "tail_sampling" in procs and "batch" in procs and (procs.index("batch") < procs.index("tail_sampling")):
            problems.append(f"pipeline {pid}: batch before tail_sampling: {procs}")
    for cid, cfg in components_of_type(doc, "processors", "memory_limiter"):
        if not cfg.get("check_interval"):
            problems.append(f"{cid}: no check_interval (the default 0s disables the checks)")
        limit, spike = cfg.get("limit_mib"), cfg.get("spike_limit_mib")
        if not limit and not cfg.get("limit_percentage"):
            problems.append(f"{cid}: needs limit_mib or limit_percentage")
        if limit and spike is not None and not 0 < spike < limit:
            problems.append(f"{cid}: spike_limit_mib {spike} must be in (0, limit_mib {limit})")
    for cid, cfg in components_of_type(doc, "processors", "batch"):
        size, max_size = cfg.get("send_batch_size"), cfg.get("send_batch_max_size")
        if size is not None and max_size not in (None, 0) and max_size < size:
            problems.append(f"{cid}: send_batch_max_size {max_size} < send_batch_size {size}")
    return problems


def check_tail_sampling(doc: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    for cid, cfg in components_of_type(doc, "processors", "tail_sampling"):
        policies = cfg.get("policies") or []
        if not policies:
            problems.append(f"{cid}: no policies")
        names = [p.get("name") for p in policies if isinstance(p, dict)]
        if len(names) != len(set(names)):
            problems.append(f"{cid}: duplicate policy names {names}")
        for policy in policies:
            if not isinstance(policy, dict) or not policy.get("name"):
                problems.append(f"{cid}: policy without a name: {policy!r}")
                continue
            ptype = policy.get("type")
            if ptype not in TAIL_SAMPLING_POLICY_TYPES:
                problems.append(f"{cid}/{policy['name']}: unknown policy type {ptype!r}")
                continue
            if ptype not in POLICIES_WITHOUT_BLOCK and not isinstance(policy.get(ptype), dict):
                problems.append(f"{cid}/{policy['name']}: type {ptype} needs a {ptype}: block")
            block = policy.get(ptype) or {}
            if ptype == "status_code" and not set(block.get("status_codes") or []) <= {
                "OK",
                "ERROR",
                "UNSET",
            }:
                problems.append(f"{cid}/{policy['name']}: bad status_codes")
            if ptype == "latency" and not (block.get("threshold_ms") or 0) > 0:
                problems.append(f"{cid}/{policy['name']}: latency needs threshold_ms > 0")
            if ptype == "probabilistic" and not 0 < (block.get("sampling_percentage") or 0) <= 100:
                problems.append(f"{cid}/{policy['name']}: sampling_percentage not in (0, 100]")
    return problems


def check_load_balancing(doc: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    for cid, cfg in components_of_type(doc, "exporters", "load_balancing"):
        if cfg.get("routing_key") != "traceID":
            problems.append(f"{cid}: routing_key must be traceID, got {cfg.get('routing_key')!r}")
        protocol = section(cfg, "protocol")
        if set(protocol) != {"otlp"}:
            problems.append(f"{cid}: protocol must have exactly the key 'otlp': {sorted(protocol)}")
        if "endpoint" in section(protocol, "otlp"):
            problems.append(f"{cid}: protocol.otlp.endpoint must not be set")
        resolvers = set(section(cfg, "resolver")) & LB_RESOLVERS
        if len(resolvers) != 1 or set(section(cfg, "resolver")) - LB_RESOLVERS:
            problems.append(
                f"{cid}: needs exactly one resolver of {sorted(LB_RESOLVERS)}, got {sorted(section(cfg, 'resolver'))}"
            )
    return problems


def check_env_refs(text: str) -> Problems:
    """Every ${env:...} needs a default, so that the compose stack works with no env set."""
    return [f"${{env:{m.group(1)}}} has no :-default" for m in _ENV_REF.finditer(text) if m.group(2) is None]


def check_collector_config(doc: Mapping[str, Any]) -> Problems:
    return (
        check_pipelines(doc)
        + check_component_types(doc)
        + check_processors(doc)
        + check_tail_sampling(doc)
        + check_load_balancing(doc)
    )


# --------------------------------------------------------------------------------------------
# Tempo, Grafana, compose, README
# --------------------------------------------------------------------------------------------


def tempo_ports(tempo: Mapping[str, Any]) -> dict[str, int]:
    otlp = section(section(section(tempo, "distributor"), "receivers"), "otlp")
    ports = {
        proto: split_host_port(section(otlp, "protocols")[proto]["endpoint"])[1] for proto in section(otlp, "protocols")
    }
    ports["http_api"] = int(section(tempo, "server").get("http_listen_port", 80))
    return ports


def tempo_max_attribute_bytes(tempo: Mapping[str, Any]) -> int:
    return int(section(tempo, "distributor").get("max_attribute_bytes", TEMPO_DEFAULT_MAX_ATTRIBUTE_BYTES))


def check_tempo(tempo: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    for block in sorted(TEMPO_2X_ONLY_BLOCKS & set(tempo)):
        problems.append(f"tempo: {block!r} is a Tempo 2.x block, removed in 3.0")
    try:
        ports = tempo_ports(tempo)
    except (KeyError, TypeError, ValueError) as exc:
        return problems + [f"tempo: cannot read receiver/server ports: {exc!r}"]
    for proto in ("grpc", "http"):
        if proto not in ports:
            problems.append(f"tempo: no OTLP {proto} receiver")
    for proto, pcfg in section(
        section(section(section(tempo, "distributor"), "receivers"), "otlp"), "protocols"
    ).items():
        if not str((pcfg or {}).get("endpoint", "")).startswith("0.0.0.0:"):
            problems.append(f"tempo: OTLP {proto} receiver must listen on 0.0.0.0 in a container")
    if not isinstance(section(tempo, "distributor").get("max_attribute_bytes", 0), int):
        problems.append("tempo: distributor.max_attribute_bytes must be an int")
    if not section(section(tempo, "storage"), "trace").get("backend"):
        problems.append("tempo: storage.trace.backend is not set")
    return problems


def service_kind(service: Mapping[str, Any]) -> str:
    image = str(service.get("image", ""))
    for prefix, kind in (
        (OTELCOL_IMAGE_REPO + ":", "collector"),
        ("jaegertracing/jaeger:", "jaeger"),
        ("grafana/tempo:", "tempo"),
        ("grafana/grafana:", "grafana"),
    ):
        if image.startswith(prefix):
            return kind
    return "other"


def published_ports(service: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(host port, container port) pairs, short or long compose syntax."""
    result = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            result.append((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) == 1:
            raise ValueError(f"port {entry!r} publishes on a random host port")
        result.append((int(parts[-2]), int(parts[-1])))
    return result


def bind_mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """container path -> host path (relative to the compose file) of bind mounts."""
    mounts = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            if entry.get("type") == "bind":
                mounts[entry["target"]] = entry["source"]
            continue
        source, target = str(entry).split(":")[:2]
        if source.startswith(("./", "../", "/")):
            mounts[target] = source
    return mounts


def compose_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return section(compose, "services")


def check_compose(compose: Mapping[str, Any], load: Loader) -> Problems:
    """Images pinned, mounts exist, ports and hostnames agree with the mounted configs."""
    problems: Problems = []
    services = compose_services(compose)
    if not services:
        return ["compose: no services"]
    tempo_cfg = None
    collector_cfgs: dict[str, Any] = {}
    host_ports: dict[int, str] = {}
    for name, svc in services.items():
        image = str(svc.get("image", ""))
        tag = image.rpartition(":")[2] if ":" in image else ""
        if not tag or tag == "latest":
            problems.append(f"{name}: image {image!r} is not pinned to a version")
        for source in bind_mounts(svc).values():
            if not (CONFIG_DIR / source).exists():
                problems.append(f"{name}: mounted {source} does not exist")
        try:
            ports = published_ports(svc)
        except (ValueError, KeyError) as exc:
            problems.append(f"{name}: {exc}")
            ports = []
        for host_port, _ in ports:
            if host_port in host_ports:
                problems.append(f"host port {host_port} published by {host_ports[host_port]} and {name}")
            host_ports[host_port] = name
        kind = service_kind(svc)
        mounts = bind_mounts(svc)
        command = " ".join(str(c) for c in (svc.get("command") or []))
        if kind == "collector":
            if tag != OTELCOL_CONTRIB_VERSION:
                problems.append(f"{name}: collector image tag {tag!r} != {OTELCOL_CONTRIB_VERSION}")
            cfg_source = mounts.get(COLLECTOR_CONFIG_PATH_IN_IMAGE)
            if cfg_source is None:
                problems.append(f"{name}: nothing mounted at {COLLECTOR_CONFIG_PATH_IN_IMAGE}")
                continue
            if COLLECTOR_CONFIG_PATH_IN_IMAGE not in command:
                problems.append(f"{name}: command does not load {COLLECTOR_CONFIG_PATH_IN_IMAGE}")
            rel = cfg_source.removeprefix("./")
            if rel not in COLLECTOR_CONFIGS:
                problems.append(f"{name}: mounts {cfg_source}, not one of {COLLECTOR_CONFIGS}")
                continue
            cfg = collector_cfgs[name] = load(rel)
            listening = set(otlp_receiver_ports(cfg).values())
            hc_port = health_check_port(cfg)
            if hc_port is not None:
                listening.add(hc_port)
            for host_port, container_port in ports:
                if container_port not in listening:
                    problems.append(
                        f"{name}: publishes container port {container_port}, but {rel} listens on {sorted(listening)}"
                    )
        elif kind == "tempo":
            if mounts.get(TEMPO_CONFIG_PATH_IN_IMAGE) != "./" + TEMPO_CONFIG:
                problems.append(f"{name}: ./{TEMPO_CONFIG} is not mounted at {TEMPO_CONFIG_PATH_IN_IMAGE}")
            if f"-config.file={TEMPO_CONFIG_PATH_IN_IMAGE}" not in command:
                problems.append(f"{name}: command does not load {TEMPO_CONFIG_PATH_IN_IMAGE}")
            tempo_cfg = load(TEMPO_CONFIG)
            api = tempo_ports(tempo_cfg)["http_api"]
            if [c for _, c in ports] != [api]:
                problems.append(
                    f"{name}: should publish exactly the HTTP API port {api}, publishes {[c for _, c in ports]}"
                )
        elif kind == "jaeger":
            if [c for _, c in ports] != [JAEGER_UI_PORT]:
                problems.append(f"{name}: should publish exactly {JAEGER_UI_PORT}, publishes {[c for _, c in ports]}")
        elif kind == "grafana":
            prov_dir = mounts.get(GRAFANA_PROVISIONING_IN_IMAGE)
            ds_file = CONFIG_DIR / str(prov_dir) / Path(GRAFANA_DATASOURCES).name
            if (
                prov_dir is None
                or not ds_file.exists()
                or ds_file.resolve() != (CONFIG_DIR / GRAFANA_DATASOURCES).resolve()
            ):
                problems.append(f"{name}: {GRAFANA_DATASOURCES} is not mounted at {GRAFANA_PROVISIONING_IN_IMAGE}")
            if [c for _, c in ports] != [3000]:
                problems.append(f"{name}: should publish Grafana's port 3000")
        else:
            problems.append(f"{name}: unexpected image {image!r}")

    # Exporter endpoints: the host is a service of this compose file, the port is what that
    # service listens on for OTLP/gRPC.
    def grpc_port_of(service_name: str) -> int | None:
        kind = service_kind(services[service_name])
        if kind == "jaeger":
            return JAEGER_OTLP_GRPC_PORT
        if kind == "tempo":
            return tempo_ports(tempo_cfg if tempo_cfg is not None else load(TEMPO_CONFIG))["grpc"]
        if kind == "collector" and service_name in collector_cfgs:
            return otlp_receiver_ports(collector_cfgs[service_name]).get("grpc")
        return None

    for name, cfg in collector_cfgs.items():
        for cid, host, port in otlp_exporter_targets(cfg) + lb_backends(cfg):
            if host not in services:
                problems.append(
                    f"{name}: exporter {cid} sends to {host!r}, which is not a "
                    f"service of this compose file ({sorted(services)})"
                )
            elif grpc_port_of(host) != port:
                problems.append(
                    f"{name}: exporter {cid} sends to {host}:{port}, but {host} takes OTLP/gRPC on {grpc_port_of(host)}"
                )
    return problems


def check_grafana_datasources(datasources: Mapping[str, Any], compose: Mapping[str, Any], load: Loader) -> Problems:
    problems: Problems = []
    services = compose_services(compose)
    by_type = {ds.get("type"): ds for ds in datasources.get("datasources") or []}
    expected = {"tempo": tempo_ports(load(TEMPO_CONFIG))["http_api"], "jaeger": JAEGER_UI_PORT}
    for ds_type, port in expected.items():
        ds = by_type.get(ds_type)
        if ds is None:
            problems.append(f"grafana: no {ds_type} datasource")
            continue
        host, ds_port = split_host_port(ds.get("url", ""))
        if host not in services or service_kind(services[host]) != ds_type:
            problems.append(f"grafana: {ds_type} datasource host {host!r} is not the {ds_type} service")
        if ds_port != port:
            problems.append(f"grafana: {ds_type} datasource port {ds_port} != {port}")
    return problems


def readme_endpoints(text: str) -> dict[str, set[int]]:
    """protocol -> localhost ports, from fenced blocks that set both ENDPOINT and PROTOCOL."""
    found: dict[str, set[int]] = {}
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL):
        endpoint = re.search(r"OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:(\d+)", block)
        protocol = re.search(r"OTEL_EXPORTER_OTLP_PROTOCOL=([\w/]+)", block)
        if endpoint and protocol:
            found.setdefault(protocol.group(1), set()).add(int(endpoint.group(1)))
    return found


def check_readme(text: str, load: Loader) -> Problems:
    problems: Problems = []
    laptop = load(COMPOSE_FILES[0])
    services = compose_services(laptop)
    collector = [n for n, s in services.items() if service_kind(s) == "collector"]
    if len(collector) != 1:
        return [f"{COMPOSE_FILES[0]}: expected one collector service, got {collector}"]
    cfg = load(bind_mounts(services[collector[0]])[COLLECTOR_CONFIG_PATH_IN_IMAGE][2:])
    receiver = otlp_receiver_ports(cfg)
    host_for = {c: h for h, c in published_ports(services[collector[0]])}
    expected = {
        "grpc": host_for.get(receiver.get("grpc", -1)),
        "http/protobuf": host_for.get(receiver.get("http", -1)),
    }
    documented = readme_endpoints(text)
    for protocol, port in expected.items():
        if documented.get(protocol) != {port}:
            problems.append(
                f"README: OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is documented with "
                f"localhost ports {sorted(documented.get(protocol, []))}, but the "
                f"compose collector publishes it on {port}"
            )
    all_host_ports: set[int] = set()
    for rel in COMPOSE_FILES:
        for svc in compose_services(load(rel)).values():
            all_host_ports |= {h for h, _ in published_ports(svc)}
    mentioned = {int(p) for p in re.findall(r"localhost:(\d+)", text)}
    for port in sorted(mentioned - all_host_ports):
        problems.append(f"README mentions localhost:{port}, which no compose file publishes")
    laptop_ports = {h for s in services.values() for h, _ in published_ports(s)}
    for port in sorted(laptop_ports - mentioned):
        problems.append(f"README does not mention localhost:{port} ({COMPOSE_FILES[0]})")
    for rel in COMPOSE_FILES:
        for svc in compose_services(load(rel)).values():
            if str(svc.get("image")) not in text:
                problems.append(f"README does not name the image {svc.get('image')}")
    if "otelcol-contrib" not in text or f"v{OTELCOL_CONTRIB_VERSION}" not in text:
        problems.append(f"README does not name otelcol-contrib v{OTELCOL_CONTRIB_VERSION}")
    limit = tempo_max_attribute_bytes(load(TEMPO_CONFIG))
    budgets = [int(n) for n in re.findall(r"AGENTEL_MAX_PAYLOAD_BYTES=(\d+)", text)]
    if not budgets:
        problems.append("README gives no AGENTEL_MAX_PAYLOAD_BYTES=<n> setting for Tempo")
    for budget in budgets:
        if budget > limit:
            problems.append(
                f"README suggests AGENTEL_MAX_PAYLOAD_BYTES={budget}, above tempo.yaml's max_attribute_bytes {limit}"
            )
    if "distributor:" not in text or "max_attribute_bytes:" not in text:
        problems.append("README does not show the Tempo key distributor.max_attribute_bytes")
    if "cannot run in this project's CI" not in " ".join(text.replace("\n>", "\n").split()):
        problems.append("README does not say that the backends cannot run in CI")
    return problems


def leading_comment(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Tests on the real files
# --------------------------------------------------------------------------------------------


def test_expected_files_exist() -> None:
    expected = COLLECTOR_CONFIGS + COMPOSE_FILES + [TEMPO_CONFIG, GRAFANA_DATASOURCES]
    missing = [rel for rel in expected if not (CONFIG_DIR / rel).is_file()]
    assert not missing
    assert README.is_file()


@pytest.mark.parametrize("path", ALL_YAML, ids=lambda p: p.relative_to(CONFIG_DIR).as_posix())
def test_yaml_parses(path: Path) -> None:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    assert isinstance(doc, dict) and doc, f"{path} is empty or not a mapping"


def test_every_collector_config_is_listed() -> None:
    """A new collector config in the folder must be added to COLLECTOR_CONFIGS (and so checked)."""
    found = sorted(
        p.relative_to(CONFIG_DIR).as_posix()
        for p in ALL_YAML
        if is_collector_config(yaml.safe_load(p.read_text(encoding="utf-8")))
    )
    assert found == sorted(COLLECTOR_CONFIGS)


@pytest.mark.parametrize("rel", COLLECTOR_CONFIGS)
def test_collector_config(rel: str) -> None:
    assert check_collector_config(load_yaml(rel)) == []


@pytest.mark.parametrize("rel", COLLECTOR_CONFIGS)
def test_collector_config_names_version_and_binds_all_interfaces(rel: str) -> None:
    path = CONFIG_DIR / rel
    assert f"otelcol-contrib v{OTELCOL_CONTRIB_VERSION}" in leading_comment(path)
    assert check_env_refs(path.read_text(encoding="utf-8")) == []
    doc = load_yaml(rel)
    for _, cfg in components_of_type(doc, "receivers", "otlp"):
        for proto, pcfg in section(cfg, "protocols").items():
            # Since v0.104 the default is localhost, unreachable from outside a container.
            assert str(pcfg["endpoint"]).startswith("0.0.0.0:"), (rel, proto)
    assert otlp_receiver_ports(doc).get("grpc") == 4317


def test_two_tier_shape() -> None:
    front = load_yaml("two-tier/otelcol-front.yaml")
    back = load_yaml("two-tier/otelcol-back.yaml")
    # The front tier only load-balances; the back tier only tail-samples and exports.
    assert {component_type(e) for e in section(front, "exporters")} == {"load_balancing"}
    assert not list(components_of_type(front, "processors", "tail_sampling"))
    assert not list(components_of_type(back, "exporters", "load_balancing"))
    # The front tier's backends are the back tier's OTLP/gRPC receiver.
    backends = lb_backends(front)
    assert backends and {port for _, _, port in backends} == {otlp_receiver_ports(back)["grpc"]}
    # Keep errors, slow traces and a probabilistic share.
    ((_, ts),) = components_of_type(back, "processors", "tail_sampling")
    by_type = {p["type"]: p for p in ts["policies"]}
    assert by_type["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    assert by_type["latency"]["latency"]["threshold_ms"] > 0
    assert 0 < by_type["probabilistic"]["probabilistic"]["sampling_percentage"] < 100
    assert ts["decision_cache"]["sampled_cache_size"] > 0


def test_tempo_config() -> None:
    tempo = load_yaml(TEMPO_CONFIG)
    assert check_tempo(tempo) == []
    assert tempo_ports(tempo) == {"grpc": 4317, "http": 4318, "http_api": 3200}
    assert tempo_max_attribute_bytes(tempo) == TEMPO_DEFAULT_MAX_ATTRIBUTE_BYTES


@pytest.mark.parametrize("rel", COMPOSE_FILES)
def test_compose_file(rel: str) -> None:
    assert check_compose(load_yaml(rel), disk_loader()) == []
    assert f"otelcol-contrib v{OTELCOL_CONTRIB_VERSION}" in leading_comment(CONFIG_DIR / rel)


def test_laptop_compose_publishes_the_ports_a_user_needs() -> None:
    services = compose_services(load_yaml(COMPOSE_FILES[0]))
    published: dict[str, set[int]] = {}
    for svc in services.values():
        published.setdefault(service_kind(svc), set()).update(h for h, _ in published_ports(svc))
    for kind, ports in LAPTOP_REQUIRED_HOST_PORTS.items():
        assert ports <= published.get(kind, set()), (kind, ports, published)


def test_compose_versions_match_config_headers() -> None:
    images = {
        service_kind(s): str(s["image"]).rpartition(":")[2]
        for rel in COMPOSE_FILES
        for s in compose_services(load_yaml(rel)).values()
    }
    assert images["collector"] == OTELCOL_CONTRIB_VERSION
    assert f"Tempo v{images['tempo']}" in leading_comment(CONFIG_DIR / TEMPO_CONFIG)
    assert f"Grafana v{images['grafana']}" in leading_comment(CONFIG_DIR / GRAFANA_DATASOURCES)
    for rel in ("otelcol-jaeger.yaml", "two-tier/otelcol-back.yaml"):
        assert f"Jaeger v{images['jaeger']}" in leading_comment(CONFIG_DIR / rel)


@pytest.mark.parametrize("rel", COMPOSE_FILES)
def test_grafana_datasources(rel: str) -> None:
    assert check_grafana_datasources(load_yaml(GRAFANA_DATASOURCES), load_yaml(rel), disk_loader()) == []


def test_readme_agrees_with_files() -> None:
    assert check_readme(README.read_text(encoding="utf-8"), disk_loader()) == []


# --------------------------------------------------------------------------------------------
# The checks can fail: the same checks on broken copies of the real files
# --------------------------------------------------------------------------------------------


def test_check_catches_undefined_and_unused_components() -> None:
    doc = load_yaml("otelcol-laptop.yaml")
    del doc["processors"]["batch"]
    doc["exporters"]["otlp_grpc/unused"] = {"endpoint": "jaeger:4317"}
    doc["service"]["extensions"].append("zpages")
    problems = check_pipelines(doc)
    assert any("'batch' is not defined" in p for p in problems)
    assert any("'otlp_grpc/unused' is defined but no pipeline uses it" in p for p in problems)
    assert any("'zpages'" in p for p in problems)


def test_check_catches_unknown_and_deprecated_component_types() -> None:
    doc = load_yaml("otelcol-jaeger.yaml")
    doc["processors"]["groupbytrace"] = {}
    doc["exporters"]["otlp/jaeger"] = doc["exporters"].pop("otlp_grpc/jaeger")
    problems = check_component_types(doc)
    assert any("'groupbytrace' is not on the" in p for p in problems)
    assert any("deprecated alias" in p and "otlp_grpc" in p for p in problems)
    front = load_yaml("two-tier/otelcol-front.yaml")
    front["exporters"]["loadbalancing"] = front["exporters"].pop("load_balancing")
    assert any("deprecated alias" in p for p in check_component_types(front))


def test_check_catches_processor_order() -> None:
    doc = load_yaml("two-tier/otelcol-back.yaml")
    doc["service"]["pipelines"]["traces"]["processors"] = [
        "batch",
        "tail_sampling",
        "memory_limiter",
    ]
    problems = check_processors(doc)
    assert any("memory_limiter must be the first" in p for p in problems)
    assert any("batch before tail_sampling" in p for p in problems)
    doc = load_yaml("otelcol-tempo.yaml")
    doc["processors"]["batch"]["send_batch_max_size"] = 64
    assert any("send_batch_max_size" in p for p in check_processors(doc))


def test_check_catches_bad_load_balancing_and_policies() -> None:
    front = load_yaml("two-tier/otelcol-front.yaml")
    lb = front["exporters"]["load_balancing"]
    lb["routing_key"] = "service"
    lb["protocol"]["otlp"]["endpoint"] = "otelcol-back:4317"
    lb["resolver"]["static"] = {"hostnames": ["a:4317"]}
    problems = check_load_balancing(front)
    assert len(problems) == 3, problems
    back = load_yaml("two-tier/otelcol-back.yaml")
    policies = back["processors"]["tail_sampling"]["policies"]
    policies[1]["latency"]["threshold_ms"] = 0
    policies[2]["type"] = "percentage"
    problems = check_tail_sampling(back)
    assert len(problems) == 2, problems


def test_check_catches_compose_port_and_hostname_mismatch() -> None:
    rel = COMPOSE_FILES[0]
    compose = load_yaml(rel)
    compose["services"]["collector"]["ports"][0] = "127.0.0.1:4317:4319"
    laptop = load_yaml("otelcol-laptop.yaml")
    laptop["exporters"]["otlp_grpc/tempo"]["endpoint"] = "tempo-db:4317"
    laptop["exporters"]["otlp_grpc/jaeger"]["endpoint"] = "${env:X:-jaeger:14250}"
    problems = check_compose(compose, disk_loader({"otelcol-laptop.yaml": laptop}))
    assert any("container port 4319" in p for p in problems), problems
    assert any("'tempo-db', which is not a service" in p for p in problems), problems
    assert any("jaeger:14250" in p for p in problems), problems

    compose = load_yaml(rel)
    compose["services"]["jaeger"]["image"] = "jaegertracing/jaeger:latest"
    compose["services"]["tempo"]["ports"].append("127.0.0.1:4317:4317")
    compose["services"]["grafana"]["volumes"] = ["./grafana/missing:" + GRAFANA_PROVISIONING_IN_IMAGE]
    problems = check_compose(compose, disk_loader())
    assert any("not pinned" in p for p in problems), problems
    assert any("host port 4317 published by" in p for p in problems), problems
    assert any("does not exist" in p for p in problems), problems

    two_tier = load_yaml(COMPOSE_FILES[1])
    front = load_yaml("two-tier/otelcol-front.yaml")
    front["exporters"]["load_balancing"]["resolver"]["dns"]["port"] = "55690"
    problems = check_compose(two_tier, disk_loader({"two-tier/otelcol-front.yaml": front}))
    assert any("otelcol-back:55690" in p for p in problems), problems


def test_check_catches_tempo_and_grafana_mistakes() -> None:
    tempo = load_yaml(TEMPO_CONFIG)
    tempo["ingester"] = {"max_block_duration": "5m"}
    tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] = "localhost:4317"
    assert len(check_tempo(tempo)) == 2
    datasources = load_yaml(GRAFANA_DATASOURCES)
    datasources["datasources"][0]["url"] = "http://tempo:3100"
    problems = check_grafana_datasources(datasources, load_yaml(COMPOSE_FILES[0]), disk_loader())
    assert problems == ["grafana: tempo datasource port 3100 != 3200"]


def test_check_catches_readme_drift() -> None:
    text = README.read_text(encoding="utf-8")
    broken = text.replace(
        "http://localhost:4318\nexport OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "http://localhost:4319\nexport OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    )
    assert broken != text
    problems = check_readme(broken, disk_loader())
    assert any("http/protobuf" in p for p in problems), problems
    assert any("localhost:4319, which no compose file publishes" in p for p in problems)
    broken = text.replace("AGENTEL_MAX_PAYLOAD_BYTES=2048", "AGENTEL_MAX_PAYLOAD_BYTES=8192")
    assert broken != text
    assert any("above tempo.yaml's max_attribute_bytes" in p for p in check_readme(broken, disk_loader()))
    tempo = load_yaml(TEMPO_CONFIG)
    tempo["distributor"]["max_attribute_bytes"] = 1024
    assert any(
        "above tempo.yaml's max_attribute_bytes 1024" in p
        for p in check_readme(text, disk_loader({TEMPO_CONFIG: tempo}))
    )
    compose = load_yaml(COMPOSE_FILES[0])
    compose["services"]["grafana"]["image"] = "grafana/grafana:13.0.2"
    assert any("grafana/grafana:13.0.2" in p for p in check_readme(text, disk_loader({COMPOSE_FILES[0]: compose})))

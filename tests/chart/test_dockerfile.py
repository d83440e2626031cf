"""The Dockerfile, checked without a Docker engine (there is none on these machines).

Two linters from npm read it (dockerfile-utils: instruction syntax, flags and arguments;
dockerfilelint: best practices) and must report nothing. The properties the image promises are
checked on the parsed instructions: multi-stage, pinned Debian bases, a slim non-root runtime
that writes only to its /data volume, the ports and the HEALTHCHECK, build steps that are CI's
own scripts, a .dockerignore that sends what the build reads and nothing else, and runtime
packages that are exactly those providing the libraries the built binaries load (`ldd`).
What stays unproven until an image is built: that apt in the pinned base finds those packages.
"""

import fnmatch
import json
import os
import re
import shlex
import subprocess

import pytest
import yaml

from chart_tools import CHART, REPO, run, tool

DOCKERFILE = os.path.join(REPO, "Dockerfile")
DOCKERIGNORE = os.path.join(REPO, ".dockerignore")
STANDALONE_CFG = os.path.join(REPO, "examples", "standalone.cfg")
CRD_FILE = os.path.join(REPO, "crds", "zkclusters.zookube.dev.yaml")
# Packages debian:bookworm-slim already has that binaries link against (apt needs them).
SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6"}
# Cyrus SASL finds its mechanisms (DIGEST-MD5, GSSAPI) as plugins it opens at run time, so no
# binary links them; without them libsasl2 offers no mechanism at all.
PLUGINS = {"libsasl2-modules", "libsasl2-modules-gssapi-mit"}
BINARIES = {"zookube-server": os.path.join("server", "zookube-server"),
            "zookube-operator": os.path.join("operator", "zookube-operator")}


def instructions(text):
    """[(stage index, INSTRUCTION, arguments)] with continuations joined and comments dropped."""
    out, stage, pending = [], -1, ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, args = whole.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append((stage, keyword, args.strip()))
    return out


@pytest.fixture(scope="module")
def parsed():
    with open(DOCKERFILE) as f:
        return instructions(f.read())


def stage_of(parsed, index):
    last = max(s for s, _, _ in parsed)
    wanted = last if index == -1 else index
    return [(k, a) for s, k, a in parsed if s == wanted]


def args_of(stage, keyword):
    return [a for k, a in stage if k == keyword]


def props(path):
    with open(path) as f:
        return dict(line.strip().split("=", 1) for line in f
                    if "=" in line and not line.lstrip().startswith("#"))


# --- linters ---------------------------------------------------------------------------------


def lint_utils(path):
    result = run([tool("dockerfile-utils"), "lint", "--json", path])
    return json.loads(result.stdout)


def lint_best_practice(path):
    result = run([tool("dockerfilelint"), "--json", path])
    return [i for f in json.loads(result.stdout)["files"] for i in f["issues"]]


def test_dockerfile_utils_reports_nothing():
    assert lint_utils(DOCKERFILE) == []


def test_dockerfilelint_reports_nothing():
    assert lint_best_practice(DOCKERFILE) == []


def test_the_linters_do_find_problems(tmp_path):
    """Guards the guard: both linters flag a Dockerfile with mistakes this test puts in."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN sudo apt-get install -y foo\nEXPOSE 99999\n"
                   "HEALTHCHECK --bogus=1 CMD true\nCOPY onlyone\nUSER\n")
    messages = [d["message"] for d in lint_utils(str(bad))]
    assert "Unknown flag: bogus" in messages
    assert "COPY requires at least two arguments" in messages
    titles = {i["title"] for i in lint_best_practice(str(bad))}
    assert {"Base Image Latest Tag", "Use Of sudo Is Not Allowed",
            "Invalid Port Exposed"} <= titles


# --- what the image promises -----------------------------------------------------------------


def test_multi_stage_on_pinned_debian_bookworm(parsed):
    froms = [a.split() for s, k, a in parsed if k == "FROM"]
    assert len(froms) == 2
    (build_image, _, build_name), (runtime_image, _, _) = froms
    assert build_name == "build"
    build_tag = re.fullmatch(r"debian:bookworm-(\d{8})", build_image)
    runtime_tag = re.fullmatch(r"debian:bookworm-(\d{8})-slim", runtime_image)
    assert build_tag and runtime_tag, (build_image, runtime_image)
    assert build_tag.group(1) == runtime_tag.group(1), "bump both snapshots together"


def test_build_stage_runs_the_scripts_ci_runs(parsed):
    runs = " && ".join(args_of(stage_of(parsed, 0), "RUN"))
    assert "./scripts/install-deps.sh" in runs
    assert "./scripts/build.sh" in runs
    with open(os.path.join(REPO, "scripts", "test.sh")) as f:
        ci = f.read()
    assert "./scripts/install-deps.sh" in ci and "./scripts/build.sh" in ci


def test_runtime_is_non_root_with_only_data_writable(parsed):
    runtime = stage_of(parsed, -1)
    (user,) = args_of(runtime, "USER")
    uid, gid = (int(x) for x in user.split(":"))
    assert uid >= 10000 and gid >= 10000
    assert args_of(runtime, "VOLUME") == ['["/data"]']
    setup = " ".join(args_of(runtime, "RUN"))
    assert f"chown {uid}:{gid} /data" in setup
    # The image's default config writes only below the volume: the root fs can be read-only.
    build_runs = " ".join(args_of(stage_of(parsed, 0), "RUN"))
    assert "s|^dataDir=.*|dataDir=/data|" in build_runs
    assert "dataLogDir" not in props(STANDALONE_CFG)
    # Nothing from the build tree but the staged files, and no toolchain in the runtime.
    copies = args_of(runtime, "COPY")
    assert copies == ["--from=build /out/ /"]
    assert not re.search(r"\b(g\+\+|gcc|cmake|ninja-build|[a-z0-9.+-]+-dev)\b", setup)
    assert "--no-install-recommends" in setup and "rm -rf /var/lib/apt/lists/*" in setup


def test_ports_are_the_ones_the_defaults_use(parsed):
    (exposed,) = args_of(stage_of(parsed, -1), "EXPOSE")
    cfg = props(STANDALONE_CFG)
    with open(CRD_FILE) as f:
        crd = yaml.safe_load(f)
    ports = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"]["ports"]["properties"]
    with open(os.path.join(CHART, "values.yaml")) as f:
        operator_metrics = yaml.safe_load(f)["metrics"]["port"]
    expected = {int(cfg["clientPort"]), ports["quorum"]["default"], ports["election"]["default"],
                int(cfg["metricsProvider.httpPort"]), operator_metrics}
    assert ports["client"]["default"] == int(cfg["clientPort"])
    assert {int(p) for p in exposed.split()} == expected


def test_healthcheck_probes_the_server_on_its_client_port(parsed):
    (healthcheck,) = args_of(stage_of(parsed, -1), "HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert json.loads(command) == ["zookube-server", "--probe", "live",
                                   "127.0.0.1:" + props(STANDALONE_CFG)["clientPort"]]
    flags = dict(o.lstrip("-").split("=") for o in options.split())
    assert set(flags) >= {"interval", "timeout", "retries"}
    (cmd,) = args_of(stage_of(parsed, -1), "CMD")
    assert json.loads(cmd) == ["zookube-server", "/etc/zookube/zoo.cfg"]


def test_both_binaries_are_installed_on_the_path(parsed):
    build_runs = " ".join(args_of(stage_of(parsed, 0), "RUN"))
    for name, built in BINARIES.items():
        assert f"build/{built} /out/usr/local/bin/{name}" in build_runs


# --- .dockerignore ---------------------------------------------------------------------------


def ignored(path, patterns):
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        regex = fnmatch.translate(body).replace(".*", "[^/]*")
        if body.startswith("**/"):
            regex = "(.*/)?" + fnmatch.translate(body[3:]).replace(".*", "[^/]*")
        if any(re.fullmatch(regex, c) for c in candidates):
            verdict = not negate
    return verdict


@pytest.fixture(scope="module")
def ignore_patterns():
    with open(DOCKERIGNORE) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def test_dockerignore_sends_every_file_the_build_reads(ignore_patterns, parsed):
    tracked = subprocess.run(["git", "-C", REPO, "ls-files"], capture_output=True, text=True,
                             timeout=30, check=True).stdout.split()
    # CMake reads the top CMakeLists.txt and the folders it adds; the build stage copies the
    # install script by name and makes the default zoo.cfg from the standalone example.
    needed = [f for f in tracked if f == "CMakeLists.txt" or
              f.split("/")[0] in ("server", "operator", "bench", "tests", "scripts")]
    needed += ["examples/standalone.cfg"]
    for stage, keyword, args in parsed:
        if keyword == "COPY" and not args.startswith("--from"):
            needed += [src for src in shlex.split(args)[:-1] if src != "."]
    assert "server/main.cpp" in needed
    assert [f for f in needed if ignored(f, ignore_patterns)] == []


def test_dockerignore_keeps_build_trees_and_history_out(ignore_patterns):
    for path in ["build/server/zookube-server", "build-asan/x", "build-h10/CMakeCache.txt",
                 ".git/HEAD", ".cache/zookube/tools/node_modules/x", "charts/x/Chart.yaml",
                 "tests/integration/__pycache__/h.pyc", "bench/results/run.json", "README.md"]:
        assert ignored(path, ignore_patterns), path
    # Guards the matcher: it must also say "sent" for a sent path.
    assert not ignored("server/main.cpp", ignore_patterns)


# --- runtime libraries -----------------------------------------------------------------------


def runtime_packages(parsed):
    setup = " ".join(args_of(stage_of(parsed, -1), "RUN"))
    install = setup.split("apt-get install", 1)[1].split("&&", 1)[0]
    return {w for w in install.split() if not w.startswith("-")}


def package_of_library(path):
    real = os.path.realpath(path)
    for candidate in (real, path, "/usr" + real if not real.startswith("/usr") else real):
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                                timeout=30)
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"no Debian package ships {path}")


def linked_packages(binary):
    result = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    libs = re.findall(r"=> (/\S+)", result.stdout)
    assert libs, result.stdout
    assert "not found" not in result.stdout, result.stdout
    return {package_of_library(lib) for lib in libs}


def built_binaries():
    build = os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))
    return {name: os.path.join(build, rel) for name, rel in BINARIES.items()
            if os.path.exists(os.path.join(build, rel))}


def test_runtime_packages_provide_every_library_the_binaries_load(parsed):
    binaries = built_binaries()
    if "zookube-server" not in binaries:
        pytest.skip("zookube-server is not built (set ZOOKUBE_BUILD_DIR)")
    have = runtime_packages(parsed) | SLIM_BASE
    for name, path in binaries.items():
        missing = linked_packages(path) - have
        assert not missing, f"{name} loads libraries of {sorted(missing)}"


def test_runtime_installs_no_package_the_binaries_do_not_load(parsed):
    binaries = built_binaries()
    if set(binaries) != set(BINARIES):
        pytest.skip(f"needs both binaries built; found {sorted(binaries)}")
    used = set().union(*(linked_packages(p) for p in binaries.values()))
    assert runtime_packages(parsed) - used - PLUGINS == set()
    assert PLUGINS <= runtime_packages(parsed), "the SASL mechanisms must be in the image"


def test_runtime_package_list_is_parsed(parsed):
    """Guards the two tests above: the list they compare is the Dockerfile's, not empty."""
    packages = runtime_packages(parsed)
    assert "libssl3" in packages and "libprometheus-cpp-pull1.0" in packages
    assert not packages & SLIM_BASE


def test_commands_the_operator_and_chart_run_exist_in_the_image(parsed):
    """Members run `/bin/sh -c ... zookube-server` and probe with zookube-server; the chart runs
    zookube-operator: each must be in the slim base or installed on the PATH by the image."""
    build_runs = " ".join(args_of(stage_of(parsed, 0), "RUN"))
    on_path = set(re.findall(r"/out/usr/local/bin/(\S+)", build_runs))
    manifest = os.path.join(REPO, "examples", "zkcluster.yaml")
    build = os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))
    render = os.path.join(build, "operator", "zookube-render")
    if not os.path.exists(render):
        pytest.skip(f"{render} not built")
    result = subprocess.run([render, manifest], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    commands = []
    for obj in json.loads(result.stdout):
        if obj["kind"] != "StatefulSet":
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            commands.append(container["command"])
            commands += [container[p]["exec"]["command"]
                         for p in ("readinessProbe", "livenessProbe")]
    with open(os.path.join(CHART, "templates", "deployment.yaml")) as f:
        commands.append(re.search(r"command: \[(\S+)\]", f.read()).group(1).split(","))
    assert commands
    for command in commands:
        program = command[0]
        assert program == "/bin/sh" or program in on_path, command
        if program == "/bin/sh":
            assert re.search(r"exec (\S+)", command[-1]).group(1) in on_path

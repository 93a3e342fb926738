"""The documentation a user has: links resolve, every config key is documented, examples load.

- every relative link and #anchor in the tracked Markdown files resolves to a file and a heading
  (GitHub's heading slugs);
- every `*.md` file named anywhere in the tracked files exists, and every `physics.md §N` citation
  lands on a section (or a §6 item) of docs/physics.md;
- every key the config parsers accept (found by exploring their branches and reading the keys each
  `tables.Table` records as read) has a row in docs/config.md, in its family's section and table,
  and every documented key is one the parsers accept;
- every choice a string key accepts is listed, and every literal default is the parser's;
- every TOML example in docs/config.md (and the README's config example) is a valid config, with
  at least one per model family;
- no tracked file points at the project-internal notes outside the repository.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import subprocess
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mpi_dbm import config, tables
from mpi_dbm.errors import ConfigError
from mpi_dbm.models import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


# -- the tracked files ----------------------------------------------------------------------------
def tracked_files() -> list[Path]:
    """Files in git's index (new files count once `git add`ed); the working tree as a fallback."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "results", "__pycache__", "build"}
        return sorted(p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts))
    return [ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def markdown_files() -> list[Path]:
    return [p for p in tracked_files() if p.suffix == ".md"]


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- Markdown: code blocks, headings, slugs, links --------------------------------------------------
FENCE = re.compile(r"^\s*(```|~~~)")


def prose_lines(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def code_blocks(text: str, lang: str) -> list[str]:
    """The contents of the fenced code blocks tagged `lang`."""
    blocks: list[str] = []
    tag: str | None = None  # the open block's language, None outside blocks
    lines: list[str] = []
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence and tag is None:
            tag, lines = line.strip()[3:].strip(), []
        elif fence:
            if tag == lang:
                blocks.append("\n".join(lines) + "\n")
            tag = None
        elif tag is not None:
            lines.append(line)
    return blocks


HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of every ATX heading outside code blocks."""
    out = []
    for line in prose_lines(text):
        m = HEADING.match(line)
        if m:
            out.append((len(m.group(1)), m.group(2)))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lower case, punctuation other than `-` and
    `_` dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    kept = [
        c
        for c in text.lower()
        if c in " -" or unicodedata.category(c)[0] in "LMN" or unicodedata.category(c) == "Pc"
    ]
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a file, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = defaultdict(int)
    out = set()
    for _, heading in headings(text):
        base = slug(heading)
        out.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    for line in prose_lines(text):  # explicit HTML anchors: <a id="name"></a>
        out.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
    return out


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(text: str) -> list[str]:
    """Targets of the inline links and images outside code blocks and code spans."""
    out = []
    for line in prose_lines(text):
        out.extend(LINK.findall(re.sub(r"`[^`]*`", "", line)))
    return out


def test_slugs_follow_github() -> None:
    assert slug("Installing on a cluster") == "installing-on-a-cluster"
    assert slug('Gaussian RBM: `kind = "grbm"`') == "gaussian-rbm-kind--grbm"
    assert slug("2.5 Linearised dynamics (T = α/|B|)") == "25-linearised-dynamics-t--αb"
    assert slug("[sweep] and [train]") == "sweep-and-train"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1", "a-2"}
    assert anchors('Text <a id="here"></a>\n') == {"here"}


def test_every_relative_link_and_anchor_resolves() -> None:
    files = markdown_files()
    assert ROOT / "README.md" in files and DOCS / "config.md" in files
    broken = []
    for md in files:
        for target in links(md.read_text(encoding="utf-8")):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            dest = (md.parent / path_part).resolve() if path_part else md
            where = f"{md.relative_to(ROOT)}: ({target})"
            if not dest.exists():
                broken.append(f"{where}: no file {path_part}")
            elif ROOT not in dest.parents and dest != ROOT:
                broken.append(f"{where}: points outside the repository")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
                broken.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, "broken links:\n" + "\n".join(broken)


# -- citations of documentation files ----------------------------------------------------------------
def test_every_cited_markdown_file_exists() -> None:
    """`docs/install.md`, `physics.md §2.5`, ...: a user must find each file named."""
    names = {p.name for p in markdown_files()}
    paths = {str(p.relative_to(ROOT)) for p in markdown_files()}
    missing = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for cited in re.findall(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.md)\b", line):
                known = cited in paths or str((path.parent / cited).resolve().relative_to(ROOT)) in paths
                if not known and Path(cited).name not in names:
                    missing.append(f"{path.relative_to(ROOT)}:{lineno}: {cited}")
                elif "/" in cited and not known and not (ROOT / cited).exists():
                    missing.append(f"{path.relative_to(ROOT)}:{lineno}: {cited} (no such path)")
    assert not missing, "cited Markdown files that do not exist:\n" + "\n".join(missing)


def physics_sections() -> tuple[set[str], set[int], bool]:
    """(section numbers with a heading, §6 item numbers, has Appendix B) of docs/physics.md."""
    text = (DOCS / "physics.md").read_text(encoding="utf-8")
    numbers = set()
    for _, heading in headings(text):
        m = re.match(r"(?:§\s*)?(\d+(?:\.\d+)?)\.?\s", heading + " ")
        if m:
            numbers.add(m.group(1))
    items: set[int] = set()
    in_six = False
    for line in prose_lines(text):
        h = HEADING.match(line)
        if h:
            in_six = re.match(r"(?:§\s*)?6\.?\s", h.group(2) + " ") is not None
            continue
        m = re.match(r"^(\d+)\.\s", line)
        if in_six and m:
            items.add(int(m.group(1)))
    appendix_b = any(re.match(r"Appendix B\b", h) for _, h in headings(text))
    return numbers, items, appendix_b


CITATION = re.compile(r"physics\.md\b(.{0,120})")
SECTION = re.compile(
    r"§\s*(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?((?:\s*items?\s+\d+(?:\s*(?:,|and)\s*\d+)*)?)"
)


def test_every_physics_citation_lands_on_a_section() -> None:
    numbers, items, appendix_b = physics_sections()
    assert {"1", "2", "2.5", "2.6", "3.1", "3.2", "4", "5.3", "6"} <= numbers
    assert items >= set(range(1, 14))
    bad = []
    for path in tracked_files():
        text = text_of(path)
        if text is None or path == DOCS / "physics.md":
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in CITATION.finditer(line):
                rest = re.split(r"\.md\b", m.group(1))[0]  # up to the next file named on the line
                where = f"{path.relative_to(ROOT)}:{lineno}: physics.md{m.group(1)[:40]}"
                for sec in SECTION.finditer(rest):
                    for number in filter(None, (sec.group(1), sec.group(2))):
                        if number not in numbers:
                            bad.append(f"{where}: no section {number}")
                    cited_items = [int(i) for i in re.findall(r"\d+", sec.group(3) or "")]
                    if cited_items and sec.group(1) != "6":
                        bad.append(f"{where}: items are numbered in §6 only")
                    bad.extend(f"{where}: no §6 item {i}" for i in cited_items if i not in items)
                if "Appendix B" in rest and not appendix_b:
                    bad.append(f"{where}: no Appendix B")
    assert not bad, "citations of docs/physics.md that do not resolve:\n" + "\n".join(bad)


# -- config keys: what the parsers accept --------------------------------------------------------------
BASE: dict[str, dict[str, Any]] = {
    "sweep": {"replicas": 1, "points": [[0.1, 4]]},
    "train": {"steps": 10, "measure_every": 5},
}


def accepted_keys(kind: str) -> dict[str, set[str]]:
    """Table name -> every key the parsers accept for `[model] kind = KIND` (see `explore`)."""
    return explore(kind)[0]


def explore(kind: str) -> tuple[dict[str, set[str]], dict[tuple[str, str], tuple[str, ...]]]:
    """(table name -> every key the parsers accept, (table, key) -> the choices of a string key)
    for `[model] kind = KIND`.

    The parsers read their keys conditionally (a key only exists for some values of another), so
    this explores: parse a document, note every key each `Table` recorded as read (its `_read`,
    which is also what `done()` accepts) and every choice a string key offers; then parse the
    variants that set one string key to each of its choices, or one number to 0.5 or 2; keep a
    variant while it reveals keys or choices not seen before."""
    created: list[tables.Table] = []
    choices: dict[tuple[str, str], tuple[str, ...]] = {}
    numbers: set[tuple[str, str]] = set()
    original_init, original_string, original_number = (
        tables.Table.__init__,
        tables.Table.string,
        tables.Table.number,
    )

    def init(self: tables.Table, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        created.append(self)

    def string(self: tables.Table, key: str, *args: Any, **kwargs: Any) -> str:
        options = kwargs.get("choices", args[1] if len(args) > 1 else None)
        if options is not None:
            choices[(self.name, key)] = tuple(options)
        return original_string(self, key, *args, **kwargs)

    def number(self: tables.Table, key: str, *args: Any, **kwargs: Any) -> float:
        numbers.add((self.name, key))
        return original_number(self, key, *args, **kwargs)

    found: dict[str, set[str]] = defaultdict(set)
    mp = pytest.MonkeyPatch()
    mp.setattr(tables.Table, "__init__", init)
    mp.setattr(tables.Table, "string", string)
    mp.setattr(tables.Table, "number", number)
    try:
        queue = [{**copy.deepcopy(BASE), "model": {"kind": kind}}]
        tried: set[str] = set()
        while queue:
            doc = queue.pop(0)
            key = json.dumps(doc, sort_keys=True)
            if key in tried:
                continue
            tried.add(key)
            created.clear()
            before = (sum(len(v) for v in found.values()), len(choices), len(numbers))
            with contextlib.suppress(ConfigError):  # a variant may be invalid: the keys read up to
                config.parse(copy.deepcopy(doc), source="explore")  # the error still count
            for t in created:
                if t.name in ("sweep", "model", "target", "train"):
                    found[t.name] |= t._read
            if (sum(len(v) for v in found.values()), len(choices), len(numbers)) == before and len(tried) > 1:
                continue
            for (table, name), options in sorted(choices.items()):
                if (table, name) == ("model", "kind"):  # the family stays the same
                    continue
                for option in options:
                    queue.append(_with(doc, table, name, option))
            for table, name in sorted(numbers):
                queue.extend(_with(doc, table, name, value) for value in (0.5, 2.0))
    finally:
        mp.undo()
    return found, choices


def _with(doc: dict[str, Any], table: str, key: str, value: Any) -> dict[str, Any]:
    new = copy.deepcopy(doc)
    new.setdefault(table, {})[key] = value
    return new


FAMILIES = tuple(REGISTRY)


def config_doc() -> str:
    return (DOCS / "config.md").read_text(encoding="utf-8")


def section_of(text: str, title: re.Pattern[str]) -> str:
    """The text under the first heading matching `title`, up to the next heading of its level or
    higher."""
    lines = text.splitlines()
    fenced = False
    start = level = None
    out: list[str] = []
    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
        m = None if fenced else HEADING.match(line)
        if start is None:
            if m and title.search(m.group(2)):
                start, level = True, len(m.group(1))
            continue
        if m and len(m.group(1)) <= (level or 0):
            break
        out.append(line)
    assert start, f"docs/config.md has no heading matching {title.pattern!r}"
    return "\n".join(out)


def documented_keys(text: str) -> set[str]:
    """Keys with a table row: lines starting `| \\`key\\` |`."""
    return set(re.findall(r"^\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|", text, flags=re.M))


def family_section(kind: str) -> str:
    return section_of(config_doc(), re.compile(rf'kind = "{kind}"'))


def table_section(text: str, table: str) -> str:
    return section_of(text, re.compile(rf"`\[{table}\]`"))


def test_exploration_finds_branch_keys() -> None:
    """The exploration reaches keys behind choices and numbers (so the next test can fail)."""
    grbm = accepted_keys("grbm")
    assert {"sampler", "gibbs_steps"} <= grbm["model"] and {"n_samples", "eigenvalues"} <= grbm["target"]
    linear = accepted_keys("linear")
    assert {"data_per_batch", "order", "gradient_noise_kind", "init_std"} <= linear["model"]
    assert {"learning_rates", "batch_sizes", "points", "block_size"} <= grbm["sweep"]


@pytest.mark.parametrize("kind", FAMILIES)
def test_every_key_of_each_family_is_documented_in_its_section(kind: str) -> None:
    keys = accepted_keys(kind)
    section = family_section(kind)
    for table in ("model", "target"):
        if not keys[table]:
            continue
        documented = documented_keys(table_section(section, table))
        missing = sorted(keys[table] - documented)
        assert not missing, f'docs/config.md, kind = "{kind}", [{table}]: no row for {missing}'
        stale = sorted(documented - keys[table])
        assert not stale, f'docs/config.md, kind = "{kind}", [{table}]: the parser accepts no {stale}'


@pytest.mark.parametrize("table", ["sweep", "train"])
def test_every_sweep_and_train_key_is_documented(table: str) -> None:
    keys: set[str] = set()
    for kind in FAMILIES:
        keys |= accepted_keys(kind)[table]
    documented = documented_keys(table_section(config_doc(), table))
    assert not sorted(keys - documented), f"docs/config.md [{table}]: no row for {sorted(keys - documented)}"
    assert not sorted(documented - keys), (
        f"docs/config.md [{table}]: the parser accepts no {sorted(documented - keys)}"
    )


#: documents whose canonical form shows the defaults (keys only written for some settings too)
DEFAULT_PROBES: dict[str, list[dict[str, Any]]] = {
    "grbm": [{}, {"noise": "minibatch"}],
    "teacher_student": [{}],
    "linear": [{}, {"data": "finite", "gradient_noise": 0.1}],
    # imported spectra: their names, sizes and descriptions are required (mpi-dbm import writes them)
    "imported": [{"spectra": ["W"], "sizes": [2], "descriptions": ["d"]}],
}


def documented_defaults(text: str) -> dict[str, str]:
    """key -> the default cell of its table row (the third column)."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
        if len(cells) > 4 and re.fullmatch(r"`[A-Za-z_][A-Za-z0-9_]*`", cells[1]):
            out[cells[1].strip("`")] = cells[3]
    return out


def canonical_tables(kind: str, model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    doc = {
        "sweep": {"replicas": 10**6, "points": [[0.1, 4]]},
        "model": {"kind": kind, **model},
        "train": {"steps": 10},
    }
    return tomllib.loads(config.parse(doc, source="defaults").to_toml())


@pytest.mark.parametrize("kind", FAMILIES)
def test_documented_defaults_are_the_parsers_defaults(kind: str) -> None:
    """Every default written as a literal (`10`, `"pcd"`, `["W1", "W2"]`) is what the parser fills
    in; and `block_size`'s default names the parser's cap."""
    section = family_section(kind)
    cells = {
        table: documented_defaults(table_section(section, table))
        for table in ("model", "target")
        if any(f"`[{table}]`" in heading for _, heading in headings(section))
    }
    cells["sweep"] = documented_defaults(table_section(config_doc(), "sweep"))
    checked = 0
    for probe in DEFAULT_PROBES.get(kind, [{}]):
        canonical = canonical_tables(kind, probe)
        for table, row in cells.items():
            for key, cell in row.items():
                literal = re.fullmatch(r"`([^`]+)`", cell)
                if not literal or key in probe or key not in canonical.get(table, {}):
                    continue
                try:
                    value = tomllib.loads(f"v = {literal.group(1)}")["v"]
                except tomllib.TOMLDecodeError:
                    continue  # a formula such as min(replicas, 64), not a value
                assert value == canonical[table][key], (
                    f"docs/config.md [{table}] {key}: default {cell}, parser {canonical[table][key]!r}"
                )
                checked += 1
    assert checked >= (3 if kind == "imported" else 5)  # imported: its keys have no defaults
    block = str(canonical_tables(kind, DEFAULT_PROBES.get(kind, [{}])[0])["sweep"]["block_size"])
    assert block in cells["sweep"]["block_size"], (
        f"docs/config.md [sweep] block_size: the default cap is {block}"
    )


@pytest.mark.parametrize("kind", FAMILIES)
def test_documented_choices_are_the_parsers_choices(kind: str) -> None:
    """Every value a string key accepts is listed (quoted) in the "allowed" column of its row."""
    _, choices = explore(kind)
    section = family_section(kind)
    rows = {"sweep": table_section(config_doc(), "sweep"), "train": table_section(config_doc(), "train")}
    for table in ("model", "target"):
        if any(f"`[{table}]`" in heading for _, heading in headings(section)):
            rows[table] = table_section(section, table)
    missing = []
    for (table, key), options in sorted(choices.items()):
        if (table, key) == ("model", "kind"):  # each family's section documents its own kind
            continue
        row = next((line for line in rows[table].splitlines() if line.startswith(f"| `{key}` |")), "")
        cells = re.split(r"(?<!\\)\|", row)
        allowed = cells[4] if len(cells) > 4 else ""  # | key | type | default | allowed | meaning |
        missing.extend(f"[{table}] {key}: {option!r}" for option in options if f'"{option}"' not in allowed)
    assert not missing, f'docs/config.md, kind = "{kind}": values not documented: {missing}'


def test_config_examples_load() -> None:
    examples = code_blocks(config_doc(), "toml")
    assert examples, "docs/config.md has no ```toml examples"
    kinds = set()
    for i, text in enumerate(examples, 1):
        cfg = config.parse_text(text, source=f"docs/config.md example {i}")
        kinds.add(cfg.model.kind)
    assert kinds == set(FAMILIES), f"docs/config.md needs a complete example per family; has {sorted(kinds)}"
    readme = [
        t for t in code_blocks((ROOT / "README.md").read_text(encoding="utf-8"), "toml") if "[sweep]" in t
    ]
    assert readme, "the README shows a config"
    for text in readme:
        config.parse_text(text, source="README.md example")


# -- nothing outside the repository -----------------------------------------------------------------
def test_no_tracked_file_points_outside_the_repository_docs() -> None:
    forbidden = (".." + "/shared", "shared" + "/docs")
    hits = []
    for path in tracked_files():
        data = path.read_bytes()
        hits.extend(f"{path.relative_to(ROOT)}: {word}" for word in forbidden if word.encode() in data)
    assert not hits, "the repository's docs must stand alone:\n" + "\n".join(hits)


def test_no_install_recipe_guesses_hdf5_dir_from_the_compiler_path() -> None:
    """HDF5_DIR set to the grandparent of h5pcc's directory (two `dirname`s of `which h5pcc`) is /usr
    on Debian/Ubuntu, where the parallel library is not in /usr/lib: the h5py build fails
    (docs/install.md, Debian and Ubuntu). The README recommended it until issue #12."""
    recipe = re.compile(r"HDF5_DIR=\"?\$\(\s*dirname")
    hits = [
        f"{path.relative_to(ROOT)}:{lineno}"
        for path in tracked_files()
        if (text := text_of(path)) is not None
        for lineno, line in enumerate(text.splitlines(), 1)
        if recipe.search(line)
    ]
    assert not hits, "HDF5_DIR guessed from h5pcc's path:\n" + "\n".join(hits)

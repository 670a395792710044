"""lab/plots.read_log: the rows of a log that a resume rewrote, and a line cut short by a crash."""
import json

from lab import plots


def write(path, lines):
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))


def test_a_resume_drops_what_the_interrupted_run_wrote_after_its_checkpoint(tmp_path):
    # first run: steps 0..7 (checkpoint at 4), killed; resumed with --steps 6: steps 4, 5 again
    lines = [{"config": {"agents": "a,b"}}] + [{"step": s, "v": "old"} for s in range(8)]
    lines += [{"resumed_at": 4}, {"step": 4, "v": "new"}, {"step": 5, "v": "new"}, {"result": {}}]
    write(tmp_path / "log.jsonl", lines)
    config, rows = plots.read_log(str(tmp_path))
    assert config == {"agents": "a,b"}
    assert [(r["step"], r["v"]) for r in rows] == [(0, "old"), (1, "old"), (2, "old"), (3, "old"),
                                                   (4, "new"), (5, "new")]


def test_a_line_cut_short_is_skipped(tmp_path):
    write(tmp_path / "log.jsonl", [{"config": {}}, {"step": 0, "v": 1}, '{"step": 1, "v'])
    _, rows = plots.read_log(str(tmp_path / "log.jsonl"))
    assert [r["step"] for r in rows] == [0]

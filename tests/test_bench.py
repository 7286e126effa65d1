"""The bench's reports of the measuring scripts: every timed control, its floor ratio and verdict; the server's
CPU per warm page view against its bar."""

from lstm_core.bench import print_latency, print_view_cost


def test_the_latency_report_names_every_control_with_its_ratio_and_verdict(capsys):
    result = {"repeats": 3, "floor_seconds": 0.2, "floor_load_seconds": 0.5, "target_seconds": 0.3, "floor_ratio": 2.0,
              "rows": [{"page": "floor", "control": "slider", "median": 0.2, "max": 0.3, "ratio": None,
                        "verdict": "", "error": ""},
                       {"page": "/gates", "control": "Unit +/-1", "median": 0.25, "max": 0.41, "ratio": 1.25,
                        "verdict": "ok", "error": ""},
                       {"page": "/generate", "control": "Temperature", "median": 0.9, "max": 1.2, "ratio": 4.5,
                        "verdict": "SLOW (> 0.3 s, > 2x floor)", "error": ""},
                       {"page": "/cell", "control": "input x_t[0]", "median": None, "max": None, "ratio": None,
                        "verdict": "", "error": "NotFound: no such slider"}]}
    print_latency(result)
    lines = capsys.readouterr().out.splitlines()
    assert "0.200 s a slider change" in lines[0] and "<= 0.3 s and <= 2x floor" in lines[0]
    assert len(lines) == 4  # the floor is in the header, not a row of its own
    assert "Unit +/-1" in lines[1] and "0.250 s, max 0.41 s (1.2x floor): ok" in lines[1]
    assert "4.5x floor" in lines[2] and lines[2].endswith("SLOW (> 0.3 s, > 2x floor)")
    assert "not measured: NotFound: no such slider" in lines[3]


def test_the_view_cost_report_judges_gates_and_generate_only(capsys):
    print_view_cost({"/gates": {"cpu_per_view": 0.031}, "/generate": {"cpu_per_view": 0.072},
                     "minimal page": {"cpu_per_view": 0.02}})
    lines = capsys.readouterr().out.splitlines()
    assert "target <= 0.05 s" in lines[0]
    assert lines[1].endswith("0.031 CPU-s: met") and "0.072 CPU-s: NOT met" in lines[2]
    assert lines[3].endswith("0.020 CPU-s")

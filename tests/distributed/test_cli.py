"""Bad settings: one `error:` line, exit status 2, before TensorFlow starts a server, and
nothing on disk changed."""
import json
import socket

import pytest

from tf1cnn.distributed import cli
from tf1cnn.distributed.cluster import free_ports


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None


def fails(capsys, argv, message, env=None, monkeypatch=None):
    if env is not None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err, err
    return err


@pytest.fixture
def trained(tmp_path):
    """A checkpoint folder as a run with the default settings leaves it."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(cli.TrainConfig().run_settings()))
    (folder / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-5"\n')
    return folder


@pytest.mark.parametrize("argv, message", [
    (["train", "--ps-hosts", "a:1", "--worker-hosts", "b", "--job-name", "worker",
      "--task-index", "0"], "--worker-hosts: 'b' is not host:port"),
    (["train", "--ps-hosts", "a:1,", "--worker-hosts", "b:2", "--job-name", "ps",
      "--task-index", "0"], "--ps-hosts"),
    (["train", "--ps-hosts", "127.0.0.1:1", "--worker-hosts", "127.0.0.1:2,127.0.0.1:3",
      "--job-name", "worker", "--task-index", "2"], "task index 2 is out of range"),
    (["train", "--ps-hosts", "a:1", "--worker-hosts", "b:2"], "missing: --job-name"),
    (["train", "--job-name", "chief"], "invalid choice: 'chief'"),
    (["train", "--last-step", "0"], "--last-step must be a whole number"),
    (["train", "--workers", "two"], "invalid int value"),
    (["train", "--ports", "1", "2"], "--ports needs 4 ports"),
    (["train", "--ps-hosts", "10.0.0.1:2222", "--worker-hosts", "10.0.0.2:2222",
      "--job-name", "ps", "--task-index", "0"], ("non-loopback addresses (10.0.0.1:2222, "
                                                "10.0.0.2:2222); TF's gRPC servers accept")),
    (["nonsense"], "invalid choice"),
    ([], "the following arguments are required: command"),
])
def test_bad_settings_are_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    fails(capsys, argv, message)
    assert list(tmp_path.iterdir()) == []  # not even the checkpoint folder was made


def test_malformed_tf_config(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fails(capsys, ["train"], "TF_CONFIG is not JSON", {"TF_CONFIG": "{oops"}, monkeypatch)


def test_unwritable_checkpoint_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("keep")
    fails(capsys, ["train", "--checkpoint-dir", str(blocker / "run")],
          f"checkpoint directory {blocker / 'run'} is not writable")
    assert blocker.read_text() == "keep"


def test_other_settings_in_a_trained_folder_lose_nothing(capsys, trained):
    before = snapshot(trained)
    fails(capsys, ["train", "--checkpoint-dir", str(trained), "--seed", "5"],
          "holds a run with other settings (seed 0 -> 5)")
    assert snapshot(trained) == before


def test_a_port_in_use(capsys, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        ports = [str(p) for p in free_ports(3)]
        fails(capsys, ["train", "--checkpoint-dir", str(tmp_path / "run"), "--ports",
                       ports[0], str(busy), *ports[1:]], f"port {busy} (127.0.0.1:{busy}) is "
                                                         f"already in use")


def test_a_task_whose_port_is_in_use(capsys, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        ps, worker = free_ports(2)
        fails(capsys, ["train", "--checkpoint-dir", str(tmp_path / "run"),
                       "--ps-hosts", f"127.0.0.1:{ps}", "--worker-hosts",
                       f"127.0.0.1:{busy},127.0.0.1:{worker}", "--job-name", "worker",
                       "--task-index", "0"], "already in use")


def test_eval_without_a_run_or_a_checkpoint(capsys, tmp_path, trained):
    fails(capsys, ["eval", "--checkpoint-dir", str(tmp_path / "none")], "holds no training run")
    (trained / "checkpoint").unlink()
    before = snapshot(trained)
    fails(capsys, ["eval", "--checkpoint-dir", str(trained)], "no checkpoint in")
    assert snapshot(trained) == before


def test_eval_with_a_broken_checkpoint(capsys, trained):
    (trained / "model.ckpt-5.index").write_bytes(b"not a checkpoint")
    before = snapshot(trained)
    fails(capsys, ["eval", "--checkpoint-dir", str(trained)], "cannot restore")
    assert snapshot(trained) == before


def test_help_lists_the_options_with_the_tutorials_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in (("--last-step LAST_STEP train until the global step reaches this "
                     "(StopAtStepHook); if omitted, 100000 (toy) or 40000 (style-net)"),
                     "--model {toy,style-net}", "--sync", "--ps-hosts",
                     "--worker-hosts", "--job-name", "--task-index", "--allow-remote",
                     "(default: 0.001)"):
        assert expected in text


def test_allow_remote_warns_before_starting_the_task(capsys, tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(cli, "_run_task", lambda *args: started.append(args) or 0)
    monkeypatch.chdir(tmp_path)
    ps, worker = free_ports(2)
    argv = ["train", "--ps-hosts", f"10.0.0.1:{ps}", "--worker-hosts", f"10.0.0.2:{worker}",
            "--job-name", "worker", "--task-index", "0"]
    assert cli.main([*argv, "--allow-remote"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: this task's gRPC server listens on every interface")
    assert "10.0.0.1" in err and "firewall" in err
    (cluster, task, config, net, threads), = started
    assert task.is_chief and cluster["worker"] == [f"10.0.0.2:{worker}"] and config.allow_remote
    assert net is None and threads == 1  # the toy model, one thread an op

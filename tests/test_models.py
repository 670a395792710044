"""models.load with a hub id it cannot fetch: a clear error at once (the id, and what to do), never a minute of
retries. No test here touches the network: offline mode is on (conftest.py), and the no-network case is faked."""
import pytest
import transformers

import models

MADE_UP = "ilr-tests-nobody/no-such-model-7f3a"     # not on the hub, not in any cache


@pytest.fixture
def no_download(monkeypatch):
    """from_pretrained must not be reached for an id that cannot be fetched: it would go to the hub."""
    def refuse(*args, **kwargs):
        raise AssertionError("models.load went on to from_pretrained (the hub) instead of failing first")
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", refuse)


def test_offline_hub_id_fails_at_once_naming_it_and_what_to_do(monkeypatch, no_download):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError) as e:
        models.load(MADE_UP)
    message = str(e.value)
    assert MADE_UP in message and "HF_HUB_OFFLINE" in message and "local folder" in message, message


def test_hub_id_without_network_fails_at_once(monkeypatch, no_download):
    # online mode, but every connection fails at once, as with no network
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)

    def no_network(address, timeout=None, *args, **kwargs):
        raise OSError("Network is unreachable")
    monkeypatch.setattr(models.socket, "create_connection", no_network)
    with pytest.raises(OSError, match="cannot be reached") as e:
        models.load(MADE_UP)
    assert MADE_UP in str(e.value) and "Network is unreachable" in str(e.value)


def test_local_names_never_look_at_the_hub(monkeypatch):
    monkeypatch.setattr(models, "check_hub_id", lambda name: pytest.fail(f"{name} was taken for a hub id"))
    model, tok = models.load("tiny-weak")
    assert tok.chat_template and model.num_parameters() > 0

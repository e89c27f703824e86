import json

import pytest

from raypipe.config import Config, ConfigError


def test_defaults_need_no_number_of_people():
    config = Config()
    assert config.cluster.clusterer == {"name": "auto"}
    assert config.extract.detector == {"name": "auto"}


def test_file_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("cluster:\n  clusterer: {name: hdbscan, min_cluster_size: 3}\nquality:\n  min_face_px: 40\n")
    config = Config.load(path, ["cluster.clusterer.min_cluster_size=5", "extract.detector=dlib-cnn"])
    assert config.cluster.clusterer == {"name": "hdbscan", "min_cluster_size": 5}
    assert config.extract.detector == {"name": "dlib-cnn"}
    assert config.quality.min_face_px == 40


def test_renaming_a_component_drops_the_old_settings():
    base = Config.load(overrides=["cluster.clusterer={name: hdbscan, min_cluster_size: 3}"])
    config = base.updated(overrides=["cluster.clusterer=finch"])
    assert config.cluster.clusterer == {"name": "finch"}


def test_round_trip_through_json():
    config = Config.load(overrides=["extract.shard_size=7"])
    assert Config.from_dict(json.loads(config.to_json())) == config


@pytest.mark.parametrize("override", ["extract.detectr=dlib-cnn", "nosection.x=1", "no-equals-sign"])
def test_bad_settings_are_named(override):
    with pytest.raises(ConfigError, match="unknown setting|not of the form"):
        Config.load(overrides=[override])


@pytest.mark.parametrize("mask_text, text_mode", [(True, "mask"), (False, "none")])
def test_config_of_a_run_written_before_text_mode_still_loads(mask_text, text_mode):
    stored = Config().to_dict()
    del stored["comic"]["text_mode"]
    stored["comic"]["mask_text"] = mask_text
    assert Config.from_dict(stored).comic.text_mode == text_mode


@pytest.mark.parametrize(
    "setting, says",
    [({"no_such_setting": 1}, "unexpected keyword argument 'no_such_setting'"),
     ({"max_scale": "abc"}, "could not convert string to float: 'abc'")],
)  # fmt: skip
def test_an_unknown_setting_or_a_value_of_the_wrong_kind_is_a_component_error_naming_the_component(setting, says):
    from raypipe.detect import DETECTORS
    from raypipe.registry import ComponentError

    with pytest.raises(ComponentError) as error:
        DETECTORS.build({"name": "drawn-faces", "verifier": "none", **setting})
    assert str(error.value).startswith("bad settings for detector 'drawn-faces': ") and says in str(error.value)

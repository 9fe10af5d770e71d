"""Backbones: the packaged EfficientNet-Lite0 weights really classify, ResNet-101's names
match torchvision's checkpoint layout, CLIP only where open_clip imports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from zsl_images.backbones import DEFAULT, backbone_registry, get_backbone, image_features
from zsl_images.backbones.resnet import ResNet101, random_resnet101
from zsl_images.preprocess import sizing_of

from zsl_toolkit.errors import ConfigError, PluginNotFound


def test_registry_lists_the_backbones():
    assert {"resnet101", "efficientnet-lite0", "clip-vit-b-32"} <= set(backbone_registry().names())
    assert DEFAULT == "efficientnet-lite0"
    with pytest.raises(PluginNotFound, match="resnet101"):
        get_backbone("resnet-101")


def test_efficientnet_lite0_packaged_weights_classify_real_photos():
    """scikit-learn's two bundled photos: a Chinese temple and a daisy-like flower. ImageNet
    classes 698 (palace) and 985 (daisy) must come first with the packaged weights and the
    declared preprocessing, which checks the weights, the SAME padding and the normalisation."""
    from sklearn.datasets import load_sample_images

    backbone = get_backbone("efficientnet-lite0")
    model = image_features(backbone)
    sizing = sizing_of(backbone)
    photos = np.stack([sizing.apply(Image.fromarray(im)) for im in load_sample_images().images])
    with torch.inference_mode():
        feats = model(torch.from_numpy(photos))
        logits = model.network._fc(feats)
    assert feats.shape == (2, 1280)
    assert logits.argmax(dim=1).tolist() == [698, 985]


def test_resnet101_names_and_weights_file(tmp_path):
    net = random_resnet101()
    state = net.state_dict()
    # torchvision's resnet101 checkpoint layout: 23 blocks in layer3, downsample as Sequential
    for key in (
        "conv1.weight",
        "layer1.0.downsample.0.weight",
        "layer1.0.downsample.1.running_var",
        "layer3.22.bn3.weight",
        "layer4.2.conv3.weight",
        "fc.bias",
    ):
        assert key in state
    assert sum(k.startswith("layer3.") and k.endswith(".conv1.weight") for k in state) == 23
    assert tuple(state["layer4.0.conv2.weight"].shape) == (512, 512, 3, 3)
    path = tmp_path / "resnet101-63fe2227.pth"
    torch.save(state, path)
    loaded = ResNet101().build(path)
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(loaded(x), net(x))
        assert net(x).shape == (2, 2048)
    del state["fc.bias"]
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ConfigError, match=r"bad\.pth: keys do not match.*fc\.bias"):
        ResNet101().build(tmp_path / "bad.pth")


def test_resnet101_without_weights_says_where_to_put_them(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ConfigError, match="resnet101-63fe2227.pth.*--weights"):
        ResNet101().build()


def test_clip_adapter():
    backbone = get_backbone("clip-vit-b-32")
    try:
        import open_clip  # noqa: F401
    except ImportError:
        from zsl_toolkit.errors import MissingDependency

        with pytest.raises(MissingDependency, match="open_clip"):
            backbone.build()
        pytest.skip("open_clip is not installed (it needs a torchvision matching our torch)")
    assert backbone.feature_dim == 512
